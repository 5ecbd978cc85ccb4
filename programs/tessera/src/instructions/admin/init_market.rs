use crate::constants::{MARKET_SEED, STAKE_VAULT_SEED};
use crate::error::TesseraError;
use crate::events::MarketInitialized;
use crate::state::{Market, MarketParams};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitMarketArgs {
    pub arbiter: Pubkey,
    pub params: MarketParams,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitMarket<'info> {
    /// Becomes the market admin; pays for the accounts.
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = 8 + Market::INIT_SPACE,
        seeds = [MARKET_SEED, mint.key().as_ref()],
        bump
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// Receives protocol fees.
    #[account(token::mint = mint, token::token_program = token_program)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Holds every operator's stake; owned by the market PDA.
    #[account(
        init,
        payer = admin,
        seeds = [STAKE_VAULT_SEED, market.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = market,
        token::token_program = token_program
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl InitMarket<'_> {
    pub fn validate(&self, args: &InitMarketArgs) -> Result<()> {
        args.params.validate()
    }
}

pub fn handler(ctx: Context<InitMarket>, args: InitMarketArgs) -> Result<()> {
    let market = &mut ctx.accounts.market;
    market.set_inner(Market {
        admin: ctx.accounts.admin.key(),
        arbiter: args.arbiter,
        mint: ctx.accounts.mint.key(),
        treasury: ctx.accounts.treasury.key(),
        stake_vault: ctx.accounts.stake_vault.key(),
        params: args.params,
        paused: false,
        decimals: ctx.accounts.mint.decimals,
        bump: ctx.bumps.market,
        stake_vault_bump: ctx.bumps.stake_vault,
        reserved: [0; 64],
    });
    require!(
        market.params == args.params,
        TesseraError::InvariantViolated
    );
    emit_cpi!(MarketInitialized {
        market: market.key(),
        admin: market.admin,
        arbiter: market.arbiter,
        mint: market.mint,
        treasury: market.treasury,
        params: market.params,
    });
    Ok(())
}
