//! The operator's flows: register (and stake), stake, unstake, withdraw, show. Each checks
//! the operator's account and balances first, so that a request the program would refuse is
//! refused here, with what to do, before anything is sent.
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_signer::Signer;
use tessera::state::Operator;

use super::{Ctx, MarketInfo};
use crate::amount::format_amount;
use crate::chain::fetch;
use crate::error::ClientError;

/// An operator account with its address.
#[derive(Clone, Debug)]
pub struct OperatorInfo {
    pub address: Pubkey,
    pub state: Operator,
}

impl OperatorInfo {
    /// Stake not locked by live claims.
    pub fn free_stake(&self) -> u64 {
        self.state.free_stake()
    }
}

/// Reads the operator of `authority` in `market`, if registered.
pub async fn find(
    ctx: &Ctx<'_>,
    market: &MarketInfo,
    authority: &Pubkey,
) -> Result<Option<OperatorInfo>, ClientError> {
    let address = market.keys.operator(authority);
    Ok(fetch::<Operator>(ctx.chain, &address)
        .await?
        .map(|state| OperatorInfo { address, state }))
}

/// Reads the operator of `authority`; an error saying to register if there is none.
pub async fn show(
    ctx: &Ctx<'_>,
    market: &MarketInfo,
    authority: &Pubkey,
) -> Result<OperatorInfo, ClientError> {
    find(ctx, market, authority)
        .await?
        .ok_or(ClientError::AccountNotFound {
            what: "operator",
            address: market.keys.operator(authority),
            fix: "register first with `tessera operator register`",
        })
}

fn require_positive(amount: u64, what: &str) -> Result<(), ClientError> {
    if amount == 0 {
        return Err(ClientError::bad_input(
            format!("the {what} amount is zero"),
            "pass an amount greater than zero",
        ));
    }
    Ok(())
}

/// Registers `authority` as an operator running the kernels in `capabilities` (bit `k` =
/// kernel `k`) and, if `stake > 0`, deposits `stake` from `from` in the same transaction.
pub async fn register(
    ctx: &Ctx<'_>,
    market: &MarketInfo,
    authority: &Keypair,
    capabilities: u32,
    from: &Pubkey,
    stake: u64,
) -> Result<Signature, ClientError> {
    let key = authority.pubkey();
    if let Some(op) = find(ctx, market, &key).await? {
        return Err(ClientError::bad_input(
            format!("{key} is already registered as operator {}", op.address),
            "use `tessera operator stake` to add stake",
        ));
    }
    if capabilities == 0 {
        return Err(ClientError::bad_input(
            "no kernel capability given",
            "pass the kernels this node runs with --kernels (e.g. render,mlp-i8)",
        ));
    }
    let mut ixs = vec![market.keys.register_operator(key, capabilities)];
    if stake > 0 {
        ctx.require_tokens(from, &market.keys.mint, stake, market.decimals)
            .await?;
        ixs.push(market.keys.deposit_stake(key, *from, stake));
    }
    ctx.chain
        .send_transaction(&ixs, &[authority], &ctx.tx)
        .await
}

/// Deposits `amount` of stake from the token account `from`.
pub async fn stake(
    ctx: &Ctx<'_>,
    market: &MarketInfo,
    authority: &Keypair,
    from: &Pubkey,
    amount: u64,
) -> Result<Signature, ClientError> {
    require_positive(amount, "stake")?;
    let key = authority.pubkey();
    show(ctx, market, &key).await?;
    ctx.require_tokens(from, &market.keys.mint, amount, market.decimals)
        .await?;
    let ix = market.keys.deposit_stake(key, *from, amount);
    ctx.chain
        .send_transaction(&[ix], &[authority], &ctx.tx)
        .await
}

/// Starts unbonding `amount` of free stake (withdrawable after the market's unbonding period).
pub async fn unstake(
    ctx: &Ctx<'_>,
    market: &MarketInfo,
    authority: &Keypair,
    amount: u64,
) -> Result<Signature, ClientError> {
    require_positive(amount, "unstake")?;
    let key = authority.pubkey();
    let op = show(ctx, market, &key).await?;
    if amount > op.free_stake() {
        let d = market.decimals;
        return Err(ClientError::InsufficientFunds {
            what: format!(
                "only {} of the stake is free ({} staked, {} bonded by live claims)",
                format_amount(op.free_stake(), d),
                format_amount(op.state.stake, d),
                format_amount(op.state.bonded, d)
            ),
            fix: "unstake less, or wait until live claims settle".into(),
        });
    }
    let ix = market.keys.request_unstake(key, amount);
    ctx.chain
        .send_transaction(&[ix], &[authority], &ctx.tx)
        .await
}

/// What [`withdraw`] would pay out now: (earnings, unbonded stake).
pub fn withdrawable(op: &Operator, now: i64) -> (u64, u64) {
    let unbonded = if op.unbonding > 0 && now >= op.unbonding_ready_at {
        op.unbonding
    } else {
        0
    };
    (op.earned, unbonded)
}

/// Withdraws the operator's earnings and its unbonded stake to the token account `to`.
pub async fn withdraw(
    ctx: &Ctx<'_>,
    market: &MarketInfo,
    authority: &Keypair,
    to: &Pubkey,
) -> Result<Signature, ClientError> {
    let key = authority.pubkey();
    let op = show(ctx, market, &key).await?;
    let now = ctx.chain.clock().await?.unix_timestamp;
    let (earned, unbonded) = withdrawable(&op.state, now);
    if earned == 0 && unbonded == 0 {
        return Err(if op.state.unbonding > 0 {
            ClientError::bad_input(
                format!(
                    "{} is unbonding until unix time {} ({} s from now)",
                    format_amount(op.state.unbonding, market.decimals),
                    op.state.unbonding_ready_at,
                    op.state.unbonding_ready_at - now
                ),
                "try again after the unbonding period",
            )
        } else {
            ClientError::bad_input(
                "there is nothing to withdraw: no earnings and no unbonded stake",
                "request an unstake first (`tessera operator unstake`)",
            )
        });
    }
    ctx.require_tokens(to, &market.keys.mint, 0, market.decimals)
        .await?;
    let ix = market.keys.withdraw_stake(key, *to);
    ctx.chain
        .send_transaction(&[ix], &[authority], &ctx.tx)
        .await
}
