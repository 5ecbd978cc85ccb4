//! The creator's flows: submit a job (check the input, upload it, create the job), wait for
//! it, list jobs, cancel, and fetch the verified result.
use std::path::Path as FsPath;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_signer::Signer;
use tessera::instructions::CreateJobArgs;
use tessera::state::{Job, JobState, SlotStatus};
use tessera_kernels::{limits, KernelId, Workload};

use super::{Ctx, MarketInfo};
use crate::amount::format_amount;
use crate::chain::fetch;
use crate::error::ClientError;
use crate::filters;
use crate::output::{self, Assembled};
use crate::store::{self, Store};

/// What a creator asks for.
#[derive(Clone, Debug)]
pub struct JobRequest {
    /// Unique per (market, creator); `None`: the current time in milliseconds.
    pub job_id: Option<u64>,
    pub kernel: KernelId,
    /// The input blob (a scene, a model).
    pub input: Vec<u8>,
    /// Base units of the market's mint paid to each replica.
    pub reward_per_replica: u64,
    pub replicas: u8,
    /// Seconds from now during which the job can be claimed.
    pub claim_window: i64,
    /// Seconds each replica has from its claim to deliver.
    pub exec_timeout: i64,
}

/// A created job.
#[derive(Clone, Debug)]
pub struct Submitted {
    pub job: Pubkey,
    pub job_id: u64,
    /// The input's URI as posted on chain ([`store::posted_input_uri`]).
    pub input_uri: String,
    /// Where the input was uploaded.
    pub input_location: String,
    pub input_hash: [u8; 32],
    pub chunk_count: u32,
    pub escrowed: u64,
    pub signature: Signature,
}

/// Reads an input file, saying what to do if it cannot be read.
pub fn read_input(path: &FsPath) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| {
        ClientError::bad_input(
            format!("cannot read {}: {e}", path.display()),
            "check the path of the input file",
        )
    })
}

/// sha256 of a blob (the job's `input_hash`).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Parses `input` with `kernel`'s own parser (the check a worker makes before it claims):
/// `name` says in the error which input is wrong (a file name, or "the input").
pub fn parse_input(kernel: KernelId, input: &[u8], name: &str) -> Result<Workload, ClientError> {
    Workload::parse(kernel, input).map_err(|e| {
        ClientError::bad_input(
            format!("{name} is not a valid {kernel} job input: {e}"),
            "fix the input file (see docs/kernels.md for the formats) and submit again",
        )
    })
}

/// Checks `req`'s reward, replicas and windows against the market's limits (not its input).
pub fn check_against_market(market: &MarketInfo, req: &JobRequest) -> Result<(), ClientError> {
    let p = &market.state.params;
    let d = market.decimals;
    if market.state.paused {
        return Err(ClientError::bad_input(
            "the market is paused and takes no new jobs",
            "wait until its admin resumes it",
        ));
    }
    if req.reward_per_replica < p.min_reward_per_replica.max(1) {
        return Err(ClientError::bad_input(
            format!(
                "a reward of {} per replica is below the market's minimum of {}",
                format_amount(req.reward_per_replica, d),
                format_amount(p.min_reward_per_replica.max(1), d)
            ),
            "raise --reward",
        ));
    }
    if req.replicas == 0 || req.replicas > p.max_replicas {
        return Err(ClientError::bad_input(
            format!(
                "{} replicas asked, the market allows 1 to {}",
                req.replicas, p.max_replicas
            ),
            "change --replicas",
        ));
    }
    if req.exec_timeout <= 0 || req.exec_timeout > p.max_exec_timeout {
        return Err(ClientError::bad_input(
            format!(
                "an execution timeout of {} s is outside the market's 1..={} s",
                req.exec_timeout, p.max_exec_timeout
            ),
            "change --exec-timeout",
        ));
    }
    if req.claim_window <= 0 {
        return Err(ClientError::bad_input(
            "the claim window must be longer than zero seconds",
            "change --claim-window",
        ));
    }
    Ok(())
}

