//! High-level flows over any [`Chain`]: what the CLI runs and what a frontend or the worker
//! would call. Each flow checks what it can before sending (inputs, balances, market limits),
//! so that a bad request fails with [`ClientError::BadInput`] or
//! [`ClientError::InsufficientFunds`] and nothing reaches the chain.
//!
//! - [`admin`]: create, update, pause and show a market.
//! - [`operator`]: register, stake, unstake, withdraw, show.
//! - [`creator`]: submit a job (upload + create), wait for it, list, cancel, fetch its result.
pub mod admin;
pub mod creator;
pub mod operator;

use anchor_lang::prelude::Pubkey;
use tessera::state::Market;

use crate::chain::{fetch, Chain};
use crate::error::ClientError;
use crate::ix::MarketKeys;
use crate::token::{self, TokenAccount};
use crate::{pda, TxOptions};

/// A market as the flows need it: its addresses, its state and the mint's decimals.
#[derive(Clone, Debug)]
pub struct MarketInfo {
    pub keys: MarketKeys,
    pub state: Market,
    pub decimals: u8,
}

impl MarketInfo {
    pub fn address(&self) -> Pubkey {
        self.keys.market
    }
}

/// Shared context of the flows: the chain and how to send.
pub struct Ctx<'a> {
    pub chain: &'a dyn Chain,
    pub tx: TxOptions,
}

impl<'a> Ctx<'a> {
    pub fn new(chain: &'a dyn Chain) -> Self {
        Ctx {
            chain,
            tx: TxOptions::default(),
        }
    }

    pub fn with_tx(mut self, tx: TxOptions) -> Self {
        self.tx = tx;
        self
    }

    /// The token program that owns `mint` and the mint's decimals.
    pub async fn mint(&self, mint: &Pubkey) -> Result<(Pubkey, u8), ClientError> {
        let account = self
            .chain
            .get_account(mint)
            .await?
            .ok_or(ClientError::AccountNotFound {
                what: "mint",
                address: *mint,
                fix: "check --mint and --url",
            })?;
        let decimals = token::mint_decimals(&account).ok_or_else(|| {
            ClientError::bad_input(
                format!("{mint} is not an SPL Token or Token-2022 mint"),
                "pass the market's mint with --mint",
            )
        })?;
        Ok((account.owner, decimals))
    }

    /// Loads the market of `mint`.
    pub async fn market(&self, mint: &Pubkey) -> Result<MarketInfo, ClientError> {
        let (token_program, decimals) = self.mint(mint).await?;
        let address = pda::market(mint).0;
        let state: Market = fetch(self.chain, &address).await?.ok_or(ClientError::AccountNotFound {
            what: "market",
            address,
            fix: "no market exists for this mint: check --mint, or create one with `tessera market init`",
        })?;
        Ok(MarketInfo {
            keys: MarketKeys::new(*mint, token_program, state.treasury),
            state,
            decimals,
        })
    }

    /// A token account of the market's mint; `None` if it does not exist.
    pub async fn token_account(
        &self,
        address: &Pubkey,
    ) -> Result<Option<TokenAccount>, ClientError> {
        Ok(self
            .chain
            .get_account(address)
            .await?
            .as_ref()
            .and_then(TokenAccount::from_account))
    }

    /// Checks that `address` is a token account of `mint` holding at least `amount`.
    pub async fn require_tokens(
        &self,
        address: &Pubkey,
        mint: &Pubkey,
        amount: u64,
        decimals: u8,
    ) -> Result<TokenAccount, ClientError> {
        let account = self
            .token_account(address)
            .await?
            .ok_or(ClientError::AccountNotFound {
            what: "token account",
            address: *address,
            fix: "create it (spl-token create-account <mint>) or pass another with --token-account",
        })?;
        if account.mint != *mint {
            return Err(ClientError::bad_input(
                format!(
                    "token account {address} holds mint {}, not the market's {mint}",
                    account.mint
                ),
                "pass a token account of the market's mint with --token-account",
            ));
        }
        if account.amount < amount {
            return Err(ClientError::InsufficientFunds {
                what: format!(
                    "token account {address} holds {}, {} needed",
                    crate::amount::format_amount(account.amount, decimals),
                    crate::amount::format_amount(amount, decimals)
                ),
                fix: "fund it with the market's mint, or lower the amount".into(),
            });
        }
        Ok(account)
    }
}
