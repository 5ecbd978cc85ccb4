//! The Tessera operator daemon.
//!
//! ```text
//!  config   TOML file + TESSERA_* overrides (tessera-worker.sample.toml)
//!  watch    programSubscribe on the market's jobs + periodic getProgramAccounts resync
//!  node     the loop: decide (pure) the next step of every job, run it as a task
//!  db       redb: every step that a transaction depends on, recorded before it is sent
//!  verify   verifier mode: recompute sampled chunks, challenge a wrong result
//!  metrics  Prometheus /metrics on 127.0.0.1
//! ```
pub mod config;
pub mod db;
pub mod metrics;
pub mod node;
pub mod verify;
pub mod watch;
