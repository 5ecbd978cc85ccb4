use crate::error::TesseraError;
use crate::events::StakeDeposited;
use crate::math::add;
use crate::state::{Market, Operator, OperatorStatus};
use crate::token::Tokens;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct DepositStake<'info> {
    pub authority: Signer<'info>,
    #[account(has_one = mint @ TesseraError::WrongMint)]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        has_one = market @ TesseraError::WrongMarket,
        has_one = authority @ TesseraError::NotOperatorAuthority
    )]
    pub operator: Box<Account<'info, Operator>>,
    #[account(mut, address = market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The authority's tokens.
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub from: Box<InterfaceAccount<'info, TokenAccount>>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl DepositStake<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, TesseraError::ZeroAmount);
        require!(
            self.operator.status == OperatorStatus::Active,
            TesseraError::OperatorNotActive
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<DepositStake>, amount: u64) -> Result<()> {
    let a = &ctx.accounts;
    Tokens {
        program: a.token_program.to_account_info(),
        mint: a.mint.to_account_info(),
        decimals: a.market.decimals,
    }
    .transfer(
        &a.from.to_account_info(),
        &a.stake_vault.to_account_info(),
        &a.authority.to_account_info(),
        &[],
        amount,
    )?;
    let operator = &mut ctx.accounts.operator;
    operator.stake = add(operator.stake, amount)?;
    operator.invariant()?;
    emit_cpi!(StakeDeposited {
        market: operator.market,
        operator: operator.key(),
        amount,
        stake: operator.stake,
    });
    Ok(())
}