/// Submits a job: checks everything that can be checked first (input, market limits, the
/// creator's balance, the job id), uploads the input to `store_base`, then creates the job.
/// Nothing is uploaded or sent if a check fails. `progress(done, total)` reports the upload.
#[allow(clippy::too_many_arguments)]
pub async fn submit_job(
    ctx: &Ctx<'_>,
    store: &Store,
    store_base: &str,
    market: &MarketInfo,
    creator: &Keypair,
    creator_token: &Pubkey,
    req: &JobRequest,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Submitted, ClientError> {
    let workload = parse_input(req.kernel, &req.input, "the input")?;
    submit_parsed_job(
        ctx,
        store,
        store_base,
        market,
        creator,
        creator_token,
        req,
        &workload,
        progress,
    )
    .await
}

/// [`submit_job`] for an input already parsed by [`parse_input`]: `workload` must be
/// `req.input` parsed with `req.kernel` (its chunk count goes on chain).
#[allow(clippy::too_many_arguments)]
pub async fn submit_parsed_job(
    ctx: &Ctx<'_>,
    store: &Store,
    store_base: &str,
    market: &MarketInfo,
    creator: &Keypair,
    creator_token: &Pubkey,
    req: &JobRequest,
    workload: &Workload,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Submitted, ClientError> {
    check_against_market(market, req)?;
    // The rewards, and the audit fee of a market that audits (refunded when not earned).
    let audit_fee = tessera::math::audit_fee_for(req.reward_per_replica, &market.state.params)
        .map_err(|_| ClientError::bad_input("the audit fee overflows", "lower --reward"))?;
    let escrowed = req
        .reward_per_replica
        .checked_mul(req.replicas as u64)
        .and_then(|r| r.checked_add(audit_fee))
        .ok_or_else(|| ClientError::bad_input("reward × replicas overflows", "lower --reward"))?;
    ctx.require_tokens(creator_token, &market.keys.mint, escrowed, market.decimals)
        .await?;
    let (job_id, job) = match req.job_id {
        Some(id) => {
            let job = market.keys.job(&creator.pubkey(), id);
            if ctx.chain.get_account(&job).await?.is_some() {
                return Err(ClientError::bad_input(
                    format!("job {id} already exists at {job}"),
                    "pass another --job-id",
                ));
            }
            (id, job)
        }
        None => default_job_id(ctx, market, &creator.pubkey()).await?,
    };
    let input_hash = sha256(&req.input);
    let base = store::normalize_base(store_base)?;
    let input_location = store::input_uri(&base, &input_hash);
    let input_uri = store::posted_input_uri(&base, &input_hash);
    if input_uri.len() > store::MAX_URI_LEN {
        return Err(ClientError::bad_input(
            format!(
                "the input URI {input_uri} is {} bytes, the program takes at most {}",
                input_uri.len(),
                store::MAX_URI_LEN
            ),
            "use a store URL with a shorter bucket or prefix",
        ));
    }
    let now = ctx.chain.clock().await?.unix_timestamp;
    if market.state.arbiter_at(now) == Pubkey::default()
        && tessera::constants::REFEREE_KERNELS & (1 << req.kernel.id()) == 0
    {
        return Err(ClientError::bad_input(
            format!(
                "the market has no arbiter: it takes only jobs the program referees (gemm-i8, mlp-i8), not {}",
                req.kernel
            ),
            "submit to a market with an arbiter",
        ));
    }
    let args = CreateJobArgs {
        job_id,
        kernel: req.kernel.id(),
        kernel_params: workload.kernel_params(),
        input_uri: input_uri.clone(),
        input_hash,
        chunk_count: workload.chunk_count(),
        replicas: req.replicas,
        reward_per_replica: req.reward_per_replica,
        claim_deadline: now.saturating_add(req.claim_window),
        exec_timeout: req.exec_timeout,
    };
    store
        .put(&input_location, Bytes::from(req.input.clone()), progress)
        .await?;
    let ix = market
        .keys
        .create_job(creator.pubkey(), *creator_token, args);
    let signature = ctx
        .chain
        .send_transaction(&[ix], &[creator], &ctx.tx)
        .await?;
    Ok(Submitted {
        job,
        job_id,
        input_uri,
        input_location,
        input_hash,
        chunk_count: workload.chunk_count(),
        escrowed,
        signature,
    })
}

/// Reads a job.
pub async fn job(ctx: &Ctx<'_>, address: &Pubkey) -> Result<Job, ClientError> {
    fetch(ctx.chain, address)
        .await?
        .ok_or(ClientError::AccountNotFound {
            what: "job",
            address: *address,
            fix: "check the job address (`tessera job list --creator <your address>` lists yours)",
        })
}

/// Jobs of `market`, optionally only those of `creator`, oldest first.
pub async fn list_jobs(
    ctx: &Ctx<'_>,
    market: &Pubkey,
    creator: Option<&Pubkey>,
) -> Result<Vec<(Pubkey, Job)>, ClientError> {
    let filters = match creator {
        Some(c) => filters::jobs_of_creator(market, c),
        None => filters::job_accounts(market),
    };
    let mut jobs: Vec<(Pubkey, Job)> = ctx
        .chain
        .get_program_accounts(&ctx.program_id, &filters)
        .await?
        .into_iter()
        .filter_map(|(k, a)| crate::decode::<Job>(&a.data).ok().map(|j| (k, j)))
        .collect();
    jobs.sort_by_key(|(k, j)| (j.created_at, j.job_id, *k));
    Ok(jobs)
}

/// The default job id: a millisecond timestamp, moved up to the next id that `create_job` is
/// cheapest at (see `Pdas::cheap_job_id`) and that `creator` has not used yet (two submissions
/// in the same few milliseconds would otherwise pick the same id).
async fn default_job_id(
    ctx: &Ctx<'_>,
    market: &MarketInfo,
    creator: &Pubkey,
) -> Result<(u64, Pubkey), ClientError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let pdas = market.keys.pdas();
    let mut id = pdas.cheap_job_id(&market.keys.market, creator, now);
    loop {
        let job = market.keys.job(creator, id);
        if ctx.chain.get_account(&job).await?.is_none() {
            return Ok((id, job));
        }
        id = pdas.cheap_job_id(&market.keys.market, creator, id + 1);
    }
}

/// Refuses, before anything is sent, a creator's step signed by someone else.
fn require_creator(j: &Job, creator: &Keypair, job_address: &Pubkey) -> Result<(), ClientError> {
    if j.creator == creator.pubkey() {
        return Ok(());
    }
    Err(ClientError::bad_input(
        format!(
            "job {job_address} was created by {}, not by {}",
            j.creator,
            creator.pubkey()
        ),
        "sign with the creator's keypair (--keypair)",
    ))
}

/// Cancels an open job nobody has claimed; the escrow goes back to `refund_to`.
pub async fn cancel_job(
    ctx: &Ctx<'_>,
    market: &MarketInfo,
    creator: &Keypair,
    job_address: &Pubkey,
    refund_to: &Pubkey,
) -> Result<Signature, ClientError> {
    let j = job(ctx, job_address).await?;
    require_creator(&j, creator, job_address)?;
    if j.state() != JobState::Open || j.slots().iter().any(|a| a.status() != SlotStatus::Empty) {
        return Err(ClientError::bad_input(
            format!("job {job_address} is {:?} and has claims; only an unclaimed open job can be cancelled", j.state()),
            "wait for it to settle or expire",
        ));
    }
    ctx.require_tokens(refund_to, &market.keys.mint, 0, market.decimals)
        .await?;
    let ix = market
        .keys
        .cancel_job(*job_address, creator.pubkey(), *refund_to);
    ctx.chain.send_transaction(&[ix], &[creator], &ctx.tx).await
}

/// Closes an ended job's account (after its result has been fetched: the job is gone from the
/// chain afterwards, its events remain). Returns the signature and the rent returned, in
/// lamports.
pub async fn close_job(
    ctx: &Ctx<'_>,
    market: &MarketInfo,
    creator: &Keypair,
    job_address: &Pubkey,
) -> Result<(Signature, u64), ClientError> {
    let account = ctx
        .chain
        .get_account(job_address)
        .await?
        .filter(|a| a.lamports > 0)
        .ok_or(ClientError::AccountNotFound {
            what: "job",
            address: *job_address,
            fix: "check the job address (`tessera job list --creator <your address>` lists yours)",
        })?;
    let j: Job = crate::decode(&account.data).map_err(|e| {
        ClientError::bad_input(
            format!("account {job_address} is not a job: {e}"),
            "check the job address",
        )
    })?;
    require_creator(&j, creator, job_address)?;
    if !j.state().has_ended() {
        return Err(ClientError::bad_input(
            format!(
                "job {job_address} is {:?}; only an ended job can be closed",
                j.state()
            ),
            "wait for it to settle or expire (tessera job wait)",
        ));
    }
    let rent = account.lamports;
    // Referee games left open when the job settled would outlive it: the program refuses the
    // close until they end, which anyone may do at once now the job has ended (their rent goes
    // back to their accusers).
    for (address, game) in super::referee::games(ctx, &market.keys, job_address, &j).await? {
        let ix = market
            .keys
            .end_game(&crate::ix::GameKeys::of(address, &game));
        ctx.chain
            .send_transaction(&[ix], &[creator], &ctx.tx)
            .await?;
    }
    let ix = market.keys.close_job(creator.pubkey(), *job_address);
    let sig = ctx
        .chain
        .send_transaction(&[ix], &[creator], &ctx.tx)
        .await?;
    Ok((sig, rent))
}

/// What [`wait_for_job`] reports as it sees the job change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobEvent {
    /// The job entered a new state.
    State(JobState),
    /// Slot `slot` was claimed by `operator` (an operator account).
    Claimed { slot: usize, operator: Pubkey },
    /// Slot `slot` committed to a result (replicas ≥ 2).
    Committed { slot: usize },
    /// Slot `slot` delivered its root.
    Revealed { slot: usize, root: [u8; 32] },
    /// Slot `slot` missed its deadline.
    Failed { slot: usize },
}

