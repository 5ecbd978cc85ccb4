//! Runs a parsed command line: `localnet` on its own, every other family over a [`Session`]
//! (local inputs checked first, then a JSON-RPC connection). Every failure is one
//! `ClientError` line.
use tessera_client::ClientError;

use crate::args::{Cli, Command};
use crate::commands::{self, Session};
use crate::printer::Printer;

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<(), ClientError> {
    match &cli.command {
        Command::Localnet(args) => {
            commands::localnet::run(args, &Printer { format: cli.output }).await
        }
        Command::Market(cmd) => {
            let (s, _) = Session::open(&cli)?;
            commands::market::run(cmd, &s).await
        }
        Command::Operator(cmd) => {
            let (s, _) = Session::open(&cli)?;
            commands::operator::run(cmd, &s).await
        }
        Command::Job(cmd) => {
            let (s, input) = Session::open(&cli)?;
            commands::job::run(cmd, &s, input).await
        }
        Command::Serve(args) => {
            let (s, _) = Session::open(&cli)?;
            commands::serve::run(args, &cli.url, &s).await
        }
    }
}
