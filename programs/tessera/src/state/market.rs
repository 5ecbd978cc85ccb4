use crate::constants::{
    BPS_DENOMINATOR, MAX_AUDIT_CHUNKS, MAX_COLLATERAL_BPS, MAX_FEE_AND_BURN_BPS, MAX_REPLICAS,
    MAX_WINDOW,
};
use crate::error::TesseraError;
use anchor_lang::prelude::*;

/// Parameters of a market, set by its admin. Validated by [`MarketParams::validate`].
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct MarketParams {
    /// Share of each paid reward sent to the treasury.
    pub protocol_fee_bps: u16,
    /// Share of each paid reward burned.
    pub burn_bps: u16,
    /// Bond locked from the operator's free stake per claim or challenge, relative to the
    /// reward (1..=`MAX_COLLATERAL_BPS`: up to 5× the reward), rounded up.
    pub collateral_bps: u16,
    /// Share of the bond slashed from an operator that does not deliver in time.
    pub slash_no_show_bps: u16,
    /// Share of the bond slashed from an operator found wrong in a dispute.
    pub slash_fraud_bps: u16,
    /// Share of every slash paid to the job's creator.
    pub creator_compensation_bps: u16,
    /// Share of a fraud slash paid to the honest parties of the dispute.
    pub honest_share_bps: u16,
    /// Most replicas a job may ask for (1..=3).
    pub max_replicas: u8,
    /// Stake an operator needs before it may claim.
    pub min_operator_stake: u64,
    /// Smallest reward per replica a job may offer.
    pub min_reward_per_replica: u64,
    /// Longest execution timeout a job may set (seconds).
    pub max_exec_timeout: i64,
    /// Shortest execution timeout a job may set (seconds), before the per-chunk part.
    pub min_exec_timeout: i64,
    /// Milliseconds of execution timeout a job must allow per output chunk (the on-chain
    /// measure of its work), on top of `min_exec_timeout`.
    pub min_exec_ms_per_chunk: u32,
    /// Time for every replica to reveal once all have committed (seconds).
    pub reveal_window: i64,
    /// Time after the results are in during which anyone staked may challenge (seconds).
    pub challenge_window: i64,
    /// Time between `request_unstake` and `withdraw_stake` (seconds).
    pub unbonding_period: i64,
    /// Time the arbiter has to rule on a dispute (seconds); after it anyone may settle the job
    /// by the fallback of `expire_dispute`.
    pub dispute_window: i64,
    /// Share of jobs audited (of 10 000): once a job's results are in, a draw no operator can
    /// foresee (`draw_audit`) picks it for an audit with this chance. 0: no audits.
    pub audit_rate_bps: u16,
    /// The audit fee, relative to the reward per replica: escrowed with the rewards, paid to the
    /// auditor that completes an audit, refunded when the job is not audited.
    pub audit_fee_bps: u16,
    /// Chunks an audit recomputes (1..=`MAX_AUDIT_CHUNKS` when the market audits).
    pub audit_chunks: u8,
}

