//! The narrow view of a chain the flows need: [`Chain`].
//!
//! Two implementations exist: the nonblocking JSON-RPC client (here, feature `rpc`) for a real
//! validator, and LiteSVM (in the `tessera-tests` crate) so that every flow is tested against
//! the real program without a network. The flows take `&dyn Chain`.
//!
//! Sending is done once, in [`Chain::send_transaction`]: it prepends the compute-budget
//! instructions, signs with a fresh blockhash, and tries again with a new blockhash when the
//! old one expired before the transaction landed.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountDeserialize, Discriminator};
use async_trait::async_trait;
use solana_account::Account;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_message::Message;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::error::ClientError;

/// The `Clock` sysvar's address.
pub const CLOCK_SYSVAR_ID: Pubkey =
    anchor_lang::pubkey!("SysvarC1ock11111111111111111111111111111111");

/// The chain's clock, as the program sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainClock {
    pub slot: u64,
    pub unix_timestamp: i64,
}

impl ChainClock {
    /// Decodes the `Clock` sysvar's data (slot, epoch start, epoch, leader schedule epoch,
    /// unix timestamp: five little-endian 8-byte fields).
    pub fn from_sysvar_data(data: &[u8]) -> Option<Self> {
        let field = |i: usize| data.get(i * 8..i * 8 + 8)?.try_into().ok();
        Some(ChainClock {
            slot: u64::from_le_bytes(field(0)?),
            unix_timestamp: i64::from_le_bytes(field(4)?),
        })
    }
}

/// A filter of `getProgramAccounts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountFilter {
    /// The account's data holds `bytes` at `offset`.
    Memcmp { offset: usize, bytes: Vec<u8> },
    /// The account's data is exactly this long.
    DataSize(u64),
}

impl AccountFilter {
    /// Accounts of type `T` (their 8-byte Anchor discriminator).
    pub fn discriminator<T: Discriminator>() -> Self {
        AccountFilter::Memcmp {
            offset: 0,
            bytes: T::DISCRIMINATOR.to_vec(),
        }
    }

    /// Whether `data` passes the filter (what a node does on its side).
    pub fn matches(&self, data: &[u8]) -> bool {
        match self {
            AccountFilter::Memcmp { offset, bytes } => data
                .get(*offset..offset.saturating_add(bytes.len()))
                .is_some_and(|d| d == bytes.as_slice()),
            AccountFilter::DataSize(n) => data.len() as u64 == *n,
        }
    }
}

/// How transactions are sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxOptions {
    /// Compute-unit limit requested for the transaction (`None`: the runtime's default). The
    /// costliest instruction (`resolve_dispute`) uses about 45 000 (docs/benchmarks.md).
    pub compute_unit_limit: Option<u32>,
    /// Priority fee in micro-lamports per compute unit (`None`: no priority fee).
    pub priority_fee_micro_lamports: Option<u64>,
    /// Attempts in all, each with a fresh blockhash, while the blockhash expires unused.
    pub max_attempts: u32,
}

impl Default for TxOptions {
    fn default() -> Self {
        TxOptions {
            compute_unit_limit: Some(DEFAULT_COMPUTE_UNIT_LIMIT),
            priority_fee_micro_lamports: None,
            max_attempts: 3,
        }
    }
}

/// Compute units requested by default: every Tessera instruction fits with a wide margin.
pub const DEFAULT_COMPUTE_UNIT_LIMIT: u32 = 200_000;

/// The compute-budget instructions `opts` ask for, to put before the others.
pub fn compute_budget_instructions(opts: &TxOptions) -> Vec<Instruction> {
    let mut ixs = Vec::new();
    if let Some(limit) = opts.compute_unit_limit {
        ixs.push(ComputeBudgetInstruction::set_compute_unit_limit(limit));
    }
    if let Some(price) = opts.priority_fee_micro_lamports {
        ixs.push(ComputeBudgetInstruction::set_compute_unit_price(price));
    }
    ixs
}

/// What the flows need from a chain.
#[async_trait]
pub trait Chain: Send + Sync {
    /// An account, or `None` if it does not exist.
    async fn get_account(&self, address: &Pubkey) -> Result<Option<Account>, ClientError>;

    /// Several accounts at once, in order.
    async fn get_multiple_accounts(
        &self,
        addresses: &[Pubkey],
    ) -> Result<Vec<Option<Account>>, ClientError>;

