//! Rust client for Tessera: PDA derivation, instruction builders that need no RPC, and account
//! decoding. Re-exports the program's types so callers use one definition of every layout.
pub mod ix;
pub mod pda;

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
