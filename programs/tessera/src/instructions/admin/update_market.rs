use crate::error::TesseraError;
use crate::events::MarketUpdated;
use crate::state::{Market, MarketParams};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct UpdateMarketArgs {
    pub admin: Pubkey,
    pub arbiter: Pubkey,
    pub params: MarketParams,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateMarket<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ TesseraError::NotAdmin)]
    pub market: Box<Account<'info, Market>>,
    /// The (possibly new) treasury; must hold the market's mint.
    #[account(constraint = treasury.mint == market.mint @ TesseraError::WrongMint)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl UpdateMarket<'_> {
    pub fn validate(&self, args: &UpdateMarketArgs) -> Result<()> {
        args.params.validate()
    }
}

/// Replaces the parameters, admin, arbiter and treasury. Live jobs keep the bonds and deadlines
/// they already have; new windows apply to phases that start afterwards.
pub fn handler(ctx: Context<UpdateMarket>, args: UpdateMarketArgs) -> Result<()> {
    let market = &mut ctx.accounts.market;
    let before = market.params;
    market.admin = args.admin;
    market.arbiter = args.arbiter;
    market.treasury = ctx.accounts.treasury.key();
    market.params = args.params;
    emit_cpi!(MarketUpdated {
        market: market.key(),
        admin: market.admin,
        arbiter: market.arbiter,
        treasury: market.treasury,
        before,
        after: market.params,
    });
    Ok(())
}
