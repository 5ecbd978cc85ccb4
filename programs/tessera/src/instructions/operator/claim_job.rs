use crate::error::TesseraError;
use crate::events::JobClaimed;
use crate::state::{
    Assignment, ClaimTerms, Job, JobState, Market, Operator, OperatorStatus, SlotStatus,
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
#[instruction(vetted: ClaimTerms)]
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
    pub fn validate(&self, vetted: &ClaimTerms) -> Result<()> {
        let (market, operator, job) = (&self.market, &self.operator, &self.job.load()?);
        require!(!market.paused, TesseraError::MarketPaused);
        job.require_state(JobState::Open)?;
        job.require_claim_terms(vetted)?;
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

/// Takes the first free slot and bonds the job's bond (`JobTerms::bond`) of free stake. The
/// claim carries the terms the operator vetted (`validate` refuses it if they changed).
pub fn handler(ctx: Context<ClaimJob>, _vetted: ClaimTerms) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let operator_key = ctx.accounts.operator.key();
    let mut job = ctx.accounts.job.load_mut()?;
    let bond = job.terms.bond;
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
    let state = job.advance(now, Clock::get()?.slot)?;
    emit_cpi!(JobClaimed {
        market: job.market,
        job: ctx.accounts.job.key(),
        operator: operator_key,
        slot: slot as u8,
        bond,
        state,
    });
    Ok(())
}
