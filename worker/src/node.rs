//! The worker's loop: what to do about each job ([`decide`], pure) and doing it ([`Worker`]).
//!
//! The loop keeps the latest state of every job of the market (websocket changes, periodic
//! resyncs, and a fresh read after each of its own steps). Whenever something changes or a
//! tick passes, it asks [`decide`] for the next step of each job that has no step under way and
//! runs the step as a task. A failed step is logged and tried again later with backoff; no RPC
//! or store fault ends the worker.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use tessera_client::chain::{fetch, Chain, TxOptions};
use tessera_client::constants::MAX_REPLICAS;
use tessera_client::flows::{Ctx, MarketInfo};
use tessera_client::ix::{parties, CrankBuilder, MarketKeys};
use tessera_client::program::math::Bps;
use tessera_client::state::{Job, JobState, Operator, SlotStatus};
use tessera_client::store::{self, Store};
use tessera_client::token::associated_token_address;
use tessera_client::ClientError;
use tessera_kernels::{Backend, KernelId, Workload};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use crate::config::{self, Config};
use crate::db::{Db, DbError, JobRecord};
use crate::metrics::Metrics;
use crate::verify;
use crate::watch as jobs_watch;

/// The next step for one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Fetch and check the input, then claim a free slot.
    Claim,
    /// Compute the claimed job and store the output.
    Compute,
    /// Deliver the root (1 replica).
    Submit,
    /// Commit to the root (≥ 2 replicas).
    Commit,
    /// Reveal the committed root.
    Reveal,
    /// Crank: pay out a revealed job after its challenge window.
    Finalize,
    /// Crank: slash late slots.
    Timeout,
    /// Crank: refund an unfilled job after its claim deadline.
    Expire,
    /// Verifier: recompute sampled chunks of another operator's revealed result.
    Verify,
    /// Arbiter: recompute the whole output of a disputed job and post the verdict.
    Resolve,
}

/// What [`decide`] needs besides the job and its record.
#[derive(Clone, Debug)]
pub struct Situation {
    /// This worker's operator account.
    pub operator: Pubkey,
    /// The chain's unix time.
    pub now: i64,
    /// Kernel capability bits of the operator.
    pub capabilities: u32,
    /// Whether another job may be claimed now (capacity, an active operator, not shutting down).
    pub may_claim: bool,
    /// Stake a claim may bond now: the operator's free stake, or 0 when its stake is below the
    /// market's minimum (the program refuses such a claim).
    pub free_stake: u64,
    /// The market's `collateral_bps`: a claim bonds that share of the job's reward.
    pub collateral_bps: u16,
    pub crank: bool,
    /// Seconds between two turns of the crank order (see [`crank_turn`]).
    pub crank_grace: i64,
    /// Whether this job falls in the verifier's sample.
    pub verify: bool,
    /// This worker holds the market's arbiter key and is configured to rule disputes.
    pub arbiter: bool,
}

/// The next step for `job`, if any. Pure, so that every rule is tested on its own.
pub fn decide(job: &Job, rec: &JobRecord, s: &Situation) -> Option<Step> {
    let mine = job.slot_of(&s.operator);
    if let Some(i) = mine {
        let slot = &job.assignments[i];
        match (job.state(), slot.status()) {
            (JobState::Open | JobState::Claimed, SlotStatus::Claimed) => {
                return Some(match (&rec.root, &rec.output_uri) {
                    (Some(_), Some(_)) if job.replicas == 1 => Step::Submit,
                    (Some(_), Some(_)) => Step::Commit,
                    _ => Step::Compute,
                });
            }
            (JobState::Committed, SlotStatus::Committed) if rec.salt.is_some() => {
                return Some(Step::Reveal);
            }
            _ => {}
        }
    }
    let crankable = s.crank || mine.is_some();
    let turn = |due: i64| crankable && s.now > crank_turn(due, mine, s.crank_grace);
    match job.state() {
        JobState::Open if s.now > job.claim_deadline => {
            turn(job.claim_deadline).then_some(Step::Expire)
        }
        JobState::Open | JobState::Claimed | JobState::Committed
            if late_since(job, s.now).is_some_and(turn) =>
        {
            Some(Step::Timeout)
        }
        JobState::Open
            if mine.is_none()
                && s.may_claim
                && rec.rejected.is_none()
                && s.now <= job.claim_deadline
                && job.kernel < 32
                && s.capabilities & (1 << job.kernel) != 0
                && Bps::new(s.collateral_bps)
                    .and_then(|b| b.apply(job.reward_per_replica))
                    .is_ok_and(|bond| bond <= s.free_stake)
                && job.slots().iter().any(|a| a.status() == SlotStatus::Empty) =>
        {
            Some(Step::Claim)
        }
        JobState::Revealed if s.now > job.challenge_deadline => {
            turn(job.challenge_deadline).then_some(Step::Finalize)
        }
        JobState::Revealed
            if s.verify
                && mine.is_none()
                && rec.verified.is_none()
                && !job.has_challenge()
                && s.now <= job.challenge_deadline =>
        {
            Some(Step::Verify)
        }
        JobState::Disputed if s.arbiter => Some(Step::Resolve),
        _ => None,
    }
}

