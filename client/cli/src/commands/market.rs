//! `tessera market init | update | show` (admin).
use anchor_lang::prelude::Pubkey;
use serde_json::json;
use solana_signer::Signer;
use tessera_client::amount::parse_amount;
use tessera_client::flows::admin::{self, MarketChanges};
use tessera_client::state::MarketParams;
use tessera_client::{presets, ClientError};

use super::Session;
use crate::args::{MarketCmd, ParamArgs};
use crate::printer::{market_human, market_json};

pub async fn run(cmd: &MarketCmd, s: &Session) -> Result<(), ClientError> {
    let ctx = s.ctx();
    match cmd {
        MarketCmd::Init {
            treasury,
            arbiter,
            no_arbiter,
            params,
        } => {
            let me = s.signer();
            let mint = s.mint();
            let (_, decimals) = ctx.mint(&mint).await?;
            let params = apply_params(presets::mainnet(decimals), params, decimals)?;
            let arbiter = match (arbiter, no_arbiter) {
                (_, true) => Pubkey::default(),
                (Some(a), false) => *a,
                (None, false) => me.pubkey(),
            };
            let (market, sig) =
                admin::init_market(&ctx, me, &mint, treasury, &arbiter, params).await?;
            let m = ctx.market(&market).await?;
            s.printer.emit(
                || format!("created {}\n  signature {sig}", market_human(&m)),
                json!({"market": market.to_string(), "signature": sig.to_string(), "state": market_json(&m)}),
            );
        }
        MarketCmd::Update {
            admin: new_admin,
            arbiter,
            treasury,
            pause,
            resume,
            params,
        } => {
            let me = s.signer();
            let m = s.market().await?;
            let changes = MarketChanges {
                admin: *new_admin,
                arbiter: *arbiter,
                treasury: *treasury,
                params: if params_given(params) {
                    Some(apply_params(m.state.params, params, m.decimals)?)
                } else {
                    None
                },
                paused: if *pause {
                    Some(true)
                } else if *resume {
                    Some(false)
                } else {
                    None
                },
            };
            let sig = admin::update_market(&ctx, &m, me, &changes).await?;
            let m = s.market().await?;
            s.printer.emit(
                || format!("updated {}\n  signature {sig}", market_human(&m)),
                json!({"signature": sig.to_string(), "state": market_json(&m)}),
            );
        }
        MarketCmd::Show => {
            let m = s.market().await?;
            s.printer.emit(|| market_human(&m), market_json(&m));
        }
    }
    Ok(())
}

/// `base` with the parameters given on the command line (amounts in tokens of a mint with
/// `decimals` decimals).
pub fn apply_params(
    base: MarketParams,
    a: &ParamArgs,
    decimals: u8,
) -> Result<MarketParams, ClientError> {
    let mut p = base;
    macro_rules! set {
        ($($f:ident <- $g:ident),*) => {$( if let Some(v) = a.$g { p.$f = v; } )*};
    }
    set!(protocol_fee_bps <- protocol_fee_bps, burn_bps <- burn_bps, collateral_bps <- collateral_bps,
        slash_no_show_bps <- slash_no_show_bps, slash_fraud_bps <- slash_fraud_bps,
        creator_compensation_bps <- creator_compensation_bps, honest_share_bps <- honest_share_bps,
        max_replicas <- max_replicas, max_exec_timeout <- max_exec_timeout,
        reveal_window <- reveal_window, challenge_window <- challenge_window,
        unbonding_period <- unbonding_period, audit_rate_bps <- audit_rate_bps,
        audit_fee_bps <- audit_fee_bps, audit_chunks <- audit_chunks);
    if a.audit_rate_bps == Some(0) {
        // No audits: nothing to pay or check.
        p.audit_fee_bps = a.audit_fee_bps.unwrap_or(0);
        p.audit_chunks = a.audit_chunks.unwrap_or(0);
    }
    if let Some(s) = &a.min_operator_stake {
        p.min_operator_stake = parse_amount(s, decimals)?;
    }
    if let Some(s) = &a.min_reward {
        p.min_reward_per_replica = parse_amount(s, decimals)?;
    }
    Ok(p)
}

/// Whether any market parameter was given.
fn params_given(a: &ParamArgs) -> bool {
    *a != ParamArgs::default()
}
