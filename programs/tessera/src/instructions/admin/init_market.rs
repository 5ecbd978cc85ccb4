use crate::constants::{FEE_VAULT_SEED, MARKET_SEED, STAKE_VAULT_SEED};
use crate::error::TesseraError;
use crate::events::MarketInitialized;
use crate::state::{Market, MarketParams};
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022;
use anchor_spl::token_2022::spl_token_2022::extension::{
    BaseStateWithExtensions, ExtensionType, StateWithExtensions,
};
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitMarketArgs {
    pub arbiter: Pubkey,
    pub params: MarketParams,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitMarket<'info> {
    /// Becomes the market admin and its founder (part of the market's address); pays for the
    /// accounts.
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = 8 + Market::INIT_SPACE,
        seeds = [MARKET_SEED, mint.key().as_ref(), admin.key().as_ref()],
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
    /// Where protocol fees accrue; owned by the market PDA, emptied into the treasury by
    /// `collect_fees`.
    #[account(
        init,
        payer = admin,
        seeds = [FEE_VAULT_SEED, market.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = market,
        token::token_program = token_program
    )]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl InitMarket<'_> {
    pub fn validate(&self, args: &InitMarketArgs) -> Result<()> {
        args.params.validate()?;
        check_mint_extensions(&self.mint.to_account_info())
    }
}

/// Token-2022 mint extensions a market works with: they change nothing about how many tokens a
/// transfer or burn moves, or who may move them. Any other (a transfer fee or hook, a permanent
/// delegate, confidential transfers, a default frozen state, non-transferable or pausable
/// tokens) would break the escrow and vault accounting or let a third party block settlements.
/// A close authority is refused too: once the supply is 0 the mint could be closed and
/// re-created at the same address with any of those, and the market checks the mint only here.
const ALLOWED_MINT_EXTENSIONS: [ExtensionType; 6] = [
    ExtensionType::MetadataPointer,
    ExtensionType::TokenMetadata,
    ExtensionType::GroupPointer,
    ExtensionType::TokenGroup,
    ExtensionType::GroupMemberPointer,
    ExtensionType::TokenGroupMember,
];

fn check_mint_extensions(mint: &AccountInfo) -> Result<()> {
    if *mint.owner != spl_token_2022::ID {
        return Ok(());
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<spl_token_2022::state::Mint>::unpack(&data)
        .map_err(|_| error!(TesseraError::UnsupportedMintExtension))?;
    let types = state
        .get_extension_types()
        .map_err(|_| error!(TesseraError::UnsupportedMintExtension))?;
    require!(
        types.iter().all(|t| ALLOWED_MINT_EXTENSIONS.contains(t)),
        TesseraError::UnsupportedMintExtension
    );
    Ok(())
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
        fee_vault: ctx.accounts.fee_vault.key(),
        fee_vault_bump: ctx.bumps.fee_vault,
        pending_arbiter: Pubkey::default(),
        arbiter_change_at: 0,
        founder: ctx.accounts.admin.key(),
        reserved: [0; 32],
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
