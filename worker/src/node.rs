//! The worker: connects, then runs the loop that keeps the latest state of every job of the
//! market (websocket changes, periodic resyncs, and a fresh read after each of its own steps)
//! and, whenever something changes or a tick passes, asks [`decide`] for the next step of each
//! job that has no step under way and runs it as a task ([`crate::steps`]). A failed step is
//! logged and tried again later with backoff; a panicked one too. No RPC or store fault and no
//! panic in a step ends the worker.
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use tessera_client::chain::{fetch, Chain, TxOptions};
use tessera_client::flows::{Ctx, MarketInfo};
use tessera_client::state::{Job, Operator, SlotStatus};
use tessera_client::store::Store;
use tessera_client::ClientError;
use tessera_kernels::Workload;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::config::{self, Config};
use crate::db::Db;
use crate::decide::{
    decide, outcome, sampled, Backoff, Health, HealthPolicy, Outage, Outcome, Situation, Step,
};
use crate::devices::{self, Pool, SelfTest};
use crate::error::WorkerError;
use crate::metrics::Metrics;
use crate::watch as jobs_watch;

/// A running operator.
pub struct Worker {
    pub cfg: Config,
    chain: Arc<RpcClient>,
    pub(crate) key: Arc<Keypair>,
    pub market: MarketInfo,
    /// This worker's operator account.
    pub operator: Pubkey,
    pub(crate) store: Store,
    pub(crate) store_base: String,
    /// Where inputs posted relative to a store are looked for: `store_base`, then the
    /// configured `input_stores`.
    pub(crate) input_bases: Vec<String>,
    pub(crate) db: Db,
    /// The devices that passed the self-test; one job per device at once.
    pub(crate) pool: Pool,
    /// Whether the devices are trusted with new claims.
    pub(crate) health: Mutex<Health>,
    /// A re-run of the self-test is under way.
    retesting: AtomicBool,
    pub metrics: Arc<Metrics>,
    pub(crate) tx: TxOptions,
    /// Inputs fetched, checked and parsed before the claim, kept for the computation.
    pub(crate) inputs: Mutex<HashMap<Pubkey, Arc<Workload>>>,
    /// Work units per second measured per kernel id (the last job computed).
    pub(crate) rates: Mutex<HashMap<u8, f64>>,
    /// What the verifier's checks of the last hour took (`verify.budget_secs_per_hour`).
    pub(crate) verify_budget: Mutex<crate::decide::VerifyBudget>,
}

impl Worker {
    /// Connects, reads the market and the operator, opens the state store, and chooses the
    /// devices by the kernels' self-test (see [`devices::choose`]).
    pub async fn new(cfg: Config, metrics: Arc<Metrics>) -> Result<Arc<Worker>, WorkerError> {
        Self::with_self_test(cfg, metrics, devices::kernel_self_test()).await
    }

