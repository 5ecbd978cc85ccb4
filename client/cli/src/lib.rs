//! The `tessera` command line, thin over `tessera_client`'s flows.
//!
//! ```text
//!  args      clap: global --url --keypair --output --mint --store, then market | operator |
//!            job | localnet
//!  run       dispatch: `localnet` on its own, the other families over a commands::Session
//!  input     local checks first (keypair, input file and its one parse, kernel names, amount
//!            syntax): nothing is fetched or sent if one fails
//!  commands  one file per family: market (admin), operator, job (creator), localnet (the
//!            embedded validator, a market, staked operators and their worker configurations)
//!  printer   human or JSON output, indicatif progress, accounts rendered for both
//! ```
pub mod args;
pub mod commands;
pub mod input;
pub mod printer;
pub mod run;

pub use args::Cli;

/// Runs the command line `argv`; returns the process exit code (errors are printed as one
/// line on stderr).
pub fn main_with(cli: Cli) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(run::run(cli)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
