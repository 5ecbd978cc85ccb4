use crate::error::TesseraError;
use crate::events::UnstakeRequested;
use crate::math::{add, add_time, sub};
use crate::state::{Market, Operator};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct RequestUnstake<'info> {
    pub authority: Signer<'info>,
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        has_one = market @ TesseraError::WrongMarket,
        has_one = authority @ TesseraError::NotOperatorAuthority
    )]
    pub operator: Box<Account<'info, Operator>>,
}

impl RequestUnstake<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, TesseraError::ZeroAmount);
        require!(
            amount <= self.operator.free_stake(),
            TesseraError::InsufficientFreeStake
        );
        Ok(())
    }
}

/// Moves free stake to unbonding. A new request restarts the unbonding period for everything
/// unbonding.
pub fn handler(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let period = ctx.accounts.market.params.unbonding_period;
    let operator = &mut ctx.accounts.operator;
    operator.stake = sub(operator.stake, amount)?;
    operator.unbonding = add(operator.unbonding, amount)?;
    operator.unbonding_ready_at = add_time(now, period)?;
    operator.invariant()?;
    emit_cpi!(UnstakeRequested {
        market: operator.market,
        operator: operator.key(),
        amount,
        stake: operator.stake,
        unbonding: operator.unbonding,
        ready_at: operator.unbonding_ready_at,
    });
    Ok(())
}
