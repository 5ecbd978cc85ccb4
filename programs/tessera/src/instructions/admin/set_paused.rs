use crate::error::TesseraError;
use crate::events::MarketPaused;
use crate::state::Market;
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ TesseraError::NotAdmin)]
    pub market: Box<Account<'info, Market>>,
}

/// Pausing stops new jobs and claims; results, settlement and withdrawals go on.
pub fn handler(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
    ctx.accounts.market.paused = paused;
    emit_cpi!(MarketPaused {
        market: ctx.accounts.market.key(),
        paused,
    });
    Ok(())
}
