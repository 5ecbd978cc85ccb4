//! The Tessera operator daemon.
//!
//! ```text
//!  config    TOML file + TESSERA_* overrides (tessera-worker.sample.toml)
//!  watch     programSubscribe on the market's jobs + periodic getProgramAccounts resync
//!  node      the Worker and its loop: asks decide for each job's next step, runs it as a task
//!  decide    the policy (pure): the next step of a job, crank turns, verifier samples,
//!            the devices' health (stop claiming after repeated compute failures)
//!  devices   start-up self-test of every GPU and the CPU; the pool: one job per device,
//!            a job's chunks spread over idle devices
//!  steps     the steps: claim, compute and store, submit/commit/reveal, cranks, verify, resolve
//!  input     a job's input fetched, hash-checked and parsed: one check for every step
//!  verify    verifier mode: recompute sampled chunks, challenge a wrong result
//!  game      the referee's game (mlp-i8 replicas that disagree), played unattended
//!  db        redb: every step that a transaction depends on, recorded before it is sent
//!  error     WorkerError: what failed
//!  metrics   Prometheus /metrics on 127.0.0.1
//! ```
pub mod config;
pub mod db;
pub mod decide;
pub mod devices;
pub mod error;
pub mod game;
pub mod input;
pub mod metrics;
pub mod node;
pub mod steps;
pub mod verify;
pub mod watch;
