use crate::error::TesseraError;
use crate::events::FeesCollected;
use crate::instructions::settlement::pay_from_vault;
use crate::state::Market;
use crate::token::Tokens;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct CollectFees<'info> {
    #[account(has_one = mint @ TesseraError::WrongMint)]
    pub market: Box<Account<'info, Market>>,
    #[account(mut, address = market.fee_vault @ TesseraError::WrongFeeVault)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The market's treasury.
    #[account(mut, address = market.treasury @ TesseraError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl CollectFees<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.fee_vault.amount > 0, TesseraError::NoFees);
        Ok(())
    }
}

/// Permissionless: sends every fee accrued in the fee vault to the market's treasury. Fees
/// accrue inside the program at settlement, so a treasury that is closed, frozen or refuses
/// transfers only delays its own income; it never blocks a job.
pub fn handler(ctx: Context<CollectFees>) -> Result<()> {
    let a = &ctx.accounts;
    let amount = a.fee_vault.amount;
    let tokens = Tokens {
        program: a.token_program.to_account_info(),
        mint: a.mint.to_account_info(),
        decimals: a.market.decimals,
    };
    pay_from_vault(
        &tokens,
        &a.market,
        &a.fee_vault.to_account_info(),
        &a.treasury.to_account_info(),
        amount,
    )?;
    emit_cpi!(FeesCollected {
        market: a.market.key(),
        treasury: a.market.treasury,
        amount,
    });
    Ok(())
}
