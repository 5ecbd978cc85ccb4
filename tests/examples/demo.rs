//! The main job, end to end on a real local validator: an offline surfpool validator in process
//! (JSON-RPC + websockets on 127.0.0.1) with the program's SBPF `.so` deployed, a test mint and
//! a market; two `tessera-worker` operators (GPU when present, else the CPU reference); a
//! creator submits the shipped Cornell box scene with 2 replicas. The workers check the input,
//! claim, render, store their tiles, commit, reveal; after the challenge window a worker
//! finalizes. The creator downloads every tile, checks it against the agreed Merkle root and
//! writes the PNG. Then the settlement: who was paid what, the fee, the burn, compute units per
//! instruction and seconds per phase.
//!
//! `scripts/demo.sh` (or: `scripts/build-program.sh && cargo run -p tessera-tests --example demo`)
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use solana_transaction_status_client_types::UiTransactionEncoding;
use tessera_client::amount::format_amount;
use tessera_client::chain::{fetch, Chain};
use tessera_client::flows::creator::{self, JobEvent, JobRequest, WaitFor};
use tessera_client::flows::Ctx;
use tessera_client::state::{JobState, Operator};
use tessera_client::store::{hex, Store};
use tessera_client::token::TokenAccount;
use tessera_kernels::KernelId;
use tessera_localnet::{Localnet, LocalnetConfig};
use tessera_worker::config;
use tessera_worker::metrics::Metrics;
use tessera_worker::node::Worker;

#[path = "../common/local_worker.rs"]
mod local_worker;
use local_worker::local_worker_config;

const REWARD: u64 = 5_000_000; // 5 tokens (6 decimals)
const STAKE: u64 = 50_000_000;

async fn balance(rpc: &RpcClient, account: &anchor_lang::prelude::Pubkey) -> u64 {
    Chain::get_account(rpc, account)
        .await
        .unwrap()
        .and_then(|a| TokenAccount::from_account(&a))
        .map_or(0, |t| t.amount)
}

