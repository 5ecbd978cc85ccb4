//! Market parameter presets: the one place their numbers are written.
//!
//! - [`mainnet`]: what `tessera market init` starts from: the shares below, a 1-token minimum
//!   stake, a 0.001-token minimum reward, between a minute (plus 50 ms per chunk) and an hour of
//!   execution, ten minutes to reveal, five to challenge, a week for the arbiter to rule, a day
//!   to unbond; 70 % of jobs audited on 4 chunks, for a fee of 10 % of a reward.
//! - [`local`]: a local validator (`tessera localnet`, the end-to-end tests, the demo): the
//!   same shares, windows short enough to watch a whole job settle, and no audits unless asked
//!   for ([`with_audits`]).
//!
//! Both share the economics: a 2.5 % protocol fee, 1 % burned, a bond of 50 % of the reward,
//! 20 % of the bond slashed from a no-show and all of it from a cheat, half of a slash to the
//! creator, a quarter of a fraud slash to the honest parties, at most 3 replicas.
use tessera::state::MarketParams;

/// Share of each reward sent to the treasury, in basis points.
pub const PROTOCOL_FEE_BPS: u16 = 250;
/// Share of each reward burned, in basis points.
pub const BURN_BPS: u16 = 100;
/// Bond per claim relative to the reward, in basis points.
pub const COLLATERAL_BPS: u16 = 5_000;
/// Share of the bond slashed from a no-show, in basis points.
pub const SLASH_NO_SHOW_BPS: u16 = 2_000;
/// Share of the bond slashed from a cheat, in basis points.
pub const SLASH_FRAUD_BPS: u16 = 10_000;
/// Share of a slash paid to the creator, in basis points.
pub const CREATOR_COMPENSATION_BPS: u16 = 5_000;
/// Share of a fraud slash paid to the honest parties, in basis points.
pub const HONEST_SHARE_BPS: u16 = 2_500;
/// Most replicas a job may ask for.
pub const MAX_REPLICAS: u8 = 3;
/// Share of jobs a public market audits, in basis points (see `docs/economics.md`: with the
/// bond above, no cheat of any size pays once 66 % of jobs are audited, even for an operator
/// whose compute costs its whole pay).
pub const AUDIT_RATE_BPS: u16 = 7_000;
/// The audit fee relative to one reward, in basis points.
pub const AUDIT_FEE_BPS: u16 = 1_000;
/// Chunks one audit recomputes.
pub const AUDIT_CHUNKS: u8 = 4;

/// The shares, every amount and window zero.
fn shares() -> MarketParams {
    MarketParams {
        protocol_fee_bps: PROTOCOL_FEE_BPS,
        burn_bps: BURN_BPS,
        collateral_bps: COLLATERAL_BPS,
        slash_no_show_bps: SLASH_NO_SHOW_BPS,
        slash_fraud_bps: SLASH_FRAUD_BPS,
        creator_compensation_bps: CREATOR_COMPENSATION_BPS,
        honest_share_bps: HONEST_SHARE_BPS,
        max_replicas: MAX_REPLICAS,
        min_operator_stake: 0,
        min_reward_per_replica: 0,
        max_exec_timeout: 0,
        min_exec_timeout: 0,
        min_exec_ms_per_chunk: 0,
        reveal_window: 0,
        challenge_window: 0,
        unbonding_period: 0,
        dispute_window: 0,
        audit_rate_bps: 0,
        audit_fee_bps: 0,
        audit_chunks: 0,
    }
}

/// One token of a mint with `decimals` decimals, in base units (`u64::MAX` when that does not
/// fit).
fn one_token(decimals: u8) -> u64 {
    10u64.checked_pow(decimals.into()).unwrap_or(u64::MAX)
}

