//! `tessera localnet`: the embedded local validator with a market ready to use.
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};
use serde_json::json;
use solana_signer::Signer;
use tessera_client::flows::Ctx;
use tessera_client::{pda, presets, ClientError};
use tessera_localnet::http::{built_app, HttpConfig, HttpServer, Network, StoreRoot};
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

/// Where a fresh ledger's files go (`--ledger` names a persistent one's).
pub const FRESH_DIR: &str = ".tessera/localnet";

/// The files a localnet writes in its directory, besides the keypairs, operators' data
/// directories and worker configurations: what `--reset` removes.
const LEDGER_FILES: [&str; 6] = [
    tessera_localnet::LEDGER_FILE,
    "ledger.sqlite-wal",
    "ledger.sqlite-shm",
    "mint.json",
    "localnet.json",
    "env",
];

/// The directory a localnet's files go to, and whether its ledger is kept. Refuses a fresh
/// start over a persistent ledger's files, and `--reset` removes what a restart would resume.
pub fn prepare_dir(args: &LocalnetArgs) -> Result<(PathBuf, bool), ClientError> {
    if let Some(option) = args.not_taken.first() {
        return Err(ClientError::bad_input(
            format!("`tessera localnet` takes no {option}: it runs its own cluster, keypairs, market and store"),
            "leave the option out (`tessera localnet --help` lists what it takes)",
        ));
    }
    let (dir, persistent) = match &args.ledger {
        Some(dir) => (dir.clone(), true),
        None => (PathBuf::from(FRESH_DIR), false),
    };
    let ledger = dir.join(tessera_localnet::LEDGER_FILE);
    if !persistent && ledger.exists() {
        return Err(ClientError::bad_input(
            format!("{} holds a persistent ledger", dir.display()),
            format!(
                "resume it with --ledger {0}, or start it over with --ledger {0} --reset",
                dir.display()
            ),
        ));
    }
    if args.reset {
        let mut names: Vec<String> = LEDGER_FILES.iter().map(|f| f.to_string()).collect();
        names.extend(["admin.json", "creator.json"].map(String::from));
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("operator-") {
                    names.push(name);
                }
            }
        }
        for name in names {
            let path = dir.join(&name);
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match removed {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(ClientError::bad_input(
                        format!("cannot remove {}: {e}", path.display()),
                        "check the --ledger directory",
                    ))
                }
                _ => {}
            }
        }
    }
    if !persistent {
        // A fresh ledger: what an earlier start wrote is stale.
        for name in ["localnet.json", "env"] {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
    Ok((dir, persistent))
}

/// The command that submits a job on this localnet, complete (every option `job submit`
/// requires), as `tessera localnet` prints it.
pub fn submit_hint(rpc_url: &str, creator: &Path, market: &Pubkey, store: &str) -> String {
    format!(
        "tessera --url {rpc_url} --keypair {} --market {market} --store {store} \
         job submit kernels/scenes/cornell.json --reward 1 --wait --out cornell.png",
        creator.display()
    )
}

/// The shell lines of `<dir>/env`: the CLI's settings for this localnet, and the addresses a
/// walk through it needs. No `TESSERA_KEYPAIR`: `tessera-worker` reads the `TESSERA_*`
/// variables too, and a worker started from that shell would sign as the creator.
pub fn env_file(
    rpc_url: &str,
    creator: &Path,
    market: &Pubkey,
    store: &str,
    addresses: &[(String, Pubkey)],
) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut lines = vec![
        "# The tessera CLI's settings for this local network; source this file (`. <it>`)."
            .to_string(),
        format!("export TESSERA_URL={}", quote(rpc_url)),
        format!(
            "export CREATOR_KEYPAIR={}",
            quote(&creator.display().to_string())
        ),
        format!("export TESSERA_MARKET={market}"),
        format!("export TESSERA_STORE={}", quote(store)),
        format!("export MARKET={market}"),
    ];
    for (name, address) in addresses {
        let var: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        lines.push(format!("export {var}={address}"));
    }
    lines.join("\n") + "\n"
}

