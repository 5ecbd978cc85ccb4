//! `tessera-worker`: the operator daemon. See the crate documentation and
//! `worker/tessera-worker.sample.toml`.
use std::path::PathBuf;

use clap::Parser;
use solana_signer::Signer;
use tessera_worker::config::Config;
use tessera_worker::db::InstanceLock;
use tessera_worker::metrics::{self, Metrics};
use tessera_worker::node::Worker;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// Runs a Tessera operator: claims jobs this machine can run, computes them on the GPU (or the
/// CPU reference), delivers the results and cranks settlements.
#[derive(Parser, Debug)]
#[command(name = "tessera-worker", version)]
struct Args {
    /// TOML configuration file (see tessera-worker.sample.toml); `TESSERA_*` variables
    /// override it.
    #[arg(long, short, env = "TESSERA_WORKER_CONFIG")]
    config: Option<PathBuf>,
    /// Verify other operators' results and challenge wrong ones (the default, within
    /// `verify.budget_secs_per_hour`), even when the configuration turns it off.
    #[arg(long, conflicts_with = "no_verify")]
    verify: bool,
    /// Do not verify other operators' results.
    #[arg(long)]
    no_verify: bool,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tessera_worker=info".into()),
        )
        .init();
    let args = Args::parse();
    let mut cfg = match Config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if args.verify {
        cfg.verify.enabled = true;
    }
    if args.no_verify {
        cfg.verify.enabled = false;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cfg)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cfg: Config) -> Result<(), Box<dyn std::error::Error>> {
    // Before anything is bound or read: a second worker on this keypair or state says so.
    let authority = tessera_client::keys::read_keypair(&cfg.keypair_path())?.pubkey();
    let _lock = InstanceLock::acquire(&cfg.data_dir(), &InstanceLock::runtime_dir(), &authority)?;
    let (stop_tx, stop) = watch::channel(false);
    let metrics = Metrics::new();
    if let Some(addr) = cfg.metrics_addr {
        let mut s = stop.clone();
        let (bound, _) = metrics::serve(addr, metrics.clone(), async move {
            let _ = s.changed().await;
        })
        .await?;
        tracing::info!(%bound, "metrics on http://{bound}/metrics");
    }
    let worker = Worker::new(cfg, metrics).await?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: finishing the steps under way"),
            _ = int.recv() => tracing::info!("SIGINT: finishing the steps under way"),
        }
        let _ = stop_tx.send(true);
    });
    worker.run(stop).await?;
    tracing::info!("stopped");
    Ok(())
}
