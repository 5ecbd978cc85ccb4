//! `tessera localnet`: the embedded local validator with a market ready to use.
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;
use solana_signer::Signer;
use tessera_client::amount::format_amount;
use tessera_client::{presets, ClientError};
use tessera_localnet::{Localnet, LocalnetConfig};

use crate::args::LocalnetArgs;
use crate::printer::Printer;

/// Stake each operator deposits (base units: 100 tokens at 6 decimals).
const OPERATOR_STAKE: u64 = 100_000_000;

/// Port of operator 1's metrics endpoint; operator `i` gets this plus `i - 1`.
const FIRST_METRICS_PORT: u16 = 9465;

/// The fields of a `tessera-worker` configuration that `tessera localnet` sets (the worker's
/// defaults hold for the rest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerToml {
    pub rpc_url: String,
    pub ws_url: String,
    pub keypair: PathBuf,
    /// The market's address.
    pub market: String,
    pub program_id: String,
    pub store: String,
    pub data_dir: PathBuf,
    pub metrics_addr: SocketAddr,
}

impl WorkerToml {
    /// Writes the configuration as TOML to `path`, under a comment line saying what it is.
    pub fn write(&self, path: &Path, about: &str) -> Result<(), ClientError> {
        let body = toml::to_string(self).map_err(|e| {
            ClientError::bad_input(
                format!("cannot write a worker configuration: {e}"),
                "use a --dir whose path is valid UTF-8",
            )
        })?;
        std::fs::write(path, format!("# {about}\n{body}")).map_err(|e| {
            ClientError::bad_input(
                format!("cannot write {}: {e}", path.display()),
                "check --dir",
            )
        })
    }
}

