use crate::constants::ARBITER_CHANGE_DELAY;
use crate::error::TesseraError;
use crate::events::MarketUpdated;
use crate::math::add_time;
use crate::state::{Market, MarketParams};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct UpdateMarketArgs {
    pub admin: Pubkey,
    /// The arbiter wanted: the one in office keeps it (and cancels a pending change); another
    /// key takes over `ARBITER_CHANGE_DELAY` after it was first named.
    pub arbiter: Pubkey,
    pub params: MarketParams,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateMarket<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ TesseraError::NotAdmin)]
    pub market: Box<Account<'info, Market>>,
    /// The (possibly new) treasury; must hold the market's mint and not be one of the market's
    /// own vaults.
    #[account(
        constraint = treasury.mint == market.mint @ TesseraError::WrongMint,
        constraint = treasury.key() != market.stake_vault
            && treasury.key() != market.fee_vault @ TesseraError::BadTreasury
    )]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl UpdateMarket<'_> {
    pub fn validate(&self, args: &UpdateMarketArgs) -> Result<()> {
        args.params.validate()
    }
}

/// Replaces the parameters, admin and treasury, and names an arbiter. None of it touches a job
/// already created: jobs settle under the terms (rates, windows, bond, arbiter) they were
/// created with. A new arbiter takes over only after `ARBITER_CHANGE_DELAY`, longer than any
/// job can live, so operators and creators see a change coming before any job it would rule.
pub fn handler(ctx: Context<UpdateMarket>, args: UpdateMarketArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let market = &mut ctx.accounts.market;
    let before = market.params;
    // A change whose delay has passed is in office now.
    if market.arbiter_change_at != 0 && now >= market.arbiter_change_at {
        market.arbiter = market.pending_arbiter;
        market.pending_arbiter = Pubkey::default();
        market.arbiter_change_at = 0;
    }
    if args.arbiter == market.arbiter {
        market.pending_arbiter = Pubkey::default();
        market.arbiter_change_at = 0;
    } else if market.arbiter_change_at == 0 || args.arbiter != market.pending_arbiter {
        market.pending_arbiter = args.arbiter;
        market.arbiter_change_at = add_time(now, ARBITER_CHANGE_DELAY)?;
    }
    market.admin = args.admin;
    market.treasury = ctx.accounts.treasury.key();
    market.params = args.params;
    emit_cpi!(MarketUpdated {
        market: market.key(),
        admin: market.admin,
        arbiter: market.arbiter,
        pending_arbiter: market.pending_arbiter,
        arbiter_change_at: market.arbiter_change_at,
        treasury: market.treasury,
        before,
        after: market.params,
    });
    Ok(())
}