/// How far to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// Until the result is known: every replica delivered the same root (or the arbiter
    /// decided), or the job ended.
    Result,
    /// Until the job ended (settled, expired or cancelled).
    End,
}

/// Polls the job every `poll` until `until` is reached or `timeout` passes, reporting every
/// change through `on_event`. Returns the job as last seen.
pub async fn wait_for_job(
    ctx: &Ctx<'_>,
    address: &Pubkey,
    until: WaitFor,
    timeout: Duration,
    poll: Duration,
    on_event: &mut (dyn FnMut(&JobEvent) + Send),
) -> Result<Job, ClientError> {
    let start = Instant::now();
    let mut last: Option<Job> = None;
    loop {
        let j = job(ctx, address).await?;
        for e in changes(last.as_ref(), &j) {
            on_event(&e);
        }
        let done =
            j.state().has_ended() || (until == WaitFor::Result && j.state() == JobState::Revealed);
        if done {
            return Ok(j);
        }
        if start.elapsed() >= timeout {
            return Err(ClientError::Timeout {
                waited_s: start.elapsed().as_secs(),
                state: format!("{:?}", j.state()),
            });
        }
        last = Some(j);
        tokio::time::sleep(poll.min(timeout.saturating_sub(start.elapsed()))).await;
    }
}

