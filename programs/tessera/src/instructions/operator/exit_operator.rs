use crate::error::TesseraError;
use crate::events::OperatorExited;
use crate::math::{add, add_time};
use crate::state::{Market, Operator, OperatorStatus};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ExitOperator<'info> {
    pub authority: Signer<'info>,
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        has_one = market @ TesseraError::WrongMarket,
        has_one = authority @ TesseraError::NotOperatorAuthority
    )]
    pub operator: Box<Account<'info, Operator>>,
}

impl ExitOperator<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.operator.status == OperatorStatus::Active,
            TesseraError::OperatorNotActive
        );
        require!(self.operator.bonded == 0, TesseraError::OperatorHasBonds);
        require!(
            self.operator.live_claims == 0,
            TesseraError::OperatorHasLiveClaims
        );
        Ok(())
    }
}

/// Leaves the market: no new claims, all stake starts unbonding. `withdraw_stake` then pays it
/// out and closes the account.
pub fn handler(ctx: Context<ExitOperator>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let period = ctx.accounts.market.params.unbonding_period;
    let operator = &mut ctx.accounts.operator;
    operator.status = OperatorStatus::Exiting;
    operator.unbonding = add(operator.unbonding, operator.stake)?;
    operator.stake = 0;
    operator.unbonding_ready_at = add_time(now, period)?;
    operator.invariant()?;
    emit_cpi!(OperatorExited {
        market: operator.market,
        operator: operator.key(),
        unbonding: operator.unbonding,
        ready_at: operator.unbonding_ready_at,
    });
    Ok(())
}
