//! The command line, as clap sees it. Every option can also come from a `TESSERA_*`
//! environment variable.
use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use clap::{Args, Parser, Subcommand, ValueEnum};

fn pubkey(s: &str) -> Result<Pubkey, String> {
    s.parse::<Pubkey>()
        .map_err(|_| format!("\"{s}\" is not a base58 address"))
}

/// What `--wait` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Until {
    /// The result is known (every replica delivered the same root, or the job ended).
    Result,
    /// The job has ended: settled (the operators paid), expired or cancelled.
    End,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

/// Tessera: verifiable GPU compute on Solana. Post jobs, run a node, manage a market.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about, propagate_version = true)]
pub struct Cli {
    /// JSON-RPC URL or moniker: localhost (l), devnet (d), testnet (t), mainnet-beta (m).
    #[arg(
        long,
        short = 'u',
        env = "TESSERA_URL",
        default_value = "localhost",
        global = true
    )]
    pub url: String,
    /// Keypair file that signs and pays [default: ~/.config/solana/id.json].
    #[arg(long, short = 'k', env = "TESSERA_KEYPAIR", global = true)]
    pub keypair: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'o', env = "TESSERA_OUTPUT", value_enum, default_value_t = OutputFormat::Human, global = true)]
    pub output: OutputFormat,
    /// The market's address (`market init` prints it); every command but `market init` and
    /// `localnet` acts on it.
    #[arg(long, env = "TESSERA_MARKET", value_parser = pubkey, global = true)]
    pub market: Option<Pubkey>,
    /// The mint of the market `market init` creates (a mint may have several markets, one per
    /// founder: other commands take --market).
    #[arg(long, env = "TESSERA_MINT", value_parser = pubkey, global = true)]
    pub mint: Option<Pubkey>,
    /// The program's id on the cluster [default: the local networks' id, whose keypair is
    /// public: pass the deployed program's id on devnet or mainnet-beta].
    #[arg(long, env = "TESSERA_PROGRAM_ID", value_parser = pubkey, global = true)]
    pub program_id: Option<Pubkey>,
    /// Object store for inputs: a directory, or a file://, s3://, gs://, az:// or https:// URL
    /// [default: ~/.local/share/tessera/store].
    #[arg(long, env = "TESSERA_STORE", global = true)]
    pub store: Option<String>,
    /// Compute-unit limit requested per transaction.
    #[arg(long, env = "TESSERA_COMPUTE_UNIT_LIMIT", global = true)]
    pub compute_unit_limit: Option<u32>,
    /// Priority fee, in micro-lamports per compute unit.
    #[arg(long, env = "TESSERA_PRIORITY_FEE", global = true)]
    pub priority_fee: Option<u64>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, change and show a market (admin).
    #[command(subcommand)]
    Market(MarketCmd),
    /// Register a node, manage its stake (operator).
    #[command(subcommand)]
    Operator(OperatorCmd),
    /// Submit jobs, follow them, fetch verified results (creator).
    #[command(subcommand)]
    Job(JobCmd),
    /// Run a local validator (in process, offline) with the program deployed, a test mint, a
    /// market, and funded, staked operator keypairs, until Ctrl-C.
    Localnet(LocalnetArgs),
    /// Serve the web app for a real cluster: the app, the network's summary and a gateway to
    /// the store (--store: uploads checked against their sha256), until Ctrl-C.
    Serve(ServeArgs),
}

/// `tessera serve`.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on (put a TLS-terminating proxy in front of it on a public host).
    #[arg(long, default_value = "127.0.0.1:8898")]
    pub listen: std::net::SocketAddr,
    /// The web app's built files, served at `/` (`npm run build` in app/).
    #[arg(long, default_value = "app/dist")]
    pub app: PathBuf,
    /// An origin whose pages may call this server from a browser (the app served elsewhere:
    /// `https://app.example.com`); repeat for several. Pages on this machine always may.
    #[arg(long)]
    pub allow_origin: Vec<String>,
    /// The cluster's websocket URL [default: from --url, as the Solana CLI derives it].
    #[arg(long)]
    pub ws_url: Option<String>,
    /// The chain wallets sign for: mainnet, devnet, testnet or localnet [default: from --url].
    #[arg(long, value_parser = ["mainnet", "devnet", "testnet", "localnet"])]
    pub chain: Option<String>,
}

