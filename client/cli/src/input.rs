//! Local inputs, read and checked before anything is fetched or sent: the keypair (when the
//! command signs or defaults to the signer), the input file and its kernel, kernel names and
//! the syntax of amounts.
use std::path::Path;

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use tessera_client::amount::parse_amount;
use tessera_client::flows::creator;
use tessera_client::{cluster, keys, paths, ClientError};
use tessera_kernels::{KernelId, Workload};

use crate::args::{Cli, Command, JobCmd, MarketCmd, OperatorCmd};

/// What a command needs that is read locally.
pub struct Prepared {
    pub keypair: Option<Keypair>,
    /// `job submit`: the input, parsed once here.
    pub input: Option<JobInput>,
}

/// A job's input file, read and parsed with its kernel's own parser.
pub struct JobInput {
    pub bytes: Vec<u8>,
    pub kernel: KernelId,
    pub workload: Workload,
}

/// Reads and checks everything local; nothing is fetched or sent if one check fails.
pub fn prepare(cli: &Cli) -> Result<Prepared, ClientError> {
    let keypair = if needs_keypair(&cli.command) {
        Some(load_keypair(cli.keypair.as_deref())?)
    } else {
        None
    };
    let mut input = None;
    match &cli.command {
        Command::Job(JobCmd::Submit {
            input: path,
            kernel,
            reward,
            ..
        }) => {
            let bytes = creator::read_input(path)?;
            let kernel = kernel_for(kernel.as_deref(), path)?;
            let workload = creator::parse_input(kernel, &bytes, &path.display().to_string())?;
            check_amount_syntax(reward)?;
            input = Some(JobInput {
                bytes,
                kernel,
                workload,
            });
        }
        Command::Operator(OperatorCmd::Register { kernels, stake, .. }) => {
            kernels_mask(kernels)?;
            if let Some(s) = stake {
                check_amount_syntax(s)?;
            }
        }
        Command::Operator(OperatorCmd::Stake { amount, .. })
        | Command::Operator(OperatorCmd::Unstake { amount }) => check_amount_syntax(amount)?,
        _ => {}
    }
    if matches!(cli.command, Command::Market(MarketCmd::Init { .. })) {
        if cli.mint.is_none() {
            return Err(ClientError::bad_input(
                "no mint given for the new market",
                "pass --mint <the mint> or set TESSERA_MINT",
            ));
        }
    } else if needs_market(&cli.command) && cli.market.is_none() {
        return Err(match cli.mint {
            Some(mint) => ClientError::bad_input(
                format!("a mint no longer names a market (mint {mint} may have several, one per founder)"),
                "pass --market <the market's address> (`tessera market init` prints it) or set TESSERA_MARKET",
            ),
            None => ClientError::bad_input(
                "no market given",
                "pass --market <the market's address> or set TESSERA_MARKET",
            ),
        });
    }
    Ok(Prepared { keypair, input })
}

/// The warning line for a cluster named by `url` (as given to --url) when the program id is
/// the local networks' one, whose keypair is public: on devnet or mainnet-beta that id may hold
/// anyone's program.
pub fn program_id_warning(url: &str, program_id: &Pubkey) -> Option<String> {
    if *program_id != tessera_client::LOCAL_PROGRAM_ID {
        return None;
    }
    let cluster = match cluster::resolve_url(url).ok()?.as_str() {
        cluster::DEVNET => "devnet",
        cluster::MAINNET_BETA => "mainnet-beta",
        _ => return None,
    };
    Some(format!(
        "warning: program id {program_id} is for local networks only (its keypair is public); \
         on {cluster} pass the deployed program's id with --program-id or TESSERA_PROGRAM_ID"
    ))
}

/// Whether the command signs. Read-only commands never read a keypair: they name what they
/// show by its address.
pub fn needs_keypair(cmd: &Command) -> bool {
    !matches!(
        cmd,
        Command::Market(MarketCmd::Show)
            | Command::Operator(OperatorCmd::Show { .. })
            | Command::Job(JobCmd::Status { .. })
            | Command::Job(JobCmd::List { .. })
            | Command::Job(JobCmd::Result { .. })
            | Command::Localnet(_)
            | Command::Serve(_)
    )
}

/// Whether the command acts on a market (a job's address is enough otherwise).
fn needs_market(cmd: &Command) -> bool {
    !matches!(
        cmd,
        Command::Job(JobCmd::Status { .. })
            | Command::Job(JobCmd::Result { .. })
            | Command::Localnet(_)
    )
}

/// The keypair at `path`, or at `~/.config/solana/id.json`.
pub fn load_keypair(path: Option<&Path>) -> Result<Keypair, ClientError> {
    match path {
        Some(p) => keys::read_keypair(p),
        None => keys::read_keypair(&paths::default_keypair_path()),
    }
}

/// Every kernel's name, for messages.
fn kernel_names() -> String {
    KernelId::ALL.map(KernelId::name).join(", ")
}

/// The kernel named by `--kernel`, or guessed from the input's extension.
pub fn kernel_for(name: Option<&str>, input: &Path) -> Result<KernelId, ClientError> {
    match name {
        Some(n) => KernelId::from_name(n).ok_or_else(|| {
            ClientError::bad_input(
                format!("unknown kernel \"{n}\""),
                format!("pass --kernel {}", kernel_names()),
            )
        }),
        None => match input.extension().and_then(|e| e.to_str()) {
            Some("json") => Ok(KernelId::Render),
            Some("safetensors") => Ok(KernelId::MlpI8),
            _ => Err(ClientError::bad_input(
                format!("cannot tell the kernel of {}", input.display()),
                format!("pass --kernel ({})", kernel_names()),
            )),
        },
    }
}

/// The capability bitmask of the kernels named by `--kernels`.
pub fn kernels_mask(names: &[String]) -> Result<u32, ClientError> {
    let kernels = names
        .iter()
        .map(|n| {
            KernelId::from_name(n.trim()).ok_or_else(|| {
                ClientError::bad_input(
                    format!("unknown kernel \"{n}\""),
                    format!("pass --kernels with names among {}", kernel_names()),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KernelId::mask_of(kernels))
}

/// Checks an amount's syntax before anything is fetched (the mint's decimals come later).
fn check_amount_syntax(text: &str) -> Result<(), ClientError> {
    parse_amount(text, 19).map(|_| ())
}
