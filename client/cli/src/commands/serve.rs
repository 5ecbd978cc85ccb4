//! `tessera serve`: the web app in front of a real cluster. One HTTP server gives a browser the
//! app, the network's summary (`/network.json`: RPC and websocket URLs, program, market, store)
//! and a gateway to the store (`/store/…`): outputs read from it, inputs uploaded under their
//! own sha256 (`tessera_localnet::http`, the server `tessera localnet` runs for a local
//! network).
use std::path::PathBuf;

use serde_json::json;
use tessera_client::{cluster, store, ClientError};
use tessera_localnet::http::{built_app, HttpConfig, HttpServer, Network, StoreRoot};

use crate::args::ServeArgs;
use crate::commands::Session;

/// What `/network.json` says: where a page finds the cluster, the program and the market, and
/// the store its jobs name (`store_http`: none, the page reads it through this server).
pub fn summary(
    rpc_url: &str,
    ws_url: &str,
    chain: &str,
    s: &Session,
) -> Result<serde_json::Value, ClientError> {
    Ok(json!({
        "cluster": chain,
        "rpc_url": rpc_url,
        "ws_url": ws_url,
        "program": s.program_id.to_string(),
        "market": s.market_address().to_string(),
        "store": store::normalize_base(&s.store_base)?,
        "store_http": null,
        "http_url": null,
        "keypairs": {},
    }))
}

/// Serves until Ctrl-C, once the market is found on the cluster.
pub async fn run(args: &ServeArgs, url: &str, s: &Session) -> Result<(), ClientError> {
    let rpc_url = cluster::resolve_url(url)?;
    let ws_url = match &args.ws_url {
        Some(ws) => ws.clone(),
        None => cluster::websocket_url(&rpc_url)?,
    };
    let chain = match &args.chain {
        Some(c) => c.clone(),
        None => cluster::chain_of(&rpc_url)
            .ok_or_else(|| {
                ClientError::bad_input(
                    format!("which cluster {rpc_url} is cannot be told from its URL"),
                    "pass --chain mainnet, devnet, testnet or localnet (wallets sign for it)",
                )
            })?
            .to_string(),
    };
    // A market that is not there would only fail in the page, later.
    s.market().await?;
    let market = s.market_address();
    let network = summary(&rpc_url, &ws_url, &chain, s)?;
    let base = network["store"].as_str().unwrap_or_default().to_string();
    let root = match base.strip_prefix("file://") {
        Some(dir) => StoreRoot::Dir(PathBuf::from(dir)),
        None => StoreRoot::Remote {
            base: base.clone(),
            store: s.store.clone(),
        },
    };
    let app = built_app(&args.app);
    let served = app.is_some();
    let server = HttpServer::start(
        args.listen,
        HttpConfig {
            store: root,
            network: Network::Summary(network.to_string().into_bytes()),
            app,
            origins: args.allow_origin.clone(),
        },
    )
    .await
    .map_err(|e| {
        ClientError::bad_input(
            format!("cannot serve HTTP on {}: {e}", args.listen),
            "pass another --listen address",
        )
    })?;
    s.printer.emit(
        || {
            let mut out = format!(
                "serving {} for market {} on {rpc_url}\n  store:       {base} (at {})\n  network:     {}/network.json",
                if served { "the web app" } else { "the store gateway" },
                market,
                server.store_url(),
                server.url(),
            );
            if served {
                out.push_str(&format!("\n  web app:     {}/\nCtrl-C stops it.", server.url()));
            } else {
                out.push_str(&format!(
                    "\n  (no app at {}: build it with `npm run build` in app/)",
                    args.app.display()
                ));
            }
            out
        },
        json!({
            "url": server.url(),
            "store_http": server.store_url(),
            "store": base,
            "market": market.to_string(),
            "app": served,
        }),
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| ClientError::bad_input(e.to_string(), "send SIGINT"))?;
    drop(server);
    Ok(())
}
