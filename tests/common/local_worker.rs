//! A worker configuration on the local validator, shared by the end-to-end tests, the e2e
//! bench and the demo (included with `#[path]`: they link the validator and the worker, which
//! the LiteSVM tests do not).
use tessera_localnet::Localnet;
use tessera_worker::config::Config;

/// A worker configuration for operator `name` (one of `net`'s keypairs) of the market at
/// `market` on the local validator: its store at `store`, its state under `data_dir`, no metrics endpoint, a 100 ms poll, and a
/// 1 s delivery margin (jobs here allow a few seconds). Verification (on by default) is off:
/// the tests that measure it turn it on, so that no other test's timing depends on it.
/// The e2e tests, the bench and the demo start from it and change what they measure.
pub fn local_worker_config(
    net: &Localnet,
    market: &anchor_lang::prelude::Pubkey,
    name: &str,
    store: &str,
    data_dir: std::path::PathBuf,
) -> Config {
    let mut c = Config::from_toml_str(&format!("market = \"{market}\""))
        .expect("a market is all the configuration needs");
    c.rpc_url = net.rpc_url.clone();
    c.ws_url = Some(net.ws_url.clone());
    c.keypair = net.keypairs[name].0.clone();
    c.store = store.to_string();
    c.data_dir = data_dir;
    c.metrics_addr = None;
    c.poll_interval_ms = 100;
    c.min_exec_margin_secs = 1;
    c.verify.enabled = false;
    c
}