/// How an ended job went for `operator`, read from the job alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Settled, and its slot delivered the agreed root.
    Paid,
    /// Settled with another root, or its slot failed (missed its deadline for good).
    Failed,
}

/// `None` when `operator` holds no slot of the ended `job` (it lost the claim race, or its slot
/// was reopened and taken) or its slot was released without fault (expired, cancelled).
pub fn outcome(job: &Job, operator: &Pubkey) -> Option<Outcome> {
    let a = &job.assignments[job.slot_of(operator)?];
    match (job.state(), a.status()) {
        (_, SlotStatus::Failed) => Some(Outcome::Failed),
        (JobState::Settled, SlotStatus::Revealed) if a.root == job.agreed_root => {
            Some(Outcome::Paid)
        }
        (JobState::Settled, _) => Some(Outcome::Failed),
        _ => None,
    }
}

/// The earliest deadline a slot of `job` has missed by `now`, if any.
fn late_since(job: &Job, now: i64) -> Option<i64> {
    (0..job.replicas as usize)
        .filter_map(|i| job.slot_deadline(i).ok().flatten())
        .filter(|&d| now > d)
        .min()
}

/// When a crank due at `due` is this worker's to send: the job's own operators first, in slot
/// order, one `grace` apart, then every other cranking worker. Every worker computes the same
/// order from the job alone, so a crank is normally sent once, by the operator it pays (or
/// whose co-replica failed), and still goes out if that worker is down.
pub fn crank_turn(due: i64, mine: Option<usize>, grace: i64) -> i64 {
    let rank = mine.map_or(MAX_REPLICAS as i64, |slot| slot as i64);
    due.saturating_add(rank.saturating_mul(grace))
}

/// Whether `job` falls in a verifier's sample of `rate` (0..=1): a hash of the job and the
/// verifier, so each verifier checks its own stable subset.
pub fn sampled(job: &Pubkey, verifier: &Pubkey, rate: f64) -> bool {
    let h = tessera_merkle::sha256(&[job.as_ref(), verifier.as_ref()]);
    let x = u32::from_le_bytes(h[..4].try_into().expect("4 bytes")) as f64 / u32::MAX as f64;
    x < rate
}

/// Why a worker could not start or a step failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot read the keypair at {path}: {reason}")]
    Keypair { path: String, reason: String },
    #[error("{0}")]
    Other(String),
}

/// A running operator.
pub struct Worker {
    pub cfg: Config,
    chain: Arc<RpcClient>,
    key: Arc<Keypair>,
    pub market: MarketInfo,
    /// This worker's operator account.
    pub operator: Pubkey,
    store: Store,
    store_base: String,
    db: Db,
    backend: Backend,
    pub metrics: Arc<Metrics>,
    compute: Semaphore,
    tx: TxOptions,
    /// Inputs fetched, checked and parsed before the claim, kept for the computation.
    inputs: Mutex<HashMap<Pubkey, Arc<Workload>>>,
}

impl Worker {
    /// Connects, reads the market and the operator, opens the state store.
    pub async fn new(cfg: Config, metrics: Arc<Metrics>) -> Result<Arc<Worker>, WorkerError> {
        let key = read_keypair(&cfg.keypair_path())?;
        let chain = Arc::new(RpcClient::new_with_commitment(
            cfg.rpc_url.clone(),
            CommitmentConfig::confirmed(),
        ));
        let mint: Pubkey = cfg.mint.parse().map_err(|_| {
            ClientError::bad_input(
                format!("mint \"{}\" is not a public key", cfg.mint),
                "set mint",
            )
        })?;
        let market = Ctx::new(chain.as_ref()).market(&mint).await?;
        let operator = market.keys.operator(&key.pubkey());
        let backend = match cfg.backend {
            config::Backend::Cpu => Backend::Cpu,
            config::Backend::Cuda => {
                Backend::cuda(0).map_err(|e| WorkerError::Other(format!("CUDA: {e}")))?
            }
            config::Backend::Auto => Backend::cuda_if_available(),
        };
        let db = Db::open(&cfg.data_dir().join("state.redb"))?;
        let store_base = store::normalize_base(&cfg.store_base())?;
        store::check_output_base(&store_base)?;
        let tx = TxOptions {
            priority_fee_micro_lamports: cfg.priority_fee_micro_lamports,
            ..TxOptions::default()
        };
        tracing::info!(
            operator = %operator,
            authority = %key.pubkey(),
            market = %market.address(),
            backend = %backend.describe(),
            "worker ready"
        );
        Ok(Arc::new(Worker {
            cfg,
            chain,
            key: Arc::new(key),
            market,
            operator,
            store: Store::from_env(),
            store_base,
            db,
            backend,
            metrics,
            compute: Semaphore::new(1),
            tx,
            inputs: Mutex::new(HashMap::new()),
        }))
    }

