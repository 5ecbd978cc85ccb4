//! A local Solana validator in process, offline, with Tessera deployed.
//!
//! [`Localnet::start`] runs a surfpool-core surfnet with real JSON-RPC and websocket pubsub on
//! 127.0.0.1. It never reaches for a remote RPC: `offline_mode` is on and there is no
//! `remote_rpc_url` (surfpool's defaults point at mainnet). Then, over RPC like any user would:
//!
//! - deploys the program's SBPF `.so` at the program id (`surfnet_writeProgram`),
//! - creates a test SPL Token mint whose authority is the `admin` keypair,
//! - creates and funds the named keypairs (SOL by airdrop, tokens in their associated token
//!   accounts) and writes them as Solana CLI keypair files (`<dir>/<name>.json`).
//!
//! With [`LocalnetConfig::persistent`], the ledger is kept in `<dir>/ledger.sqlite` and a
//! restart carries on from it: the keypairs (and the mint's, `mint.json`) are read back, never
//! rewritten, and what already exists on chain (funds, the mint, token accounts) is left as it
//! is. Otherwise the ledger lives in memory and every start is a fresh one.
//!
//! It is what `tessera localnet` runs, and the fixture of the end-to-end tests. The surfnet runs
//! on its own OS thread (its runloop future is not `Send`); it stops on [`Localnet::stop`] or
//! when the value is dropped.
pub mod http;
#[cfg(feature = "s3-server")]
pub mod s3;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_spl::token::spl_token;
use crossbeam_channel::{unbounded, Sender};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use surfpool_core::runloops::start_local_surfnet_runloop;
use surfpool_core::surfnet::locker::SurfnetSvmLocker;
use surfpool_core::surfnet::svm::{SurfnetSvm, SurfnetSvmConfig};
use surfpool_types::types::{BlockProductionMode, RpcConfig, SimnetConfig};
use surfpool_types::{SimnetCommand, SimnetEvent, SurfpoolConfig};
use tessera_client::chain::Chain;
use tessera_client::flows::{admin, operator, Ctx, MarketInfo};
use tessera_client::state::MarketParams;
use tessera_client::token::{
    associated_token_address, ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID,
};
use tessera_client::{keys, presets, ClientError, TxOptions, PROGRAM_ID};
use tessera_kernels::KernelId;

/// Size of an SPL Token mint account.
const MINT_LEN: usize = 82;

/// Lamports in one SOL.
pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;

/// What to start.
#[derive(Clone, Debug)]
pub struct LocalnetConfig {
    /// The program's SBPF `.so` (`target/deploy/tessera.so`).
    pub program: PathBuf,
    /// Where the keypair files are written.
    pub dir: PathBuf,
    /// JSON-RPC port on 127.0.0.1 (0: a free one).
    pub rpc_port: u16,
    /// Websocket port on 127.0.0.1 (0: a free one).
    pub ws_port: u16,
    /// Milliseconds per slot.
    pub slot_time_ms: u64,
    /// Keypairs to create and fund, besides `admin` (which always exists: it is the mint
    /// authority).
    pub accounts: Vec<String>,
    /// SOL airdropped to each keypair.
    pub sol_each: u64,
    /// Tokens (base units) minted to each keypair's associated token account.
    pub tokens_each: u64,
    /// Decimals of the test mint.
    pub decimals: u8,
    /// Keep the ledger in `<dir>/ledger.sqlite` and resume it (with its keypairs and mint) on
    /// the next start; otherwise the ledger is in memory and the keypairs are new every time.
    pub persistent: bool,
}

/// The ledger's file under a persistent localnet's directory.
pub const LEDGER_FILE: &str = "ledger.sqlite";

impl LocalnetConfig {
    /// The usual setup: `admin`, `creator`, `operator-1`, `operator-2`, 100 SOL and 1 000 tokens
    /// (6 decimals) each, 100 ms slots, free ports.
    pub fn new(program: impl Into<PathBuf>, dir: impl Into<PathBuf>) -> Self {
        LocalnetConfig {
            program: program.into(),
            dir: dir.into(),
            rpc_port: 0,
            ws_port: 0,
            slot_time_ms: 100,
            accounts: ["creator", "operator-1", "operator-2"]
                .map(String::from)
                .to_vec(),
            sol_each: 100,
            tokens_each: 1_000_000_000,
            decimals: 6,
            persistent: false,
        }
    }
}

