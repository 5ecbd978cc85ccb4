use crate::error::TesseraError;
use crate::events::JobClosed;
use crate::instructions::settlement::*;
use crate::state::{JobState, SlotStatus};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CancelJob<'info> {
    #[account(address = settlement.job.creator @ TesseraError::NotCreator)]
    pub signer: Signer<'info>,
    pub settlement: JobSettlement<'info>,
}

impl CancelJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = &self.settlement.job;
        job.require_state(JobState::Open)?;
        require!(
            job.slots().iter().all(|a| a.status == SlotStatus::Empty),
            TesseraError::JobHasClaims
        );
        Ok(())
    }
}

/// Refunds the whole escrow to the creator; only before anything is claimed.
pub fn handler(ctx: Context<CancelJob>) -> Result<()> {
    let refunded = ctx.accounts.settlement.refund_and_close_escrow(0)?;
    ctx.accounts.settlement.job.state = JobState::Cancelled;
    emit_cpi!(JobClosed {
        job: ctx.accounts.settlement.job.key(),
        state: JobState::Cancelled,
        refunded,
    });
    Ok(())
}
