use crate::error::TesseraError;
use crate::events::JobAccountClosed;
use crate::state::Job;
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CloseJob<'info> {
    /// Receives the job account's rent.
    #[account(mut)]
    pub creator: Signer<'info>,
    #[account(mut, has_one = creator @ TesseraError::NotCreator, close = creator)]
    pub job: AccountLoader<'info, Job>,
}

impl CloseJob<'_> {
    /// An ended job with no referee game left open: a game must never outlive its job (a job
    /// re-created at the same address would be judged by it). Games of an ended job end at
    /// once by `end_game` (anyone).
    pub fn validate(&self) -> Result<()> {
        let job = self.job.load()?;
        require!(job.state().has_ended(), TesseraError::JobNotEnded);
        require!(job.open_games == 0, TesseraError::GamesOpen);
        Ok(())
    }
}

/// Closes an ended job's account and returns its rent to the creator. The job's history stays
/// in its events; the same job id can then be used for a new job.
pub fn handler(ctx: Context<CloseJob>) -> Result<()> {
    let (state, market) = {
        let job = ctx.accounts.job.load()?;
        (job.state(), job.market)
    };
    emit_cpi!(JobAccountClosed {
        market,
        job: ctx.accounts.job.key(),
        creator: ctx.accounts.creator.key(),
        state,
        rent: ctx.accounts.job.to_account_info().lamports(),
    });
    Ok(())
}
