//! What each command does: read local inputs first (keypair, files, amounts), then connect
//! and call the flows of `tessera_client`. Every failure is one `ClientError` line.
use std::path::{Path, PathBuf};
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_client::amount::{format_amount, parse_amount};
use tessera_client::flows::admin::{self, MarketChanges};
use tessera_client::flows::creator::{self, JobEvent, JobRequest, WaitFor};
use tessera_client::flows::{operator, Ctx, MarketInfo};
use tessera_client::state::{Job, MarketParams};
use tessera_client::store::{hex, Store};
use tessera_client::{cluster, token, ClientError, TxOptions};
use tessera_kernels::KernelId;

use crate::args::{Cli, Command, JobCmd, MarketCmd, OperatorCmd, OutputFormat, ParamArgs};

/// How often a job is polled while waiting.
const POLL: Duration = Duration::from_secs(2);

/// Prints results as people or programs want them.
pub struct Printer {
    pub format: OutputFormat,
}

impl Printer {
    fn emit(&self, human: impl FnOnce() -> String, json: Value) {
        match self.format {
            OutputFormat::Human => println!("{}", human()),
            OutputFormat::Json => println!("{json}"),
        }
    }

    fn bar(&self, len: u64, template: &str) -> ProgressBar {
        if self.format == OutputFormat::Json {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar
    }
}

/// The keypair at `path`, or at `~/.config/solana/id.json`.
pub fn load_keypair(path: Option<&Path>) -> Result<Keypair, ClientError> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => default_keypair_path(),
    };
    solana_keypair::read_keypair_file(&path).map_err(|e| {
        ClientError::bad_input(
            format!("cannot read keypair {}: {e}", path.display()),
            "pass --keypair <file>, or create one with `solana-keygen new`",
        )
    })
}

