//! The economics of cheating (`docs/economics.md`): what an operator gains, on average, by
//! faking part of a result instead of computing it, against the chance of being caught and what
//! it loses then. Every amount is a fraction of the reward per replica `R`.
//!
//! An operator that fakes `k` of a job's `n` chunks saves `k/n · C` of its compute cost `C`. A
//! job is checked with probability `s`; a check recomputes `c` chunks drawn at random, so it
//! finds a fake with probability `q(k) = 1 − (n−k choose c) / (n choose c)`. Caught, the operator
//! loses its pay and the fraud slash of its bond. Its expected gain over honesty is
//!
//! ```text
//! Δ(k) = k/n · C − s · q(k) · (pay + slash)
//! ```
//!
//! `q` is concave in `k` and `k/n` linear, so `Δ` is convex: the best cheat is all or nothing,
//! and no cheat pays once the whole result's does not, i.e. once `s ≥ C / (pay + slash)`.
use tessera::state::MarketParams;

/// A market's stakes for an operator, as fractions of the reward per replica.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stakes {
    /// What an honest operator is paid: the reward less the protocol fee and the burn.
    pub pay: f64,
    /// What a convicted operator loses of its bond (`collateral_bps × slash_fraud_bps`).
    pub fraud_slash: f64,
}

impl Stakes {
    pub fn of(p: &MarketParams) -> Self {
        let bps = |v: u16| v as f64 / 10_000.0;
        Stakes {
            pay: 1.0 - bps(p.protocol_fee_bps) - bps(p.burn_bps),
            fraud_slash: bps(p.collateral_bps) * bps(p.slash_fraud_bps),
        }
    }

    /// What a caught cheat loses against honesty: its pay and the slash.
    pub fn loss(&self) -> f64 {
        self.pay + self.fraud_slash
    }
}

/// The probability that `c` chunks drawn without replacement from `n` include one of the `k`
/// faked: `1 − (n−k choose c) / (n choose c)` (1 when `c ≥ n − k + 1`).
pub fn detection(n: u32, k: u32, c: u32) -> f64 {
    assert!(k <= n && n > 0, "k = {k} of n = {n} chunks");
    let c = c.min(n);
    // (n−k choose c) / (n choose c) = Π_{i<c} (n−k−i) / (n−i)
    let missed = (0..c).fold(1.0, |p, i| {
        p * (n.saturating_sub(k + i)) as f64 / (n - i) as f64
    });
    1.0 - missed
}

/// The expected gain over honesty of faking `k` of `n` chunks, when a job is checked with
/// probability `s` on `c` chunks and the operator's compute costs `cost` (fractions of the
/// reward).
pub fn cheat_gain(stakes: &Stakes, cost: f64, n: u32, k: u32, c: u32, s: f64) -> f64 {
    k as f64 / n as f64 * cost - s * detection(n, k, c) * stakes.loss()
}

/// The least check probability at which no cheat of any size pays: `max_k (k/n · cost) /
/// (q(k) · loss)`, reached at `k = n` (the whole result faked): `cost / loss`.
pub fn required_check_rate(stakes: &Stakes, cost: f64, n: u32, c: u32) -> f64 {
    (1..=n)
        .map(|k| k as f64 / n as f64 * cost / (detection(n, k, c) * stakes.loss()))
        .fold(0.0, f64::max)
}

/// What the CLI says of a market's deterrence: the share of jobs that must be audited (on the
/// market's `audit_chunks`, or on 2 chunks in a market without audits) for no cheat to pay an
/// operator whose compute costs its whole pay (the most it can save), and a warning when the
/// market's audit rate falls short of it, or when it has no audits at all.
pub fn deterrence_note(p: &MarketParams) -> (f64, Option<String>) {
    let stakes = Stakes::of(p);
    let chunks = if p.audit_rate_bps > 0 {
        u32::from(p.audit_chunks)
    } else {
        2
    };
    let needed = required_check_rate(&stakes, stakes.pay, 64, chunks);
    let audited = f64::from(p.audit_rate_bps) / 10_000.0;
    let loss = format!(
        "a caught cheat loses {:.2} of a reward: its pay and a fraud slash of {:.2}",
        stakes.loss(),
        stakes.fraud_slash
    );
    let warning = if p.audit_rate_bps == 0 {
        Some(format!(
            "this market has no audits: a job is checked only if some verifier chooses to, and \
             cheating pays unless {:.0} % of jobs are checked ({loss}); set audit_rate_bps to at \
             least {:.0}",
            needed * 100.0,
            (needed * 10_000.0).ceil()
        ))
    } else if audited + 1e-9 < needed {
        Some(format!(
            "cheating pays: this market audits {:.0} % of its jobs, and deterring every cheat \
             takes {:.0} % ({loss}); raise audit_rate_bps, collateral_bps or slash_fraud_bps",
            audited * 100.0,
            needed * 100.0
        ))
    } else {
        None
    };
    (needed, warning)
}