/// The defaults of a public market of a mint with `decimals` decimals: a minimum stake of one
/// token and a minimum reward of 0.001 token (one base unit for mints with fewer than three
/// decimals); at least 60 s plus 50 ms per chunk and at most an hour of execution, 600 s to
/// reveal, 300 s to challenge, a week for the arbiter to rule, a day to unbond.
pub fn mainnet(decimals: u8) -> MarketParams {
    MarketParams {
        min_operator_stake: one_token(decimals),
        min_reward_per_replica: (one_token(decimals) / 1_000).max(1),
        max_exec_timeout: 3_600,
        min_exec_timeout: 60,
        min_exec_ms_per_chunk: 50,
        reveal_window: 600,
        challenge_window: 300,
        unbonding_period: 86_400,
        dispute_window: 7 * 86_400,
        audit_rate_bps: AUDIT_RATE_BPS,
        audit_fee_bps: AUDIT_FEE_BPS,
        audit_chunks: AUDIT_CHUNKS,
        ..shares()
    }
}

/// A local network's market (amounts in base units of a 6-decimal mint): a 1-token minimum
/// stake, a 0.001-token minimum reward, 2 to 600 s of execution, 30 s to reveal,
/// `challenge_window` seconds to challenge, two minutes for the arbiter to rule, a minute to
/// unbond, and no audits (a market that wants them sets them with [`with_audits`]).
pub fn local(challenge_window: i64) -> MarketParams {
    MarketParams {
        min_operator_stake: 1_000_000,
        min_reward_per_replica: 1_000,
        max_exec_timeout: 600,
        min_exec_timeout: 2,
        min_exec_ms_per_chunk: 0,
        reveal_window: 30,
        challenge_window,
        unbonding_period: 60,
        dispute_window: 120,
        ..shares()
    }
}

/// `params` with the public market's audits: [`AUDIT_RATE_BPS`] of jobs, [`AUDIT_CHUNKS`]
/// chunks each, a fee of [`AUDIT_FEE_BPS`] of the reward.
pub fn with_audits(params: MarketParams) -> MarketParams {
    MarketParams {
        audit_rate_bps: AUDIT_RATE_BPS,
        audit_fee_bps: AUDIT_FEE_BPS,
        audit_chunks: AUDIT_CHUNKS,
        ..params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainnet_amounts_follow_the_decimals() {
        let p = mainnet(6);
        assert_eq!(
            (p.min_operator_stake, p.min_reward_per_replica),
            (1_000_000, 1_000)
        );
        assert_eq!(
            (
                p.max_exec_timeout,
                p.reveal_window,
                p.challenge_window,
                p.unbonding_period
            ),
            (3_600, 600, 300, 86_400)
        );
        let p = mainnet(9);
        assert_eq!(
            (p.min_operator_stake, p.min_reward_per_replica),
            (1_000_000_000, 1_000_000)
        );
        // A mint too coarse for 0.001 token asks for one base unit.
        let p = mainnet(0);
        assert_eq!((p.min_operator_stake, p.min_reward_per_replica), (1, 1));
        let p = mainnet(2);
        assert_eq!((p.min_operator_stake, p.min_reward_per_replica), (100, 1));
        // More decimals than a u64 holds: the largest amount, not an overflow.
        assert_eq!(mainnet(20).min_operator_stake, u64::MAX);
    }

    #[test]
    fn presets_share_the_economics_and_differ_in_windows() {
        let (m, l) = (mainnet(6), local(7));
        let bps = |p: &MarketParams| {
            (
                p.protocol_fee_bps,
                p.burn_bps,
                p.collateral_bps,
                p.slash_no_show_bps,
                p.slash_fraud_bps,
                p.creator_compensation_bps,
                p.honest_share_bps,
                p.max_replicas,
            )
        };
        assert_eq!(bps(&m), bps(&l));
        assert_eq!(bps(&m), (250, 100, 5_000, 2_000, 10_000, 5_000, 2_500, 3));
        assert_eq!(
            (
                l.max_exec_timeout,
                l.reveal_window,
                l.challenge_window,
                l.unbonding_period
            ),
            (600, 30, 7, 60)
        );
        assert_eq!(
            (l.min_operator_stake, l.min_reward_per_replica),
            (m.min_operator_stake, m.min_reward_per_replica)
        );
    }
}
