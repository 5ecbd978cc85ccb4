use crate::constants::{BPS_DENOMINATOR, MAX_REPLICAS, MAX_WINDOW};
use crate::error::TesseraError;
use anchor_lang::prelude::*;

/// Parameters of a market, set by its admin. Validated by [`MarketParams::validate`].
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct MarketParams {
    /// Share of each paid reward sent to the treasury.
    pub protocol_fee_bps: u16,
    /// Share of each paid reward burned.
    pub burn_bps: u16,
    /// Bond locked from the operator's free stake per claim, relative to the reward.
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
    /// Time for every replica to reveal once all have committed (seconds).
    pub reveal_window: i64,
    /// Time after the results are in during which anyone staked may challenge (seconds).
    pub challenge_window: i64,
    /// Time between `request_unstake` and `withdraw_stake` (seconds).
    pub unbonding_period: i64,
}

impl MarketParams {
    pub fn validate(&self) -> Result<()> {
        for bps in [
            self.protocol_fee_bps,
            self.burn_bps,
            self.collateral_bps,
            self.slash_no_show_bps,
            self.slash_fraud_bps,
            self.creator_compensation_bps,
            self.honest_share_bps,
        ] {
            require!(bps <= BPS_DENOMINATOR, TesseraError::BpsTooLarge);
        }
        require!(
            self.protocol_fee_bps as u32 + self.burn_bps as u32 <= BPS_DENOMINATOR as u32,
            TesseraError::FeeAndBurnTooLarge
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
            self.max_exec_timeout > 0
                && self.reveal_window > 0
                && self.challenge_window > 0
                && self.unbonding_period > 0,
            TesseraError::BadWindow
        );
        require!(
            [
                self.max_exec_timeout,
                self.reveal_window,
                self.challenge_window,
                self.unbonding_period,
            ]
            .iter()
            .all(|&w| w <= MAX_WINDOW),
            TesseraError::WindowTooLong
        );
        Ok(())
    }
}

/// A market for one SPL mint: `["market", mint]`. Read-only on the job path.
#[account]
#[derive(InitSpace, Debug)]
pub struct Market {
    /// May update parameters and pause the market.
    pub admin: Pubkey,
    /// Resolves disputes (a multisig in production).
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
    /// Room for future fields.
    pub reserved: [u8; 64],
}