/// An auditor's expected gain from one audit, as a fraction of the reward: the fee, less its
/// compute on `c` of the job's `n` chunks at `cost` for the whole job.
pub fn audit_gain(fee: f64, cost: f64, n: u32, c: u32) -> f64 {
    fee - f64::from(c.min(n)) / f64::from(n) * cost
}

/// The table `docs/economics.md` shows for a market: the expected gain over honesty, as a
/// fraction of the reward, of faking `k` of 64 chunks when a check recomputes `c` chunks and
/// the operator's compute costs 0.7 of the reward, for check rates `rates`.
pub fn gain_table(p: &MarketParams, c: u32, rates: &[f64]) -> String {
    let stakes = Stakes::of(p);
    let mut rates = rates.to_vec();
    rates.sort_by(f64::total_cmp);
    let (n, cost) = (64, 0.7);
    let mut out = String::from("| chunks faked (of 64) |");
    for s in &rates {
        out.push_str(&format!(" s = {s:.3} |"));
    }
    out.push_str("\n|---:|");
    out.push_str(&"---:|".repeat(rates.len()));
    for k in [1, 2, 4, 8, 16, 32, 64] {
        out.push_str(&format!("\n| {k} |"));
        for &s in &rates {
            out.push_str(&format!(" {:+.3} |", cheat_gain(&stakes, cost, n, k, c, s)));
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables in `docs/economics.md` are the model's (the test prints them when they are
    /// not, to be pasted there).
    #[test]
    fn the_documented_tables_are_the_models() {
        let doc = include_str!("../../docs/economics.md");
        let default = crate::presets::mainnet(6);
        let mut strict = default;
        strict.collateral_bps = 50_000;
        let needed = |p| required_check_rate(&Stakes::of(p), 0.7, 64, 2);
        for (p, name) in [(&default, "default"), (&strict, "bond of five rewards")] {
            let table = gain_table(p, 2, &[0.0, 0.1, 0.25, needed(p), 0.5, 1.0]);
            assert!(doc.contains(&table), "the {name} market's table:\n{table}");
        }
        // With the default market's audits: 4 chunks, at its audit rate.
        let table = gain_table(&default, 4, &[0.25, 0.5, 0.7, 1.0]);
        assert!(doc.contains(&table), "the audited market's table:\n{table}");
    }

    fn binomial(n: u32, k: u32) -> f64 {
        if k > n {
            return 0.0;
        }
        (0..k).fold(1.0, |b, i| b * (n - i) as f64 / (i + 1) as f64)
    }

    #[test]
    fn detection_is_the_hypergeometric_tail() {
        for n in 1..=12 {
            for k in 0..=n {
                for c in 0..=n {
                    let exact = 1.0 - binomial(n - k, c) / binomial(n, c);
                    let got = detection(n, k, c);
                    assert!((got - exact).abs() < 1e-12, "n={n} k={k} c={c}");
                }
            }
        }
        assert_eq!(detection(64, 0, 2), 0.0);
        assert_eq!(detection(64, 64, 2), 1.0);
        assert!((detection(64, 1, 2) - 2.0 / 64.0).abs() < 1e-12);
        // More chunks checked never finds less.
        assert!(detection(64, 3, 4) > detection(64, 3, 2));
    }

    /// The default market (the `mainnet` preset): pay 0.965, slash 0.5 of a reward.
    #[test]
    fn the_default_market_needs_two_thirds_of_its_jobs_checked() {
        let p = crate::presets::mainnet(6);
        let stakes = Stakes::of(&p);
        assert!((stakes.pay - 0.965).abs() < 1e-12);
        assert!((stakes.fraud_slash - 0.5).abs() < 1e-12);
        let needed = required_check_rate(&stakes, 0.7, 64, 2);
        assert!((needed - 0.7 / 1.465).abs() < 1e-12, "{needed}");
        // Just below, the whole fake pays and small fakes do not; at it, nothing pays.
        assert!(cheat_gain(&stakes, 0.7, 64, 64, 2, needed - 0.01) > 0.0);
        assert!(cheat_gain(&stakes, 0.7, 64, 1, 2, needed - 0.01) < 0.0);
        for k in 1..=64 {
            assert!(
                cheat_gain(&stakes, 0.7, 64, k, 2, needed) <= 1e-12,
                "k = {k}"
            );
        }
        // Its audits (70 % of jobs, 4 chunks) deter every cheat, even one that saves the whole
        // pay; without them, or at half the rate, the CLI warns.
        let (rate, warning) = deterrence_note(&p);
        assert!((rate - 0.965 / 1.465).abs() < 1e-12);
        assert_eq!(warning, None);
        for k in 1..=64 {
            assert!(
                cheat_gain(&stakes, stakes.pay, 64, k, 4, 0.7) < 0.0,
                "k = {k}"
            );
        }
        let mut half = p;
        half.audit_rate_bps = 5_000;
        let warning = deterrence_note(&half).1.expect("half the jobs is too few");
        assert!(
            warning.contains("audits 50 %") && warning.contains("takes 66 %"),
            "{warning}"
        );
        let mut none = p;
        (none.audit_rate_bps, none.audit_fee_bps, none.audit_chunks) = (0, 0, 0);
        let warning = deterrence_note(&none).1.expect("no audits");
        assert!(
            warning.contains("no audits") && warning.contains("at least 6588"),
            "{warning}"
        );
        // A bond of five rewards slashed in full needs a sixth of the jobs checked.
        let mut strict = none;
        strict.collateral_bps = 50_000;
        let (rate, _) = deterrence_note(&strict);
        assert!((rate - 0.965 / 5.965).abs() < 1e-12, "{rate}");
    }

    #[test]
    fn the_default_audit_fee_pays_for_the_audit_of_a_job_of_sixteen_chunks_or_more() {
        let p = crate::presets::mainnet(6);
        let fee = f64::from(p.audit_fee_bps) / 10_000.0;
        let c = u32::from(p.audit_chunks);
        // An auditor whose compute costs as much as the operator's (0.7 of a reward).
        assert!(audit_gain(fee, 0.7, 64, c) > 0.05);
        assert!(audit_gain(fee, 0.7, 32, c) > 0.0);
        assert!(audit_gain(fee, 0.35, 16, c) > 0.0);
        assert!(
            audit_gain(fee, 0.7, 16, c) < 0.0,
            "a 16-chunk job costs it 0.175"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// The binding cheat is the whole result: at the required rate no cheat of any size
            /// pays, and just below it the whole fake does.
            #[test]
            fn no_cheat_pays_at_the_required_rate(
                fee in 0u16..=1_000,
                burn in 0u16..=1_000,
                collateral in 1u16..=50_000,
                slash in 1u16..=10_000,
                cost in 0.01f64..=1.0,
                n in 1u32..=256,
                c in 1u32..=8,
            ) {
                let mut p = crate::presets::mainnet(6);
                (p.protocol_fee_bps, p.burn_bps, p.collateral_bps, p.slash_fraud_bps) =
                    (fee, burn, collateral, slash);
                let stakes = Stakes::of(&p);
                let needed = required_check_rate(&stakes, cost, n, c);
                prop_assert!((needed - cost / stakes.loss()).abs() < 1e-9);
                for k in 1..=n {
                    prop_assert!(cheat_gain(&stakes, cost, n, k, c, needed) <= 1e-9);
                }
                prop_assert!(cheat_gain(&stakes, cost, n, n, c, needed * 0.99) > 0.0);
            }
        }
    }
}
