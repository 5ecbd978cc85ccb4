use crate::error::TesseraError;
use crate::math::{add, sub};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum OperatorStatus {
    /// May claim jobs.
    Active,
    /// Left the market: its stake is unbonding; no new claims.
    Exiting,
}

/// A node operator of a market: `["operator", market, authority]`.
///
/// The stake vault holds `stake + unbonding + earned` of every operator; `bonded ≤ stake` is the
/// part locked by live claims and challenges. Rewards are credited to `earned` inside the vault
/// rather than pushed to a token account of the operator's, so that no operator can block a
/// settlement by closing or freezing an account of its own.
#[account]
#[derive(InitSpace, Debug)]
pub struct Operator {
    pub market: Pubkey,
    /// The key that signs for this operator.
    pub authority: Pubkey,
    /// Tokens staked (bonded included).
    pub stake: u64,
    /// Part of `stake` locked by live claims and challenges.
    pub bonded: u64,
    /// Tokens leaving the market, withdrawable at `unbonding_ready_at`.
    pub unbonding: u64,
    /// When `unbonding` can be withdrawn (unix seconds).
    pub unbonding_ready_at: i64,
    /// Rewards and honest shares credited by settlements, withdrawable at any time.
    pub earned: u64,
    /// Bitmask of kernel ids this operator runs (bit `k` = kernel `k`).
    pub capabilities: u32,
    /// Score from the benchmark kernel (higher is faster); 0 until measured.
    pub benchmark_score: u32,
    /// Jobs paid.
    pub jobs_completed: u64,
    /// Slots lost to timeouts or disputes.
    pub jobs_failed: u64,
    /// Total tokens slashed from this operator.
    pub slashed_total: u64,
    /// Claims and challenges holding a bond, not yet settled. `exit_operator` needs 0, so an
    /// operator cannot leave (and close its account) while a job still names it.
    pub live_claims: u32,
    pub status: OperatorStatus,
    pub bump: u8,
    pub reserved: [u8; 64],
}

/// An operator key's track record in a market: `["record", market, authority]`. Created at its
/// first registration and never closed, it outlives the operator account: when an exited
/// operator's account closes, its counters are saved here, and a new registration of the same
/// key starts from them, so closing and registering again does not clear a record.
#[account]
#[derive(InitSpace, Debug)]
pub struct OperatorRecord {
    pub market: Pubkey,
    pub authority: Pubkey,
    /// Jobs paid, over every registration.
    pub jobs_completed: u64,
    /// Slots lost to timeouts or disputes, over every registration.
    pub jobs_failed: u64,
    /// Total tokens slashed, over every registration.
    pub slashed_total: u64,
    /// Times this key registered in the market.
    pub registrations: u32,
    pub bump: u8,
}

impl Operator {
    pub fn free_stake(&self) -> u64 {
        self.stake.saturating_sub(self.bonded)
    }

    /// Locks `amount` of free stake for a new claim or challenge.
    pub fn bond(&mut self, amount: u64) -> Result<()> {
        require!(
            self.free_stake() >= amount,
            TesseraError::InsufficientFreeStake
        );
        self.bonded = add(self.bonded, amount)?;
        self.live_claims = self
            .live_claims
            .checked_add(1)
            .ok_or(TesseraError::MathOverflow)?;
        self.invariant()
    }

    fn end_claim(&mut self) -> Result<()> {
        self.live_claims = self
            .live_claims
            .checked_sub(1)
            .ok_or(TesseraError::InvariantViolated)?;
        Ok(())
    }

    /// Credits a reward or share (held in the stake vault) to `earned`.
    pub fn credit(&mut self, amount: u64) -> Result<()> {
        self.earned = add(self.earned, amount)?;
        Ok(())
    }

    /// Unlocks the bond of a settled claim or challenge.
    pub fn release(&mut self, amount: u64) -> Result<()> {
        self.bonded = sub(self.bonded, amount)?;
        self.end_claim()?;
        self.invariant()
    }

    /// Unlocks a bond and takes `slash` of it out of the stake.
    pub fn slash(&mut self, bond: u64, slash: u64) -> Result<()> {
        require!(slash <= bond, TesseraError::MathOverflow);
        self.bonded = sub(self.bonded, bond)?;
        self.stake = sub(self.stake, slash)?;
        self.slashed_total = add(self.slashed_total, slash)?;
        self.jobs_failed = add(self.jobs_failed, 1)?;
        self.end_claim()?;
        self.invariant()
    }

    pub fn invariant(&self) -> Result<()> {
        require!(self.bonded <= self.stake, TesseraError::InvariantViolated);
        Ok(())
    }
}
