use crate::error::TesseraError;
use crate::events::JobClaimed;
use crate::math::Bps;
use crate::state::{Assignment, Job, JobState, Market, Operator, OperatorStatus, SlotStatus};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ClaimJob<'info> {
    pub authority: Signer<'info>,
    /// Read-only: claims on different jobs share no writable account.
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        has_one = market @ TesseraError::WrongMarket,
        has_one = authority @ TesseraError::NotOperatorAuthority
    )]
    pub operator: Box<Account<'info, Operator>>,
    #[account(mut, has_one = market @ TesseraError::WrongMarket)]
    pub job: AccountLoader<'info, Job>,
}

impl ClaimJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let (market, operator, job) = (&self.market, &self.operator, &self.job.load()?);
        require!(!market.paused, TesseraError::MarketPaused);
        job.require_state(JobState::Open)?;
        require!(
            Clock::get()?.unix_timestamp <= job.claim_deadline,
            TesseraError::ClaimDeadlinePassed
        );
        require!(
            operator.status == OperatorStatus::Active,
            TesseraError::OperatorNotActive
        );
        require!(
            operator.stake >= market.params.min_operator_stake,
            TesseraError::StakeBelowMinimum
        );
        require!(
            operator.capabilities & (1u32 << job.kernel) != 0,
            TesseraError::MissingCapability
        );
        require!(
            job.slot_of(&operator.key()).is_none(),
            TesseraError::AlreadyClaimed
        );
        Ok(())
    }
}

/// Takes the first free slot and bonds `reward × collateral_bps` of free stake.
pub fn handler(ctx: Context<ClaimJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let params = ctx.accounts.market.params;
    let operator_key = ctx.accounts.operator.key();
    let mut job = ctx.accounts.job.load_mut()?;
    let bond = Bps::new(params.collateral_bps)?.apply(job.reward_per_replica)?;
    ctx.accounts.operator.bond(bond)?;
    let slot = job
        .slots()
        .iter()
        .position(|a| a.status() == SlotStatus::Empty)
        .ok_or(TesseraError::JobFull)?;
    job.assignments[slot] = Assignment {
        operator: operator_key,
        claimed_at: now,
        bond,
        status: SlotStatus::Claimed as u8,
        ..Assignment::empty()
    };
    let state = job.advance(now, params.reveal_window, params.challenge_window)?;
    emit_cpi!(JobClaimed {
        job: ctx.accounts.job.key(),
        operator: operator_key,
        slot: slot as u8,
        bond,
        state,
    });
    Ok(())
}
