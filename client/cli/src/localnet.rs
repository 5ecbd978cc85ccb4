//! `tessera localnet`: the embedded local validator with a market ready to use.
use serde_json::json;
use solana_signer::Signer;
use tessera_client::amount::format_amount;
use tessera_client::ClientError;
use tessera_localnet::{Localnet, LocalnetConfig};

use crate::args::{LocalnetArgs, OutputFormat};
use crate::run::default_params;

/// Stake each operator deposits (base units: 100 tokens at 6 decimals).
const OPERATOR_STAKE: u64 = 100_000_000;

/// Starts the validator, creates the market and the operators, prints where everything is,
/// writes `<dir>/localnet.json` and one worker configuration per operator, and runs until
/// Ctrl-C.
pub async fn run(args: &LocalnetArgs, format: OutputFormat) -> Result<(), ClientError> {
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
    let (mut params, _, _) = default_params();
    params.min_operator_stake = OPERATOR_STAKE / 10;
    params.min_reward_per_replica = 1_000;
    let market = net.create_market(params).await?;
    let mut operators = Vec::new();
    for i in 1..=args.operators {
        let name = format!("operator-{i}");
        let key = net.keypair(&name);
        let op = net.register_operator(&market, &key, OPERATOR_STAKE).await?;
        let dir = std::fs::canonicalize(&args.dir).unwrap_or_else(|_| args.dir.clone());
        let config = dir.join(format!("{name}.toml"));
        let toml = format!(
            "# tessera-worker configuration for {name} on the local validator.\n\
             rpc_url = \"{}\"\nws_url = \"{}\"\nkeypair = \"{}\"\nmint = \"{}\"\n\
             store = \"file://{}\"\ndata_dir = \"{}\"\nmetrics_addr = \"127.0.0.1:{}\"\n",
            net.rpc_url,
            net.ws_url,
            dir.join(format!("{name}.json")).display(),
            net.mint,
            dir.join("store").display(),
            dir.join(&name).display(),
            9464 + i,
        );
        std::fs::write(&config, toml)
            .map_err(|e| ClientError::bad_input(e.to_string(), "check --dir"))?;
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
        "store": format!("file://{}", std::fs::canonicalize(&args.dir).unwrap_or_default().join("store").display()),
        "worker_configs": operators.iter().map(|(n, _, c)| json!({"name": n, "config": c.display().to_string()})).collect::<Vec<_>>(),
    });
    std::fs::write(args.dir.join("localnet.json"), summary.to_string())
        .map_err(|e| ClientError::bad_input(e.to_string(), "check --dir"))?;
    match format {
        OutputFormat::Json => println!("{summary}"),
        OutputFormat::Human => {
            println!("local validator (offline) running");
            println!("  JSON-RPC   {}", net.rpc_url);
            println!("  websocket  {}", net.ws_url);
            println!("  program    {}", tessera_client::PROGRAM_ID);
            println!("  mint       {} ({} decimals)", net.mint, net.decimals);
            println!("  market     {}", market.address());
            for (name, (path, key)) in &net.keypairs {
                println!("  {name:<11}{} {}", key.pubkey(), path.display());
            }
            for (name, op, config) in &operators {
                println!(
                    "  {name} staked {} as operator {op}; run: tessera-worker --config {}",
                    format_amount(OPERATOR_STAKE, net.decimals),
                    config.display()
                );
            }
            println!(
                "  submit:    tessera --url {} --keypair {} --mint {} job submit …",
                net.rpc_url,
                net.keypairs["creator"].0.display(),
                net.mint
            );
            println!("Ctrl-C stops it.");
        }
    }
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| ClientError::bad_input(e.to_string(), "send SIGINT"))?;
    net.stop();
    Ok(())
}
