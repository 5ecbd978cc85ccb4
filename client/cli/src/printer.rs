//! Output as people or programs want it: a human line (or a few) or one JSON object per
//! result, and indicatif progress (hidden with `--output json`). The renderings of accounts
//! shared by several commands live here too.
use anchor_lang::prelude::Pubkey;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use tessera_client::amount::format_amount;
use tessera_client::flows::MarketInfo;
use tessera_client::state::{Job, JobState};
use tessera_client::store::hex;
use tessera_kernels::KernelId;

use crate::args::OutputFormat;

/// Prints results as people or programs want them.
pub struct Printer {
    pub format: OutputFormat,
}

impl Printer {
    /// Prints `human()` or `json`, by the output format.
    pub fn emit(&self, human: impl FnOnce() -> String, json: Value) {
        match self.format {
            OutputFormat::Human => print_line(human()),
            OutputFormat::Json => print_line(json),
        }
    }

    /// A progress bar with `template`, hidden for JSON output.
    pub fn bar(&self, len: u64, template: &str) -> ProgressBar {
        if self.format == OutputFormat::Json {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar
    }
}

/// Prints one result on stdout. A reader that went away (`tessera job list | head`) ends the
/// output quietly instead of with a panic; any other failure is said on stderr.
pub fn print_line(text: impl std::fmt::Display) {
    use std::io::Write;
    if let Err(e) = writeln!(std::io::stdout().lock(), "{text}") {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the output: {e}");
        }
    }
}

/// A kernel's name from its on-chain id (`kernel-<id>` for an id this build does not know).
pub fn kernel_name(id: u8) -> String {
    KernelId::try_from(id)
        .map(|k| k.name().to_string())
        .unwrap_or_else(|_| format!("kernel-{id}"))
}

/// The names of the kernels in a capability bitmask.
pub fn kernel_names(capabilities: u32) -> Vec<&'static str> {
    KernelId::in_mask(capabilities)
        .map(KernelId::name)
        .collect()
}

/// A job account as JSON.
pub fn job_json(k: &Pubkey, j: &Job) -> Value {
    json!({
        "job": k.to_string(),
        "job_id": j.job_id,
        "creator": j.creator.to_string(),
        "kernel": kernel_name(j.kernel),
        "state": format!("{:?}", j.state()),
        "replicas": j.replicas,
        "reward_per_replica": j.reward_per_replica,
        "chunk_count": j.chunk_count,
        "input_uri": j.input_uri(),
        "input_hash": hex(&j.input_hash),
        "claim_deadline": j.claim_deadline,
        "agreed_root": if j.agreed_root == [0; 32] { Value::Null } else { hex(&j.agreed_root).into() },
        "dispute_deadline": (j.state() == JobState::Disputed).then_some(j.dispute_deadline),
        "convicted_slots": (0..j.replicas).filter(|i| j.convicted & (1 << i) != 0).collect::<Vec<_>>(),
        "open_games": j.open_games,
        "slots": j.slots().iter().map(|a| json!({
            "operator": a.operator.to_string(),
            "status": format!("{:?}", a.status()),
            "root": hex(&a.root),
            "output_uri": a.output_uri(),
        })).collect::<Vec<_>>(),
    })
}

/// Prints a job account; amounts in tokens when the mint's `decimals` are known.
pub fn print_job(printer: &Printer, k: &Pubkey, j: &Job, decimals: Option<u8>) {
    printer.emit(|| job_text(k, j, decimals), job_json(k, j));
}

/// A job account for people.
pub fn job_text(k: &Pubkey, j: &Job, decimals: Option<u8>) -> String {
    let amount = |v: u64| match decimals {
        Some(d) => format_amount(v, d),
        None => format!("{v} base units"),
    };
    let mut s = format!(
        "job {k}\n  state {:?}  kernel {}  id {}  chunks {}\n  reward {} × {} replicas\n  input {}",
        j.state(),
        kernel_name(j.kernel),
        j.job_id,
        j.chunk_count,
        amount(j.reward_per_replica),
        j.replicas,
        j.input_uri()
    );
    if j.agreed_root != [0; 32] {
        s.push_str(&format!("\n  agreed root {}", hex(&j.agreed_root)));
    }
    if j.state() == JobState::Disputed {
        s.push_str(&format!(
            "\n  disputed until {}; {} referee game(s) open",
            j.dispute_deadline, j.open_games
        ));
    }
    for (i, a) in j.slots().iter().enumerate() {
        let convicted = if j.convicted & (1 << i) != 0 {
            "  (convicted by the referee)"
        } else {
            ""
        };
        s.push_str(&format!(
            "\n  slot {i}: {:?} {}{convicted}",
            a.status(),
            a.operator
        ));
    }
    s
}

