//! The market admin's flows: create a market, change it, pause it, show it. Parameters are
//! validated with the program's own `MarketParams::validate` before anything is sent.
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_signer::Signer;
use tessera::instructions::UpdateMarketArgs;
use tessera::state::MarketParams;

use super::{Ctx, MarketInfo};
use crate::error::ClientError;
use crate::ix::MarketKeys;

/// Checks parameters the way the program will.
pub fn check_params(params: &MarketParams) -> Result<(), ClientError> {
    params.validate().map_err(|e| {
        let msg = match e {
            anchor_lang::error::Error::AnchorError(a) => a.error_msg,
            other => other.to_string(),
        };
        ClientError::bad_input(
            format!("invalid market parameters: {msg}"),
            "change the parameter named",
        )
    })
}

/// Creates `admin`'s market of `mint` (at `["market", mint, admin]`: a mint has one market per
/// founder), with `treasury` (a token account of the mint) receiving fees. Returns its address.
pub async fn init_market(
    ctx: &Ctx<'_>,
    admin: &Keypair,
    mint: &Pubkey,
    treasury: &Pubkey,
    arbiter: &Pubkey,
    params: MarketParams,
) -> Result<(Pubkey, Signature), ClientError> {
    check_params(&params)?;
    let (token_program, decimals) = ctx.mint(mint).await?;
    let keys = MarketKeys::for_program(
        ctx.program_id,
        *mint,
        admin.pubkey(),
        token_program,
        *treasury,
    );
    let market = keys.market;
    if ctx.chain.get_account(&market).await?.is_some() {
        return Err(ClientError::bad_input(
            format!(
                "{} already created a market for mint {mint}, at {market}",
                admin.pubkey()
            ),
            "change it with `tessera market update --market <address>`",
        ));
    }
    ctx.require_tokens(treasury, mint, 0, decimals).await?;
    let ix = keys.init_market(admin.pubkey(), *arbiter, params);
    let sig = ctx.chain.send_transaction(&[ix], &[admin], &ctx.tx).await?;
    Ok((market, sig))
}

/// Changes to a market; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct MarketChanges {
    pub admin: Option<Pubkey>,
    pub arbiter: Option<Pubkey>,
    pub treasury: Option<Pubkey>,
    pub params: Option<MarketParams>,
    pub paused: Option<bool>,
}

impl MarketChanges {
    pub fn is_empty(&self) -> bool {
        self.admin.is_none()
            && self.arbiter.is_none()
            && self.treasury.is_none()
            && self.params.is_none()
            && self.paused.is_none()
    }
}

/// Applies `changes` to the market (one transaction); the signer must be its admin.
pub async fn update_market(
    ctx: &Ctx<'_>,
    market: &MarketInfo,
    admin: &Keypair,
    changes: &MarketChanges,
) -> Result<Signature, ClientError> {
    if changes.is_empty() {
        return Err(ClientError::bad_input(
            "nothing to change",
            "pass at least one parameter to change",
        ));
    }
    if market.state.admin != admin.pubkey() {
        return Err(ClientError::bad_input(
            format!(
                "{} is not the admin of market {} (its admin is {})",
                admin.pubkey(),
                market.address(),
                market.state.admin
            ),
            "sign with the admin's keypair (--keypair)",
        ));
    }
    let mut ixs = Vec::new();
    if changes.admin.is_some()
        || changes.arbiter.is_some()
        || changes.treasury.is_some()
        || changes.params.is_some()
    {
        let params = changes.params.unwrap_or(market.state.params);
        check_params(&params)?;
        let treasury = changes.treasury.unwrap_or(market.state.treasury);
        ctx.require_tokens(&treasury, &market.keys.mint, 0, market.decimals)
            .await?;
        let args = UpdateMarketArgs {
            admin: changes.admin.unwrap_or(market.state.admin),
            arbiter: changes.arbiter.unwrap_or(market.state.arbiter),
            params,
        };
        ixs.push(market.keys.update_market(admin.pubkey(), args, treasury));
    }
    if let Some(paused) = changes.paused {
        ixs.push(market.keys.set_paused(admin.pubkey(), paused));
    }
    ctx.chain.send_transaction(&ixs, &[admin], &ctx.tx).await
}