/// The events between two views of a job.
pub fn changes(before: Option<&Job>, after: &Job) -> Vec<JobEvent> {
    let mut events = Vec::new();
    if before.map(|b| b.state()) != Some(after.state()) {
        events.push(JobEvent::State(after.state()));
    }
    for (i, a) in after.slots().iter().enumerate() {
        let old = before.map(|b| (b.assignments[i].status(), b.assignments[i].operator));
        if old == Some((a.status(), a.operator)) {
            continue;
        }
        match a.status() {
            SlotStatus::Empty => {}
            SlotStatus::Claimed => events.push(JobEvent::Claimed {
                slot: i,
                operator: a.operator,
            }),
            SlotStatus::Committed => events.push(JobEvent::Committed { slot: i }),
            SlotStatus::Revealed => events.push(JobEvent::Revealed {
                slot: i,
                root: a.root,
            }),
            SlotStatus::Failed => events.push(JobEvent::Failed { slot: i }),
        }
    }
    events
}

/// A verified result.
#[derive(Clone, Debug)]
pub struct JobResult {
    pub job: Job,
    /// Where the chunks were read.
    pub output_uri: String,
    pub chunks: Vec<Vec<u8>>,
    pub assembled: Assembled,
}

/// Downloads the job's input (checked against its hash) and output, checks every chunk
/// against the agreed Merkle root, and assembles the output. Tries each replica that
/// delivered the agreed root until one's output checks out. An input posted relative to a
/// store is looked for under each of `input_bases`. `progress(done, total)` counts chunks.
pub async fn fetch_result(
    ctx: &Ctx<'_>,
    store: &Store,
    input_bases: &[String],
    address: &Pubkey,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<JobResult, ClientError> {
    let j = job(ctx, address).await?;
    let agreed = match j.state() {
        JobState::Revealed | JobState::Settled if j.agreed_root != [0; 32] => j.agreed_root,
        JobState::Disputed => {
            return Err(ClientError::bad_input(
                format!("job {address} is disputed: its replicas disagree"),
                "wait for the arbiter's decision, then fetch the result again",
            ))
        }
        state => {
            return Err(ClientError::bad_input(
                format!("job {address} has no agreed result ({state:?})"),
                "wait for it with `tessera job status --wait`",
            ))
        }
    };
    let kernel = KernelId::try_from(j.kernel).map_err(|e| {
        ClientError::Output(format!(
            "{e}: this client cannot assemble the output; update it"
        ))
    })?;
    let input = match store
        .get_input_at_most(
            j.input_uri(),
            &j.input_hash,
            input_bases,
            limits::max_input_bytes(kernel),
        )
        .await?
    {
        store::Capped::Read(bytes) => bytes,
        store::Capped::TooLarge { bytes } => {
            return Err(ClientError::Output(format!(
                "the input at {} is {bytes} bytes, more than the {kernel} kernel accepts",
                j.input_uri()
            )))
        }
    };
    if sha256(&input) != j.input_hash {
        return Err(ClientError::Output(format!(
            "the input at {} no longer matches the job's input hash",
            j.input_uri()
        )));
    }
    let mut first_error = None;
    for a in j.slots() {
        if a.status() != SlotStatus::Revealed || a.root != agreed {
            continue;
        }
        let attempt = async {
            let chunks =
                output::download_verified(store, a.output_uri(), j.chunk_count, &agreed, progress)
                    .await?;
            let assembled = output::assemble(kernel, &input, &chunks)?;
            Ok::<_, ClientError>((chunks, assembled))
        };
        match attempt.await {
            Ok((chunks, assembled)) => {
                return Ok(JobResult {
                    output_uri: a.output_uri().to_string(),
                    job: j,
                    chunks,
                    assembled,
                })
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        ClientError::Output(format!(
            "no replica of job {address} delivered the agreed root"
        ))
    }))
}
