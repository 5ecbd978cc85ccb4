//! Delivering a result: `submit_result` (one replica), or `commit_result` then `reveal_result`
//! (two or more replicas, so nobody can copy another operator's root).
use crate::error::TesseraError;
use crate::events::{ResultCommitted, ResultDelivered};
use crate::math::add_time;
use crate::state::{check_uri, pack_uri, Job, JobState, Market, Operator, SlotStatus};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct DeliverResult<'info> {
    pub authority: Signer<'info>,
    pub market: Box<Account<'info, Market>>,
    /// Read-only: results do not touch the stake.
    #[account(
        has_one = market @ TesseraError::WrongMarket,
        has_one = authority @ TesseraError::NotOperatorAuthority
    )]
    pub operator: Box<Account<'info, Operator>>,
    #[account(mut, has_one = market @ TesseraError::WrongMarket)]
    pub job: AccountLoader<'info, Job>,
}

impl DeliverResult<'_> {
    /// The signer's slot, which must be in `status`.
    fn slot(&self, job: &Job, status: SlotStatus) -> Result<usize> {
        let i = job
            .slot_of(&self.operator.key())
            .ok_or(TesseraError::NotAssigned)?;
        require!(
            job.assignments[i].status() == status,
            TesseraError::WrongSlotState
        );
        Ok(i)
    }

    /// The signer's claimed slot, before its execution timeout.
    fn claimed_slot_in_time(&self, job: &Job) -> Result<usize> {
        let i = self.slot(job, SlotStatus::Claimed)?;
        let deadline = add_time(job.assignments[i].claimed_at, job.exec_timeout)?;
        require!(
            Clock::get()?.unix_timestamp <= deadline,
            TesseraError::ExecTimeoutPassed
        );
        Ok(i)
    }
}

/// One replica: delivers the root and output location in one step.
pub fn submit(ctx: Context<DeliverResult>, root: [u8; 32], output_uri: String) -> Result<()> {
    check_uri(&output_uri)?;
    let mut job = ctx.accounts.job.load_mut()?;
    require!(job.replicas == 1, TesseraError::UseCommitReveal);
    let i = ctx.accounts.claimed_slot_in_time(&job)?;
    deliver(&ctx, &mut job, i, root, &output_uri)
}

/// Two or more replicas: posts `sha256(root ‖ operator ‖ salt)`.
pub fn commit(ctx: Context<DeliverResult>, commitment: [u8; 32]) -> Result<()> {
    let mut job = ctx.accounts.job.load_mut()?;
    require!(job.replicas >= 2, TesseraError::UseSubmit);
    let i = ctx.accounts.claimed_slot_in_time(&job)?;
    let now = Clock::get()?.unix_timestamp;
    job.assignments[i].commitment = commitment;
    job.assignments[i].set_status(SlotStatus::Committed);
    let state = job.advance(now, Clock::get()?.slot)?;
    emit_cpi!(ResultCommitted {
        market: job.market,
        job: ctx.accounts.job.key(),
        operator: job.assignments[i].operator,
        slot: i as u8,
        commitment,
        state,
    });
    Ok(())
}

/// Two or more replicas, once every live slot has committed: opens the commitment.
pub fn reveal(
    ctx: Context<DeliverResult>,
    root: [u8; 32],
    salt: [u8; 32],
    output_uri: String,
) -> Result<()> {
    check_uri(&output_uri)?;
    let mut job = ctx.accounts.job.load_mut()?;
    job.require_state(JobState::Committed)?;
    require!(
        Clock::get()?.unix_timestamp <= job.reveal_deadline,
        TesseraError::RevealWindowClosed
    );
    let i = ctx.accounts.slot(&job, SlotStatus::Committed)?;
    let expected =
        tessera_merkle::commitment(&root, &ctx.accounts.operator.key().to_bytes(), &salt);
    require!(
        job.assignments[i].commitment == expected,
        TesseraError::CommitmentMismatch
    );
    deliver(&ctx, &mut job, i, root, &output_uri)
}

fn deliver(
    ctx: &Context<DeliverResult>,
    job: &mut Job,
    i: usize,
    root: [u8; 32],
    output_uri: &str,
) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    job.assignments[i].root = root;
    job.assignments[i].output_uri = pack_uri(output_uri);
    job.assignments[i].set_status(SlotStatus::Revealed);
    let state = job.advance(now, Clock::get()?.slot)?;
    emit_cpi!(ResultDelivered {
        market: job.market,
        job: ctx.accounts.job.key(),
        operator: job.assignments[i].operator,
        slot: i as u8,
        root,
        state,
    });
    Ok(())
}
