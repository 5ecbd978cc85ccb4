//! One file per command family. Each takes a [`Session`]: the local inputs already checked
//! (see `input`), a JSON-RPC connection and the printer.
pub mod job;
pub mod localnet;
pub mod market;
pub mod operator;
pub mod serve;

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use tessera_client::flows::{Ctx, MarketInfo};
use tessera_client::store::Store;
use tessera_client::{cluster, paths, token, ClientError, TxOptions};

use crate::args::Cli;
use crate::input::{self, JobInput};
use crate::printer::Printer;

/// What the commands that talk to a cluster share.
pub struct Session {
    pub rpc: RpcClient,
    pub tx: TxOptions,
    pub printer: Printer,
    /// The signer, when the command needs one (see `input::prepare`).
    pub keypair: Option<Keypair>,
    /// The market's address; present for every command that acts on an existing market.
    pub market: Option<Pubkey>,
    /// The new market's mint (`market init`).
    pub mint: Option<Pubkey>,
    /// The program's id on the cluster.
    pub program_id: Pubkey,
    pub store: Store,
    /// Where inputs are uploaded.
    pub store_base: String,
}

impl Session {
    /// Checks the local inputs first (nothing is fetched or sent if one is wrong), then
    /// connects. Returns the session and `job submit`'s parsed input.
    pub fn open(cli: &Cli) -> Result<(Session, Option<JobInput>), ClientError> {
        let url = cluster::resolve_url(&cli.url)?;
        let tx = TxOptions {
            compute_unit_limit: cli
                .compute_unit_limit
                .or(TxOptions::default().compute_unit_limit),
            priority_fee_micro_lamports: cli.priority_fee,
            ..TxOptions::default()
        };
        let prepared = input::prepare(cli)?;
        let program_id = cli.program_id.unwrap_or(tessera_client::PROGRAM_ID);
        if let Some(warning) = input::program_id_warning(&cli.url, &program_id) {
            eprintln!("{warning}");
        }
        let rpc = RpcClient::new_with_commitment(
            url,
            solana_commitment_config::CommitmentConfig::confirmed(),
        );
        let session = Session {
            rpc,
            tx,
            printer: Printer { format: cli.output },
            keypair: prepared.keypair,
            market: cli.market,
            mint: cli.mint,
            program_id,
            store: Store::from_env(),
            store_base: cli.store.clone().unwrap_or_else(paths::default_store),
        };
        Ok((session, prepared.input))
    }

    /// The flows' context over this session's connection.
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx::new(&self.rpc)
            .with_tx(self.tx.clone())
            .with_program_id(self.program_id)
    }

    /// The signer of a command that signs.
    pub fn signer(&self) -> &Keypair {
        self.keypair
            .as_ref()
            .expect("input::prepare loads the keypair of every signing command")
    }

    /// The mint of `market init`.
    pub fn mint(&self) -> Pubkey {
        self.mint
            .expect("input::prepare refuses `market init` without --mint")
    }

    /// The address of the market a command acts on.
    pub fn market_address(&self) -> Pubkey {
        self.market
            .expect("input::prepare refuses a market command without --market")
    }

    /// The market of `--market`.
    pub async fn market(&self) -> Result<MarketInfo, ClientError> {
        self.ctx().market(&self.market_address()).await
    }
}

/// `owner`'s associated token account of the market's mint.
pub fn ata(owner: &Keypair, m: &MarketInfo) -> Pubkey {
    token::associated_token_address(&owner.pubkey(), &m.keys.mint, &m.keys.token_program)
}