    /// Accounts owned by `program` that pass every filter.
    async fn get_program_accounts(
        &self,
        program: &Pubkey,
        filters: &[AccountFilter],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError>;

    /// A recent blockhash to sign with.
    async fn latest_blockhash(&self) -> Result<Hash, ClientError>;

    /// Sends a signed transaction and waits until it is confirmed or has failed. Returns
    /// [`ClientError::BlockhashExpired`] when its blockhash expired before it landed.
    async fn send_signed(&self, tx: &Transaction) -> Result<Signature, ClientError>;

    /// The chain's clock.
    async fn clock(&self) -> Result<ChainClock, ClientError>;

    /// Sends `instructions` in one transaction paid by the first signer: compute-budget
    /// instructions first (see [`TxOptions`]), signed with a fresh blockhash, tried again with
    /// a new one while the blockhash expires before the transaction lands.
    async fn send_transaction(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        opts: &TxOptions,
    ) -> Result<Signature, ClientError> {
        let payer = signers
            .first()
            .ok_or_else(|| ClientError::bad_input("no signer given", "pass the fee payer"))?
            .pubkey();
        let mut ixs = compute_budget_instructions(opts);
        ixs.extend_from_slice(instructions);
        let attempts = opts.max_attempts.max(1);
        for _ in 0..attempts {
            let blockhash = self.latest_blockhash().await?;
            let message = Message::new_with_blockhash(&ixs, Some(&payer), &blockhash);
            let mut tx = Transaction::new_unsigned(message);
            tx.try_sign(signers, blockhash).map_err(|e| {
                ClientError::bad_input(
                    format!("cannot sign: {e}"),
                    "pass every keypair the instruction needs",
                )
            })?;
            match self.send_signed(&tx).await {
                Err(ClientError::BlockhashExpired { .. }) => continue,
                other => return other,
            }
        }
        Err(ClientError::BlockhashExpired { attempts })
    }
}

/// Reads a program account of type `T`; `None` if it does not exist or was closed.
pub async fn fetch<T: AccountDeserialize + Discriminator>(
    chain: &dyn Chain,
    address: &Pubkey,
) -> Result<Option<T>, ClientError> {
    match chain.get_account(address).await? {
        Some(a) if a.lamports > 0 => crate::decode::<T>(&a.data).map(Some).map_err(|e| {
            ClientError::bad_input(
                format!(
                    "account {address} is not a valid {}: {e}",
                    std::any::type_name::<T>()
                ),
                "check the address",
            )
        }),
        _ => Ok(None),
    }
}

#[cfg(feature = "rpc")]
mod rpc {
    use super::*;
    use solana_account_decoder_client_types::UiAccountEncoding;
    use solana_commitment_config::CommitmentConfig;
    use solana_rpc_client::nonblocking::rpc_client::RpcClient;
    use solana_rpc_client_api::client_error::{Error as RpcClientError, ErrorKind};
    use solana_rpc_client_api::config::{
        RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
    };
    use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
    use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
    use std::time::Duration;

    /// `getMultipleAccounts` takes at most this many addresses.
    const MAX_MULTIPLE_ACCOUNTS: usize = 100;
    /// How often a sent transaction's status is polled.
    const CONFIRM_POLL: Duration = Duration::from_millis(400);

    /// Maps an RPC client error: a transaction error (preflight or on-chain) to what the
    /// program said, anything else by [`ClientError::from_rpc_message`] (unreachable or not).
    pub fn map_rpc_error(e: RpcClientError) -> ClientError {
        if let Some(tx_err) = e.get_transaction_error() {
            let logs = match e.kind.as_ref() {
                ErrorKind::RpcError(RpcError::RpcResponseError {
                    data: RpcResponseErrorData::SendTransactionPreflightFailure(r),
                    ..
                }) => r.logs.clone().unwrap_or_default(),
                _ => Vec::new(),
            };
            return ClientError::from_transaction_error(tx_err, logs);
        }
        ClientError::from_rpc_message(e.to_string())
    }

    /// The JSON-RPC form of a filter.
    pub fn to_rpc_filter(f: &AccountFilter) -> RpcFilterType {
        match f {
            AccountFilter::Memcmp { offset, bytes } => {
                RpcFilterType::Memcmp(Memcmp::new_base58_encoded(*offset, bytes))
            }
            AccountFilter::DataSize(n) => RpcFilterType::DataSize(*n),
        }
    }

    #[async_trait]
    impl Chain for RpcClient {
        async fn get_account(&self, address: &Pubkey) -> Result<Option<Account>, ClientError> {
            Ok(self
                .get_account_with_commitment(address, self.commitment())
                .await
                .map_err(map_rpc_error)?
                .value)
        }

        async fn get_multiple_accounts(
            &self,
            addresses: &[Pubkey],
        ) -> Result<Vec<Option<Account>>, ClientError> {
            let mut out = Vec::with_capacity(addresses.len());
            for chunk in addresses.chunks(MAX_MULTIPLE_ACCOUNTS) {
                out.extend(
                    self.get_multiple_accounts_with_commitment(chunk, self.commitment())
                        .await
                        .map_err(map_rpc_error)?
                        .value,
                );
            }
            Ok(out)
        }

