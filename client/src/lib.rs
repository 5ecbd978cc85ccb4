//! Rust client for Tessera.
//!
//! ```text
//!  ix, pda          instruction builders and addresses: no network
//!  chain::Chain     the narrow view of a chain the flows need (JSON-RPC here, LiteSVM in tests)
//!  store            blobs in an object store (local files, S3, GCS, Azure, HTTP) and their layout
//!  output           verify output chunks against the committed Merkle root; assemble PNG/safetensors
//!  flows::{admin, operator, creator}
//!                   what the `tessera` CLI runs: each checks what it can before sending
//!  error            one ClientError: program errors by variant and message, funds, RPC, input
//!  amount, cluster, token
//!                   token amounts ↔ base units, --url shorthands, SPL token account facts
//! ```
//!
//! Re-exports the program's types so callers use one definition of every layout.
pub mod amount;
pub mod chain;
pub mod cluster;
pub mod error;
pub mod flows;
pub mod ix;
pub mod output;
pub mod pda;
pub mod store;
pub mod token;

pub use chain::{Chain, ChainClock, TxOptions};
pub use error::ClientError;
pub use tessera::{
    self as program, constants, error::TesseraError, events, instructions::ChallengeArgs,
    instructions::CreateJobArgs, instructions::InitMarketArgs, instructions::UpdateMarketArgs,
    state, ID as PROGRAM_ID,
};

use anchor_lang::{AccountDeserialize, Discriminator};

/// Decodes a program account of type `T` from its raw data (checks the discriminator).
pub fn decode<T: AccountDeserialize + Discriminator>(
    data: &[u8],
) -> Result<T, anchor_lang::error::Error> {
    let mut slice = data;
    T::try_deserialize(&mut slice)
}