/// Starts the validator (a fresh ledger, or `--ledger`'s, resumed), creates the market (the
/// local preset) and the operators unless they exist, prints where everything is, writes
/// `<dir>/localnet.json`, `<dir>/env` and one worker configuration per operator, and runs until
/// Ctrl-C.
pub async fn run(args: &LocalnetArgs, printer: &Printer) -> Result<(), ClientError> {
    let (dir, persistent) = prepare_dir(args)?;
    let ws_port = args.rpc_port.checked_add(1).ok_or_else(|| {
        ClientError::bad_input(
            "no port above --rpc-port for websockets",
            "lower --rpc-port",
        )
    })?;
    let mut cfg = LocalnetConfig::new(&args.program, &dir);
    cfg.rpc_port = args.rpc_port;
    cfg.ws_port = ws_port;
    cfg.persistent = persistent;
    cfg.accounts = std::iter::once("creator".to_string())
        .chain((1..=args.operators).map(|i| format!("operator-{i}")))
        .collect();
    let net = Localnet::start(cfg)
        .await
        .map_err(|e| ClientError::bad_input(e.to_string(), "see the message above"))?;
    let admin = net.keypair("admin");
    let address = pda::market(&net.mint, &admin.pubkey()).0;
    let resumed = net.exists(&address).await?;
    let market = if resumed {
        let rpc = net.rpc();
        Ctx::new(&rpc).market(&address).await?
    } else {
        net.create_market(presets::local(args.challenge_window))
            .await?
    };
    // `Localnet::start` created the directory.
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let store = format!("file://{}", dir.join("store").display());
    let http = serve_http(args, &dir, &net).await?;
    let mut operators = Vec::new();
    for i in 1..=args.operators {
        let name = format!("operator-{i}");
        let key = net.keypair(&name);
        let op = market.keys.operator(&key.pubkey());
        if !net.exists(&op).await? {
            net.register_operator(&market, &key, OPERATOR_STAKE).await?;
        }
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
    let challenge_window = market.state.params.challenge_window;
    let ledger = if persistent {
        dir.join(tessera_localnet::LEDGER_FILE)
            .display()
            .to_string()
    } else {
        "in memory (fresh at every start; --ledger <dir> keeps one)".to_string()
    };
    let summary = json!({
        "rpc_url": net.rpc_url,
        "ws_url": net.ws_url,
        "ledger": ledger,
        "resumed": resumed,
        "mint": net.mint.to_string(),
        "market": market.address().to_string(),
        "challenge_window": challenge_window,
        "program": tessera_client::PROGRAM_ID.to_string(),
        "keypairs": keypairs,
        "store": store,
        "http_url": http.as_ref().map(|(h, _)| h.url()),
        "store_http": http.as_ref().map(|(h, _)| h.store_url()),
        "app_url": http.as_ref().and_then(|(h, app)| app.then(|| format!("{}/", h.url()))),
        "worker_configs": operators.iter().map(|(n, _, c)| json!({"name": n, "config": c.display().to_string()})).collect::<Vec<_>>(),
    });
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text)
            .map_err(|e| ClientError::bad_input(e.to_string(), "check --ledger"))
    };
    write("localnet.json", summary.to_string())?;
    let creator_path = net.keypairs["creator"].0.clone();
    let addresses: Vec<(String, Pubkey)> = net
        .keypairs
        .iter()
        .map(|(name, (_, key))| (name.clone(), key.pubkey()))
        .chain([("mint".to_string(), net.mint)])
        .collect();
    write(
        "env",
        env_file(
            &net.rpc_url,
            &creator_path,
            &market.address(),
            &store,
            &addresses,
        ),
    )?;
    printer.emit(
        || {
            let mut lines = vec![
                "local validator (offline) running".to_string(),
                format!("  JSON-RPC   {}", net.rpc_url),
                format!("  websocket  {}", net.ws_url),
                format!(
                    "  ledger     {ledger}{}",
                    if resumed { " (resumed)" } else { "" }
                ),
                format!("  program    {}", tessera_client::PROGRAM_ID),
                format!("  mint       {} ({} decimals)", net.mint, net.decimals),
                format!(
                    "  market     {} (challenge window {challenge_window} s)",
                    market.address(),
                ),
            ];
            match &http {
                Some((h, served)) => {
                    lines.push(format!(
                        "  store/http {} (GET; PUT inputs/<sha256>)",
                        h.store_url()
                    ));
                    lines.push(if *served {
                        format!("  web app    {}/", h.url())
                    } else {
                        format!(
                            "  web app    none at {} (build it: cd app && npm ci && npm run build)",
                            args.app.display()
                        )
                    });
                }
                None => lines.push("  store/http off (--http-port 0)".to_string()),
            }
            for (name, (path, key)) in &net.keypairs {
                lines.push(format!("  {name:<11}{} {}", key.pubkey(), path.display()));
            }
            for (name, op, config) in &operators {
                lines.push(format!(
                    "  {name} staked as operator {op}; run: tessera-worker --config {}",
                    config.display()
                ));
            }
            lines.push(format!(
                "  settings:  . {} (TESSERA_URL, TESSERA_MARKET, TESSERA_STORE; CREATOR_KEYPAIR, MARKET, OPERATOR_1, …)",
                dir.join("env").display()
            ));
            lines.push(format!(
                "  submit:    {}",
                submit_hint(&net.rpc_url, &creator_path, &market.address(), &store)
            ));
            lines.push("Ctrl-C stops it.".to_string());
            lines.join("\n")
        },
        summary,
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| ClientError::bad_input(e.to_string(), "send SIGINT"))?;
    drop(http);
    net.stop();
    Ok(())
}

/// Starts the HTTP server for browsers on `--http-port` (none when it is 0): the store under
/// `<dir>/store`, `<dir>/localnet.json`, the local network's keypairs, and the web app at
/// `--app` when it has been built. Returns it and whether it serves the app.
async fn serve_http(
    args: &LocalnetArgs,
    dir: &Path,
    net: &Localnet,
) -> Result<Option<(HttpServer, bool)>, ClientError> {
    if args.http_port == 0 {
        return Ok(None);
    }
    let store = dir.join("store");
    std::fs::create_dir_all(&store).map_err(|e| {
        ClientError::bad_input(
            format!("cannot create {}: {e}", store.display()),
            "check --ledger",
        )
    })?;
    let app = built_app(&args.app);
    let served = app.is_some();
    let cfg = HttpConfig {
        store: StoreRoot::Dir(store),
        network: Network::Localnet {
            dir: dir.to_path_buf(),
            keypairs: net.keypairs.keys().cloned().collect(),
        },
        app,
        origins: Vec::new(),
    };
    let server = HttpServer::start((Ipv4Addr::LOCALHOST, args.http_port).into(), cfg)
        .await
        .map_err(|e| {
            ClientError::bad_input(
                format!("cannot serve HTTP on 127.0.0.1:{}: {e}", args.http_port),
                "pass another --http-port (or 0 for none)",
            )
        })?;
    Ok(Some((server, served)))
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
