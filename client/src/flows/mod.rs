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
pub mod referee;

use anchor_lang::prelude::Pubkey;
use tessera::state::Market;

use crate::chain::Chain;
use crate::error::ClientError;
use crate::ix::MarketKeys;
use crate::pda::Pdas;
use crate::token::{self, TokenAccount};
use crate::TxOptions;

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

/// Shared context of the flows: the chain, the program and how to send.
pub struct Ctx<'a> {
    pub chain: &'a dyn Chain,
    pub tx: TxOptions,
    /// The program's id on this chain (`tessera::ID` unless set with [`Ctx::with_program_id`]).
    pub program_id: Pubkey,
}

impl<'a> Ctx<'a> {
    pub fn new(chain: &'a dyn Chain) -> Self {
        Ctx {
            chain,
            tx: TxOptions::default(),
            program_id: tessera::ID,
        }
    }

    pub fn with_tx(mut self, tx: TxOptions) -> Self {
        self.tx = tx;
        self
    }

    /// Talks to the program deployed at `program_id`.
    pub fn with_program_id(mut self, program_id: Pubkey) -> Self {
        self.program_id = program_id;
        self
    }

    /// The PDAs of this context's program.
    pub fn pdas(&self) -> Pdas {
        Pdas::new(self.program_id)
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
                fix: "check the mint and --url",
            })?;
        let decimals = token::mint_decimals(&account).ok_or_else(|| {
            ClientError::bad_input(
                format!("{mint} is not an SPL Token or Token-2022 mint"),
                "pass an SPL Token or Token-2022 mint",
            )
        })?;
        Ok((account.owner, decimals))
    }

    /// Loads the market at `address`; its mint, founder and treasury come from the account.
    pub async fn market(&self, address: &Pubkey) -> Result<MarketInfo, ClientError> {
        let account = self
            .chain
            .get_account(address)
            .await?
            .ok_or(ClientError::AccountNotFound {
                what: "market",
                address: *address,
                fix: "check --market and --url (`tessera market init` creates a market and prints its address)",
            })?;
        let not_a_market =
            |why: &str| {
                ClientError::bad_input(
                format!("{address} is not a market of program {}: {why}", self.program_id),
                "pass a market's address with --market (and the program's id with --program-id)",
            )
            };
        if account.owner != self.program_id {
            return Err(not_a_market(&format!("its owner is {}", account.owner)));
        }
        let state: Market =
            crate::decode(&account.data).map_err(|_| not_a_market("its data is not a market"))?;
        let (token_program, decimals) = self.mint(&state.mint).await?;
        let keys = MarketKeys::for_program(
            self.program_id,
            state.mint,
            state.founder,
            token_program,
            state.treasury,
        );
        if keys.market != *address {
            return Err(not_a_market("it is not at its own address"));
        }
        Ok(MarketInfo {
            keys,
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