        async fn get_program_accounts(
            &self,
            program: &Pubkey,
            filters: &[AccountFilter],
        ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
            let config = RpcProgramAccountsConfig {
                filters: Some(filters.iter().map(to_rpc_filter).collect()),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(UiAccountEncoding::Base64),
                    commitment: Some(self.commitment()),
                    ..RpcAccountInfoConfig::default()
                },
                ..RpcProgramAccountsConfig::default()
            };
            let accounts = self
                .get_program_ui_accounts_with_config(program, config)
                .await
                .map_err(map_rpc_error)?;
            accounts
                .into_iter()
                .map(|(key, ui)| {
                    ui.to_account().map(|a| (key, a)).ok_or_else(|| {
                        ClientError::Rpc(format!("account {key} came back undecodable"))
                    })
                })
                .collect()
        }

        async fn latest_blockhash(&self) -> Result<Hash, ClientError> {
            self.get_latest_blockhash().await.map_err(map_rpc_error)
        }

        async fn send_signed(&self, tx: &Transaction) -> Result<Signature, ClientError> {
            let config = RpcSendTransactionConfig {
                preflight_commitment: Some(self.commitment().commitment),
                ..RpcSendTransactionConfig::default()
            };
            let signature = self
                .send_transaction_with_config(tx, config)
                .await
                .map_err(map_rpc_error)?;
            let blockhash = tx.message.recent_blockhash;
            loop {
                let status = self
                    .get_signature_status_with_commitment(&signature, self.commitment())
                    .await
                    .map_err(map_rpc_error)?;
                match status {
                    Some(Ok(())) => return Ok(signature),
                    Some(Err(e)) => return Err(ClientError::from_transaction_error(e, Vec::new())),
                    None => {
                        let valid = self
                            .is_blockhash_valid(&blockhash, CommitmentConfig::processed())
                            .await
                            .map_err(map_rpc_error)?;
                        if !valid {
                            // One last look: it may have landed in the meantime.
                            return match self
                                .get_signature_status_with_commitment(&signature, self.commitment())
                                .await
                                .map_err(map_rpc_error)?
                            {
                                Some(Ok(())) => Ok(signature),
                                Some(Err(e)) => {
                                    Err(ClientError::from_transaction_error(e, Vec::new()))
                                }
                                None => Err(ClientError::BlockhashExpired { attempts: 1 }),
                            };
                        }
                        tokio::time::sleep(CONFIRM_POLL).await;
                    }
                }
            }
        }

        async fn clock(&self) -> Result<ChainClock, ClientError> {
            let id = CLOCK_SYSVAR_ID;
            let account =
                Chain::get_account(self, &id)
                    .await?
                    .ok_or(ClientError::AccountNotFound {
                        what: "clock sysvar",
                        address: id,
                        fix: "check --url: this does not look like a Solana node",
                    })?;
            ChainClock::from_sysvar_data(&account.data)
                .ok_or_else(|| ClientError::Rpc("the clock sysvar is malformed".into()))
        }
    }
}

#[cfg(feature = "rpc")]
pub use rpc::{map_rpc_error, to_rpc_filter};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_like_a_node() {
        let f = AccountFilter::Memcmp {
            offset: 2,
            bytes: vec![9, 9],
        };
        assert!(f.matches(&[0, 0, 9, 9, 1]));
        assert!(!f.matches(&[0, 0, 9]));
        assert!(!f.matches(&[0, 0, 9, 8]));
        assert!(AccountFilter::DataSize(3).matches(&[1, 2, 3]));
        assert!(!AccountFilter::DataSize(3).matches(&[1, 2]));
        let job = AccountFilter::discriminator::<tessera::state::Job>();
        let mut data = tessera::state::Job::DISCRIMINATOR.to_vec();
        data.extend([0; 10]);
        assert!(job.matches(&data));
    }

    #[test]
    fn clock_sysvar_decodes() {
        let mut data = Vec::new();
        for v in [42u64, 1, 2, 3] {
            data.extend(v.to_le_bytes());
        }
        data.extend(1_700_000_000i64.to_le_bytes());
        assert_eq!(
            ChainClock::from_sysvar_data(&data),
            Some(ChainClock {
                slot: 42,
                unix_timestamp: 1_700_000_000
            })
        );
        assert_eq!(ChainClock::from_sysvar_data(&data[..39]), None);
    }

    #[test]
    fn compute_budget_follows_options() {
        assert_eq!(compute_budget_instructions(&TxOptions::default()).len(), 1);
        let opts = TxOptions {
            compute_unit_limit: None,
            priority_fee_micro_lamports: Some(5),
            max_attempts: 1,
        };
        assert_eq!(compute_budget_instructions(&opts).len(), 1);
        let none = TxOptions {
            compute_unit_limit: None,
            ..opts
        };
        let none = TxOptions {
            priority_fee_micro_lamports: None,
            ..none
        };
        assert!(compute_budget_instructions(&none).is_empty());
    }
}