async fn supply(rpc: &RpcClient, mint: &anchor_lang::prelude::Pubkey) -> u64 {
    let m = Chain::get_account(rpc, mint).await.unwrap().unwrap();
    tessera_client::token::mint_supply(&m).expect("a mint")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = root.join("target/demo");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(out.join("store")).unwrap();
    let store_base = format!(
        "file://{}",
        out.join("store").canonicalize().unwrap().display()
    );
    let total = Instant::now();

    // The local validator, the program, a mint, funded keypairs, a market, two operators.
    let t = Instant::now();
    let mut cfg = LocalnetConfig::new(root.join("target/deploy/tessera.so"), out.join("keys"));
    cfg.accounts = ["creator", "operator-1", "operator-2"]
        .map(String::from)
        .to_vec();
    let net = Localnet::start(cfg).await.expect("local validator");
    let params = tessera_localnet::local_params(2);
    let market = net.create_market(params).await.unwrap();
    let rpc = net.rpc();
    println!("local validator  {} / {}", net.rpc_url, net.ws_url);
    println!(
        "market           {} over mint {}",
        market.address(),
        net.mint
    );
    let mut workers = vec![];
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    for name in ["operator-1", "operator-2"] {
        let op = net
            .register_operator(&market, &net.keypair(name), STAKE)
            .await
            .unwrap();
        let mut c = local_worker_config(&net, &market.address(), name, &store_base, out.join(name));
        c.backend = config::Backend::Auto;
        let worker = Worker::new(c, Metrics::new()).await.expect("worker");
        println!(
            "{name}       operator {op}, staked {}",
            format_amount(STAKE, 6)
        );
        let rx = stop_rx.clone();
        workers.push(tokio::spawn(async move { worker.run(rx).await.unwrap() }));
    }
    let setup_s = t.elapsed().as_secs_f64();

    // The creator submits the shipped scene with 2 replicas.
    let creator = net.keypair("creator");
    let creator_token = net.token_account(&creator.pubkey());
    let admin = net.keypair("admin").pubkey();
    let treasury = net.token_account(&admin);
    let (creator_before, treasury_before, supply_before) = (
        balance(&rpc, &creator_token).await,
        balance(&rpc, &treasury).await,
        supply(&rpc, &net.mint).await,
    );
    let scene = std::fs::read(root.join("kernels/scenes/cornell.json")).unwrap();
    let ctx = Ctx::new(&rpc);
    let t = Instant::now();
    let submitted = creator::submit_job(
        &ctx,
        &Store::new(),
        &store_base,
        &market,
        &creator,
        &creator_token,
        &JobRequest {
            job_id: None,
            kernel: KernelId::Render,
            input: scene,
            reward_per_replica: REWARD,
            replicas: 2,
            claim_window: 600,
            exec_timeout: 600,
        },
        &mut |_, _| {},
    )
    .await
    .expect("job submitted");
    let job_key = submitted.job;
    let created = Instant::now();
    println!(
        "job              {job_key}: {} tiles, 2 replicas, {} each",
        submitted.chunk_count,
        format_amount(REWARD, 6)
    );

    // Progress, as the creator sees it.
    let mut phases: Vec<(String, f64)> =
        vec![("set up validator, market, operators".into(), setup_s)];
    phases.push(("upload + create_job".into(), t.elapsed().as_secs_f64()));
    let mut last = created;
    let job = creator::wait_for_job(
        &ctx,
        &job_key,
        WaitFor::End,
        Duration::from_secs(600),
        Duration::from_millis(50),
        &mut |e| {
            let now = Instant::now();
            let line = match e {
                JobEvent::Claimed { slot, operator } => {
                    format!("slot {slot} claimed by {operator}")
                }
                JobEvent::Committed { slot } => format!("slot {slot} committed"),
                JobEvent::Revealed { slot, root } => {
                    format!("slot {slot} revealed {}", &hex(root)[..16])
                }
                JobEvent::Failed { slot } => format!("slot {slot} failed"),
                JobEvent::State(s) => format!("job {s:?}"),
            };
            println!(
                "  +{:>6.2}s  {line}",
                now.duration_since(created).as_secs_f64()
            );
            if let JobEvent::State(s) = e {
                phases.push((format!("→ {s:?}"), now.duration_since(last).as_secs_f64()));
                last = now;
            }
        },
    )
    .await
    .expect("the job ends");
    assert_eq!(job.state(), JobState::Settled, "the job settled");

    // The creator's verified image.
    let t = Instant::now();
    let result = creator::fetch_result(
        &ctx,
        &Store::new(),
        std::slice::from_ref(&store_base),
        &job_key,
        &mut |_, _| {},
    )
    .await
    .expect("verified result");
    let png = out.join(format!("cornell.{}", result.assembled.extension()));
    std::fs::write(&png, result.assembled.bytes()).unwrap();
    phases.push(("download + verify + PNG".into(), t.elapsed().as_secs_f64()));

    println!("\nsettlement");
    for name in ["operator-1", "operator-2"] {
        let key = market.keys.operator(&net.keypair(name).pubkey());
        let op: Operator = fetch(&rpc, &key).await.unwrap().unwrap();
        println!("  {name} earned    {}", format_amount(op.earned, 6));
    }
    let fee = balance(&rpc, &treasury).await - treasury_before;
    let burned = supply_before - supply(&rpc, &net.mint).await;
    let paid = creator_before - balance(&rpc, &creator_token).await;
    println!("  protocol fee        {}", format_amount(fee, 6));
    println!("  burned              {}", format_amount(burned, 6));
    println!("  creator paid        {}", format_amount(paid, 6));
    assert_eq!(paid, 2 * REWARD);
    // The result is in hand: the job's account goes, its rent back to the creator.
    let (_, rent) = creator::close_job(&ctx, &market, &creator, &job_key)
        .await
        .expect("the ended job closes");
    println!(
        "  job account closed  {} SOL of rent back",
        rent as f64 / 1e9
    );

    println!("\ncompute units (from the validator's transaction metadata)");
    let sigs = rpc.get_signatures_for_address(&job_key).await.unwrap();
    for s in sigs.iter().rev() {
        let sig = s.signature.parse().unwrap();
        let Ok(tx) = rpc
            .get_transaction(&sig, UiTransactionEncoding::Base64)
            .await
        else {
            continue;
        };
        let Some(meta) = tx.transaction.meta else {
            continue;
        };
        let cu: Option<u64> = meta.compute_units_consumed.into();
        let logs: Option<Vec<String>> = meta.log_messages.into();
        let name = logs
            .unwrap_or_default()
            .iter()
            .find_map(|l| {
                l.strip_prefix("Program log: Instruction: ")
                    .map(String::from)
            })
            .unwrap_or_else(|| "?".into());
        println!("  {name:<20} {:>7}", cu.unwrap_or(0));
    }
    println!("\nseconds per phase");
    for (name, s) in &phases {
        println!("  {name:<36} {s:>7.2}");
    }
    println!("  {:<36} {:>7.2}", "total", total.elapsed().as_secs_f64());
    println!("\nimage: {}", png.display());

    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }
    net.stop();
}