    /// [`Worker::new`] with another self-test.
    pub async fn with_self_test(
        cfg: Config,
        metrics: Arc<Metrics>,
        self_test: SelfTest,
    ) -> Result<Arc<Worker>, WorkerError> {
        let key = tessera_client::keys::read_keypair(&cfg.keypair_path())
            .map_err(WorkerError::Keypair)?;
        let chain = Arc::new(RpcClient::new_with_commitment(
            cfg.rpc_url.clone(),
            CommitmentConfig::confirmed(),
        ));
        let market = wait_for_market(
            &Ctx::new(chain.as_ref()).with_program_id(cfg.program_id_pubkey()?),
            &cfg.rpc_url,
            &cfg.market_pubkey()?,
            Backoff::RPC,
            &mut |_, _| {},
        )
        .await?;
        let operator = market.keys.operator(&key.pubkey());
        let (kind, wanted, test) = (cfg.backend, cfg.devices.clone(), self_test.clone());
        let gpus = tokio::task::spawn_blocking(move || {
            devices::choose(kind, &wanted, &devices::Cuda, &test)
        })
        .await
        .map_err(|e| WorkerError::from_join("the self-test", e))??;
        let pool = Pool::new(
            gpus,
            cfg.backend != config::Backend::Cuda,
            metrics.clone(),
            self_test,
        );
        let health = Health::new(HealthPolicy {
            max_failures: cfg.max_compute_failures,
            first_retest: Duration::from_secs(cfg.self_test_retry_secs),
            max_retest: Duration::from_secs(600).max(Duration::from_secs(cfg.self_test_retry_secs)),
        });
        let db = Db::open(&cfg.data_dir().join("state.redb"))?;
        // Validated with the configuration: a URL whose output URIs fit on chain.
        let store_base = cfg.store_base();
        let input_bases = cfg.input_bases();
        let verify_budget = crate::decide::VerifyBudget::new(cfg.verify.budget_secs_per_hour);
        let tx = TxOptions {
            priority_fee_micro_lamports: cfg.priority_fee_micro_lamports,
            ..TxOptions::default()
        };
        tracing::info!(
            operator = %operator,
            authority = %key.pubkey(),
            market = %market.address(),
            devices = %pool.describe(),
            "worker ready"
        );
        Ok(Arc::new(Worker {
            cfg,
            chain,
            key: Arc::new(key),
            market,
            operator,
            store: Store::from_env(),
            input_bases,
            store_base,
            db,
            pool,
            health: Mutex::new(health),
            retesting: AtomicBool::new(false),
            metrics,
            tx,
            inputs: Mutex::new(HashMap::new()),
            rates: Mutex::new(HashMap::new()),
            verify_budget: Mutex::new(verify_budget),
        }))
    }

    pub(crate) fn chain(&self) -> &dyn Chain {
        self.chain.as_ref()
    }