    fn chain(&self) -> &dyn Chain {
        self.chain.as_ref()
    }

    fn keys(&self) -> &MarketKeys {
        &self.market.keys
    }

    /// Runs until `stop` turns true, then lets every step under way finish (none is cut in
    /// the middle of a transaction) and returns.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> Result<(), WorkerError> {
        let (updates_tx, mut updates) = mpsc::channel(1024);
        let metrics = self.metrics.clone();
        let watcher = tokio::spawn(jobs_watch::subscribe(
            self.cfg.ws_url(),
            self.market.address(),
            updates_tx,
            stop.clone(),
            move || {
                metrics.ws_reconnects.inc();
            },
        ));
        let mut jobs: HashMap<Pubkey, Box<Job>> = HashMap::new();
        let mut operator: Option<Operator> = None;
        let mut now = 0i64;
        let mut in_flight: HashMap<Pubkey, Step> = HashMap::new();
        // Ended jobs already accounted for: nothing more to do or read for them.
        let mut ended: HashSet<Pubkey> = HashSet::new();
        let mut retry_at: HashMap<Pubkey, (Instant, u32)> = HashMap::new();
        let mut tasks: JoinSet<(Pubkey, Step, Result<(), WorkerError>)> = JoinSet::new();
        let mut resync = tokio::time::interval(Duration::from_secs(self.cfg.resync_interval_secs));
        let mut tick = tokio::time::interval(Duration::from_millis(self.cfg.poll_interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        loop {
            tokio::select! {
                _ = stop.changed() => break,
                Some(done) = tasks.join_next() => {
                    let (key, step, result) = done.map_err(|e| WorkerError::Other(e.to_string()))?;
                    in_flight.remove(&key);
                    match result {
                        Ok(()) => { retry_at.remove(&key); }
                        Err(e) => {
                            let tries = retry_at.get(&key).map_or(0, |r| r.1) + 1;
                            let wait = Duration::from_millis(250 << tries.min(6));
                            tracing::warn!(job = %key, ?step, error = %e, retry_in_ms = wait.as_millis() as u64, "step failed");
                            self.metrics.step_failures.inc();
                            retry_at.insert(key, (Instant::now() + wait, tries));
                        }
                    }
                    // Read the job again rather than wait for the websocket, so the next step
                    // starts from what this one did.
                    if let Ok(Some(a)) = self.chain().get_account(&key).await {
                        match jobs_watch::decode_job(a.lamports, &a.data) {
                            Some(j) => { jobs.insert(key, j); }
                            None => { jobs.remove(&key); }
                        }
                    }
                    if matches!(step, Step::Claim | Step::Finalize) || operator.is_none() {
                        operator = self.refresh_operator().await;
                    }
                }
                Some((key, job)) = updates.recv() => {
                    match job { Some(j) => { jobs.insert(key, j); } None => { jobs.remove(&key); } }
                }
                _ = resync.tick() => {
                    if let Some(snapshot) = jobs_watch::snapshot(self.chain(), &self.market.address()).await {
                        jobs_watch::apply_snapshot(&mut jobs, snapshot);
                    }
                    operator = self.refresh_operator().await;
                }
                _ = tick.tick() => {
                    match self.chain().clock().await {
                        Ok(c) => now = c.unix_timestamp,
                        Err(e) => tracing::warn!(error = %e, "cannot read the clock"),
                    }
                }
            }
            if now == 0 {
                continue;
            }
            self.account_finished(&jobs, &mut ended);
            self.schedule(
                &jobs,
                &ended,
                operator.as_ref(),
                now,
                &mut in_flight,
                &retry_at,
                &mut tasks,
            );
        }

        tracing::info!(
            steps = tasks.len(),
            "stopping: letting the steps under way finish"
        );
        while let Some(done) = tasks.join_next().await {
            if let Ok((key, step, Err(e))) = done {
                tracing::warn!(job = %key, ?step, error = %e, "step failed while stopping");
            }
        }
        watcher.abort();
        Ok(())
    }

    /// Starts the next step of every job that has none under way.
    #[allow(clippy::too_many_arguments)]
    fn schedule(
        self: &Arc<Self>,
        jobs: &HashMap<Pubkey, Box<Job>>,
        ended: &HashSet<Pubkey>,
        operator: Option<&Operator>,
        now: i64,
        in_flight: &mut HashMap<Pubkey, Step>,
        retry_at: &HashMap<Pubkey, (Instant, u32)>,
        tasks: &mut JoinSet<(Pubkey, Step, Result<(), WorkerError>)>,
    ) {
        // An arbiter need not be an operator; without an operator account nothing is claimed.
        let (capabilities, op_active) = operator.map_or((0, false), |op| {
            (
                op.capabilities,
                op.status == tessera_client::state::OperatorStatus::Active,
            )
        });
        let params = &self.market.state.params;
        let free_stake = operator
            .filter(|op| op.stake >= params.min_operator_stake)
            .map_or(0, |op| op.free_stake());
        let mut active = jobs
            .values()
            .filter(|j| {
                j.slot_of(&self.operator).is_some_and(|i| {
                    matches!(
                        j.assignments[i].status(),
                        SlotStatus::Claimed | SlotStatus::Committed
                    )
                })
            })
            .count()
            + in_flight.values().filter(|s| **s == Step::Claim).count();
        self.metrics.jobs_active.set(active as i64);
        let mut order: Vec<(&Pubkey, &Box<Job>)> = jobs.iter().collect();
        order.sort_by_key(|(k, j)| (j.created_at, **k));
        for (key, job) in order {
            if ended.contains(key)
                || in_flight.contains_key(key)
                || retry_at.get(key).is_some_and(|r| r.0 > Instant::now())
            {
                continue;
            }
            let rec = match self.db.get(key) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the state store");
                    return;
                }
            };
            let situation = Situation {
                operator: self.operator,
                now,
                capabilities,
                may_claim: op_active && active < self.cfg.max_concurrent_jobs as usize,
                free_stake,
                collateral_bps: params.collateral_bps,
                crank: self.cfg.crank,
                crank_grace: self.cfg.crank_grace_secs as i64,
                verify: self.cfg.verify.enabled
                    && sampled(key, &self.operator, self.cfg.verify.sample_rate),
                arbiter: self.cfg.arbiter && self.market.state.arbiter == self.key.pubkey(),
            };
            let Some(step) = decide(job, &rec, &situation) else {
                continue;
            };
            if retry_at.contains_key(key) {
                self.metrics.tx_retries.inc();
            }
            if step == Step::Claim {
                active += 1;
            }
            in_flight.insert(*key, step);
            let me = self.clone();
            let (key, job) = (*key, job.clone());
            tasks.spawn(async move {
                let result = me.step(key, &job, rec, step).await;
                (key, step, result)
            });
        }
    }

    async fn refresh_operator(&self) -> Option<Operator> {
        match fetch::<Operator>(self.chain(), &self.operator).await {
            Ok(Some(op)) => {
                self.metrics.stake.set(op.free_stake() as i64);
                self.metrics.earned.set(op.earned as i64);
                Some(op)
            }
            Ok(None) if self.cfg.arbiter => None,
            Ok(None) => {
                tracing::warn!(operator = %self.operator, "not registered in this market: register and stake first (tessera operator register)");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the operator account");
                None
            }
        }
    }

    /// Counts jobs this worker held once they end.
    fn account_finished(&self, jobs: &HashMap<Pubkey, Box<Job>>, ended: &mut HashSet<Pubkey>) {
        for (key, job) in jobs {
            if ended.contains(key) || !job.state().has_ended() {
                continue;
            }
            let Ok(rec) = self.db.get(key) else { return };
            ended.insert(*key);
            if !rec.claimed || rec.finished {
                continue;
            }
            match outcome(job, &self.operator) {
                Some(Outcome::Paid) => self.metrics.jobs_completed.inc(),
                Some(Outcome::Failed) => self.metrics.jobs_failed.inc(),
                None => 0,
            };
            let _ = self.db.update(key, |r| r.finished = true);
            self.inputs.lock().expect("inputs").remove(key);
        }
    }

    async fn step(
        &self,
        key: Pubkey,
        job: &Job,
        rec: JobRecord,
        step: Step,
    ) -> Result<(), WorkerError> {
        tracing::debug!(job = %key, ?step, "step");
        match step {
            Step::Claim => self.claim(key, job).await,
            Step::Compute => self.compute(key, job).await,
            Step::Submit => {
                let (root, uri) = (rec.root.expect("decided"), rec.output_uri.expect("decided"));
                let ix = self.keys().submit_result(self.key.pubkey(), key, root, uri);
                self.send(&[ix]).await?;
                tracing::info!(job = %key, root = %store::hex(&root), "result submitted");
                Ok(())
            }
            Step::Commit => {
                let root = rec.root.expect("decided");
                // The salt is on disk before the commitment leaves: a restart reveals it.
                let salt = match rec.salt {
                    Some(s) => s,
                    None => {
                        let salt: [u8; 32] = rand::random();
                        self.db.update(&key, |r| r.salt = Some(salt))?;
                        salt
                    }
                };
                let commitment =
                    tessera_merkle::commitment(&root, &self.operator.to_bytes(), &salt);
                let ix = self
                    .keys()
                    .commit_result(self.key.pubkey(), key, commitment);
                self.send(&[ix]).await?;
                tracing::info!(job = %key, "result committed");
                Ok(())
            }
            Step::Reveal => {
                let (root, salt, uri) = (
                    rec.root.expect("decided"),
                    rec.salt.expect("decided"),
                    rec.output_uri.expect("decided"),
                );
                let ix = self
                    .keys()
                    .reveal_result(self.key.pubkey(), key, root, salt, uri);
                self.send(&[ix]).await?;
                tracing::info!(job = %key, root = %store::hex(&root), "result revealed");
                Ok(())
            }
            Step::Finalize | Step::Timeout | Step::Expire => {
                // The cranks share their accounts: the job's money and its live operators.
                let (build, done): (CrankBuilder, &str) = match step {
                    Step::Finalize => (MarketKeys::finalize_job, "job finalized"),
                    Step::Timeout => (MarketKeys::timeout_job, "late slots timed out"),
                    _ => (MarketKeys::expire_job, "unclaimed job expired and refunded"),
                };
                let ix = build(
                    self.keys(),
                    key,
                    job.creator,
                    self.creator_token(job),
                    &parties(job, false),
                );
                self.send(&[ix]).await?;
                tracing::info!(job = %key, "{done}");
                Ok(())
            }
            Step::Verify => self.verify(key, job).await,
            Step::Resolve => self.resolve(key, job).await,
        }
    }

    /// The creator's token account settlements pay back to: its associated token account.
    fn creator_token(&self, job: &Job) -> Pubkey {
        associated_token_address(&job.creator, &self.keys().mint, &self.keys().token_program)
    }

    async fn send(
        &self,
        ixs: &[anchor_lang::solana_program::instruction::Instruction],
    ) -> Result<(), WorkerError> {
        self.metrics.tx_sent.inc();
        match self
            .chain()
            .send_transaction(ixs, &[&self.key], &self.tx)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                self.metrics.tx_failed.inc();
                Err(e.into())
            }
        }
    }

    /// Fetches the input, checks its hash and parses it; `Err(reason)` when it is bad.
    async fn load_input(&self, job: &Job) -> Result<Result<Workload, String>, WorkerError> {
        let bytes = self.store.get(job.input_uri()).await?;
        if tessera_merkle::sha256(&[&bytes]) != job.input_hash {
            return Ok(Err("the input does not match its sha256".into()));
        }
        let Ok(kernel) = KernelId::try_from(job.kernel) else {
            return Ok(Err(format!("unknown kernel {}", job.kernel)));
        };
        let parsed = match tokio::task::spawn_blocking(move || Workload::parse(kernel, &bytes))
            .await
            .map_err(|e| WorkerError::Other(e.to_string()))?
        {
            Ok(p) => p,
            Err(e) => return Ok(Err(format!("malformed input: {e}"))),
        };
        if parsed.chunk_count() != job.chunk_count {
            return Ok(Err(format!(
                "the input makes {} chunks, the job says {}",
                parsed.chunk_count(),
                job.chunk_count
            )));
        }
        Ok(Ok(parsed))
    }

    async fn claim(&self, key: Pubkey, job: &Job) -> Result<(), WorkerError> {
        let parsed = match self.load_input(job).await? {
            Ok(p) => p,
            Err(reason) => {
                tracing::warn!(job = %key, %reason, "input refused; not claiming");
                self.metrics.jobs_rejected.inc();
                self.db.update(&key, |r| r.rejected = Some(reason))?;
                return Ok(());
            }
        };
        let per_unit = job.reward_per_replica as f64 * 1e6 / parsed.work_units().max(1) as f64;
        if per_unit < self.cfg.min_reward_per_unit {
            let reason = format!(
                "reward {per_unit:.1} per million work units is below {}",
                self.cfg.min_reward_per_unit
            );
            tracing::info!(job = %key, %reason, "not claiming");
            self.db.update(&key, |r| r.rejected = Some(reason))?;
            return Ok(());
        }
        self.inputs
            .lock()
            .expect("inputs")
            .insert(key, Arc::new(parsed));
        self.db.update(&key, |r| r.claimed = true)?;
        let ix = self.keys().claim_job(self.key.pubkey(), key);
        self.send(&[ix]).await?;
        self.metrics.jobs_claimed.inc();
        tracing::info!(job = %key, kernel = job.kernel, chunks = job.chunk_count, "job claimed");
        Ok(())
    }

    async fn compute(&self, key: Pubkey, job: &Job) -> Result<(), WorkerError> {
        let cached = self.inputs.lock().expect("inputs").get(&key).cloned();
        let parsed = match cached {
            Some(p) => p,
            None => match self.load_input(job).await? {
                Ok(p) => Arc::new(p),
                Err(reason) => {
                    // Checked before the claim; only a changed blob gets here.
                    return Err(WorkerError::Other(format!(
                        "input no longer valid: {reason}"
                    )));
                }
            },
        };
        let _permit = self
            .compute
            .acquire()
            .await
            .map_err(|e| WorkerError::Other(e.to_string()))?;
        let backend = self.backend.clone();
        let started = Instant::now();
        let output = tokio::task::spawn_blocking(move || parsed.run(&backend))
            .await
            .map_err(|e| WorkerError::Other(e.to_string()))?
            .map_err(|e| WorkerError::Other(format!("compute: {e}")))?;
        let seconds = started.elapsed().as_secs_f64();
        self.metrics.compute_seconds.inc_by(seconds);
        let root = output.root();
        let uri = store::output_uri(&self.store_base, &key, &self.operator);
        self.store
            .put_output(&uri, &output.chunks, &mut |_, _| {})
            .await?;
        self.db.update(&key, |r| {
            r.root = Some(root);
            r.output_uri = Some(uri.clone());
            r.compute_seconds = seconds;
        })?;
        tracing::info!(job = %key, seconds, root = %store::hex(&root), "computed and stored");
        Ok(())
    }

    async fn verify(&self, key: Pubkey, job: &Job) -> Result<(), WorkerError> {
        let input = self.store.get(job.input_uri()).await?;
        let finding = verify::check(
            &self.store,
            job,
            &input,
            &self.backend,
            self.cfg.verify.chunks_per_job,
        )
        .await?;
        match finding {
            verify::Finding::Agrees { checked } => {
                tracing::info!(job = %key, ?checked, "verified: the result holds");
                self.db.update(&key, |r| r.verified = Some(false))?;
            }
            verify::Finding::Unverifiable(why) => {
                tracing::warn!(job = %key, %why, "cannot verify this result");
                self.db.update(&key, |r| r.verified = Some(false))?;
            }
            verify::Finding::Wrong(args) => {
                tracing::warn!(job = %key, chunk = args.chunk, "wrong result: challenging");
                let ix = self.keys().challenge_result(self.key.pubkey(), key, args);
                self.send(&[ix]).await?;
                self.metrics.challenges.inc();
                self.db.update(&key, |r| r.verified = Some(true))?;
            }
        }
        Ok(())
    }
}

