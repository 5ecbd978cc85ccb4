//! End to end: the real program on an embedded local validator (surfpool, JSON-RPC and
//! websockets on 127.0.0.1), real workers (tasks, and the `tessera-worker` binary for the crash
//! test), a real object store on disk, the creator's client flows.
//!
//! Each test starts its own validator with short windows. They run one at a time (a lock),
//! since their deadlines are in wall-clock seconds and the machine may be small.
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use tessera::math::{split_reward, split_slash, Bps};
use tessera_client::chain::{fetch, Chain};
use tessera_client::flows::creator::{self, JobRequest};
use tessera_client::flows::{Ctx, MarketInfo};
use tessera_client::output::Assembled;
use tessera_client::state::{Job, JobState, Operator, SlotStatus};
use tessera_client::store::{self, Store};
use tessera_client::token::TokenAccount;
use tessera_client::{CreateJobArgs, FraudTarget, TxOptions};
use tessera_kernels::{Backend, KernelId, Workload};
use tessera_localnet::{Localnet, LocalnetConfig};
use tessera_worker::config::Config;
use tessera_worker::metrics::Metrics;
use tessera_worker::node::Worker;
use tokio::sync::watch;

#[path = "../common/local_worker.rs"]
mod local_worker;
use local_worker::local_worker_config;

const REWARD: u64 = 5_000_000;
const STAKE: u64 = 100_000_000;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The scene every job here renders (the shipped Cornell box at 32×32, 4 samples, 4 tiles).
fn small_scene() -> Vec<u8> {
    tessera_tests::small_cornell(4, 2024)
}

struct Net {
    net: Localnet,
    market: MarketInfo,
    dir: tempfile::TempDir,
    store_base: String,
    rpc: RpcClient,
}

/// A worker running as a task.
struct RunningWorker {
    stop: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
    metrics: Arc<Metrics>,
}

impl RunningWorker {
    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("the worker stops")
            .unwrap();
    }
}

impl Net {
    /// A validator, a market with `challenge_window`, and operators `operator-1..3` staked.
    async fn start(challenge_window: i64) -> Net {
        Net::start_with(challenge_window, true).await
    }

    /// [`Net::start`]; `arbiter`: whether the market has one (the admin), or none at all.
    async fn start_with(challenge_window: i64, arbiter: bool) -> Net {
        Net::start_params(tessera_localnet::local_params(challenge_window), arbiter).await
    }

