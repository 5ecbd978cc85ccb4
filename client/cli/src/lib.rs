//! The `tessera` command line, thin over `tessera_client`'s flows.
//!
//! ```text
//!  args   clap: global --url --keypair --output --mint --store, then market | operator | job
//!  run    local checks first (keypair, input file, kernel parse, amount syntax: nothing is
//!         sent if one fails), then a JSON-RPC `Chain` and the client's flows; human or JSON
//!         output, indicatif progress for upload, download and waiting
//!  localnet  `tessera localnet`: the embedded local validator, a market, staked operators
//! ```
pub mod args;
pub mod localnet;
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
