//! `tessera_client::Chain` over LiteSVM: the client's flows run against the real program
//! without a network. Borrows the fixture's `LiteSVM` for as long as the flows need it.
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

use anchor_lang::prelude::{Clock, Pubkey};
use async_trait::async_trait;
use litesvm::LiteSVM;
use solana_account::Account;
use solana_hash::Hash;
use solana_signature::Signature;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use tessera_client::chain::{AccountFilter, Chain, ChainClock};
use tessera_client::ClientError;

/// LiteSVM as a [`Chain`]. Every blockhash it hands out is fresh (so that identical
/// transactions stay distinct), and it counts the transactions that reached the runtime.
pub struct LiteChain<'a> {
    svm: Mutex<&'a mut LiteSVM>,
    sent: AtomicUsize,
    expire_next: AtomicU32,
}

impl<'a> LiteChain<'a> {
    pub fn new(svm: &'a mut LiteSVM) -> Self {
        LiteChain {
            svm: Mutex::new(svm),
            sent: AtomicUsize::new(0),
            expire_next: AtomicU32::new(0),
        }
    }

    /// Transactions that reached the runtime (landed or failed) through this chain.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    /// Lets the blockhash of the next `n` transactions expire before they are processed, as a
    /// congested cluster would.
    pub fn expire_next(&self, n: u32) {
        self.expire_next.store(n, Ordering::SeqCst);
    }

    fn svm(&self) -> std::sync::MutexGuard<'_, &'a mut LiteSVM> {
        self.svm.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Chain for LiteChain<'_> {
    async fn get_account(&self, address: &Pubkey) -> Result<Option<Account>, ClientError> {
        Ok(self.svm().get_account(address).filter(|a| a.lamports > 0))
    }

    async fn get_multiple_accounts(
        &self,
        addresses: &[Pubkey],
    ) -> Result<Vec<Option<Account>>, ClientError> {
        let svm = self.svm();
        Ok(addresses
            .iter()
            .map(|a| svm.get_account(a).filter(|a| a.lamports > 0))
            .collect())
    }

    async fn get_program_accounts(
        &self,
        program: &Pubkey,
        filters: &[AccountFilter],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        Ok(self
            .svm()
            .get_program_accounts(program)
            .into_iter()
            .filter(|(_, a)| a.lamports > 0 && filters.iter().all(|f| f.matches(&a.data)))
            .collect())
    }

    async fn latest_blockhash(&self) -> Result<Hash, ClientError> {
        let mut svm = self.svm();
        svm.expire_blockhash();
        Ok(svm.latest_blockhash())
    }

    async fn send_signed(&self, tx: &Transaction) -> Result<Signature, ClientError> {
        let mut svm = self.svm();
        // Under the svm lock: no other send can interleave.
        let pending = self.expire_next.load(Ordering::SeqCst);
        if pending > 0 {
            self.expire_next.store(pending - 1, Ordering::SeqCst);
            svm.expire_blockhash();
        }
        let signature = tx.signatures[0];
        match svm.send_transaction(tx.clone()) {
            Ok(_) => {
                self.sent.fetch_add(1, Ordering::SeqCst);
                Ok(signature)
            }
            Err(f) if f.err == TransactionError::BlockhashNotFound => {
                Err(ClientError::BlockhashExpired { attempts: 1 })
            }
            Err(f) => {
                self.sent.fetch_add(1, Ordering::SeqCst);
                Err(ClientError::from_transaction_error(f.err, f.meta.logs))
            }
        }
    }

    async fn clock(&self) -> Result<ChainClock, ClientError> {
        let clock = self.svm().get_sysvar::<Clock>();
        Ok(ChainClock {
            slot: clock.slot,
            unix_timestamp: clock.unix_timestamp,
        })
    }
}