    /// A validator and a market with `params`, with an arbiter (the admin) or none.
    async fn start_params(params: tessera_client::state::MarketParams, arbiter: bool) -> Net {
        // Worker logs with RUST_LOG=info (shown for failing tests).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = LocalnetConfig::new(
            repo().join("target/deploy/tessera.so"),
            dir.path().join("keys"),
        );
        cfg.accounts = ["creator", "operator-1", "operator-2", "operator-3"]
            .map(String::from)
            .to_vec();
        let net = Localnet::start(cfg).await.expect("local validator");
        let arbiter = match arbiter {
            true => net.keypair("admin").pubkey(),
            false => Pubkey::default(),
        };
        let market = net
            .create_market_with_arbiter(params, &arbiter)
            .await
            .unwrap();
        for name in ["operator-1", "operator-2", "operator-3"] {
            net.register_operator(&market, &net.keypair(name), STAKE)
                .await
                .unwrap();
        }
        let store_dir = dir.path().join("store");
        std::fs::create_dir_all(&store_dir).unwrap();
        let store_base = format!("file://{}", store_dir.display());
        let rpc = net.rpc();
        Net {
            net,
            market,
            dir,
            store_base,
            rpc,
        }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx::new(&self.rpc)
    }

    fn chain(&self) -> &dyn Chain {
        &self.rpc
    }

    fn worker_config(&self, name: &str) -> Config {
        let data_dir = self.dir.path().join("workers").join(name);
        let mut cfg = local_worker_config(
            &self.net,
            &self.market.address(),
            name,
            &self.store_base,
            data_dir,
        );
        cfg.backend = tessera_worker::config::Backend::Cpu;
        cfg.poll_interval_ms = 200;
        cfg.resync_interval_secs = 2;
        cfg
    }

    async fn spawn_worker(&self, name: &str, tweak: impl FnOnce(&mut Config)) -> RunningWorker {
        let mut cfg = self.worker_config(name);
        tweak(&mut cfg);
        let metrics = Metrics::new();
        let worker = Worker::new(cfg, metrics.clone())
            .await
            .expect("worker starts");
        let (stop, stop_rx) = watch::channel(false);
        let handle = tokio::spawn(async move {
            worker.run(stop_rx).await.expect("worker runs");
        });
        RunningWorker {
            stop,
            handle,
            metrics,
        }
    }

    async fn job(&self, key: &Pubkey) -> Job {
        fetch::<Job>(self.chain(), key).await.unwrap().expect("job")
    }

    async fn operator(&self, name: &str) -> Operator {
        let key = self.market.keys.operator(&self.net.keypair(name).pubkey());
        fetch::<Operator>(self.chain(), &key)
            .await
            .unwrap()
            .expect("operator")
    }

    async fn balance(&self, owner: &Pubkey) -> u64 {
        self.balance_of(&self.net.token_account(owner)).await
    }

    /// The balance of token account `a` (0 when it does not exist).
    async fn balance_of(&self, a: &Pubkey) -> u64 {
        self.chain()
            .get_account(a)
            .await
            .unwrap()
            .and_then(|a| TokenAccount::from_account(&a))
            .map_or(0, |t| t.amount)
    }

    async fn supply(&self) -> u64 {
        let m = self
            .chain()
            .get_account(&self.net.mint)
            .await
            .unwrap()
            .unwrap();
        tessera_client::token::mint_supply(&m).expect("a mint")
    }

    /// Polls the job until `done` holds, failing after `secs`.
    async fn wait_job(&self, key: &Pubkey, secs: u64, done: impl Fn(&Job) -> bool) -> Job {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let job = self.job(key).await;
            if done(&job) {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "job {key} still {:?} after {secs}s: {:?}",
                job.state(),
                job.slots().iter().map(|a| a.status()).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The creator submits the small scene through the client flow.
    async fn submit(
        &self,
        job_id: u64,
        replicas: u8,
        claim_window: i64,
        exec_timeout: i64,
    ) -> Pubkey {
        let input = small_scene();
        self.submit_input(
            job_id,
            replicas,
            claim_window,
            exec_timeout,
            KernelId::Render,
            input,
        )
        .await
    }

    /// The creator submits `input` for `kernel` through the client flow.
    async fn submit_input(
        &self,
        job_id: u64,
        replicas: u8,
        claim_window: i64,
        exec_timeout: i64,
        kernel: KernelId,
        input: Vec<u8>,
    ) -> Pubkey {
        let creator = self.net.keypair("creator");
        let req = JobRequest {
            job_id: Some(job_id),
            kernel,
            input,
            reward_per_replica: REWARD,
            replicas,
            claim_window,
            exec_timeout,
        };
        let submitted = creator::submit_job(
            &self.ctx(),
            &Store::new(),
            &self.store_base,
            &self.market,
            &creator,
            &self.net.token_account(&creator.pubkey()),
            &req,
            &mut |_, _| {},
        )
        .await
        .expect("job submitted");
        submitted.job
    }

    async fn send(
        &self,
        ixs: &[anchor_lang::solana_program::instruction::Instruction],
        signer: &Keypair,
    ) {
        self.chain()
            .send_transaction(ixs, &[signer], &TxOptions::default())
            .await
            .expect("transaction");
    }
}

/// Waits up to 5 s for `done`: a worker's metric lags the transaction it counts.
async fn eventually(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An operator driven by hand through the client: claims, computes (optionally tampering with
/// one chunk), stores its output, and delivers.
struct Manual<'a> {
    net: &'a Net,
    key: Arc<Keypair>,
}

impl<'a> Manual<'a> {
    fn new(net: &'a Net, name: &str) -> Self {
        Manual {
            net,
            key: net.net.keypair(name),
        }
    }

    fn operator(&self) -> Pubkey {
        self.net.market.keys.operator(&self.key.pubkey())
    }

    async fn claim(&self, job: Pubkey) {
        let vetted = self.net.job(&job).await.claim_terms();
        let ix = self
            .net
            .market
            .keys
            .claim_job(self.key.pubkey(), job, vetted);
        self.net.send(&[ix], &self.key).await;
    }

    /// Computes the job's output, flips a byte of chunk 0 when `cheat`, stores it; returns the
    /// root and the output's location.
    async fn compute(&self, job: Pubkey, cheat: bool) -> ([u8; 32], String) {
        self.compute_input(job, KernelId::Render, &small_scene(), |chunks| {
            if cheat {
                chunks[0][0] ^= 0xff;
            }
        })
        .await
    }

    /// Computes `input` with `kernel`, changes the output with `tamper`, stores it; returns the
    /// root and the output's location.
    async fn compute_input(
        &self,
        job: Pubkey,
        kernel: KernelId,
        input: &[u8],
        tamper: impl Fn(&mut [Vec<u8>]),
    ) -> ([u8; 32], String) {
        let mut output = Workload::parse(kernel, input)
            .unwrap()
            .run(&Backend::Cpu)
            .unwrap();
        tamper(&mut output.chunks);
        let uri = store::output_uri(&self.net.store_base, &job, &self.operator(), &[9; 32]);
        Store::new()
            .put_output(&uri, &output.chunks, &mut |_, _| {})
            .await
            .unwrap();
        (output.root(), uri)
    }

    async fn submit(&self, job: Pubkey, root: [u8; 32], uri: String) {
        let ix = self
            .net
            .market
            .keys
            .submit_result(self.key.pubkey(), job, root, uri);
        self.net.send(&[ix], &self.key).await;
    }

    async fn commit(&self, job: Pubkey, root: [u8; 32]) -> [u8; 32] {
        let salt = [42u8; 32];
        let c = tessera_merkle::commitment(&root, &self.operator().to_bytes(), &salt);
        let ix = self
            .net
            .market
            .keys
            .commit_result(self.key.pubkey(), job, c);
        self.net.send(&[ix], &self.key).await;
        salt
    }

    /// Defends `rows` (this operator's rows of the accused row through every layer) in the
    /// referee game `game` of `job` until the job settles: posts their chain, then reveals the
    /// picked layer's rows (for the last layer, chunk `c` of its output stored at `uri`, with
    /// its leaf proof). Returns the settled job and the layer picked.
    async fn defend(
        &self,
        job: Pubkey,
        game: Pubkey,
        rows: &[Vec<i8>],
        uri: &str,
        c: usize,
    ) -> (Job, u8) {
        use tessera_client::referee::{chain_hashes, revealed_rows};
        use tessera_client::state::{Game, GamePhase};
        let leaves = Store::new().get(&store::leaves_uri(uri)).await.unwrap();
        let leaves: Vec<[u8; 32]> = leaves.as_chunks::<32>().0.to_vec();
        let chunk = Store::new()
            .get(&store::chunk_uri(uri, c as u32))
            .await
            .unwrap();
        let proof = tessera_merkle::proof(&leaves, c);
        let keys = &self.net.market.keys;
        let mut picked = 0;
        let deadline = Instant::now() + Duration::from_secs(150);
        loop {
            let j = self.net.job(&job).await;
            if j.state() == JobState::Settled {
                return (j, picked);
            }
            assert!(Instant::now() < deadline, "still {:?}", j.state());
            let g = fetch::<Game>(self.net.chain(), &game).await.unwrap();
            match g.as_ref().map(|g| (g.phase(), g)) {
                Some((GamePhase::AwaitChain, _)) => {
                    let ix = keys.post_chain(self.key.pubkey(), game, job, chain_hashes(rows));
                    self.net.send(&[ix], &self.key).await;
                }
                Some((GamePhase::AwaitRows, g)) => {
                    picked = g.layer;
                    let bytes = revealed_rows(rows, g.layer, &chunk, &proof);
                    let buffer = tessera_client::flows::referee::stage(
                        &self.net.ctx(),
                        keys,
                        &self.key,
                        &bytes,
                    )
                    .await
                    .unwrap();
                    let ix =
                        keys.reveal_rows(self.key.pubkey(), game, job, buffer, proof.len() as u8);
                    self.net.send(&[ix], &self.key).await;
                }
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn reveal(&self, job: Pubkey, root: [u8; 32], salt: [u8; 32], uri: String) {
        let ix = self
            .net
            .market
            .keys
            .reveal_result(self.key.pubkey(), job, root, salt, uri);
        self.net.send(&[ix], &self.key).await;
    }
}

fn true_root() -> [u8; 32] {
    Workload::parse(KernelId::Render, &small_scene())
        .unwrap()
        .run(&Backend::Cpu)
        .unwrap()
        .root()
}

fn paid(reward: u64) -> u64 {
    split_reward(reward, 250, 100).unwrap().operator
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_replica_render_is_computed_settled_and_paid_exactly() {
    let _serial = SERIAL.lock().await;
    let net = Net::start(2).await;
    let creator = net.net.keypair("creator").pubkey();
    let (creator_before, treasury_before, supply_before) = (
        net.balance(&creator).await,
        net.balance(&net.net.keypair("admin").pubkey()).await,
        net.supply().await,
    );
    let worker = net.spawn_worker("operator-1", |_| {}).await;

    let job_key = net.submit(1, 1, 120, 60).await;
    let job = net
        .wait_job(&job_key, 60, |j| j.state() == JobState::Settled)
        .await;
    assert_eq!(job.agreed_root, true_root());
    assert_eq!(worker.metrics.jobs_claimed.get(), 1);

    // The creator downloads the tiles, each checked against the root, and gets the PNG.
    let result = creator::fetch_result(
        &net.ctx(),
        &Store::new(),
        std::slice::from_ref(&net.store_base),
        &job_key,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    let Assembled::Png(png) = &result.assembled else {
        panic!("a render assembles to a PNG")
    };
    assert_eq!(&png[1..4], b"PNG");

    // Balances: reward − fee − burn to the operator, the fee to the fee vault (then, collected,
    // to the treasury), the burn out of the supply; the creator paid exactly the reward.
    let split = split_reward(REWARD, 250, 100).unwrap();
    let op = net.operator("operator-1").await;
    assert_eq!(op.earned, split.operator);
    assert_eq!(op.jobs_completed, 1);
    assert_eq!(op.bonded, 0);
    assert_eq!(net.balance(&creator).await, creator_before - REWARD);
    let fee_vault = net.market.keys.fee_vault;
    assert_eq!(net.balance_of(&fee_vault).await, split.fee);
    let anyone = net.net.keypair("creator");
    net.send(&[net.market.keys.collect_fees()], &anyone).await;
    assert_eq!(net.balance_of(&fee_vault).await, 0);
    assert_eq!(
        net.balance(&net.net.keypair("admin").pubkey()).await,
        treasury_before + split.fee
    );
    assert_eq!(net.supply().await, supply_before - split.burn);
    let deadline = Instant::now() + Duration::from_secs(5);
    while worker.metrics.jobs_completed.get() != 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(worker.metrics.jobs_completed.get(), 1);
    worker.stop().await;
}

/// One request to an HTTP server, as a browser sends it: the status and the body.
async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: gateway\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(&request).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let status = std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap();
        (status, out[end + 4..].to_vec())
    })
    .await
    .unwrap()
}

/// A real cluster's store, as `tessera serve` fronts it: an S3 bucket (an S3-compatible server
/// with SigV4 keys) behind the store gateway. A page uploads the input through the gateway, the
/// job posts its `s3://` URL, a worker whose store is the bucket (its keys in the environment,
/// as an operator sets them) reads it, computes and writes its output there, and the page reads
/// every chunk back through the gateway and checks it against the root on chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_in_an_s3_bucket_behind_the_store_gateway_settles_and_reads_back() {
    use tessera_localnet::http::{HttpConfig, HttpServer, Network, StoreRoot};
    let _serial = SERIAL.lock().await;
    let net = Net::start(2).await;
    let buckets = net.dir.path().join("s3");
    std::fs::create_dir_all(buckets.join("jobs")).unwrap();
    let s3_addr = tessera_localnet::s3::serve(&buckets, ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let options = tessera_localnet::s3::options(s3_addr);
    for (k, v) in &options {
        std::env::set_var(k.to_ascii_uppercase(), v);
    }
    let bucket = Store::with_options(options.clone());
    let base = "s3://jobs/tessera";
    let gateway = HttpServer::start(
        ([127, 0, 0, 1], 0).into(),
        HttpConfig {
            store: StoreRoot::Remote {
                base: base.into(),
                store: bucket.clone(),
            },
            network: Network::Summary(b"{}".to_vec()),
            app: None,
            origins: Vec::new(),
        },
    )
    .await
    .unwrap();

    // The page's upload, then what the job posts for it.
    let input = small_scene();
    let hash: [u8; 32] = tessera_merkle::sha256(&[&input]);
    let (status, reply) = http(
        gateway.addr,
        "PUT",
        &format!("/store/inputs/{}", store::hex(&hash)),
        &input,
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&reply));
    let posted = store::posted_input_uri(base, &hash);
    assert_eq!(posted, format!("{base}/inputs/{}", store::hex(&hash)));
    assert_eq!(
        bucket.get(&posted).await.unwrap().as_ref(),
        input.as_slice()
    );

    let worker = net
        .spawn_worker("operator-1", |c| c.store = base.to_string())
        .await;
    let creator = net.net.keypair("creator");
    let req = JobRequest {
        job_id: Some(70),
        kernel: KernelId::Render,
        input,
        reward_per_replica: REWARD,
        replicas: 1,
        claim_window: 120,
        exec_timeout: 60,
    };
    // The client flow posts the same URL (its upload of the same bytes under the same name
    // changes nothing).
    let submitted = creator::submit_job(
        &net.ctx(),
        &bucket,
        base,
        &net.market,
        &creator,
        &net.net.token_account(&creator.pubkey()),
        &req,
        &mut |_, _| {},
    )
    .await
    .expect("job submitted");
    assert_eq!(submitted.input_uri, posted);
    let job = net
        .wait_job(&submitted.job, 60, |j| j.state() == JobState::Settled)
        .await;
    assert_eq!(job.input_uri(), posted);
    assert_eq!(job.agreed_root, true_root());

    // The output is in the bucket, and every chunk read through the gateway is in the root.
    let out = job.slots()[0].output_uri().to_string();
    let rel = out
        .strip_prefix(&format!("{base}/"))
        .unwrap_or_else(|| panic!("{out} is not in the bucket"));
    let mut leaves = Vec::new();
    for i in 0..job.chunk_count {
        let (status, chunk) =
            http(gateway.addr, "GET", &format!("/store/{rel}/chunk-{i}"), b"").await;
        assert_eq!(
            status,
            200,
            "chunk {i}: {}",
            String::from_utf8_lossy(&chunk)
        );
        leaves.push(tessera_merkle::leaf_hash(&chunk));
    }
    assert_eq!(tessera_merkle::root_from_leaves(&leaves), job.agreed_root);
    worker.stop().await;
    for (k, _) in &options {
        std::env::remove_var(k.to_ascii_uppercase());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_commit_reveal_agree_and_are_both_paid() {
    let _serial = SERIAL.lock().await;
    let net = Net::start(2).await;
    let w1 = net.spawn_worker("operator-1", |_| {}).await;
    let w2 = net.spawn_worker("operator-2", |_| {}).await;

    let job_key = net.submit(1, 2, 120, 60).await;
    let job = net
        .wait_job(&job_key, 90, |j| j.state() == JobState::Settled)
        .await;
    assert_eq!(job.agreed_root, true_root());
    assert_eq!(job.slots().len(), 2);
    for a in job.slots() {
        assert_eq!(a.status(), SlotStatus::Revealed);
        assert_ne!(a.commitment, [0; 32], "each replica committed first");
    }
    for name in ["operator-1", "operator-2"] {
        let op = net.operator(name).await;
        assert_eq!(op.earned, paid(REWARD), "{name}");
        assert_eq!(op.jobs_completed, 1, "{name}");
    }
    w1.stop().await;
    w2.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cheating_replica_is_disputed_slashed_and_the_creator_compensated() {
    let _serial = SERIAL.lock().await;
    let net = Net::start(2).await;
    let creator = net.net.keypair("creator").pubkey();
    let creator_before = net.balance(&creator).await;
    let honest = net.spawn_worker("operator-1", |_| {}).await;
    let arbiter = net
        .spawn_worker("admin", |c| {
            c.arbiter = true;
        })
        .await;
    let cheat = Manual::new(&net, "operator-3");

    let job_key = net.submit(1, 2, 120, 60).await;
    cheat.claim(job_key).await;
    let (root, uri) = cheat.compute(job_key, true).await;
    let salt = cheat.commit(job_key, root).await;
    net.wait_job(&job_key, 60, |j| j.state() == JobState::Committed)
        .await;
    cheat.reveal(job_key, root, salt, uri).await;

    let job = net
        .wait_job(&job_key, 60, |j| j.state() == JobState::Settled)
        .await;
    assert_eq!(job.agreed_root, true_root(), "the honest root won");
    let bond = Bps::new(5_000).unwrap().apply(REWARD).unwrap();
    let slash = split_slash(bond, 10_000, 5_000, 2_500, true).unwrap();
    let c = net.operator("operator-3").await;
    assert_eq!(c.slashed_total, slash.total);
    assert_eq!(c.stake, STAKE - slash.total);
    assert_eq!(c.jobs_failed, 1);
    assert_eq!(c.earned, 0);
    let h = net.operator("operator-1").await;
    assert_eq!(h.earned, paid(REWARD) + slash.honest);
    // The creator paid one reward (the cheat's came back) and got the compensation.
    assert_eq!(
        net.balance(&creator).await,
        creator_before - REWARD + slash.creator
    );
    honest.stop().await;
    arbiter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_verifier_catches_a_wrong_single_result_inside_the_challenge_window() {
    let _serial = SERIAL.lock().await;
    let net = Net::start(30).await;
    let creator = net.net.keypair("creator").pubkey();
    let creator_before = net.balance(&creator).await;
    let cheat = Manual::new(&net, "operator-3");
    let job_key = net.submit(1, 1, 120, 60).await;
    cheat.claim(job_key).await;
    let (root, uri) = cheat.compute(job_key, true).await;
    cheat.submit(job_key, root, uri).await;
    net.wait_job(&job_key, 10, |j| j.state() == JobState::Revealed)
        .await;

    let verifier = net
        .spawn_worker("operator-1", |c| {
            c.verify.enabled = true;
            c.verify.chunks_per_job = 4;
        })
        .await;
    let arbiter = net.spawn_worker("admin", |c| c.arbiter = true).await;
    // The verifier commits a challenge, reveals it; the arbiter rules once the challenge
    // reveal deadline (the challenge window, then the 30 s reveal window) has passed.
    let job = net
        .wait_job(&job_key, 150, |j| j.state() == JobState::Settled)
        .await;
    eventually(|| verifier.metrics.challenges.get() > 0).await;
    assert_eq!(verifier.metrics.challenges.get(), 1);
    assert_eq!(job.challenges[0].chunk, 0, "the tampered chunk was found");
    assert_eq!(
        job.challenges[0].challenger,
        net.market
            .keys
            .operator(&net.net.keypair("operator-1").pubkey())
    );
    let bond = Bps::new(5_000).unwrap().apply(REWARD).unwrap();
    let slash = split_slash(bond, 10_000, 5_000, 2_500, true).unwrap();
    let c = net.operator("operator-3").await;
    assert_eq!(c.slashed_total, slash.total);
    assert_eq!(c.earned, 0);
    let v = net.operator("operator-1").await;
    assert_eq!(v.earned, slash.honest);
    assert_eq!(v.bonded, 0, "the challenger's bond is released");
    // Refunded in full, plus the compensation.
    assert_eq!(net.balance(&creator).await, creator_before + slash.creator);
    verifier.stop().await;
    arbiter.stop().await;
}

/// A `gemm-i8` job whose one replica delivers one wrong element: the verifier worker
/// challenges the chunk, reveals, then proves it to the on-chain referee. No arbiter runs: the
/// cheater is slashed, the verifier paid its share and the creator compensated by the program.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wrong_gemm_element_is_convicted_by_the_referee_with_no_arbiter() {
    let _serial = SERIAL.lock().await;
    let net = Net::start(20).await;
    let creator = net.net.keypair("creator").pubkey();
    let creator_before = net.balance(&creator).await;
    // 256 rows of 512 inputs to 128 outputs, 16 rows per chunk.
    let model = tessera_kernels::benchmark::synthetic_mlp(0x9e11, 256, &[512, 128], 16);
    let input = model.to_safetensors();
    let job_key = net
        .submit_input(1, 1, 120, 60, KernelId::GemmI8, input.clone())
        .await;
    assert_eq!(net.job(&job_key).await.kernel_params, model.model_root());
    let cheat = Manual::new(&net, "operator-3");
    cheat.claim(job_key).await;
    // Row 3 of chunk 9, feature 77: one element off by one.
    let (root, uri) = cheat
        .compute_input(job_key, KernelId::GemmI8, &input, |chunks| {
            chunks[9][3 * 128 + 77] = chunks[9][3 * 128 + 77].wrapping_add(1);
        })
        .await;
    cheat.submit(job_key, root, uri).await;
    net.wait_job(&job_key, 10, |j| j.state() == JobState::Revealed)
        .await;

    let verifier = net
        .spawn_worker("operator-1", |c| {
            c.verify.enabled = true;
            c.verify.chunks_per_job = 16;
        })
        .await;
    let disputed = net
        .wait_job(&job_key, 60, |j| j.state() == JobState::Disputed)
        .await;
    // The proof may go once every challenger could reveal: time what follows.
    let reveal_deadline = disputed.challenge_reveal_deadline().unwrap();
    while net.chain().clock().await.unwrap().unix_timestamp <= reveal_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let provable = Instant::now();
    let job = net
        .wait_job(&job_key, 150, |j| j.state() == JobState::Settled)
        .await;
    let settled_in = provable.elapsed();
    eventually(|| verifier.metrics.fraud_proofs.get() > 0).await;
    assert_eq!(
        verifier.metrics.fraud_proofs.get(),
        1,
        "proven to the referee"
    );
    assert_eq!(job.challenges[0].chunk, 9, "the tampered chunk was found");
    assert_eq!(job.agreed_root, [0; 32], "no result stands");
    let bond = Bps::new(5_000).unwrap().apply(REWARD).unwrap();
    let slash = split_slash(bond, 10_000, 5_000, 2_500, true).unwrap();
    let c = net.operator("operator-3").await;
    assert_eq!((c.slashed_total, c.earned, c.bonded), (slash.total, 0, 0));
    let v = net.operator("operator-1").await;
    assert_eq!((v.earned, v.bonded), (slash.honest, 0));
    assert_eq!(net.balance(&creator).await, creator_before + slash.creator);
    // What the verifier staged: the tampered chunk, a row of inputs and one of weights, and
    // two Merkle proofs.
    let (s, e) = model.chunk_rows(9);
    let mut tampered: Vec<u8> = tessera_kernels::quant::run_rows_cpu(&model, s, e)
        .iter()
        .map(|&v| v as u8)
        .collect();
    tampered[3 * 128 + 77] = tampered[3 * 128 + 77].wrapping_add(1);
    let proof = tessera_client::referee::gemm_fraud_proof(
        &model,
        FraudTarget::Challenge { index: 0 },
        9,
        &tampered,
        &[],
    )
    .unwrap()
    .unwrap();
    let writes = proof
        .staged
        .len()
        .div_ceil(tessera_client::ix::BUFFER_WRITE_BYTES);
    println!(
        "referee: settled {:.1} s after the challenge reveal deadline ({} transactions: create \
         the buffer, {writes} writes of {} staged bytes, the proof, close)",
        settled_in.as_secs_f64(),
        writes + 3,
        proof.staged.len()
    );
    verifier.stop().await;
}

/// Replicas that disagree, in a market with no arbiter key at all: a 2-replica `gemm-i8` job of
/// 4 096 rows, one replica an honest worker, the other a cheat whose output is off by one in
/// one element of one row. The roots differ; the honest worker proves the cheat's root wrong to
/// the on-chain referee unattended. The cheat is slashed, the honest worker paid with its share
/// of the slash, the creator compensated; no key could have ruled (the market names none).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_that_disagree_are_settled_by_the_referee_with_no_arbiter_key() {
    let _serial = SERIAL.lock().await;
    let net = Net::start_with(2, false).await;
    assert_eq!(net.market.state.arbiter, Pubkey::default());
    let creator = net.net.keypair("creator").pubkey();
    let creator_before = net.balance(&creator).await;
    // 4 096 rows of 256 inputs to 64 outputs, 64 rows per chunk (64 chunks).
    let model = tessera_kernels::benchmark::synthetic_mlp(0x2e9, 4096, &[256, 64], 64);
    let input = model.to_safetensors();
    let job_key = net
        .submit_input(1, 2, 120, 60, KernelId::GemmI8, input.clone())
        .await;
    assert_eq!(net.job(&job_key).await.terms.arbiter, Pubkey::default());
    let honest = net.spawn_worker("operator-1", |_| {}).await;
    let cheat = Manual::new(&net, "operator-3");
    cheat.claim(job_key).await;
    // Chunk 40, row 3, feature 17: one element off by one.
    let (root, uri) = cheat
        .compute_input(job_key, KernelId::GemmI8, &input, |chunks| {
            chunks[40][3 * 64 + 17] = chunks[40][3 * 64 + 17].wrapping_add(1);
        })
        .await;
    let salt = cheat.commit(job_key, root).await;
    net.wait_job(&job_key, 60, |j| j.state() == JobState::Committed)
        .await;
    cheat.reveal(job_key, root, salt, uri).await;
    let disputed = net
        .wait_job(&job_key, 60, |j| j.state() == JobState::Disputed)
        .await;
    let since = Instant::now();
    let job = net
        .wait_job(&job_key, 120, |j| j.state() == JobState::Settled)
        .await;
    let settled_in = since.elapsed();
    let cheat_slot = disputed.slot_of(&cheat.operator()).unwrap();
    assert_eq!(job.convicted, 1 << cheat_slot);
    assert_eq!(
        job.agreed_root,
        model_root_of_output(&model),
        "the honest root stands"
    );
    eventually(|| honest.metrics.fraud_proofs.get() > 0).await;
    assert_eq!(honest.metrics.fraud_proofs.get(), 1);

    let bond = Bps::new(5_000).unwrap().apply(REWARD).unwrap();
    let slash = split_slash(bond, 10_000, 5_000, 2_500, true).unwrap();
    let split = split_reward(REWARD, 250, 100).unwrap();
    let c = net.operator("operator-3").await;
    assert_eq!((c.slashed_total, c.earned, c.bonded), (slash.total, 0, 0));
    let h = net.operator("operator-1").await;
    assert_eq!(
        (h.earned, h.bonded, h.jobs_completed),
        (split.operator + slash.honest, 0, 1)
    );
    // The creator paid one reward (the honest replica's) and got half the slash.
    assert_eq!(
        net.balance(&creator).await,
        creator_before - REWARD + slash.creator
    );
    let (s, e) = model.chunk_rows(40);
    let mut wrong: Vec<u8> = tessera_kernels::quant::run_rows_cpu(&model, s, e)
        .iter()
        .map(|&v| v as u8)
        .collect();
    wrong[3 * 64 + 17] = wrong[3 * 64 + 17].wrapping_add(1);
    let leaves = vec![[0u8; 32]; 64];
    let proof = tessera_client::referee::gemm_fraud_proof(
        &model,
        FraudTarget::Slot {
            slot: cheat_slot as u8,
            chunk: 40,
        },
        40,
        &wrong,
        &tessera_merkle::proof(&leaves, 40),
    )
    .unwrap()
    .unwrap();
    let writes = proof
        .staged
        .len()
        .div_ceil(tessera_client::ix::BUFFER_WRITE_BYTES);
    println!(
        "referee, replicas that disagree: settled {:.1} s after the dispute began ({} \
         transactions: create the buffer, {writes} writes of {} staged bytes, the proof, close)",
        settled_in.as_secs_f64(),
        writes + 3,
        proof.staged.len()
    );
    honest.stop().await;
}

/// The root of `model`'s true output.
/// An `mlp-i8` job over a 3-layer model of 4 096 rows, in a market with no arbiter key, whose
/// two replicas disagree: the cheat changed one element of one row after layer 2 (and carried it
/// through layer 3), and defends its rows in the referee's game; the honest worker plays the
/// game unattended: it opens it on the row the cheat's published output gets wrong, picks layer
/// 2 from the cheat's chain and proves the element. The cheat is slashed, the honest worker paid
/// with its share, the creator compensated; no key could have ruled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_mlp_cheat_in_layer_two_loses_the_referee_game_with_no_arbiter_key() {
    let _serial = SERIAL.lock().await;
    let net = Net::start_with(2, false).await;
    assert_eq!(net.market.state.arbiter, Pubkey::default());
    let creator = net.net.keypair("creator").pubkey();
    let creator_before = net.balance(&creator).await;
    // 4 096 rows of 256 inputs, through 64 and 64 features to 32 outputs; 64 rows per chunk.
    let model = tessera_kernels::benchmark::synthetic_mlp(0x3a7, 4096, &[256, 64, 64, 32], 64);
    let input = model.to_safetensors();
    let job_key = net
        .submit_input(1, 2, 120, 60, KernelId::MlpI8, input.clone())
        .await;
    assert_eq!(net.job(&job_key).await.terms.arbiter, Pubkey::default());
    let honest = net.spawn_worker("operator-1", |_| {}).await;
    let cheat = Manual::new(&net, "operator-3");
    cheat.claim(job_key).await;
    // Row 1 234, changed after layer 2.
    let m = 1234;
    let rows = cheat_rows(&model, m);
    let (c, r) = (m / 64, m % 64);
    let wrong_row: Vec<u8> = rows[3].iter().map(|&v| v as u8).collect();
    let (root, uri) = cheat
        .compute_input(job_key, KernelId::MlpI8, &input, |chunks| {
            chunks[c][r * 32..(r + 1) * 32].copy_from_slice(&wrong_row);
        })
        .await;
    let salt = cheat.commit(job_key, root).await;
    net.wait_job(&job_key, 60, |j| j.state() == JobState::Committed)
        .await;
    cheat.reveal(job_key, root, salt, uri.clone()).await;
    let disputed = net
        .wait_job(&job_key, 60, |j| j.state() == JobState::Disputed)
        .await;
    let since = Instant::now();
    // Every transaction a key signed (the worker's buffers included): counted from here.
    let signed = |who: Pubkey| {
        let rpc = &net.rpc;
        async move { rpc.get_signatures_for_address(&who).await.unwrap().len() }
    };
    let honest_key = net.net.keypair("operator-1").pubkey();
    let (honest_before, cheat_before) =
        (signed(honest_key).await, signed(cheat.key.pubkey()).await);
    let cheat_slot = disputed.slot_of(&cheat.operator()).unwrap() as u8;
    let honest_slot = 1 - cheat_slot;

    // The cheat defends its rows: its chain, then the two rows of the layer picked.
    let game_key = net
        .market
        .keys
        .pdas()
        .game(&job_key, cheat_slot, honest_slot)
        .0;
    // The cheat accuses the honest replica too (on the same row): that game cannot convict it,
    // and is ended by the honest worker once the job has settled.
    let counter = net
        .market
        .keys
        .pdas()
        .game(&job_key, honest_slot, cheat_slot)
        .0;
    let ix = net.market.keys.open_game(
        cheat.key.pubkey(),
        job_key,
        disputed.assignments[honest_slot as usize].operator,
        tessera_client::referee::open_game_args(
            &model.commitment(),
            honest_slot,
            tessera_client::Accuser::Slot { slot: cheat_slot },
            m as u32,
        ),
    );
    net.send(&[ix], &cheat.key).await;
    let (job, picked) = cheat.defend(job_key, game_key, &rows, &uri, c).await;
    let settled_in = since.elapsed();
    assert_eq!(
        picked, 2,
        "the honest worker picked the layer the cheat changed"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while net.job(&job_key).await.open_games > 0 {
        assert!(Instant::now() < deadline, "the cheat's game is still open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fetch::<tessera_client::state::Game>(net.chain(), &counter)
        .await
        .unwrap()
        .is_none());
    assert_eq!(job.convicted, 1 << cheat_slot);
    assert_eq!(
        job.agreed_root,
        model_root_of_output(&model),
        "the honest root stands"
    );
    eventually(|| honest.metrics.fraud_proofs.get() > 0).await;
    assert_eq!(
        (
            honest.metrics.games.get(),
            honest.metrics.fraud_proofs.get()
        ),
        (1, 1)
    );

    let bond = Bps::new(5_000).unwrap().apply(REWARD).unwrap();
    let slash = split_slash(bond, 10_000, 5_000, 2_500, true).unwrap();
    let split = split_reward(REWARD, 250, 100).unwrap();
    let bad = net.operator("operator-3").await;
    assert_eq!(
        (bad.slashed_total, bad.earned, bad.bonded),
        (slash.total, 0, 0)
    );
    let good = net.operator("operator-1").await;
    assert_eq!(
        (good.earned, good.bonded, good.jobs_completed),
        (split.operator + slash.honest, 0, 1)
    );
    assert_eq!(
        net.balance(&creator).await,
        creator_before - REWARD + slash.creator
    );
    // The games' transactions: the moves, the buffers (create, writes, close), the settlement,
    // the cheat's own game (opened, the honest chain posted, ended once the job settled).
    let honest_txs = signed(honest_key).await - honest_before;
    let cheat_txs = signed(cheat.key.pubkey()).await - cheat_before;
    println!(
        "referee game, mlp-i8 3 layers x 4 096 rows: settled {:.1} s after the dispute began, \
         {} transactions ({honest_txs} by the honest worker, {cheat_txs} by the cheat)",
        settled_in.as_secs_f64(),
        honest_txs + cheat_txs
    );
    honest.stop().await;
}

/// Batch row `m` of a 3-layer `model` through every layer, with the first element of its
/// layer-2 output whose change by one reaches the output changed, and layer 3 computed from it.
fn cheat_rows(model: &tessera_kernels::quant::QuantModel, m: usize) -> Vec<Vec<i8>> {
    let truth = tessera_client::referee::row_chain(model, m);
    (0..model.layers[1].n)
        .map(|f| {
            let mut rows = truth.clone();
            rows[2][f] = rows[2][f].wrapping_add(1);
            rows[3] = tessera_kernels::quant::layer_cpu(model, 2, &rows[2], 1);
            rows
        })
        .find(|rows| rows[3] != truth[3])
        .expect("a change that reaches the output")
}

/// An `mlp-i8` job of one replica, in a market with no arbiter key: the replica changed one
/// element of one row after layer 2. A verifier worker checks every chunk, challenges the wrong
/// one, and once every challenge is revealed plays the referee's game against the replica,
/// which defends its rows; the verifier convicts it unattended and the program settles.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_verifier_convicts_a_single_mlp_replica_in_the_referee_game_with_no_arbiter_key() {
    let _serial = SERIAL.lock().await;
    let net = Net::start_with(5, false).await;
    let creator = net.net.keypair("creator").pubkey();
    let creator_before = net.balance(&creator).await;
    // 512 rows of 128 inputs, through 64 and 64 features to 16 outputs; 16 rows per chunk.
    let model = tessera_kernels::benchmark::synthetic_mlp(0x51ce, 512, &[128, 64, 64, 16], 16);
    let input = model.to_safetensors();
    let job_key = net
        .submit_input(1, 1, 120, 60, KernelId::MlpI8, input.clone())
        .await;
    let cheat = Manual::new(&net, "operator-3");
    cheat.claim(job_key).await;
    let m = 300;
    let rows = cheat_rows(&model, m);
    let (c, r) = (m / 16, m % 16);
    let wrong_row: Vec<u8> = rows[3].iter().map(|&v| v as u8).collect();
    let (root, uri) = cheat
        .compute_input(job_key, KernelId::MlpI8, &input, |chunks| {
            chunks[c][r * 16..(r + 1) * 16].copy_from_slice(&wrong_row);
        })
        .await;
    cheat.submit(job_key, root, uri.clone()).await;
    let verifier = net
        .spawn_worker("operator-1", |c| {
            c.verify.enabled = true;
            c.verify.chunks_per_job = 32;
        })
        .await;
    net.wait_job(&job_key, 60, |j| j.state() == JobState::Disputed)
        .await;
    let game = net
        .market
        .keys
        .pdas()
        .game(
            &job_key,
            0,
            tessera_client::Accuser::Challenger { index: 0 }.id(),
        )
        .0;
    let (job, picked) = cheat.defend(job_key, game, &rows, &uri, c).await;
    assert_eq!(picked, 2, "the verifier picked the layer the cheat changed");
    assert_eq!(
        job.challenges[0].chunk, c as u32,
        "the wrong chunk was found"
    );
    assert_eq!((job.convicted, job.challenge_wins), (0b1, 0b1));
    assert_eq!(job.agreed_root, [0; 32], "no result stands");
    eventually(|| verifier.metrics.fraud_proofs.get() > 0).await;
    assert_eq!(
        (
            verifier.metrics.games.get(),
            verifier.metrics.fraud_proofs.get()
        ),
        (1, 1)
    );
    let bond = Bps::new(5_000).unwrap().apply(REWARD).unwrap();
    let slash = split_slash(bond, 10_000, 5_000, 2_500, true).unwrap();
    let bad = net.operator("operator-3").await;
    assert_eq!(
        (bad.slashed_total, bad.earned, bad.bonded),
        (slash.total, 0, 0)
    );
    let v = net.operator("operator-1").await;
    assert_eq!((v.earned, v.bonded), (slash.honest, 0));
    assert_eq!(net.balance(&creator).await, creator_before + slash.creator);
    verifier.stop().await;
}

fn model_root_of_output(model: &tessera_kernels::quant::QuantModel) -> [u8; 32] {
    let out = tessera_kernels::Workload::GemmI8(tessera_kernels::quant::QuantWorkload {
        model: model.clone(),
    });
    out.run(&Backend::Cpu).unwrap().root()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_no_show_is_timed_out_and_another_worker_finishes_the_job() {
    let _serial = SERIAL.lock().await;
    let net = Net::start(2).await;
    let ghost = Manual::new(&net, "operator-3");
    let job_key = net.submit(1, 1, 120, 3).await;
    ghost.claim(job_key).await;
    let worker = net.spawn_worker("operator-1", |_| {}).await;

    let job = net
        .wait_job(&job_key, 90, |j| j.state() == JobState::Settled)
        .await;
    assert_eq!(job.agreed_root, true_root());
    assert_eq!(
        job.assignments[0].operator,
        net.market
            .keys
            .operator(&net.net.keypair("operator-1").pubkey())
    );
    let bond = Bps::new(5_000).unwrap().apply(REWARD).unwrap();
    let g = net.operator("operator-3").await;
    assert_eq!(g.jobs_failed, 1);
    assert_eq!(
        g.slashed_total,
        Bps::new(2_000).unwrap().apply(bond).unwrap()
    );
    assert_eq!(g.bonded, 0);
    assert_eq!(net.operator("operator-1").await.earned, paid(REWARD));
    worker.stop().await;
}

/// The `tessera-worker` binary (built by `scripts/test.sh` before the tests).
fn worker_binary() -> PathBuf {
    let path = std::env::var_os("TESSERA_WORKER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/debug/tessera-worker"));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p tessera-worker` first",
        path.display()
    );
    path
}

/// A worker process that is killed if the test ends (or fails) while it still runs.
struct WorkerProcess(Child);

impl std::ops::Deref for WorkerProcess {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for WorkerProcess {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn spawn_process(config: &std::path::Path, log: &std::path::Path) -> WorkerProcess {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(worker_binary())
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .map(WorkerProcess)
        .expect("worker process")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_between_commit_and_reveal_restarts_reveals_and_is_paid() {
    let _serial = SERIAL.lock().await;
    let net = Net::start(2).await;
    let cfg = net.worker_config("operator-1");
    let config_path = net.dir.path().join("operator-1.toml");
    std::fs::write(
        &config_path,
        format!(
            "rpc_url = \"{}\"\nws_url = \"{}\"\nkeypair = \"{}\"\nmarket = \"{}\"\nstore = \"{}\"\n\
             data_dir = \"{}\"\nbackend = \"cpu\"\npoll_interval_ms = 200\nresync_interval_secs = 2\n\
             metrics_addr = \"127.0.0.1:0\"\n",
            cfg.rpc_url,
            net.net.ws_url,
            cfg.keypair.display(),
            cfg.market,
            cfg.store,
            cfg.data_dir.display()
        ),
    )
    .unwrap();
    let log = net.dir.path().join("worker.log");
    let mut process = spawn_process(&config_path, &log);
    let me = net
        .market
        .keys
        .operator(&net.net.keypair("operator-1").pubkey());

    let job_key = net.submit(1, 2, 120, 60).await;
    net.wait_job(&job_key, 60, |j| {
        j.slot_of(&me)
            .is_some_and(|i| j.assignments[i].status() == SlotStatus::Committed)
    })
    .await;
    process.kill().unwrap(); // SIGKILL
    process.wait().unwrap();

    // The second replica commits while the worker is down; reveals are now due.
    let other = Manual::new(&net, "operator-3");
    other.claim(job_key).await;
    let (root, uri) = other.compute(job_key, false).await;
    let salt = other.commit(job_key, root).await;
    net.wait_job(&job_key, 10, |j| j.state() == JobState::Committed)
        .await;

    let mut process = spawn_process(&config_path, &log);
    net.wait_job(&job_key, 60, |j| {
        j.slot_of(&me)
            .is_some_and(|i| j.assignments[i].status() == SlotStatus::Revealed)
    })
    .await;
    other.reveal(job_key, root, salt, uri).await;
    let job = net
        .wait_job(&job_key, 60, |j| j.state() == JobState::Settled)
        .await;
    assert_eq!(job.agreed_root, true_root());
    let op = net.operator("operator-1").await;
    assert_eq!(op.earned, paid(REWARD));
    assert_eq!(op.slashed_total, 0);
    assert_eq!(op.jobs_completed, 1);
    // SIGTERM: the worker stops cleanly.
    let pid = process.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = process.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("result revealed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_inputs_are_never_claimed_and_expire_back_to_the_creator() {
    let _serial = SERIAL.lock().await;
    let net = Net::start(2).await;
    let creator = net.net.keypair("creator");
    let creator_token = net.net.token_account(&creator.pubkey());
    let before = net.balance(&creator.pubkey()).await;
    let worker = net.spawn_worker("operator-1", |_| {}).await;
    let s = Store::new();

    // One blob that does not match its hash, one that matches but does not parse.
    let scene = small_scene();
    let wrong_hash_uri = store::input_uri(&net.store_base, &tessera_merkle::sha256(&[&scene]));
    s.put(&wrong_hash_uri, scene.clone().into(), &mut |_, _| {})
        .await
        .unwrap();
    let garbage = b"{\"width\": \"not a scene\"}".to_vec();
    let garbage_hash = tessera_merkle::sha256(&[&garbage]);
    let garbage_uri = store::input_uri(&net.store_base, &garbage_hash);
    s.put(&garbage_uri, garbage.into(), &mut |_, _| {})
        .await
        .unwrap();
    let now = net.chain().clock().await.unwrap().unix_timestamp;
    let mut keys = vec![];
    for (id, uri, hash) in [
        (1u64, wrong_hash_uri, [9u8; 32]),
        (2, garbage_uri, garbage_hash),
    ] {
        let args = CreateJobArgs {
            job_id: id,
            kernel: KernelId::Render as u8,
            kernel_params: [0; 32],
            input_uri: uri,
            input_hash: hash,
            chunk_count: 4,
            replicas: 1,
            reward_per_replica: REWARD,
            claim_deadline: now + 4,
            exec_timeout: 60,
        };
        let ix = net
            .market
            .keys
            .create_job(creator.pubkey(), creator_token, args);
        net.send(&[ix], &creator).await;
        keys.push(net.market.keys.job(&creator.pubkey(), id));
    }
    for key in &keys {
        let job = net
            .wait_job(key, 60, |j| j.state() == JobState::Expired)
            .await;
        assert!(job.slots().iter().all(|a| a.status() == SlotStatus::Empty));
    }
    assert_eq!(worker.metrics.jobs_rejected.get(), 2);
    assert_eq!(worker.metrics.jobs_claimed.get(), 0);
    assert_eq!(
        net.balance(&creator.pubkey()).await,
        before,
        "refunded in full"
    );
    let op = net.operator("operator-1").await;
    assert_eq!((op.bonded, op.slashed_total, op.earned), (0, 0, 0));
    worker.stop().await;
}

/// Moves every token out of `owner`'s associated token account (to the admin's) and closes it,
/// as a creator that walks away from its account would.
async fn close_token_account(net: &Net, owner: &Keypair) {
    let k = net.market.keys;
    let account = net.net.token_account(&owner.pubkey());
    let amount = net.balance(&owner.pubkey()).await;
    let spl = anchor_spl::token_2022::spl_token_2022::instruction::transfer_checked(
        &k.token_program,
        &account,
        &k.mint,
        &net.net.token_account(&net.net.keypair("admin").pubkey()),
        &owner.pubkey(),
        &[],
        amount,
        6,
    )
    .unwrap();
    let close = anchor_spl::token_2022::spl_token_2022::instruction::close_account(
        &k.token_program,
        &account,
        &owner.pubkey(),
        &owner.pubkey(),
        &[],
    )
    .unwrap();
    net.send(&[spl, close], owner).await;
    assert!(net.chain().get_account(&account).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_creator_who_closed_its_token_account_blocks_no_settlement() {
    let _serial = SERIAL.lock().await;
    let net = Net::start(2).await;
    let creator = net.net.keypair("creator");
    let creator_token = net.net.token_account(&creator.pubkey());
    let paid = net.submit(1, 1, 120, 60).await;
    let unclaimed = net.submit(2, 1, 8, 60).await;
    close_token_account(&net, &creator).await;

    // A worker that claims nothing expires the unclaimed job: the refund re-creates the
    // creator's account (paid by the operator) rather than failing.
    let picky = net
        .spawn_worker("operator-1", |c| c.min_reward_per_unit = f64::MAX)
        .await;
    net.wait_job(&unclaimed, 60, |j| j.state() == JobState::Expired)
        .await;
    assert_eq!(net.balance_of(&creator_token).await, REWARD);
    picky.stop().await;

    // Closed again: finalizing the paid job owes the creator nothing, so it goes without it
    // (another operator: the first one recorded that it refused the job).
    close_token_account(&net, &creator).await;
    let worker = net.spawn_worker("operator-2", |_| {}).await;
    net.wait_job(&paid, 90, |j| j.state() == JobState::Settled)
        .await;
    assert_eq!(
        net.operator("operator-2").await.earned,
        split_reward(REWARD, 250, 100).unwrap().operator
    );
    assert!(net
        .chain()
        .get_account(&creator_token)
        .await
        .unwrap()
        .is_none());
    worker.stop().await;
}

/// A local market that audits `rate_bps` of its jobs on 4 chunks, with 10 s to challenge (and
/// to audit) and 5 s to reveal.
fn audited_params(rate_bps: u16) -> tessera_client::state::MarketParams {
    let mut p = tessera_client::presets::with_audits(tessera_localnet::local_params(10));
    p.audit_rate_bps = rate_bps;
    p.reveal_window = 5;
    p
}

/// The audit fee of a `REWARD` job in [`audited_params`].
fn audit_fee() -> u64 {
    tessera::math::audit_fee_for(REWARD, &audited_params(10_000)).unwrap()
}

/// A one-replica `gemm-i8` job whose operator fakes one element of one chunk, in a market that
/// audits every job (4 chunks: all of this job's) and has no arbiter. The cheat's own worker
/// draws the audit and posts its leaves, as every worker does; another worker takes the audit,
/// finds the chunk, and proves it to the referee. The cheat is slashed, the auditor paid the fee
/// and the honest share, the creator refunded and compensated.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_that_fakes_one_chunk_is_drawn_audited_and_slashed() {
    use tessera_client::state::{AuditState, ChallengeKind};
    let _serial = SERIAL.lock().await;
    let net = Net::start_params(audited_params(10_000), false).await;
    let creator = net.net.keypair("creator").pubkey();
    let creator_before = net.balance(&creator).await;
    // 64 rows of 128 inputs to 32 outputs, 16 rows per chunk: 4 chunks.
    let model = tessera_kernels::benchmark::synthetic_mlp(0xa0d1, 64, &[128, 32], 16);
    let input = model.to_safetensors();
    let job_key = net
        .submit_input(1, 1, 120, 60, KernelId::GemmI8, input.clone())
        .await;
    let cheat = Manual::new(&net, "operator-3");
    cheat.claim(job_key).await;
    let (root, uri) = cheat
        .compute_input(job_key, KernelId::GemmI8, &input, |chunks| {
            chunks[2][5] = chunks[2][5].wrapping_add(1);
        })
        .await;
    cheat.submit(job_key, root, uri).await;
    let cheat_worker = net.spawn_worker("operator-3", |_| {}).await;
    let auditor = net
        .spawn_worker("operator-1", |c| c.verify.enabled = true)
        .await;
    let job = net
        .wait_job(&job_key, 120, |j| j.state() == JobState::Settled)
        .await;
    eventually(|| auditor.metrics.fraud_proofs.get() > 0).await;
    assert_eq!(auditor.metrics.audits_taken.get(), 1);
    assert_eq!(
        auditor.metrics.fraud_proofs.get(),
        1,
        "proven to the referee"
    );
    assert_eq!(job.audit_state(), AuditState::Drawn);
    let c = &job.challenges[0];
    assert_eq!((c.kind, c.chunk), (ChallengeKind::Audit as u8, 2));
    assert_eq!(job.agreed_root, [0; 32], "no result stands");
    let bond = Bps::new(5_000).unwrap().apply(REWARD).unwrap();
    let slash = split_slash(bond, 10_000, 5_000, 2_500, true).unwrap();
    let cheat_op = net.operator("operator-3").await;
    assert_eq!(
        (cheat_op.slashed_total, cheat_op.earned, cheat_op.bonded),
        (slash.total, 0, 0)
    );
    let a = net.operator("operator-1").await;
    assert_eq!((a.earned, a.bonded), (slash.honest + audit_fee(), 0));
    assert_eq!(
        net.balance(&creator).await,
        creator_before - audit_fee() + slash.creator
    );
    auditor.stop().await;
    cheat_worker.stop().await;
}

/// In a market that audits every job, an honest render is drawn, audited by another worker and
/// settles with the auditor paid the fee. Then the market audits one job in 10 000: the next job
/// is not drawn and settles with the fee back to the creator.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_drawn_honest_job_pays_its_auditor_and_an_undrawn_one_refunds_the_fee() {
    use tessera_client::state::{AuditState, ChallengeStatus};
    let _serial = SERIAL.lock().await;
    let net = Net::start_params(audited_params(10_000), true).await;
    let creator = net.net.keypair("creator").pubkey();
    let before = net.balance(&creator).await;
    let honest = net.spawn_worker("operator-2", |_| {}).await;
    let job_key = net.submit(1, 1, 120, 60).await;
    net.wait_job(&job_key, 60, |j| j.state() == JobState::Revealed)
        .await;
    let auditor = net
        .spawn_worker("operator-1", |c| c.verify.enabled = true)
        .await;
    let job = net
        .wait_job(&job_key, 90, |j| j.state() == JobState::Settled)
        .await;
    assert_eq!(job.audit_state(), AuditState::Drawn);
    assert_eq!(job.challenges[0].status(), ChallengeStatus::Audited);
    assert_eq!(job.agreed_root, true_root());
    assert_eq!(auditor.metrics.audits_taken.get(), 1);
    assert_eq!(net.operator("operator-2").await.earned, paid(REWARD));
    let a = net.operator("operator-1").await;
    assert_eq!((a.earned, a.bonded), (audit_fee(), 0));
    assert_eq!(net.balance(&creator).await, before - REWARD - audit_fee());
    auditor.stop().await;

    // One job in 10 000.
    let admin = net.net.keypair("admin");
    let args = tessera_client::UpdateMarketArgs {
        admin: admin.pubkey(),
        arbiter: admin.pubkey(),
        params: audited_params(1),
    };
    let ix = net
        .market
        .keys
        .update_market(admin.pubkey(), args, net.market.state.treasury);
    net.send(&[ix], &admin).await;
    let before = net.balance(&creator).await;
    let job_key = net.submit(2, 1, 120, 60).await;
    let job = net
        .wait_job(&job_key, 90, |j| j.state() == JobState::Settled)
        .await;
    assert_eq!(job.audit_state(), AuditState::Skipped);
    assert_eq!(net.operator("operator-1").await.earned, audit_fee());
    assert_eq!(net.balance(&creator).await, before - REWARD);
    honest.stop().await;
}

/// A cheat that withholds its leaves file, in a market without audits: before, a verifier had to
/// recompute the whole result within the challenge window. Now the verifier worker recomputes
/// its sampled chunks and takes a volunteer audit of them; the cheat never posts its leaves on
/// chain and is convicted as if wrong, without the arbiter.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_withheld_leaves_file_is_demanded_on_chain_and_its_operator_convicted() {
    use tessera_client::state::{ChallengeKind, ChallengeStatus};
    let _serial = SERIAL.lock().await;
    // No audits; 10 s to challenge, 5 s to reveal.
    let mut params = tessera_localnet::local_params(10);
    params.reveal_window = 5;
    let net = Net::start_params(params, true).await;
    let creator = net.net.keypair("creator").pubkey();
    let creator_before = net.balance(&creator).await;
    let cheat = Manual::new(&net, "operator-3");
    let job_key = net.submit(1, 1, 120, 60).await;
    cheat.claim(job_key).await;
    let (root, uri) = cheat.compute(job_key, true).await;
    let leaves = store::leaves_uri(&uri);
    std::fs::remove_file(leaves.strip_prefix("file://").unwrap()).unwrap();
    cheat.submit(job_key, root, uri).await;
    let verifier = net
        .spawn_worker("operator-1", |c| {
            c.verify.enabled = true;
            c.verify.chunks_per_job = 2;
        })
        .await;
    let job = net
        .wait_job(&job_key, 150, |j| j.state() == JobState::Settled)
        .await;
    eventually(|| verifier.metrics.audits_taken.get() > 0).await;
    assert_eq!(verifier.metrics.audits_taken.get(), 1);
    let c = &job.challenges[0];
    assert_eq!(
        (c.kind, c.status(), c.leaves_posted, job.audit_chunk_count),
        (ChallengeKind::Audit as u8, ChallengeStatus::Committed, 0, 2)
    );
    let bond = Bps::new(5_000).unwrap().apply(REWARD).unwrap();
    let slash = split_slash(bond, 10_000, 5_000, 2_500, true).unwrap();
    let c = net.operator("operator-3").await;
    assert_eq!((c.slashed_total, c.earned, c.bonded), (slash.total, 0, 0));
    let v = net.operator("operator-1").await;
    assert_eq!(
        (v.earned, v.bonded),
        (slash.honest, 0),
        "no fee: a volunteer"
    );
    assert_eq!(net.balance(&creator).await, creator_before + slash.creator);
    verifier.stop().await;
}