impl MarketParams {
    pub fn validate(&self) -> Result<()> {
        for bps in [
            self.protocol_fee_bps,
            self.burn_bps,
            self.slash_no_show_bps,
            self.slash_fraud_bps,
            self.creator_compensation_bps,
            self.honest_share_bps,
        ] {
            require!(bps <= BPS_DENOMINATOR, TesseraError::BpsTooLarge);
        }
        require!(
            self.protocol_fee_bps as u32 + self.burn_bps as u32 <= MAX_FEE_AND_BURN_BPS as u32,
            TesseraError::FeeAndBurnTooLarge
        );
        require!(
            (1..=MAX_COLLATERAL_BPS).contains(&self.collateral_bps),
            TesseraError::BadCollateral
        );
        require!(
            self.creator_compensation_bps as u32 + self.honest_share_bps as u32
                <= BPS_DENOMINATOR as u32,
            TesseraError::SlashSplitTooLarge
        );
        require!(
            (1..=MAX_REPLICAS).contains(&self.max_replicas),
            TesseraError::BadMaxReplicas
        );
        require!(
            self.min_exec_timeout > 0
                && self.min_exec_timeout <= self.max_exec_timeout
                && self.reveal_window > 0
                && self.challenge_window > 0
                && self.unbonding_period > 0
                && self.dispute_window > 0,
            TesseraError::BadWindow
        );
        require!(
            [
                self.max_exec_timeout,
                self.reveal_window,
                self.challenge_window,
                self.unbonding_period,
                self.dispute_window,
            ]
            .iter()
            .all(|&w| w <= MAX_WINDOW),
            TesseraError::WindowTooLong
        );
        if self.audit_rate_bps > 0 {
            require!(
                self.audit_rate_bps <= BPS_DENOMINATOR
                    && self.audit_fee_bps > 0
                    && self.audit_fee_bps <= BPS_DENOMINATOR
                    && (1..=MAX_AUDIT_CHUNKS).contains(&self.audit_chunks),
                TesseraError::BadAuditParams
            );
        } else {
            require!(
                self.audit_fee_bps == 0 && self.audit_chunks == 0,
                TesseraError::BadAuditParams
            );
        }
        Ok(())
    }

    /// Shortest `exec_timeout` a job of `chunk_count` chunks may set.
    pub fn min_exec_timeout_for(&self, chunk_count: u32) -> i64 {
        let per_chunk_ms = u64::from(self.min_exec_ms_per_chunk) * u64::from(chunk_count);
        self.min_exec_timeout
            .saturating_add(per_chunk_ms.div_ceil(1_000) as i64)
    }
}

/// A market for one SPL mint, created by its founder: `["market", mint, founder]`. A mint has
/// any number of markets, one per founder, so no one can take a mint's market from another.
/// Read-only on the job path.
#[account]
#[derive(InitSpace, Debug)]
pub struct Market {
    /// May update parameters and pause the market.
    pub admin: Pubkey,
    /// Resolves disputes of jobs created while it is the arbiter (a multisig in production).
    /// See [`Market::arbiter_at`].
    pub arbiter: Pubkey,
    /// The SPL Token or Token-2022 mint all amounts are in.
    pub mint: Pubkey,
    /// Token account (of `mint`) that receives protocol fees.
    pub treasury: Pubkey,
    /// The stake vault PDA `["stake_vault", market]`.
    pub stake_vault: Pubkey,
    /// The parameters.
    pub params: MarketParams,
    /// While true no job can be created or claimed; settlement and withdrawals go on.
    pub paused: bool,
    /// The mint's decimals (for `transfer_checked`).
    pub decimals: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// Bump of the stake vault PDA.
    pub stake_vault_bump: u8,
    /// The fee vault PDA `["fee_vault", market]`: protocol fees accrue there and
    /// `collect_fees` sends them to `treasury`, so no treasury account can block a settlement.
    pub fee_vault: Pubkey,
    /// Bump of the fee vault PDA.
    pub fee_vault_bump: u8,
    /// The arbiter the admin named last, taking over at `arbiter_change_at` (the default key
    /// names no arbiter; unused while no change is pending).
    pub pending_arbiter: Pubkey,
    /// When `pending_arbiter` takes over: `ARBITER_CHANGE_DELAY` after it was named; 0 when no
    /// change is pending.
    pub arbiter_change_at: i64,
    /// The admin that created the market, part of its address (`["market", mint, founder]`);
    /// never changes, whoever the admin becomes.
    pub founder: Pubkey,
    /// Room for future fields.
    pub reserved: [u8; 32],
}

impl Market {
    /// The arbiter at time `now`: the pending one once its delay has passed (a change is
    /// pending while `arbiter_change_at` is set; the pending arbiter may be the default key, no
    /// arbiter). Jobs keep the arbiter of their creation time (`JobTerms::arbiter`).
    pub fn arbiter_at(&self, now: i64) -> Pubkey {
        if self.arbiter_change_at != 0 && now >= self.arbiter_change_at {
            self.pending_arbiter
        } else {
            self.arbiter
        }
    }
}