pub fn default_keypair_path() -> PathBuf {
    home().join(".config/solana/id.json")
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn default_store() -> String {
    home()
        .join(".local/share/tessera/store")
        .to_string_lossy()
        .into_owned()
}

/// The kernel named by `--kernel`, or guessed from the input's extension.
pub fn kernel_for(name: Option<&str>, input: &Path) -> Result<KernelId, ClientError> {
    let names = "render, gemm-i8, mlp-i8, benchmark";
    match name {
        Some(n) => KernelId::from_name(n).ok_or_else(|| {
            ClientError::bad_input(
                format!("unknown kernel \"{n}\""),
                format!("pass --kernel {names}"),
            )
        }),
        None => match input.extension().and_then(|e| e.to_str()) {
            Some("json") => Ok(KernelId::Render),
            Some("safetensors") => Ok(KernelId::MlpI8),
            _ => Err(ClientError::bad_input(
                format!("cannot tell the kernel of {}", input.display()),
                format!("pass --kernel ({names})"),
            )),
        },
    }
}

/// Checks an amount's syntax before anything is fetched (the mint's decimals come later).
fn check_amount_syntax(text: &str) -> Result<(), ClientError> {
    parse_amount(text, 19).map(|_| ())
}

fn kernels_mask(names: &[String]) -> Result<u32, ClientError> {
    let mut mask = 0u32;
    for n in names {
        let k = KernelId::from_name(n.trim()).ok_or_else(|| {
            ClientError::bad_input(
                format!("unknown kernel \"{n}\""),
                "pass --kernels with names among render, gemm-i8, mlp-i8, benchmark",
            )
        })?;
        mask |= 1u32 << k.id();
    }
    Ok(mask)
}

fn kernel_names(mask: u32) -> Vec<&'static str> {
    KernelId::ALL
        .into_iter()
        .filter(|k| mask & (1u32 << k.id()) != 0)
        .map(KernelId::name)
        .collect()
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<(), ClientError> {
    let printer = Printer { format: cli.output };
    if let Command::Localnet(args) = &cli.command {
        return crate::localnet::run(args, printer.format).await;
    }
    // Local inputs first: nothing is fetched or sent if one is wrong.
    let url = cluster::resolve_url(&cli.url)?;
    let tx = TxOptions {
        compute_unit_limit: cli
            .compute_unit_limit
            .or(TxOptions::default().compute_unit_limit),
        priority_fee_micro_lamports: cli.priority_fee,
        ..TxOptions::default()
    };
    let prepared = prepare(&cli)?;
    let rpc = solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
        url,
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    let ctx = Ctx::new(&rpc).with_tx(tx);
    execute(&cli, prepared, &ctx, &printer).await
}

/// What a command needs that is read locally.
pub struct Prepared {
    pub keypair: Option<Keypair>,
    /// `job submit`: the input, its kernel.
    pub input: Option<(Vec<u8>, KernelId)>,
}

/// Reads and checks everything local: the keypair (when the command signs or defaults to the
/// signer), input files, kernels and the syntax of amounts.
pub fn prepare(cli: &Cli) -> Result<Prepared, ClientError> {
    let needs_keypair = match &cli.command {
        Command::Market(MarketCmd::Show) => false,
        Command::Job(JobCmd::Status { .. }) | Command::Job(JobCmd::Result { .. }) => false,
        Command::Job(JobCmd::List { all }) => !*all,
        Command::Operator(OperatorCmd::Show { authority }) => authority.is_none(),
        _ => true,
    };
    let keypair = if needs_keypair {
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
            let k = kernel_for(kernel.as_deref(), path)?;
            tessera_kernels::Workload::parse(k, &bytes).map_err(|e| {
                ClientError::bad_input(
                    format!("{} is not a valid {k} input: {e}", path.display()),
                    "fix the file (see docs/kernels.md for the formats) and submit again",
                )
            })?;
            check_amount_syntax(reward)?;
            input = Some((bytes, k));
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
    if needs_market(&cli.command) && cli.mint.is_none() {
        return Err(ClientError::bad_input(
            "no market given",
            "pass --mint <the market's mint> or set TESSERA_MINT",
        ));
    }
    Ok(Prepared { keypair, input })
}

fn needs_market(cmd: &Command) -> bool {
    !matches!(
        cmd,
        Command::Job(JobCmd::Status { .. }) | Command::Job(JobCmd::Result { .. })
    )
}

fn signer(p: &Prepared) -> &Keypair {
    p.keypair
        .as_ref()
        .expect("prepare loads the keypair of every signing command")
}

async fn execute(
    cli: &Cli,
    p: Prepared,
    ctx: &Ctx<'_>,
    printer: &Printer,
) -> Result<(), ClientError> {
    let store = Store::from_env();
    let store_base = cli.store.clone().unwrap_or_else(default_store);
    let mint = cli.mint;
    let market = || async { ctx.market(&mint.expect("checked in prepare")).await };
    match &cli.command {
        Command::Localnet(args) => crate::localnet::run(args, printer.format).await,
        Command::Market(cmd) => market_cmd(cmd, &p, ctx, printer, mint.expect("checked")).await,
        Command::Operator(cmd) => {
            let m = market().await?;
            operator_cmd(cmd, &p, ctx, printer, &m).await
        }
        Command::Job(cmd) => match cmd {
            JobCmd::Submit {
                reward,
                replicas,
                claim_window,
                exec_timeout,
                job_id,
                token_account,
                wait,
                out,
                timeout,
                ..
            } => {
                let m = market().await?;
                let me = signer(&p);
                let (input, kernel) = p.input.clone().expect("prepared");
                let req = JobRequest {
                    job_id: *job_id,
                    kernel,
                    kernel_params: [0; 32],
                    input,
                    reward_per_replica: parse_amount(reward, m.decimals)?,
                    replicas: *replicas,
                    claim_window: *claim_window,
                    exec_timeout: *exec_timeout,
                };
                let from = token_account.unwrap_or_else(|| ata(me, &m));
                let bar = printer.bar(
                    req.input.len() as u64,
                    "upload {bar:30} {bytes}/{total_bytes}",
                );
                let submitted = creator::submit_job(
                    ctx,
                    &store,
                    &store_base,
                    &m,
                    me,
                    &from,
                    &req,
                    &mut |d, t| {
                        bar.set_length(t);
                        bar.set_position(d)
                    },
                )
                .await;
                bar.finish_and_clear();
                let s = submitted?;
                printer.emit(
                    || {
                        format!(
                            "job {}\n  id {}  kernel {kernel}  chunks {}  escrowed {}\n  input {} (sha256 {})\n  signature {}",
                            s.job,
                            s.job_id,
                            s.chunk_count,
                            format_amount(s.escrowed, m.decimals),
                            s.input_uri,
                            hex(&s.input_hash),
                            s.signature
                        )
                    },
                    json!({
                        "job": s.job.to_string(), "job_id": s.job_id, "kernel": kernel.name(),
                        "chunk_count": s.chunk_count, "escrowed": s.escrowed,
                        "input_uri": s.input_uri, "input_hash": hex(&s.input_hash),
                        "signature": s.signature.to_string(),
                    }),
                );
                if *wait {
                    let j = wait_job(ctx, printer, &s.job, *timeout).await?;
                    print_job(printer, &s.job, &j, Some(m.decimals));
                    fetch_and_write(ctx, printer, &store, &s.job, out.as_deref()).await?;
                }
                Ok(())
            }
            JobCmd::Status { job, wait, timeout } => {
                let j = if *wait {
                    wait_job(ctx, printer, job, *timeout).await?
                } else {
                    creator::job(ctx, job).await?
                };
                let decimals = decimals_of(ctx, &j).await;
                print_job(printer, job, &j, decimals);
                Ok(())
            }
            JobCmd::List { all } => {
                let m = market().await?;
                let me = p.keypair.as_ref().map(|k| k.pubkey());
                let creator_filter = if *all { None } else { me.as_ref() };
                let jobs = creator::list_jobs(ctx, &m.address(), creator_filter).await?;
                printer.emit(
                    || {
                        if jobs.is_empty() {
                            return "no jobs".to_string();
                        }
                        jobs.iter()
                            .map(|(k, j)| {
                                format!(
                                    "{k}  {:<9} {:<9} {}×{} reward",
                                    format!("{:?}", j.state()),
                                    kernel_name(j.kernel),
                                    j.replicas,
                                    format_amount(j.reward_per_replica, m.decimals)
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    },
                    Value::Array(jobs.iter().map(|(k, j)| job_json(k, j)).collect()),
                );
                Ok(())
            }
            JobCmd::Cancel { job, token_account } => {
                let m = market().await?;
                let me = signer(&p);
                let to = token_account.unwrap_or_else(|| ata(me, &m));
                let sig = creator::cancel_job(ctx, &m, me, job, &to).await?;
                printer.emit(
                    || format!("cancelled {job}; escrow refunded to {to}\n  signature {sig}"),
                    json!({"job": job.to_string(), "refunded_to": to.to_string(), "signature": sig.to_string()}),
                );
                Ok(())
            }
            JobCmd::Close { job } => {
                let m = market().await?;
                let me = signer(&p);
                let (sig, rent) = creator::close_job(ctx, &m, me, job).await?;
                printer.emit(
                    || format!("closed {job}; {rent} lamports of rent returned\n  signature {sig}"),
                    json!({"job": job.to_string(), "rent": rent, "signature": sig.to_string()}),
                );
                Ok(())
            }
            JobCmd::Result { job, out } => {
                fetch_and_write(ctx, printer, &store, job, out.as_deref()).await
            }
        },
    }
}

fn ata(owner: &Keypair, m: &MarketInfo) -> Pubkey {
    token::associated_token_address(&owner.pubkey(), &m.keys.mint, &m.keys.token_program)
}

fn kernel_name(id: u8) -> String {
    KernelId::try_from(id)
        .map(|k| k.name().to_string())
        .unwrap_or_else(|_| format!("kernel-{id}"))
}

async fn decimals_of(ctx: &Ctx<'_>, j: &Job) -> Option<u8> {
    let market: tessera_client::state::Market = tessera_client::chain::fetch(ctx.chain, &j.market)
        .await
        .ok()??;
    ctx.mint(&market.mint).await.ok().map(|(_, d)| d)
}

fn job_json(k: &Pubkey, j: &Job) -> Value {
    json!({
        "job": k.to_string(),
        "job_id": j.job_id,
        "creator": j.creator.to_string(),
        "kernel": kernel_name(j.kernel),
        "state": format!("{:?}", j.state()),
        "replicas": j.replicas,
        "reward_per_replica": j.reward_per_replica,
        "chunk_count": j.chunk_count,
        "input_uri": j.input_uri(),
        "input_hash": hex(&j.input_hash),
        "claim_deadline": j.claim_deadline,
        "agreed_root": if j.agreed_root == [0; 32] { Value::Null } else { hex(&j.agreed_root).into() },
        "slots": j.slots().iter().map(|a| json!({
            "operator": a.operator.to_string(),
            "status": format!("{:?}", a.status()),
            "root": hex(&a.root),
            "output_uri": a.output_uri(),
        })).collect::<Vec<_>>(),
    })
}

fn print_job(printer: &Printer, k: &Pubkey, j: &Job, decimals: Option<u8>) {
    let amount = |v: u64| match decimals {
        Some(d) => format_amount(v, d),
        None => format!("{v} base units"),
    };
    printer.emit(
        || {
            let mut s = format!(
                "job {k}\n  state {:?}  kernel {}  id {}  chunks {}\n  reward {} × {} replicas\n  input {}",
                j.state(),
                kernel_name(j.kernel),
                j.job_id,
                j.chunk_count,
                amount(j.reward_per_replica),
                j.replicas,
                j.input_uri()
            );
            if j.agreed_root != [0; 32] {
                s.push_str(&format!("\n  agreed root {}", hex(&j.agreed_root)));
            }
            for (i, a) in j.slots().iter().enumerate() {
                s.push_str(&format!("\n  slot {i}: {:?} {}", a.status(), a.operator));
            }
            s
        },
        job_json(k, j),
    );
}

async fn wait_job(
    ctx: &Ctx<'_>,
    printer: &Printer,
    job: &Pubkey,
    timeout: u64,
) -> Result<Job, ClientError> {
    let spinner = printer.bar(0, "{spinner} {elapsed} {msg}");
    spinner.enable_steady_tick(Duration::from_millis(200));
    spinner.set_message("waiting for the job");
    let result = creator::wait_for_job(
        ctx,
        job,
        WaitFor::Result,
        Duration::from_secs(timeout),
        POLL,
        &mut |e| {
            let line = match e {
                JobEvent::State(s) => format!("job is {s:?}"),
                JobEvent::Claimed { slot, operator } => {
                    format!("slot {slot} claimed by {operator}")
                }
                JobEvent::Committed { slot } => format!("slot {slot} committed"),
                JobEvent::Revealed { slot, root } => {
                    format!("slot {slot} delivered root {}", hex(root))
                }
                JobEvent::Failed { slot } => format!("slot {slot} failed"),
            };
            spinner.println(&line);
            spinner.set_message(line);
        },
    )
    .await;
    spinner.finish_and_clear();
    result
}

async fn fetch_and_write(
    ctx: &Ctx<'_>,
    printer: &Printer,
    store: &Store,
    job: &Pubkey,
    out: Option<&Path>,
) -> Result<(), ClientError> {
    let bar = printer.bar(0, "download {bar:30} {pos}/{len} chunks");
    let result = creator::fetch_result(ctx, store, job, &mut |d, t| {
        bar.set_length(t);
        bar.set_position(d)
    })
    .await;
    bar.finish_and_clear();
    let r = result?;
    let path = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(format!("{job}.{}", r.assembled.extension())));
    std::fs::write(&path, r.assembled.bytes()).map_err(|e| {
        ClientError::bad_input(
            format!("cannot write {}: {e}", path.display()),
            "pass a writable --out path",
        )
    })?;
    printer.emit(
        || {
            format!(
                "verified {} chunks against root {}\nwrote {} ({} bytes)",
                r.chunks.len(),
                hex(&r.job.agreed_root),
                path.display(),
                r.assembled.bytes().len()
            )
        },
        json!({
            "job": job.to_string(), "root": hex(&r.job.agreed_root), "chunks": r.chunks.len(),
            "output_uri": r.output_uri, "file": path.display().to_string(),
            "bytes": r.assembled.bytes().len(),
        }),
    );
    Ok(())
}

/// Default market parameters for `market init`.
pub fn default_params() -> (MarketParams, &'static str, &'static str) {
    (
        MarketParams {
            protocol_fee_bps: 250,
            burn_bps: 100,
            collateral_bps: 5_000,
            slash_no_show_bps: 2_000,
            slash_fraud_bps: 10_000,
            creator_compensation_bps: 5_000,
            honest_share_bps: 2_500,
            max_replicas: 3,
            min_operator_stake: 0,
            min_reward_per_replica: 0,
            max_exec_timeout: 3_600,
            reveal_window: 600,
            challenge_window: 300,
            unbonding_period: 86_400,
        },
        "1",
        "0.001",
    )
}

/// `base` with the parameters given on the command line.
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
        unbonding_period <- unbonding_period);
    if let Some(s) = &a.min_operator_stake {
        p.min_operator_stake = parse_amount(s, decimals)?;
    }
    if let Some(s) = &a.min_reward {
        p.min_reward_per_replica = parse_amount(s, decimals)?;
    }
    Ok(p)
}

fn params_given(a: &ParamArgs) -> bool {
    let d = ParamArgs::default();
    format!("{a:?}") != format!("{d:?}")
}

fn market_json(m: &MarketInfo) -> Value {
    let p = &m.state.params;
    json!({
        "market": m.address().to_string(), "mint": m.keys.mint.to_string(),
        "decimals": m.decimals, "token_program": m.keys.token_program.to_string(),
        "admin": m.state.admin.to_string(), "arbiter": m.state.arbiter.to_string(),
        "treasury": m.state.treasury.to_string(), "stake_vault": m.state.stake_vault.to_string(),
        "paused": m.state.paused,
        "params": {
            "protocol_fee_bps": p.protocol_fee_bps, "burn_bps": p.burn_bps,
            "collateral_bps": p.collateral_bps, "slash_no_show_bps": p.slash_no_show_bps,
            "slash_fraud_bps": p.slash_fraud_bps,
            "creator_compensation_bps": p.creator_compensation_bps,
            "honest_share_bps": p.honest_share_bps, "max_replicas": p.max_replicas,
            "min_operator_stake": p.min_operator_stake,
            "min_reward_per_replica": p.min_reward_per_replica,
            "max_exec_timeout": p.max_exec_timeout, "reveal_window": p.reveal_window,
            "challenge_window": p.challenge_window, "unbonding_period": p.unbonding_period,
        },
    })
}

fn market_human(m: &MarketInfo) -> String {
    let p = &m.state.params;
    let d = m.decimals;
    format!(
        "market {}{}\n  mint {} ({} decimals)\n  admin {}  arbiter {}\n  treasury {}\n  \
         fee {} bps  burn {} bps  collateral {} bps\n  slash: no-show {} bps, fraud {} bps; \
         creator gets {} bps, honest parties {} bps\n  replicas ≤ {}  min stake {}  min reward {}\n  \
         windows: exec ≤ {} s, reveal {} s, challenge {} s, unbonding {} s",
        m.address(),
        if m.state.paused { " (paused)" } else { "" },
        m.keys.mint,
        d,
        m.state.admin,
        m.state.arbiter,
        m.state.treasury,
        p.protocol_fee_bps,
        p.burn_bps,
        p.collateral_bps,
        p.slash_no_show_bps,
        p.slash_fraud_bps,
        p.creator_compensation_bps,
        p.honest_share_bps,
        p.max_replicas,
        format_amount(p.min_operator_stake, d),
        format_amount(p.min_reward_per_replica, d),
        p.max_exec_timeout,
        p.reveal_window,
        p.challenge_window,
        p.unbonding_period
    )
}

async fn market_cmd(
    cmd: &MarketCmd,
    p: &Prepared,
    ctx: &Ctx<'_>,
    printer: &Printer,
    mint: Pubkey,
) -> Result<(), ClientError> {
    match cmd {
        MarketCmd::Init {
            treasury,
            arbiter,
            params,
        } => {
            let me = signer(p);
            let (_, decimals) = ctx.mint(&mint).await?;
            let (base, stake, reward) = default_params();
            let mut base = base;
            base.min_operator_stake = parse_amount(stake, decimals)?;
            base.min_reward_per_replica = parse_amount(reward, decimals)?;
            let params = apply_params(base, params, decimals)?;
            let arbiter = arbiter.unwrap_or_else(|| me.pubkey());
            let (market, sig) =
                admin::init_market(ctx, me, &mint, treasury, &arbiter, params).await?;
            let m = ctx.market(&mint).await?;
            printer.emit(
                || format!("created {}\n  signature {sig}", market_human(&m)),
                json!({"market": market.to_string(), "signature": sig.to_string(), "state": market_json(&m)}),
            );
            Ok(())
        }
        MarketCmd::Update {
            admin: new_admin,
            arbiter,
            treasury,
            pause,
            resume,
            params,
        } => {
            let me = signer(p);
            let m = ctx.market(&mint).await?;
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
            let sig = admin::update_market(ctx, &m, me, &changes).await?;
            let m = ctx.market(&mint).await?;
            printer.emit(
                || format!("updated {}\n  signature {sig}", market_human(&m)),
                json!({"signature": sig.to_string(), "state": market_json(&m)}),
            );
            Ok(())
        }
        MarketCmd::Show => {
            let m = ctx.market(&mint).await?;
            printer.emit(|| market_human(&m), market_json(&m));
            Ok(())
        }
    }
}

async fn operator_cmd(
    cmd: &OperatorCmd,
    p: &Prepared,
    ctx: &Ctx<'_>,
    printer: &Printer,
    m: &MarketInfo,
) -> Result<(), ClientError> {
    let d = m.decimals;
    let done = |what: String, sig: solana_signature::Signature| {
        printer.emit(
            || format!("{what}\n  signature {sig}"),
            json!({"done": what, "signature": sig.to_string()}),
        );
    };
    match cmd {
        OperatorCmd::Register {
            kernels,
            stake,
            token_account,
        } => {
            let me = signer(p);
            let mask = kernels_mask(kernels)?;
            let amount = stake
                .as_deref()
                .map(|s| parse_amount(s, d))
                .transpose()?
                .unwrap_or(0);
            let from = token_account.unwrap_or_else(|| ata(me, m));
            let sig = operator::register(ctx, m, me, mask, &from, amount).await?;
            done(
                format!(
                    "registered {} with {} staked",
                    m.keys.operator(&me.pubkey()),
                    format_amount(amount, d)
                ),
                sig,
            );
        }
        OperatorCmd::Stake {
            amount,
            token_account,
        } => {
            let me = signer(p);
            let units = parse_amount(amount, d)?;
            let from = token_account.unwrap_or_else(|| ata(me, m));
            let sig = operator::stake(ctx, m, me, &from, units).await?;
            done(format!("staked {}", format_amount(units, d)), sig);
        }
        OperatorCmd::Unstake { amount } => {
            let me = signer(p);
            let units = parse_amount(amount, d)?;
            let sig = operator::unstake(ctx, m, me, units).await?;
            done(
                format!(
                    "unbonding {} (withdrawable in {} s)",
                    format_amount(units, d),
                    m.state.params.unbonding_period
                ),
                sig,
            );
        }
        OperatorCmd::Withdraw { token_account } => {
            let me = signer(p);
            let to = token_account.unwrap_or_else(|| ata(me, m));
            let sig = operator::withdraw(ctx, m, me, &to).await?;
            done(format!("withdrew to {to}"), sig);
        }
        OperatorCmd::Show { authority } => {
            let who = match authority {
                Some(a) => *a,
                None => signer(p).pubkey(),
            };
            let op = operator::show(ctx, m, &who).await?;
            let s = &op.state;
            printer.emit(
                || {
                    format!(
                        "operator {} ({:?})\n  authority {}\n  stake {}  bonded {}  free {}\n  \
                         unbonding {} (ready at unix {})  earned {}\n  kernels {}\n  \
                         completed {}  failed {}  slashed {}",
                        op.address,
                        s.status,
                        s.authority,
                        format_amount(s.stake, d),
                        format_amount(s.bonded, d),
                        format_amount(op.free_stake(), d),
                        format_amount(s.unbonding, d),
                        s.unbonding_ready_at,
                        format_amount(s.earned, d),
                        kernel_names(s.capabilities).join(","),
                        s.jobs_completed,
                        s.jobs_failed,
                        format_amount(s.slashed_total, d)
                    )
                },
                json!({
                    "operator": op.address.to_string(), "authority": s.authority.to_string(),
                    "status": format!("{:?}", s.status), "stake": s.stake, "bonded": s.bonded,
                    "free": op.free_stake(), "unbonding": s.unbonding,
                    "unbonding_ready_at": s.unbonding_ready_at, "earned": s.earned,
                    "kernels": kernel_names(s.capabilities), "jobs_completed": s.jobs_completed,
                    "jobs_failed": s.jobs_failed, "slashed_total": s.slashed_total,
                }),
            );
        }
    }
    Ok(())
}
