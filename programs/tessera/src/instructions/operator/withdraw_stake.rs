use crate::constants::OPERATOR_SEED;
use crate::error::TesseraError;
use crate::events::StakeWithdrawn;
use crate::instructions::settlement::pay_from_vault;
use crate::state::{Market, Operator, OperatorStatus};
use crate::token::Tokens;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawStake<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(has_one = mint @ TesseraError::WrongMint)]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, market.key().as_ref(), authority.key().as_ref()],
        bump = operator.bump
    )]
    pub operator: Box<Account<'info, Operator>>,
    #[account(mut, address = market.stake_vault @ TesseraError::InvariantViolated)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Receives the tokens.
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub to: Box<InterfaceAccount<'info, TokenAccount>>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl WithdrawStake<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.operator.unbonding > 0, TesseraError::NothingToWithdraw);
        require!(
            Clock::get()?.unix_timestamp >= self.operator.unbonding_ready_at,
            TesseraError::UnbondingNotReady
        );
        Ok(())
    }
}

/// Pays out everything unbonding. An exiting operator with nothing left is closed (rent back to
/// its authority).
pub fn handler(ctx: Context<WithdrawStake>) -> Result<()> {
    let a = &ctx.accounts;
    let amount = a.operator.unbonding;
    let tokens = Tokens {
        program: a.token_program.to_account_info(),
        mint: a.mint.to_account_info(),
        decimals: a.market.decimals,
    };
    pay_from_vault(
        &tokens,
        &a.market,
        &a.stake_vault.to_account_info(),
        &a.to.to_account_info(),
        amount,
    )?;
    let operator = &mut ctx.accounts.operator;
    operator.unbonding = 0;
    let closed = operator.status == OperatorStatus::Exiting && operator.stake == 0;
    emit_cpi!(StakeWithdrawn {
        operator: ctx.accounts.operator.key(),
        amount,
        closed,
    });
    if closed {
        ctx.accounts
            .operator
            .close(ctx.accounts.authority.to_account_info())?;
    }
    Ok(())
}