/// Starts the validator, creates the market (the local preset) and the operators, prints where
/// everything is, writes `<dir>/localnet.json` and one worker configuration per operator, and
/// runs until Ctrl-C.
pub async fn run(args: &LocalnetArgs, printer: &Printer) -> Result<(), ClientError> {
    let mut cfg = LocalnetConfig::new(&args.program, &args.dir);
    cfg.rpc_port = args.rpc_port;
    cfg.ws_port = args.ws_port;
    cfg.slot_time_ms = args.slot_time_ms;
    cfg.accounts = std::iter::once("creator".to_string())
        .chain((1..=args.operators).map(|i| format!("operator-{i}")))
        .collect();
    let net = Localnet::start(cfg)
        .await
        .map_err(|e| ClientError::bad_input(e.to_string(), "see the message above"))?;
    let market = net
        .create_market(presets::local(args.challenge_window))
        .await?;
    // `Localnet::start` created the directory.
    let dir = std::fs::canonicalize(&args.dir).unwrap_or_else(|_| args.dir.clone());
    let store = format!("file://{}", dir.join("store").display());
    let mut operators = Vec::new();
    for i in 1..=args.operators {
        let name = format!("operator-{i}");
        let key = net.keypair(&name);
        let op = net.register_operator(&market, &key, OPERATOR_STAKE).await?;
        let config = dir.join(format!("{name}.toml"));
        let port = u16::try_from(u32::from(FIRST_METRICS_PORT) + i - 1)
            .map_err(|_| ClientError::bad_input("too many operators", "lower --operators"))?;
        WorkerToml {
            rpc_url: net.rpc_url.clone(),
            ws_url: net.ws_url.clone(),
            keypair: dir.join(format!("{name}.json")),
            market: market.address().to_string(),
            program_id: tessera_client::PROGRAM_ID.to_string(),
            store: store.clone(),
            data_dir: dir.join(&name),
            metrics_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        }
        .write(
            &config,
            &format!("tessera-worker configuration for {name} on the local validator."),
        )?;
        operators.push((name, op, config));
    }
    let keypairs: serde_json::Map<String, serde_json::Value> = net
        .keypairs
        .iter()
        .map(|(name, (path, _))| (name.clone(), json!(path.display().to_string())))
        .collect();
    let summary = json!({
        "rpc_url": net.rpc_url,
        "ws_url": net.ws_url,
        "mint": net.mint.to_string(),
        "market": market.address().to_string(),
        "program": tessera_client::PROGRAM_ID.to_string(),
        "keypairs": keypairs,
        "store": store,
        "worker_configs": operators.iter().map(|(n, _, c)| json!({"name": n, "config": c.display().to_string()})).collect::<Vec<_>>(),
    });
    std::fs::write(dir.join("localnet.json"), summary.to_string())
        .map_err(|e| ClientError::bad_input(e.to_string(), "check --dir"))?;
    printer.emit(
        || {
            let mut lines = vec![
                "local validator (offline) running".to_string(),
                format!("  JSON-RPC   {}", net.rpc_url),
                format!("  websocket  {}", net.ws_url),
                format!("  program    {}", tessera_client::PROGRAM_ID),
                format!("  mint       {} ({} decimals)", net.mint, net.decimals),
                format!(
                    "  market     {} (challenge window {} s)",
                    market.address(),
                    args.challenge_window
                ),
            ];
            for (name, (path, key)) in &net.keypairs {
                lines.push(format!("  {name:<11}{} {}", key.pubkey(), path.display()));
            }
            for (name, op, config) in &operators {
                lines.push(format!(
                    "  {name} staked {} as operator {op}; run: tessera-worker --config {}",
                    format_amount(OPERATOR_STAKE, net.decimals),
                    config.display()
                ));
            }
            lines.push(format!(
                "  submit:    tessera --url {} --keypair {} --market {} --store {store} job submit …",
                net.rpc_url,
                net.keypairs["creator"].0.display(),
                market.address()
            ));
            lines.push("Ctrl-C stops it.".to_string());
            lines.join("\n")
        },
        summary,
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| ClientError::bad_input(e.to_string(), "send SIGINT"))?;
    net.stop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> WorkerToml {
        WorkerToml {
            rpc_url: "http://127.0.0.1:8899".into(),
            ws_url: "ws://127.0.0.1:8900".into(),
            keypair: dir.join("operator-1.json"),
            market: "BwdYajiAZRLFf1FJAdnie478ocxP9fu3vBMHRcgWYiGv".into(),
            program_id: tessera_client::PROGRAM_ID.to_string(),
            store: format!("file://{}", dir.join("store").display()),
            data_dir: dir.join("operator-1"),
            metrics_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, FIRST_METRICS_PORT)),
        }
    }

    #[test]
    fn the_worker_configuration_parses_back() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = sample(tmp.path());
        let path = tmp.path().join("operator-1.toml");
        cfg.write(&path, "for operator-1").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# for operator-1\n"), "{text}");
        assert_eq!(toml::from_str::<WorkerToml>(&text).unwrap(), cfg);
        // Every field is a top-level key the worker reads.
        let table: toml::Table = text.parse().unwrap();
        let mut keys: Vec<&str> = table.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "data_dir",
                "keypair",
                "market",
                "metrics_addr",
                "program_id",
                "rpc_url",
                "store",
                "ws_url"
            ]
        );
        assert_eq!(table["metrics_addr"].as_str(), Some("127.0.0.1:9465"));
    }

    #[test]
    fn the_worker_loads_the_configuration_as_written() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = sample(tmp.path());
        let path = tmp.path().join("operator-1.toml");
        cfg.write(&path, "for operator-1").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let worker = tessera_worker::config::Config::from_toml_str(&text).unwrap();
        assert_eq!(worker.rpc_url, cfg.rpc_url);
        assert_eq!(worker.ws_url.as_deref(), Some(cfg.ws_url.as_str()));
        assert_eq!(worker.keypair, cfg.keypair);
        assert_eq!(worker.market, cfg.market);
        assert_eq!(worker.program_id, cfg.program_id);
        assert_eq!(worker.store, cfg.store);
        assert_eq!(worker.data_dir, cfg.data_dir);
        assert_eq!(worker.metrics_addr, Some(cfg.metrics_addr));
        // A key the worker does not know is refused, so a renamed field cannot slip through.
        let misspelt = text.replace("rpc_url", "rpc_uri");
        assert!(tessera_worker::config::Config::from_toml_str(&misspelt).is_err());
    }

    #[test]
    fn paths_that_need_escaping_survive() {
        let tmp = tempfile::tempdir().unwrap();
        let odd = tmp
            .path()
            .join("a \"quoted\" dir\\with\tbackslash and ünïcode");
        std::fs::create_dir_all(&odd).unwrap();
        let cfg = sample(&odd);
        let path = odd.join("operator-1.toml");
        cfg.write(&path, "odd").unwrap();
        let back: WorkerToml = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back, cfg);
        assert_eq!(back.keypair, odd.join("operator-1.json"));
    }

    #[test]
    fn an_unwritable_path_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = sample(tmp.path());
        let e = cfg
            .write(&tmp.path().join("missing/operator-1.toml"), "x")
            .unwrap_err();
        assert!(e.to_string().contains("missing/operator-1.toml"), "{e}");
    }
}