impl Worker {
    async fn resolve(&self, key: Pubkey, job: &Job) -> Result<(), WorkerError> {
        let parsed = match self.load_input(job).await? {
            Ok(p) => p,
            Err(reason) => return Err(WorkerError::Other(format!("cannot rule: {reason}"))),
        };
        let backend = self.backend.clone();
        let output = tokio::task::spawn_blocking(move || parsed.run(&backend))
            .await
            .map_err(|e| WorkerError::Other(e.to_string()))?
            .map_err(|e| WorkerError::Other(format!("compute: {e}")))?;
        let mask = verify::verdict(job, &output.leaves());
        let ix = self.keys().resolve_dispute(
            self.key.pubkey(),
            key,
            job.creator,
            self.creator_token(job),
            &parties(job, true),
            mask,
        );
        self.send(&[ix]).await?;
        tracing::info!(job = %key, honest_mask = mask, "dispute resolved");
        Ok(())
    }
}

/// Reads a Solana CLI keypair file (a JSON array of 64 bytes).
pub fn read_keypair(path: &std::path::Path) -> Result<Keypair, WorkerError> {
    let fail = |reason: String| WorkerError::Keypair {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let bytes: Vec<u8> = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
    Keypair::try_from(bytes.as_slice()).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_client::state::Assignment;

    const NOW: i64 = 1_000;

    fn job(replicas: u8, state: JobState) -> Job {
        Job {
            market: Pubkey::new_unique(),
            creator: Pubkey::new_unique(),
            job_id: 1,
            kernel: 0,
            kernel_params: [0; 32],
            input_uri: tessera_client::state::pack_uri("file:///in"),
            input_hash: [0; 32],
            chunk_count: 4,
            replicas,
            reward_per_replica: 1_000,
            created_at: 0,
            claim_deadline: NOW + 100,
            exec_timeout: 60,
            state: state as u8,
            assignments: [
                Assignment::empty(),
                Assignment::empty(),
                Assignment::empty(),
            ],
            reveal_deadline: 0,
            challenge_deadline: 0,
            agreed_root: [0; 32],
            challenge: tessera_client::state::Challenge::none(),
            bump: 0,
            escrow: Pubkey::default(),
            reserved: [0; 64],
        }
    }

    fn situation(me: Pubkey) -> Situation {
        Situation {
            operator: me,
            now: NOW,
            capabilities: 1,
            may_claim: true,
            free_stake: u64::MAX,
            collateral_bps: 5_000,
            crank: true,
            crank_grace: 0,
            verify: false,
            arbiter: false,
        }
    }

    fn hold(job: &mut Job, slot: usize, who: Pubkey, status: SlotStatus) {
        job.assignments[slot].operator = who;
        job.assignments[slot].set_status(status);
        job.assignments[slot].claimed_at = NOW - 10;
    }

    #[test]
    fn an_open_job_is_claimed_only_when_it_may_be() {
        let me = Pubkey::new_unique();
        let j = job(1, JobState::Open);
        let rec = JobRecord::default();
        assert_eq!(decide(&j, &rec, &situation(me)), Some(Step::Claim));

        let full = Situation {
            may_claim: false,
            ..situation(me)
        };
        assert_eq!(decide(&j, &rec, &full), None, "at capacity");
        let unable = Situation {
            capabilities: 0b10,
            ..situation(me)
        };
        assert_eq!(decide(&j, &rec, &unable), None, "kernel not run here");
        let rejected = JobRecord {
            rejected: Some("bad hash".into()),
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &rejected, &situation(me)), None, "bad input");
        // The job's reward is 1 000 and collateral 50 %: a claim bonds 500 of free stake.
        let stake = |free_stake| Situation {
            free_stake,
            ..situation(me)
        };
        assert_eq!(decide(&j, &rec, &stake(500)), Some(Step::Claim));
        assert_eq!(decide(&j, &rec, &stake(499)), None, "free stake short");
        assert_eq!(decide(&j, &rec, &stake(0)), None, "stake below minimum");
    }

    #[test]
    fn a_claimed_slot_is_computed_then_delivered() {
        let me = Pubkey::new_unique();
        let mut j = job(1, JobState::Claimed);
        hold(&mut j, 0, me, SlotStatus::Claimed);
        let mut rec = JobRecord {
            claimed: true,
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &rec, &situation(me)), Some(Step::Compute));
        rec.root = Some([1; 32]);
        rec.output_uri = Some("file:///out".into());
        assert_eq!(decide(&j, &rec, &situation(me)), Some(Step::Submit));

        let mut j2 = job(2, JobState::Open);
        hold(&mut j2, 0, me, SlotStatus::Claimed);
        assert_eq!(
            decide(&j2, &rec, &situation(me)),
            Some(Step::Commit),
            "2 replicas commit; the free slot is not claimed a second time"
        );
    }

    #[test]
    fn reveal_needs_every_commit_and_the_stored_salt() {
        let me = Pubkey::new_unique();
        let mut j = job(2, JobState::Claimed);
        hold(&mut j, 0, me, SlotStatus::Committed);
        hold(&mut j, 1, Pubkey::new_unique(), SlotStatus::Claimed);
        let rec = JobRecord {
            claimed: true,
            root: Some([1; 32]),
            output_uri: Some("u".into()),
            salt: Some([2; 32]),
            ..JobRecord::default()
        };
        assert_eq!(
            decide(&j, &rec, &situation(me)),
            None,
            "the other has not committed"
        );
        j.set_state(JobState::Committed);
        j.assignments[1].set_status(SlotStatus::Committed);
        j.reveal_deadline = NOW + 10;
        assert_eq!(decide(&j, &rec, &situation(me)), Some(Step::Reveal));
        let lost = JobRecord { salt: None, ..rec };
        assert_eq!(
            decide(&j, &lost, &situation(me)),
            None,
            "never reveals another root"
        );
    }

    #[test]
    fn outcomes_count_only_the_operators_own_slot() {
        let (me, other) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut j = job(2, JobState::Settled);
        j.agreed_root = [1; 32];
        hold(&mut j, 0, me, SlotStatus::Revealed);
        hold(&mut j, 1, other, SlotStatus::Revealed);
        j.assignments[0].root = [1; 32];
        j.assignments[1].root = [2; 32];
        assert_eq!(outcome(&j, &me), Some(Outcome::Paid));
        assert_eq!(outcome(&j, &other), Some(Outcome::Failed), "wrong root");
        assert_eq!(outcome(&j, &Pubkey::new_unique()), None, "lost the claim");
        let mut expired = job(1, JobState::Expired);
        hold(&mut expired, 0, me, SlotStatus::Failed);
        assert_eq!(outcome(&expired, &me), Some(Outcome::Failed), "no-show");
        expired.assignments[0].set_status(SlotStatus::Claimed);
        assert_eq!(outcome(&expired, &me), None, "released without fault");
    }

    #[test]
    fn cranks_fire_only_when_due() {
        let me = Pubkey::new_unique();
        let rec = JobRecord::default();
        let mut j = job(1, JobState::Revealed);
        hold(&mut j, 0, Pubkey::new_unique(), SlotStatus::Revealed);
        j.challenge_deadline = NOW;
        assert_eq!(decide(&j, &rec, &situation(me)), None, "window still open");
        j.challenge_deadline = NOW - 1;
        assert_eq!(decide(&j, &rec, &situation(me)), Some(Step::Finalize));
        let no_crank = Situation {
            crank: false,
            ..situation(me)
        };
        assert_eq!(decide(&j, &rec, &no_crank), None);

        let mut late = job(1, JobState::Claimed);
        hold(&mut late, 0, Pubkey::new_unique(), SlotStatus::Claimed);
        late.assignments[0].claimed_at = NOW - 61;
        assert_eq!(decide(&late, &rec, &situation(me)), Some(Step::Timeout));
        late.assignments[0].claimed_at = NOW - 60;
        assert_eq!(decide(&late, &rec, &situation(me)), None, "not late yet");

        let mut unfilled = job(1, JobState::Open);
        unfilled.claim_deadline = NOW - 1;
        assert_eq!(decide(&unfilled, &rec, &situation(me)), Some(Step::Expire));
    }

    #[test]
    fn cranks_go_to_the_jobs_own_operators_first_then_to_everyone() {
        let (first, second, outsider) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let rec = JobRecord::default();
        let at = |who: Pubkey, now: i64| Situation {
            now,
            crank_grace: 2,
            ..situation(who)
        };
        // Finalize, due after NOW - 1: slot 0 at once, slot 1 two seconds on, others after
        // every slot's turn (3 × 2 s).
        let mut j = job(2, JobState::Revealed);
        hold(&mut j, 0, first, SlotStatus::Revealed);
        hold(&mut j, 1, second, SlotStatus::Revealed);
        j.challenge_deadline = NOW - 1;
        let due = |who: Pubkey, j: &Job| {
            (NOW..NOW + 20)
                .find(|&now| decide(j, &rec, &at(who, now)).is_some())
                .map(|now| (now, decide(j, &rec, &at(who, now)).unwrap()))
        };
        assert_eq!(due(first, &j), Some((NOW, Step::Finalize)));
        assert_eq!(due(second, &j), Some((NOW + 2, Step::Finalize)));
        assert_eq!(due(outsider, &j), Some((NOW + 6, Step::Finalize)));

        // Timeout of slot 0 (late since NOW - 1): its co-replica's turn comes first, then
        // everyone's; the late operator's own worker would compute first, not crank.
        let mut late = job(2, JobState::Claimed);
        hold(&mut late, 0, first, SlotStatus::Claimed);
        hold(&mut late, 1, second, SlotStatus::Committed);
        late.assignments[0].claimed_at = NOW - 61;
        assert_eq!(due(second, &late), Some((NOW + 2, Step::Timeout)));
        assert_eq!(due(outsider, &late), Some((NOW + 6, Step::Timeout)));
        assert_eq!(due(first, &late), Some((NOW, Step::Compute)));

        // Expire of an unclaimed job: nobody holds a slot, so every worker waits the same.
        let mut unfilled = job(1, JobState::Open);
        unfilled.claim_deadline = NOW - 1;
        assert_eq!(due(outsider, &unfilled), Some((NOW + 6, Step::Expire)));
        // Grace 0: everyone at once.
        let eager = Situation {
            crank_grace: 0,
            ..situation(outsider)
        };
        assert_eq!(decide(&unfilled, &rec, &eager), Some(Step::Expire));
    }

    #[test]
    fn verifiers_check_others_once_and_arbiters_rule_disputes() {
        let me = Pubkey::new_unique();
        let verifier = Situation {
            verify: true,
            ..situation(me)
        };
        let mut j = job(1, JobState::Revealed);
        hold(&mut j, 0, Pubkey::new_unique(), SlotStatus::Revealed);
        j.challenge_deadline = NOW + 5;
        assert_eq!(
            decide(&j, &JobRecord::default(), &verifier),
            Some(Step::Verify)
        );
        let done = JobRecord {
            verified: Some(false),
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &done, &verifier), None, "checked once");
        let mut own = j;
        own.assignments[0].operator = me;
        assert_eq!(
            decide(&own, &JobRecord::default(), &verifier),
            None,
            "not its own"
        );

        j.set_state(JobState::Disputed);
        assert_eq!(decide(&j, &JobRecord::default(), &situation(me)), None);
        let arbiter = Situation {
            arbiter: true,
            ..situation(me)
        };
        assert_eq!(
            decide(&j, &JobRecord::default(), &arbiter),
            Some(Step::Resolve)
        );
    }

    #[test]
    fn sampling_follows_the_rate() {
        let v = Pubkey::new_unique();
        let jobs: Vec<Pubkey> = (0..400).map(|_| Pubkey::new_unique()).collect();
        assert!(jobs.iter().all(|j| sampled(j, &v, 1.0)));
        assert!(!jobs.iter().any(|j| sampled(j, &v, 0.0)));
        let some = jobs.iter().filter(|j| sampled(j, &v, 0.25)).count();
        assert!((50..150).contains(&some), "{some} of 400 at 25 %");
    }
}