    /// Runs until `stop` turns true, then lets every step under way finish (none is cut in
    /// the middle of a transaction) and returns.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> Result<(), WorkerError> {
        let (updates_tx, mut updates) = mpsc::channel(1024);
        let metrics = self.metrics.clone();
        let watcher = tokio::spawn(jobs_watch::subscribe(
            self.cfg.ws_url(),
            self.market.keys.program_id,
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
        let mut slot = 0u64;
        let mut in_flight: HashMap<Pubkey, Step> = HashMap::new();
        // Ended jobs already accounted for: nothing more to do or read for them.
        let mut ended: HashSet<Pubkey> = HashSet::new();
        let mut retry_at = RetryAt::new();
        let mut outage = Outage::new(Backoff::RPC);
        let mut tasks = StepTasks::default();
        let mut resync = tokio::time::interval(Duration::from_secs(self.cfg.resync_interval_secs));
        let mut tick = tokio::time::interval(Duration::from_millis(self.cfg.poll_interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        loop {
            tokio::select! {
                _ = stop.changed() => break,
                Some(done) = tasks.next() => {
                    let (key, step) = (done.job, done.step);
                    settle(done, &self.metrics, &mut in_flight, &mut retry_at);
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
                // While the node is down only the clock asks it, with backoff.
                _ = resync.tick(), if !outage.is_down() => {
                    let keys = &self.market.keys;
                    if let Some(snapshot) = jobs_watch::snapshot(self.chain(), &keys.program_id, &keys.market).await {
                        jobs_watch::apply_snapshot(&mut jobs, snapshot);
                    }
                    operator = self.refresh_operator().await;
                }
                _ = tick.tick() => {
                    if !outage.due(Instant::now()) {
                        continue;
                    }
                    match self.chain().clock().await {
                        Ok(c) => {
                            now = c.unix_timestamp;
                            slot = c.slot;
                            if let Some(down) = outage.recovered(Instant::now()) {
                                tracing::info!(url = %self.cfg.rpc_url, down_s = down.as_secs(), "the RPC answers again");
                            }
                        }
                        Err(e) => {
                            let wait = outage.failed(Instant::now());
                            tracing::warn!(url = %self.cfg.rpc_url, error = %e, retry_in_s = wait.as_secs(), "cannot read the clock; no new step until the RPC answers");
                        }
                    }
                }
            }
            // While the node is down every step would fail: none starts until it answers.
            if now == 0 || outage.is_down() {
                continue;
            }
            self.account_finished(&jobs, &mut ended);
            self.retest_when_due();
            self.schedule(
                &jobs,
                &ended,
                operator.as_ref(),
                (now, slot),
                &mut in_flight,
                &retry_at,
                &mut tasks,
            );
        }

        tracing::info!(
            steps = tasks.len(),
            "stopping: letting the steps under way finish"
        );
        while let Some(done) = tasks.next().await {
            if let Err(e) = &done.result {
                tracing::warn!(job = %done.job, step = ?done.step, error = %e, "step failed while stopping");
                if matches!(e, WorkerError::Panicked { .. }) {
                    self.metrics.step_panics.inc();
                }
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
        (now, slot): (i64, u64),
        in_flight: &mut HashMap<Pubkey, Step>,
        retry_at: &RetryAt,
        tasks: &mut StepTasks,
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
        let healthy = self.health.lock().expect("health").may_claim();
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
                healthy,
                free_stake,
                crank: self.cfg.crank,
                crank_grace: self.cfg.crank_grace_secs as i64,
                verify: self.cfg.verify.enabled
                    && sampled(key, &self.operator, self.cfg.verify.sample_rate)
                    && self
                        .verify_budget
                        .lock()
                        .expect("verify budget")
                        .allows(Instant::now()),
                audit: self.cfg.verify.enabled
                    && self
                        .verify_budget
                        .lock()
                        .expect("verify budget")
                        .allows(Instant::now()),
                slot,
                arbiter: self.cfg.arbiter && self.market.state.arbiter == self.key.pubkey(),
            };
            let Some(step) = decide(job, &rec, &situation) else {
                continue;
            };
            if retry_at.contains_key(key) {
                self.metrics.step_retries.inc();
            }
            if step == Step::Claim {
                active += 1;
            }
            in_flight.insert(*key, step);
            let me = self.clone();
            let (key, job) = (*key, job.clone());
            tasks.spawn(
                key,
                step,
                async move { me.step(key, &job, rec, step).await },
            );
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

    /// Books a computation's result in the devices' health: after repeated failures, or at
    /// once when a GPU is lost, no new job is claimed and the jobs already claimed run on the
    /// CPU until the self-test passes again.
    pub(crate) fn computed(&self, result: Result<(), &WorkerError>) {
        let mut health = self.health.lock().expect("health");
        match result {
            Ok(()) => health.computed(),
            Err(e) => {
                if health.compute_failed(e.is_device_lost(), Instant::now()) {
                    tracing::error!(
                        failures = health.failures(),
                        error = %e,
                        "compute keeps failing: no new claims until the self-test passes again; \
                         jobs already claimed continue on the CPU"
                    );
                    self.pool.set_on_cpu(true);
                    self.metrics.claims_suspended.set(1);
                }
            }
        }
    }

    /// Starts a re-run of the self-test when one is due (claims stopped, backoff over).
    fn retest_when_due(self: &Arc<Self>) {
        if !self
            .health
            .lock()
            .expect("health")
            .retest_due(Instant::now())
            || self.retesting.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let result = me.pool.retest().await;
            let mut health = me.health.lock().expect("health");
            health.self_tested(result.is_ok(), Instant::now());
            match result {
                Ok(()) => {
                    tracing::info!(devices = %me.pool.describe(), "self-test passed again: claiming resumes");
                    me.metrics.claims_suspended.set(0);
                }
                Err(why) => tracing::warn!(%why, "self-test failed again: still not claiming"),
            }
            me.retesting.store(false, Ordering::Release);
        });
    }

    /// Counts jobs this worker held once they end; an ended job is left alone from then on,
    /// but for the games it still has open that this worker took part in.
    fn account_finished(&self, jobs: &HashMap<Pubkey, Box<Job>>, ended: &mut HashSet<Pubkey>) {
        for (key, job) in jobs {
            if ended.contains(key) || !job.state().has_ended() {
                continue;
            }
            let Ok(rec) = self.db.get(key) else { return };
            // Games left open on it are ended first (their rent comes back to their accusers).
            if !crate::decide::ends_games(job, &self.operator) {
                ended.insert(*key);
            }
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
}

/// What the worker is waiting for at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// The RPC node does not answer.
    Rpc { url: String, error: String },
    /// The node answers, but an account the market needs does not exist yet (the market
    /// itself, or its mint).
    Account { what: &'static str, address: Pubkey },
}

impl std::fmt::Display for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Waiting::Rpc { url, error } => write!(f, "the RPC at {url} ({error})"),
            Waiting::Account { what, address } => write!(f, "the {what} account {address}"),
        }
    }
}

/// Reads the market at `market` (in `ctx`'s program), waiting (with `backoff`) while the RPC
/// node at `url` cannot be reached or the market or its mint does not exist yet: a worker
/// started before its validator, or before the market is created, starts once they appear.
/// Each wait is logged on one line saying what it waits for and how long, and reported to
/// `on_wait`. Any other error (the address is not a market of the program, a malformed
/// account) ends the wait.
pub async fn wait_for_market(
    ctx: &Ctx<'_>,
    url: &str,
    market: &Pubkey,
    mut backoff: Backoff,
    on_wait: &mut (dyn FnMut(&Waiting, Duration) + Send),
) -> Result<MarketInfo, WorkerError> {
    loop {
        let waiting = match ctx.market(market).await {
            Ok(market) => return Ok(market),
            Err(ClientError::RpcUnreachable(error)) => Waiting::Rpc {
                url: url.to_string(),
                error,
            },
            Err(ClientError::AccountNotFound { what, address, .. }) => {
                Waiting::Account { what, address }
            }
            Err(e) => return Err(WorkerError::Market(e)),
        };
        let wait = backoff.next_wait();
        tracing::warn!(
            retry_in_s = wait.as_secs_f64(),
            "waiting for {waiting} (market {market})"
        );
        on_wait(&waiting, wait);
        tokio::time::sleep(wait).await;
    }
}

/// Retry bookkeeping: when each job that failed its last step may be tried again, and how many
/// times in a row it failed.
type RetryAt = HashMap<Pubkey, (Instant, u32)>;

/// A step that ended, with its job and step even when it panicked.
#[derive(Debug)]
pub struct Done {
    pub job: Pubkey,
    pub step: Step,
    /// [`WorkerError::Panicked`] when the step panicked.
    pub result: Result<(), WorkerError>,
}

/// The steps under way, one task each. A step that panics ends its own task only: [`next`]
/// reports it like a failed step, naming its job and step.
///
/// [`next`]: StepTasks::next
#[derive(Default)]
pub struct StepTasks {
    set: JoinSet<Result<(), WorkerError>>,
    running: HashMap<tokio::task::Id, (Pubkey, Step)>,
}

impl StepTasks {
    /// Runs `future`, the step `step` of `job`, as a task.
    pub fn spawn(
        &mut self,
        job: Pubkey,
        step: Step,
        future: impl Future<Output = Result<(), WorkerError>> + Send + 'static,
    ) {
        let id = self.set.spawn(future).id();
        self.running.insert(id, (job, step));
    }

    /// Steps under way.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The next step to end; `None` when none is under way.
    pub async fn next(&mut self) -> Option<Done> {
        let (id, result) = match self.set.join_next_with_id().await? {
            Ok((id, result)) => (id, result),
            Err(e) => {
                let id = e.id();
                (id, Err(WorkerError::from_join("the step", e)))
            }
        };
        let (job, step) = self
            .running
            .remove(&id)
            .expect("every task is spawned with its job and step");
        Some(Done { job, step, result })
    }
}

/// Books a step that ended: its job has no step under way any more; a failure (or a panic) is
/// logged with its job and step, counted, and the job waits an exponential backoff before its
/// next try; a success clears the backoff.
fn settle(
    done: Done,
    metrics: &Metrics,
    in_flight: &mut HashMap<Pubkey, Step>,
    retry_at: &mut RetryAt,
) {
    let Done { job, step, result } = done;
    in_flight.remove(&job);
    match result {
        Ok(()) => {
            retry_at.remove(&job);
        }
        Err(e) => {
            let tries = retry_at.get(&job).map_or(0, |r| r.1) + 1;
            let wait = Duration::from_millis(250 << tries.min(6));
            if matches!(e, WorkerError::Panicked { .. }) {
                tracing::error!(job = %job, ?step, error = %e, retry_in_ms = wait.as_millis() as u64, "step panicked");
                metrics.step_panics.inc();
            } else {
                tracing::warn!(job = %job, ?step, error = %e, retry_in_ms = wait.as_millis() as u64, "step failed");
            }
            metrics.step_failures.inc();
            retry_at.insert(job, (Instant::now() + wait, tries));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::{Discriminator, Space};
    use solana_account::Account;
    use std::sync::atomic::AtomicU32;
    use tessera_client::chain::{AccountFilter, ChainClock};
    use tessera_client::state::Market;

    /// A node that is down for its first `down` requests, then up without the market for
    /// `empty` more (each try reads the market, then its mint), then up with both.
    struct Appearing {
        down: u32,
        empty: u32,
        calls: AtomicU32,
        mint: Pubkey,
        founder: Pubkey,
    }

    #[async_trait::async_trait]
    impl Chain for Appearing {
        async fn get_account(&self, address: &Pubkey) -> Result<Option<Account>, ClientError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.down {
                return Err(ClientError::from_rpc_message(format!(
                    "AccountNotFound: pubkey={address}: error sending request for url (http://127.0.0.1:1/)"
                )));
            }
            let mint = *address == self.mint;
            if n < self.down + self.empty && !mint {
                return Ok(None);
            }
            let (owner, data) = if mint {
                let mut data = vec![0u8; 82];
                data[44] = 6; // decimals
                (tessera_client::token::TOKEN_PROGRAM_ID, data)
            } else {
                let mut data = Market::DISCRIMINATOR.to_vec();
                data.resize(8 + Market::INIT_SPACE, 0);
                // `mint` after `admin` and `arbiter`; `founder` before the 32 reserved bytes.
                data[72..104].copy_from_slice(self.mint.as_ref());
                let end = data.len() - 32;
                data[end - 32..end].copy_from_slice(self.founder.as_ref());
                (tessera_client::PROGRAM_ID, data)
            };
            Ok(Some(Account {
                lamports: 1,
                data,
                owner,
                executable: false,
                rent_epoch: 0,
            }))
        }
        async fn get_multiple_accounts(
            &self,
            _: &[Pubkey],
        ) -> Result<Vec<Option<Account>>, ClientError> {
            Err(ClientError::Rpc("not used here".into()))
        }
        async fn get_program_accounts(
            &self,
            _: &Pubkey,
            _: &[AccountFilter],
        ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
            Err(ClientError::Rpc("not used here".into()))
        }
        async fn latest_blockhash(&self) -> Result<solana_hash::Hash, ClientError> {
            Err(ClientError::Rpc("not used here".into()))
        }
        async fn send_signed(
            &self,
            _: &solana_transaction::Transaction,
        ) -> Result<solana_signature::Signature, ClientError> {
            Err(ClientError::Rpc("not used here".into()))
        }
        async fn clock(&self) -> Result<ChainClock, ClientError> {
            Err(ClientError::Rpc("not used here".into()))
        }
    }

    /// Started before its node, the worker waits for it with growing delays, saying what it
    /// waits for; then for the market; and carries on once both are there.
    #[tokio::test]
    async fn start_up_waits_for_the_node_then_the_market() {
        let (mint, founder) = (Pubkey::new_unique(), Pubkey::new_unique());
        let address = tessera_client::pda::market(&mint, &founder).0;
        let chain = Appearing {
            down: 3,
            empty: 2,
            calls: AtomicU32::new(0),
            mint,
            founder,
        };
        let mut seen = Vec::new();
        let backoff = Backoff::new(Duration::from_millis(1), Duration::from_millis(4));
        let market = wait_for_market(
            &Ctx::new(&chain),
            "http://node:8899",
            &address,
            backoff,
            &mut |w, d| seen.push((w.to_string(), d.as_millis())),
        )
        .await
        .expect("the market once it exists");
        assert_eq!((market.keys.mint, market.address()), (mint, address));
        let rpc =
            "the RPC at http://node:8899 (error sending request for url (http://127.0.0.1:1/))";
        let market_account = format!("the market account {address}");
        assert_eq!(
            seen,
            vec![
                (rpc.to_string(), 1),
                (rpc.to_string(), 2),
                (rpc.to_string(), 4),
                (market_account.clone(), 4),
                (market_account, 4),
            ]
        );
    }

    /// Against a port nobody listens on, start-up keeps trying, each wait longer up to the
    /// cap, and reports the node as unreachable (not as a missing account).
    #[tokio::test]
    async fn start_up_against_a_dead_port_keeps_retrying_with_backoff() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let chain = RpcClient::new(url.clone());
        let mut seen = Vec::new();
        let backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(40));
        let waited = tokio::time::timeout(
            Duration::from_millis(600),
            wait_for_market(
                &Ctx::new(&chain),
                &url,
                &Pubkey::new_unique(),
                backoff,
                &mut |w, d| seen.push((w.clone(), d.as_millis())),
            ),
        )
        .await;
        assert!(waited.is_err(), "still waiting: {waited:?}");
        assert!(seen.len() >= 5, "{seen:?}");
        let waits: Vec<u128> = seen.iter().map(|(_, d)| *d).take(5).collect();
        assert_eq!(waits, [10, 20, 40, 40, 40]);
        for (w, _) in &seen {
            assert!(matches!(w, Waiting::Rpc { url: u, .. } if *u == url), "{w}");
        }
    }

    /// A step that panics is reported with its job and step, counted, and scheduled for a
    /// retry; the steps beside it and after it run to their end.
    #[tokio::test]
    async fn a_panicking_step_does_not_stop_the_loop() {
        let metrics = Metrics::new();
        let (bad, good, later) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let mut tasks = StepTasks::default();
        let mut in_flight = HashMap::from([(bad, Step::Compute), (good, Step::Submit)]);
        let mut retry_at = RetryAt::new();
        tasks.spawn(bad, Step::Compute, async { panic!("kernel bug") });
        tasks.spawn(good, Step::Submit, async { Ok(()) });

        let mut seen = Vec::new();
        while let Some(done) = tasks.next().await {
            seen.push((done.job, done.step, done.result.is_ok()));
            if let Err(e) = &done.result {
                assert_eq!(e.to_string(), "the step panicked: kernel bug");
            }
            settle(done, &metrics, &mut in_flight, &mut retry_at);
        }
        seen.sort_by_key(|(_, _, ok)| *ok);
        assert_eq!(
            seen,
            vec![(bad, Step::Compute, false), (good, Step::Submit, true)]
        );
        assert!(in_flight.is_empty(), "both jobs may take their next step");
        assert_eq!(retry_at.get(&bad).map(|r| r.1), Some(1));
        assert!(!retry_at.contains_key(&good));
        assert_eq!(metrics.step_panics.get(), 1);
        assert_eq!(metrics.step_failures.get(), 1);

        // The loop carries on: a step started after the panic runs and is reported.
        tasks.spawn(later, Step::Finalize, async { Ok(()) });
        let done = tasks.next().await.expect("the later step ends");
        assert_eq!((done.job, done.step), (later, Step::Finalize));
        assert!(done.result.is_ok());
        assert!(tasks.next().await.is_none());
    }
}
