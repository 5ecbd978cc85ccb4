use crate::error::TesseraError;
use crate::events::JobClosed;
use crate::instructions::settlement::*;
use crate::state::{JobState, SlotStatus};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CancelJob<'info> {
    #[account(address = settlement.job.load()?.creator @ TesseraError::NotCreator)]
    pub signer: Signer<'info>,
    pub settlement: JobSettlement<'info>,
}

impl CancelJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = self.settlement.job.load()?;
        job.require_state(JobState::Open)?;
        require!(
            job.slots().iter().all(|a| a.status() == SlotStatus::Empty),
            TesseraError::JobHasClaims
        );
        Ok(())
    }
}

/// Refunds the whole escrow to the creator; only before anything is claimed.
pub fn handler(ctx: Context<CancelJob>) -> Result<()> {
    let s = &ctx.accounts.settlement;
    let refunded = s.refund_and_close_escrow(0)?;
    s.job.load_mut()?.set_state(JobState::Cancelled);
    emit_cpi!(JobClosed {
        market: s.market.key(),
        job: s.job.key(),
        state: JobState::Cancelled,
        refunded,
        slashes: Vec::new(),
    });
    Ok(())
}
