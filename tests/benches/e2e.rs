//! End-to-end latency and throughput on the embedded local validator (100 ms slots) with real
//! workers: `cargo bench -p tessera-tests --bench e2e` (after `scripts/build-program.sh`).
//!
//! 1. Latency of one 1-replica job (a 32×32 render): creation → claim → result → settled, with
//!    a 1 s challenge window.
//! 2. Throughput: settled 1-replica jobs per minute with 1, 2 and 4 workers, and where a
//!    worker's time goes (compute vs. transactions) from its metrics.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use solana_signer::Signer;
use tessera_client::chain::fetch;
use tessera_client::flows::creator::{self, JobRequest};
use tessera_client::flows::Ctx;
use tessera_client::state::{Job, JobState, SlotStatus};
use tessera_client::store::Store;
use tessera_kernels::KernelId;
use tessera_localnet::{Localnet, LocalnetConfig};
use tessera_worker::config::Backend;
use tessera_worker::metrics::Metrics;
use tessera_worker::node::Worker;

#[path = "../common/local_worker.rs"]
mod local_worker;
use local_worker::local_worker_config;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Setup {
    net: Localnet,
    market: tessera_client::flows::MarketInfo,
    store_base: String,
    _dir: tempfile::TempDir,
    stop: tokio::sync::watch::Sender<bool>,
    workers: Vec<(std::sync::Arc<Metrics>, tokio::task::JoinHandle<()>)>,
}

async fn setup(workers: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = LocalnetConfig::new(
        repo().join("target/deploy/tessera.so"),
        dir.path().join("keys"),
    );
    cfg.accounts = std::iter::once("creator".to_string())
        .chain((1..=workers).map(|i| format!("operator-{i}")))
        .collect();
    let net = Localnet::start(cfg).await.unwrap();
    let market = net
        .create_market(tessera_localnet::local_params(1))
        .await
        .unwrap();
    let store_base = format!("file://{}", dir.path().join("store").display());
    std::fs::create_dir_all(dir.path().join("store")).unwrap();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut running = vec![];
    for i in 1..=workers {
        let name = format!("operator-{i}");
        net.register_operator(&market, &net.keypair(&name), 500_000_000)
            .await
            .unwrap();
        let mut c = local_worker_config(
            &net,
            &market.address(),
            &name,
            &store_base,
            dir.path().join(&name),
        );
        c.backend = Backend::Auto;
        c.max_concurrent_jobs = 4;
        let metrics = Metrics::new();
        let w = Worker::new(c, metrics.clone()).await.unwrap();
        let rx = stop_rx.clone();
        running.push((
            metrics,
            tokio::spawn(async move { w.run(rx).await.unwrap() }),
        ));
    }
    Setup {
        net,
        market,
        store_base,
        _dir: dir,
        stop,
        workers: running,
    }
}

async fn submit(s: &Setup, id: u64) -> anchor_lang::prelude::Pubkey {
    let rpc = s.net.rpc();
    let creator = s.net.keypair("creator");
    creator::submit_job(
        &Ctx::new(&rpc),
        &Store::new(),
        &s.store_base,
        &s.market,
        &creator,
        &s.net.token_account(&creator.pubkey()),
        &JobRequest {
            job_id: Some(id),
            kernel: KernelId::Render,
            input: tessera_tests::small_cornell(2, id),
            reward_per_replica: 1_000_000,
            replicas: 1,
            claim_window: 600,
            exec_timeout: 600,
        },
        &mut |_, _| {},
    )
    .await
    .unwrap()
    .job
}

async fn latency() {
    let s = setup(1).await;
    let rpc = s.net.rpc();
    let mut rows = vec![];
    for id in 1..=5u64 {
        let t0 = Instant::now();
        let key = submit(&s, id).await;
        let created = t0.elapsed().as_secs_f64();
        let (mut claim, mut result) = (None, None);
        loop {
            let job: Job = fetch(&rpc, &key).await.unwrap().unwrap();
            let t = t0.elapsed().as_secs_f64();
            if claim.is_none() && job.assignments[0].status() != SlotStatus::Empty {
                claim = Some(t);
            }
            if result.is_none() && job.assignments[0].status() == SlotStatus::Revealed {
                result = Some(t);
            }
            if job.state() == JobState::Settled {
                rows.push((created, claim.unwrap(), result.unwrap(), t));
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    println!("latency of a 1-replica 32×32 render (seconds from the submit call; 100 ms slots, 1 s challenge window)");
    println!("  job  created  claimed  delivered  settled");
    for (i, (c, cl, r, st)) in rows.iter().enumerate() {
        println!("  {:>3}  {c:>7.2}  {cl:>7.2}  {r:>9.2}  {st:>7.2}", i + 1);
    }
    let n = rows.len() as f64;
    let mean = |f: fn(&(f64, f64, f64, f64)) -> f64| rows.iter().map(f).sum::<f64>() / n;
    println!(
        "  mean {:>7.2}  {:>7.2}  {:>9.2}  {:>7.2}   creation→claim {:.2} s",
        mean(|r| r.0),
        mean(|r| r.1),
        mean(|r| r.2),
        mean(|r| r.3),
        mean(|r| r.1 - r.0)
    );
    let _ = s.stop.send(true);
    for (_, h) in s.workers {
        let _ = h.await;
    }
}

async fn throughput(workers: usize, jobs: u64) {
    let s = setup(workers).await;
    let rpc = s.net.rpc();
    let t0 = Instant::now();
    let mut keys = vec![];
    for id in 1..=jobs {
        keys.push(submit(&s, id).await);
    }
    let submitted = t0.elapsed().as_secs_f64();
    for key in &keys {
        loop {
            let job: Job = fetch(&rpc, key).await.unwrap().unwrap();
            if job.state() == JobState::Settled {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let compute: f64 = s.workers.iter().map(|(m, _)| m.compute_seconds.get()).sum();
    let txs: u64 = s.workers.iter().map(|(m, _)| m.tx_sent.get()).sum();
    println!(
        "  {workers} worker(s): {jobs} jobs settled in {secs:.1} s = {:.1} jobs/min (submitting took {submitted:.1} s; compute {compute:.1} s in all, {txs} transactions sent by workers)",
        jobs as f64 * 60.0 / secs
    );
    let _ = s.stop.send(true);
    for (_, h) in s.workers {
        let _ = h.await;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    latency().await;
    println!("\nthroughput (1-replica 32×32 renders, all submitted at once)");
    for w in [1, 2, 4] {
        throughput(w, 12).await;
    }
}