/// `tessera localnet`.
#[derive(Debug, Args, Clone)]
pub struct LocalnetArgs {
    /// Keep the ledger in this directory (its keypairs, mint, market, worker configurations
    /// and `ledger.sqlite`) and resume it on the next start [default: a fresh ledger at every
    /// start, its files in .tessera/localnet].
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// Start the --ledger over: new keypairs, mint and market.
    #[arg(long, requires = "ledger")]
    pub reset: bool,
    /// Operator keypairs to create, register and stake (operator-1, operator-2, …).
    #[arg(long, default_value_t = 2)]
    pub operators: u32,
    /// The market's challenge window, in seconds (its other parameters are the local preset's:
    /// 600 s of execution at most, 30 s to reveal, 60 s to unbond).
    #[arg(long, default_value_t = 10)]
    pub challenge_window: i64,
    /// JSON-RPC port on 127.0.0.1; websockets listen on the next one.
    #[arg(long, default_value_t = 8899, value_parser = clap::value_parser!(u16).range(1..65535))]
    pub rpc_port: u16,
    /// The program's SBPF build.
    #[arg(long, default_value = "target/deploy/tessera.so")]
    pub program: PathBuf,
    /// Port on 127.0.0.1 of the HTTP server for browsers: the store (`/store/…`: read files,
    /// upload inputs), `/localnet.json`, the development keypairs and the web app (0: none).
    #[arg(long, default_value_t = 8898)]
    pub http_port: u16,
    /// The web app's built files, served at `/` by the HTTP server (`npm run build` in app/).
    #[arg(long, default_value = "app/dist")]
    pub app: PathBuf,
    /// The global options given on the command line that `tessera localnet` has no use for
    /// (it runs its own cluster, keypairs, market and store): refused. Filled by [`parse`].
    #[arg(skip)]
    pub not_taken: Vec<String>,
}

/// The global options `tessera localnet` does not take, by id: hidden from `localnet --help`
/// and refused when given on its command line (their environment variables are ignored).
pub const NOT_TAKEN_BY_LOCALNET: [&str; 8] = [
    "url",
    "keypair",
    "market",
    "mint",
    "program_id",
    "store",
    "compute_unit_limit",
    "priority_fee",
];

/// The command line's definition: [`Cli`]'s, with the global options that `localnet` does not
/// take hidden from its help.
pub fn command() -> clap::Command {
    let cmd = <Cli as clap::CommandFactory>::command();
    // Declared on `localnet` itself, hidden, the global options are not propagated to it
    // (clap skips a subcommand that has an argument of that id); they parse as before.
    let hidden: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| NOT_TAKEN_BY_LOCALNET.contains(&a.get_id().as_str()))
        .map(|a| a.clone().hide(true))
        .collect();
    cmd.mut_subcommand("localnet", |localnet| localnet.args(hidden))
}

/// Parses `args` (the program's name first) with [`command`].
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command().try_get_matches_from(args)?;
    let mut cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches)?;
    if let (Command::Localnet(l), Some(sub)) =
        (&mut cli.command, matches.subcommand_matches("localnet"))
    {
        l.not_taken = NOT_TAKEN_BY_LOCALNET
            .iter()
            .filter(|id| sub.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
            .map(|id| format!("--{}", id.replace('_', "-")))
            .collect();
    }
    Ok(cli)
}

/// Parses the process's command line; prints the usage and exits on an error, as clap does.
pub fn parse() -> Cli {
    try_parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
}

