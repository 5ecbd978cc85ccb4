use crate::error::TesseraError;
use crate::events::OperatorUpdated;
use crate::state::{Market, Operator};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateOperator<'info> {
    pub authority: Signer<'info>,
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        has_one = market @ TesseraError::WrongOperatorAccounts,
        has_one = authority @ TesseraError::WrongOperatorAccounts
    )]
    pub operator: Box<Account<'info, Operator>>,
}

/// Sets the capabilities bitmask.
pub fn handler(ctx: Context<UpdateOperator>, capabilities: u32) -> Result<()> {
    let operator = &mut ctx.accounts.operator;
    operator.capabilities = capabilities;
    emit_cpi!(OperatorUpdated {
        market: operator.market,
        operator: operator.key(),
        capabilities,
    });
    Ok(())
}