/// Market parameters for a local network ([`presets::local`]): the usual shares, a 1-token
/// minimum stake and windows short enough to watch a whole job settle (`challenge_window`
/// seconds to challenge).
pub fn local_params(challenge_window: i64) -> MarketParams {
    presets::local(challenge_window)
}

/// Why the local validator could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalnetError {
    #[error(
        "cannot read the program at {path}: {source} (build it with scripts/build-program.sh)"
    )]
    Program {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the local validator did not start: {0}")]
    Start(String),
    #[error("setting up the local validator failed: {0}")]
    Setup(#[from] ClientError),
}

/// A running local validator.
pub struct Localnet {
    /// `http://127.0.0.1:<port>`.
    pub rpc_url: String,
    /// `ws://127.0.0.1:<port>`.
    pub ws_url: String,
    /// The test mint (SPL Token, authority `admin`).
    pub mint: Pubkey,
    pub decimals: u8,
    /// Every keypair, by name, with its file.
    pub keypairs: BTreeMap<String, (PathBuf, Arc<Keypair>)>,
    commands: Sender<SimnetCommand>,
    thread: Option<JoinHandle<()>>,
}

impl Localnet {
    /// Starts the validator, deploys the program, creates the mint and funds the keypairs.
    /// Needs a multi-thread tokio runtime (surfpool's state lock uses `block_in_place`).
    pub async fn start(cfg: LocalnetConfig) -> Result<Localnet, LocalnetError> {
        let program = std::fs::read(&cfg.program).map_err(|source| LocalnetError::Program {
            path: cfg.program.clone(),
            source,
        })?;
        std::fs::create_dir_all(&cfg.dir)?;
        let rpc_port = free_port(cfg.rpc_port)?;
        let ws_port = free_port(cfg.ws_port)?;

        let svm_config = SurfnetSvmConfig {
            slot_time: cfg.slot_time_ms,
            ..SurfnetSvmConfig::default()
        };
        let ledger = cfg.dir.join(LEDGER_FILE);
        let built = if cfg.persistent {
            let url = ledger.to_str().ok_or_else(|| {
                LocalnetError::Start(format!("{} is not valid UTF-8", ledger.display()))
            })?;
            SurfnetSvm::new_with_db(Some(url), svm_config)
        } else {
            SurfnetSvm::new(svm_config)
        };
        let (svm, events, geyser) = built.map_err(|e| LocalnetError::Start(e.to_string()))?;
        let locker = SurfnetSvmLocker::new(svm);
        let surfpool = SurfpoolConfig {
            simnets: vec![SimnetConfig {
                // Never reach for a remote RPC: the defaults point at mainnet.
                offline_mode: true,
                remote_rpc_url: None,
                slot_time: cfg.slot_time_ms,
                block_production_mode: BlockProductionMode::Clock,
                ..SimnetConfig::default()
            }],
            rpc: RpcConfig {
                bind_host: "127.0.0.1".into(),
                bind_port: rpc_port,
                ws_port,
                ..RpcConfig::default()
            },
            ..SurfpoolConfig::default()
        };
        let (commands, commands_rx) = unbounded();
        let handle = tokio::runtime::Handle::current();
        let runloop_commands = commands.clone();
        let thread = std::thread::Builder::new()
            .name("localnet".into())
            .spawn(move || {
                let run = start_local_surfnet_runloop(
                    locker,
                    surfpool,
                    runloop_commands,
                    commands_rx,
                    geyser,
                );
                if let Err(e) = handle.block_on(run) {
                    eprintln!("local validator stopped: {e}");
                }
            })?;
        let mut net = Localnet {
            rpc_url: format!("http://127.0.0.1:{rpc_port}"),
            ws_url: format!("ws://127.0.0.1:{ws_port}"),
            mint: Pubkey::default(),
            decimals: cfg.decimals,
            keypairs: BTreeMap::new(),
            commands,
            thread: Some(thread),
        };

        // Wait until the RPC servers are bound, then keep draining the events: the channel is
        // bounded and a full one stalls the validator.
        let started = tokio::task::spawn_blocking(move || loop {
            match events.recv_timeout(Duration::from_secs(60)) {
                Ok(SimnetEvent::CoreStarted(_)) => {
                    std::thread::spawn(move || while events.recv().is_ok() {});
                    return Ok(());
                }
                Ok(SimnetEvent::Aborted(why)) => return Err(why),
                Ok(_) => {}
                Err(e) => return Err(format!("no start-up event: {e}")),
            }
        })
        .await
        .map_err(|e| LocalnetError::Start(e.to_string()))?;
        started.map_err(LocalnetError::Start)?;

        net.setup(&cfg, &program).await?;
        Ok(net)
    }

    async fn setup(&mut self, cfg: &LocalnetConfig, program: &[u8]) -> Result<(), LocalnetError> {
        let rpc = self.rpc();
        deploy(&rpc, &PROGRAM_ID, program).await?;

        let mut names = vec!["admin".to_string()];
        names.extend(cfg.accounts.iter().filter(|n| *n != "admin").cloned());
        for name in &names {
            let path = cfg.dir.join(format!("{name}.json"));
            let key = Arc::new(self.keypair_file(cfg, &path)?);
            let lamports = cfg.sol_each * LAMPORTS_PER_SOL;
            let balance = rpc
                .get_balance(&key.pubkey())
                .await
                .map_err(|e| ClientError::Rpc(format!("balance: {e}")))?;
            if balance < lamports / 2 {
                let sig = rpc
                    .request_airdrop(&key.pubkey(), lamports)
                    .await
                    .map_err(|e| ClientError::Rpc(format!("airdrop: {e}")))?;
                rpc.poll_for_signature(&sig)
                    .await
                    .map_err(|e| ClientError::Rpc(format!("airdrop: {e}")))?;
            }
            self.keypairs.insert(name.clone(), (path, key));
        }

        let admin = self.keypair("admin");
        let mint = self.keypair_file(cfg, &cfg.dir.join("mint.json"))?;
        self.mint = mint.pubkey();
        if exists(&rpc, &mint.pubkey()).await? {
            return Ok(());
        }
        let rent = rpc
            .get_minimum_balance_for_rent_exemption(MINT_LEN)
            .await
            .map_err(|e| ClientError::Rpc(e.to_string()))?;
        let ixs = [
            solana_system_interface::instruction::create_account(
                &admin.pubkey(),
                &mint.pubkey(),
                rent,
                MINT_LEN as u64,
                &TOKEN_PROGRAM_ID,
            ),
            spl_token::instruction::initialize_mint2(
                &TOKEN_PROGRAM_ID,
                &mint.pubkey(),
                &admin.pubkey(),
                None,
                cfg.decimals,
            )
            .map_err(|e| LocalnetError::Start(e.to_string()))?,
        ];
        let chain: &dyn Chain = &rpc;
        chain
            .send_transaction(&ixs, &[&admin, &mint], &TxOptions::default())
            .await?;
        for name in &names {
            let owner = self.keypair(name).pubkey();
            self.mint_to(&owner, cfg.tokens_each).await?;
        }
        Ok(())
    }

    /// The keypair at `path`: read back on a persistent ledger that has it, else a new one
    /// written there.
    fn keypair_file(&self, cfg: &LocalnetConfig, path: &Path) -> Result<Keypair, ClientError> {
        if cfg.persistent && path.exists() {
            return keys::read_keypair(path);
        }
        let key = Keypair::new();
        keys::write_keypair(path, &key)?;
        Ok(key)
    }

    /// Whether an account exists at `address`.
    pub async fn exists(&self, address: &Pubkey) -> Result<bool, ClientError> {
        exists(&self.rpc(), address).await
    }

    /// A nonblocking RPC client at `confirmed`.
    pub fn rpc(&self) -> RpcClient {
        RpcClient::new_with_commitment(self.rpc_url.clone(), CommitmentConfig::confirmed())
    }

    /// The keypair called `name`. Panics if there is none (a programming error).
    pub fn keypair(&self, name: &str) -> Arc<Keypair> {
        self.keypairs
            .get(name)
            .unwrap_or_else(|| panic!("no keypair called {name}"))
            .1
            .clone()
    }

    /// The associated token account of `owner` for the test mint.
    pub fn token_account(&self, owner: &Pubkey) -> Pubkey {
        associated_token_address(owner, &self.mint, &TOKEN_PROGRAM_ID)
    }

    /// Mints `amount` base units to `owner`'s associated token account (created if missing).
    pub async fn mint_to(&self, owner: &Pubkey, amount: u64) -> Result<Pubkey, ClientError> {
        let admin = self.keypair("admin");
        let ata = self.token_account(owner);
        let ixs = [
            create_ata_idempotent(&admin.pubkey(), owner, &self.mint),
            spl_token::instruction::mint_to(
                &TOKEN_PROGRAM_ID,
                &self.mint,
                &ata,
                &admin.pubkey(),
                &[],
                amount,
            )
            .map_err(|e| ClientError::bad_input(e.to_string(), "check the amount"))?,
        ];
        let rpc = self.rpc();
        let chain: &dyn Chain = &rpc;
        chain
            .send_transaction(&ixs, &[&admin], &TxOptions::default())
            .await?;
        Ok(ata)
    }

    /// Creates the market of the test mint: `admin` is its admin and arbiter, and its
    /// associated token account the treasury.
    pub async fn create_market(&self, params: MarketParams) -> Result<MarketInfo, ClientError> {
        self.create_market_with_arbiter(params, &self.keypair("admin").pubkey())
            .await
    }

    /// [`Localnet::create_market`] with `arbiter` (the default key: no arbiter, a market
    /// whose disputes only the on-chain referee settles).
    pub async fn create_market_with_arbiter(
        &self,
        params: MarketParams,
        arbiter: &Pubkey,
    ) -> Result<MarketInfo, ClientError> {
        let admin = self.keypair("admin");
        let rpc = self.rpc();
        let ctx = Ctx::new(&rpc);
        let treasury = self.token_account(&admin.pubkey());
        let (market, _) =
            admin::init_market(&ctx, &admin, &self.mint, &treasury, arbiter, params).await?;
        ctx.market(&market).await
    }

    /// Registers `key` as an operator of `market` running every kernel, staking `stake` from
    /// its associated token account.
    pub async fn register_operator(
        &self,
        market: &MarketInfo,
        key: &Keypair,
        stake: u64,
    ) -> Result<Pubkey, ClientError> {
        let rpc = self.rpc();
        let ctx = Ctx::new(&rpc);
        let from = self.token_account(&key.pubkey());
        operator::register(&ctx, market, key, KernelId::all_mask(), &from, stake).await?;
        Ok(market.keys.operator(&key.pubkey()))
    }

    /// Stops the validator and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.commands.send(SimnetCommand::Terminate(None));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The instruction creating `owner`'s associated token account for `mint` if it is missing.
pub fn create_ata_idempotent(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
) -> anchor_lang::solana_program::instruction::Instruction {
    use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
    Instruction {
        program_id: ASSOCIATED_TOKEN_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(
                associated_token_address(owner, mint, &TOKEN_PROGRAM_ID),
                false,
            ),
            AccountMeta::new_readonly(*owner, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(anchor_lang::system_program::ID, false),
            AccountMeta::new_readonly(TOKEN_PROGRAM_ID, false),
        ],
        // 1 = CreateIdempotent.
        data: vec![1],
    }
}

/// Deploys `program` at `id` with surfpool's `surfnet_writeProgram` RPC method.
pub async fn deploy(rpc: &RpcClient, id: &Pubkey, program: &[u8]) -> Result<(), ClientError> {
    use solana_rpc_client_api::request::RpcRequest;
    let hex: String = program.iter().map(|b| format!("{b:02x}")).collect();
    let params = serde_json::json!([id.to_string(), hex, 0]);
    rpc.send::<serde_json::Value>(
        RpcRequest::Custom {
            method: "surfnet_writeProgram",
        },
        params,
    )
    .await
    .map_err(|e| ClientError::Rpc(format!("deploying the program: {e}")))?;
    Ok(())
}

/// Whether an account exists at `address`.
async fn exists(rpc: &RpcClient, address: &Pubkey) -> Result<bool, ClientError> {
    let found = rpc
        .get_account_with_commitment(address, CommitmentConfig::confirmed())
        .await
        .map_err(|e| ClientError::Rpc(format!("reading {address}: {e}")))?;
    Ok(found.value.is_some())
}

/// `port`, or a free one when it is 0 (bind to port 0, read it, release it).
fn free_port(port: u16) -> std::io::Result<u16> {
    if port != 0 {
        return Ok(port);
    }
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