/// Market parameters; amounts in tokens (e.g. 1.5), windows in seconds.
#[derive(Debug, Args, Clone, Default, PartialEq, Eq)]
pub struct ParamArgs {
    /// Share of each reward sent to the treasury, in basis points.
    #[arg(long)]
    pub protocol_fee_bps: Option<u16>,
    /// Share of each reward burned, in basis points.
    #[arg(long)]
    pub burn_bps: Option<u16>,
    /// Bond per claim relative to the reward, in basis points.
    #[arg(long)]
    pub collateral_bps: Option<u16>,
    /// Share of the bond slashed from a no-show, in basis points.
    #[arg(long)]
    pub slash_no_show_bps: Option<u16>,
    /// Share of the bond slashed from a cheat, in basis points.
    #[arg(long)]
    pub slash_fraud_bps: Option<u16>,
    /// Share of a slash paid to the creator, in basis points.
    #[arg(long)]
    pub creator_compensation_bps: Option<u16>,
    /// Share of a fraud slash paid to the honest parties, in basis points.
    #[arg(long)]
    pub honest_share_bps: Option<u16>,
    /// Most replicas a job may ask for (1–3).
    #[arg(long)]
    pub max_replicas: Option<u8>,
    /// Stake an operator needs to claim, in tokens.
    #[arg(long)]
    pub min_operator_stake: Option<String>,
    /// Smallest reward per replica, in tokens.
    #[arg(long)]
    pub min_reward: Option<String>,
    /// Longest execution timeout a job may set, in seconds.
    #[arg(long)]
    pub max_exec_timeout: Option<i64>,
    /// Time to reveal once all replicas committed, in seconds.
    #[arg(long)]
    pub reveal_window: Option<i64>,
    /// Time during which results can be challenged, in seconds.
    #[arg(long)]
    pub challenge_window: Option<i64>,
    /// Time between an unstake request and the withdrawal, in seconds.
    #[arg(long)]
    pub unbonding_period: Option<i64>,
    /// Share of jobs audited, in basis points (0: no audits; then the fee and chunks are 0).
    #[arg(long)]
    pub audit_rate_bps: Option<u16>,
    /// The audit fee relative to one reward, in basis points.
    #[arg(long)]
    pub audit_fee_bps: Option<u16>,
    /// Chunks one audit recomputes (1–4).
    #[arg(long)]
    pub audit_chunks: Option<u8>,
}

