use crate::constants::OPERATOR_SEED;
use crate::error::TesseraError;
use crate::events::OperatorUpdated;
use crate::state::{Market, Operator};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateOperator<'info> {
    pub authority: Signer<'info>,
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, market.key().as_ref(), authority.key().as_ref()],
        bump = operator.bump
    )]
    pub operator: Box<Account<'info, Operator>>,
    /// The (possibly new) payout account.
    #[account(constraint = payout.mint == market.mint @ TesseraError::WrongMint)]
    pub payout: Box<InterfaceAccount<'info, TokenAccount>>,
}

/// Sets the capabilities bitmask and the payout account.
pub fn handler(ctx: Context<UpdateOperator>, capabilities: u32) -> Result<()> {
    let operator = &mut ctx.accounts.operator;
    operator.capabilities = capabilities;
    operator.payout = ctx.accounts.payout.key();
    emit_cpi!(OperatorUpdated {
        operator: operator.key(),
        capabilities,
        payout: operator.payout,
    });
    Ok(())
}