/// A market as JSON.
pub fn market_json(m: &MarketInfo) -> Value {
    let p = &m.state.params;
    json!({
        "market": m.address().to_string(), "mint": m.keys.mint.to_string(),
        "founder": m.state.founder.to_string(), "program_id": m.keys.program_id.to_string(),
        "decimals": m.decimals, "token_program": m.keys.token_program.to_string(),
        "admin": m.state.admin.to_string(), "arbiter": m.state.arbiter.to_string(),
        "treasury": m.state.treasury.to_string(), "stake_vault": m.state.stake_vault.to_string(),
        "paused": m.state.paused,
        "params": {
            "protocol_fee_bps": p.protocol_fee_bps, "burn_bps": p.burn_bps,
            "collateral_bps": p.collateral_bps, "slash_no_show_bps": p.slash_no_show_bps,
            "slash_fraud_bps": p.slash_fraud_bps,
            "creator_compensation_bps": p.creator_compensation_bps,
            "honest_share_bps": p.honest_share_bps, "max_replicas": p.max_replicas,
            "min_operator_stake": p.min_operator_stake,
            "min_reward_per_replica": p.min_reward_per_replica,
            "max_exec_timeout": p.max_exec_timeout, "reveal_window": p.reveal_window,
            "challenge_window": p.challenge_window, "unbonding_period": p.unbonding_period,
            "audit_rate_bps": p.audit_rate_bps, "audit_fee_bps": p.audit_fee_bps,
            "audit_chunks": p.audit_chunks,
        },
        "deterrence": {
            "check_rate_needed": tessera_client::economics::deterrence_note(p).0,
            "warning": tessera_client::economics::deterrence_note(p).1,
        },
    })
}

/// An arbiter for people: the default key is no arbiter.
fn arbiter_text(arbiter: &Pubkey) -> String {
    if *arbiter == Pubkey::default() {
        "none (the referee rules gemm-i8 and mlp-i8 jobs; no other kernel is taken)".to_string()
    } else {
        arbiter.to_string()
    }
}

/// A market's audits for people.
fn audits_text(p: &tessera_client::state::MarketParams) -> String {
    if p.audit_rate_bps == 0 {
        "none (a job is checked only if some verifier chooses to)".to_string()
    } else {
        format!(
            "{:.0} % of jobs, {} chunks each, fee {} bps of a reward",
            p.audit_rate_bps as f64 / 100.0,
            p.audit_chunks,
            p.audit_fee_bps
        )
    }
}

/// A market for people.
pub fn market_human(m: &MarketInfo) -> String {
    let (needed, warning) = tessera_client::economics::deterrence_note(&m.state.params);
    let deterrence = match warning {
        Some(w) => format!("\n  warning: {w}"),
        None => format!(
            "\n  deterrence: no cheat pays once {:.0} % of the jobs are checked",
            needed * 100.0
        ),
    };
    let p = &m.state.params;
    let d = m.decimals;
    format!(
        "market {}{}\n  mint {} ({} decimals)  founder {}\n  admin {}  arbiter {}\n  treasury {}\n  \
         fee {} bps  burn {} bps  collateral {} bps\n  slash: no-show {} bps, fraud {} bps; \
         creator gets {} bps, honest parties {} bps\n  replicas ≤ {}  min stake {}  min reward {}\n  \
         windows: exec ≤ {} s, reveal {} s, challenge {} s, unbonding {} s\n  audits: {}{}",
        m.address(),
        if m.state.paused { " (paused)" } else { "" },
        m.keys.mint,
        d,
        m.state.founder,
        m.state.admin,
        arbiter_text(&m.state.arbiter),
        m.state.treasury,
        p.protocol_fee_bps,
        p.burn_bps,
        p.collateral_bps,
        p.slash_no_show_bps,
        p.slash_fraud_bps,
        p.creator_compensation_bps,
        p.honest_share_bps,
        p.max_replicas,
        format_amount(p.min_operator_stake, d),
        format_amount(p.min_reward_per_replica, d),
        p.max_exec_timeout,
        p.reveal_window,
        p.challenge_window,
        p.unbonding_period,
        audits_text(p),
        deterrence
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_from_ids_and_masks() {
        assert_eq!(kernel_name(1), "render");
        assert_eq!(kernel_name(9), "kernel-9");
        assert_eq!(kernel_names(0b1010), ["render", "mlp-i8"]);
        assert!(kernel_names(0).is_empty());
    }

    /// A disputed job shows its deadline, its open referee games and the convicted slots.
    #[test]
    fn a_disputed_job_shows_its_games_and_convictions() {
        let mut j: Job = bytemuck::Zeroable::zeroed();
        j.replicas = 2;
        j.kernel = 3;
        j.set_state(JobState::Disputed);
        j.dispute_deadline = 1_700_000_000;
        j.open_games = 1;
        j.convicted = 0b10;
        let k = Pubkey::new_unique();
        let text = job_text(&k, &j, None);
        assert!(
            text.contains("disputed until 1700000000; 1 referee game(s) open"),
            "{text}"
        );
        assert!(
            text.contains(
                "slot 1: Empty 11111111111111111111111111111111  (convicted by the referee)"
            ),
            "{text}"
        );
        assert!(
            !text.contains("slot 0: Empty 11111111111111111111111111111111  (convicted"),
            "{text}"
        );
        let json = job_json(&k, &j);
        assert_eq!(json["kernel"], "mlp-i8");
        assert_eq!(json["dispute_deadline"], 1_700_000_000);
        assert_eq!(json["convicted_slots"], serde_json::json!([1]));
        assert_eq!(json["open_games"], 1);
        j.set_state(JobState::Settled);
        assert!(job_json(&k, &j)["dispute_deadline"].is_null());
        assert!(!job_text(&k, &j, None).contains("disputed until"));
    }
}