#[derive(Debug, Subcommand)]
pub enum MarketCmd {
    /// Create a market of --mint (the signer becomes its founder and admin); prints its
    /// address, which names it from then on (--market).
    Init {
        /// Token account of the mint that receives protocol fees.
        #[arg(long, value_parser = pubkey)]
        treasury: Pubkey,
        /// Who resolves disputes (a multisig in production) [default: the signer].
        #[arg(long, value_parser = pubkey, conflicts_with = "no_arbiter")]
        arbiter: Option<Pubkey>,
        /// No arbiter at all: the market then takes only jobs whose disputes the program
        /// settles itself (gemm-i8 and mlp-i8).
        #[arg(long)]
        no_arbiter: bool,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Change the market of --market (admin only); only the options given change.
    Update {
        #[arg(long, value_parser = pubkey)]
        admin: Option<Pubkey>,
        #[arg(long, value_parser = pubkey)]
        arbiter: Option<Pubkey>,
        #[arg(long, value_parser = pubkey)]
        treasury: Option<Pubkey>,
        /// Stop taking new jobs and claims.
        #[arg(long, conflicts_with = "resume")]
        pause: bool,
        /// Take new jobs and claims again.
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Show the market of --market.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum OperatorCmd {
    /// Register the signer as an operator, optionally with a first stake.
    Register {
        /// Kernels this node runs (comma-separated).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "render,gemm-i8,mlp-i8,benchmark"
        )]
        kernels: Vec<String>,
        /// Stake to deposit now, in tokens.
        #[arg(long)]
        stake: Option<String>,
        /// Token account the stake comes from [default: the signer's associated account].
        #[arg(long, value_parser = pubkey)]
        token_account: Option<Pubkey>,
    },
    /// Deposit stake, in tokens.
    Stake {
        amount: String,
        #[arg(long, value_parser = pubkey)]
        token_account: Option<Pubkey>,
    },
    /// Start unbonding free stake, in tokens (withdrawable after the unbonding period).
    Unstake { amount: String },
    /// Withdraw earnings and unbonded stake.
    Withdraw {
        /// Token account that receives the tokens [default: the signer's associated account].
        #[arg(long, value_parser = pubkey)]
        token_account: Option<Pubkey>,
    },
    /// Show an operator (read-only: no keypair, the operator's authority address).
    Show {
        /// The operator's authority (`solana-keygen pubkey <its keypair>` prints it).
        #[arg(value_parser = pubkey)]
        authority: Pubkey,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobCmd {
    /// Check an input, upload it, and post a job paying --reward per replica.
    Submit {
        /// The input file: a scene (.json) or a model (.safetensors).
        input: PathBuf,
        /// Kernel: render, gemm-i8, mlp-i8, benchmark [default: from the file's extension].
        #[arg(long)]
        kernel: Option<String>,
        /// Reward per replica, in tokens.
        #[arg(long)]
        reward: String,
        #[arg(long, default_value_t = 1)]
        replicas: u8,
        /// Seconds during which the job can be claimed.
        #[arg(long, default_value_t = 3_600)]
        claim_window: i64,
        /// Seconds each replica has from its claim to deliver.
        #[arg(long, default_value_t = 600)]
        exec_timeout: i64,
        /// Job id (unique per creator) [default: the time in milliseconds].
        #[arg(long)]
        job_id: Option<u64>,
        /// Token account paying the rewards [default: the signer's associated account].
        #[arg(long, value_parser = pubkey)]
        token_account: Option<Pubkey>,
        /// Wait for the result, then download, verify and write it to --out.
        #[arg(long)]
        wait: bool,
        /// With --wait: until the result is known, or until the job has ended (settled).
        #[arg(long, value_enum, default_value_t = Until::Result, requires = "wait")]
        until: Until,
        /// Where the result is written with --wait [default: <job>.<png|safetensors|bin>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seconds to wait with --wait.
        #[arg(long, default_value_t = 3_600)]
        timeout: u64,
    },
    /// Show a job; with --wait, follow it until its result is known.
    Status {
        #[arg(value_parser = pubkey)]
        job: Pubkey,
        #[arg(long)]
        wait: bool,
        /// With --wait: until the result is known, or until the job has ended (settled).
        #[arg(long, value_enum, default_value_t = Until::Result, requires = "wait")]
        until: Until,
        /// Seconds to wait with --wait.
        #[arg(long, default_value_t = 3_600)]
        timeout: u64,
    },
    /// List the market's jobs (read-only: no keypair), or only those of --creator.
    List {
        /// Only the jobs this address created.
        #[arg(long, value_parser = pubkey)]
        creator: Option<Pubkey>,
    },
    /// Cancel an unclaimed job; the escrow is refunded.
    Cancel {
        #[arg(value_parser = pubkey)]
        job: Pubkey,
        /// Token account that receives the refund [default: the signer's associated account].
        #[arg(long, value_parser = pubkey)]
        token_account: Option<Pubkey>,
    },
    /// Close an ended (settled, expired or cancelled) job's account; its rent comes back.
    Close {
        #[arg(value_parser = pubkey)]
        job: Pubkey,
    },
    /// Download a job's output, verify every chunk against the committed root, assemble it.
    Result {
        #[arg(value_parser = pubkey)]
        job: Pubkey,
        /// Output file [default: <job>.<png|safetensors|bin>].
        #[arg(long)]
        out: Option<PathBuf>,
    },
}
