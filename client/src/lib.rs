//! Rust client for Tessera.
//!
//! ```text
//!  ix, pda          instruction builders and addresses: no network
//!  chain::Chain     the narrow view of a chain the flows need (JSON-RPC here, LiteSVM in tests)
//!  filters          getProgramAccounts filters for the program's accounts (a market's jobs)
//!  store            blobs in an object store (local files, S3, GCS, Azure, HTTP) and their layout
//!  output           verify output chunks against the committed Merkle root; assemble PNG/safetensors
//!  flows::{admin, operator, creator}
//!                   what the `tessera` CLI runs: each checks what it can before sending
//!  error            one ClientError: program errors by variant and message, funds, RPC, input
//!  amount, cluster, token
//!                   token amounts ↔ base units, --url shorthands, SPL token account facts
//!  presets          market parameters: the mainnet-style defaults and a local network's
//!  referee          fraud proofs the program checks itself (gemm-i8), built from the model
//!  keys, paths      Solana CLI keypair files; default locations (`~/.config/solana/id.json`,
//!                   the local store) and `~` expansion
//! ```
//!
//! Re-exports the program's types so callers use one definition of every layout.
pub mod amount;
pub mod chain;
pub mod cluster;
pub mod economics;
pub mod error;
pub mod filters;
pub mod flows;
pub mod ix;
pub mod keys;
pub mod output;
pub mod paths;
pub mod pda;
pub mod presets;
pub mod referee;
pub mod store;
pub mod token;

pub use chain::{Chain, ChainClock, TxOptions};
pub use error::ClientError;
pub use tessera::{
    self as program, constants, error::TesseraError, events, instructions::Accuser,
    instructions::ChallengeArgs, instructions::CreateJobArgs, instructions::FraudArgs,
    instructions::FraudTarget, instructions::InitMarketArgs, instructions::UpdateMarketArgs, state,
    ID as PROGRAM_ID, LOCAL_PROGRAM_ID,
};

use anchor_lang::{AccountDeserialize, Discriminator};

/// Decodes a program account of type `T` from its raw data (checks the discriminator, and the
/// exact size of the zero-copy `Job`, which is read as `repr(C)` bytes).
pub fn decode<T: AccountDeserialize + Discriminator>(
    data: &[u8],
) -> Result<T, anchor_lang::error::Error> {
    if T::DISCRIMINATOR == state::Job::DISCRIMINATOR && data.len() != state::JOB_SPACE {
        return Err(anchor_lang::error::ErrorCode::AccountDidNotDeserialize.into());
    }
    let mut slice = data;
    T::try_deserialize(&mut slice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use state::{Job, JOB_SPACE};

    #[test]
    fn a_job_of_the_wrong_size_is_an_error_not_a_panic() {
        let mut data = Job::DISCRIMINATOR.to_vec();
        data.resize(JOB_SPACE, 0);
        let job = decode::<Job>(&data).unwrap();
        assert_eq!(job.state(), state::JobState::Open);
        assert_eq!(job.input_uri(), "");
        for len in [8, JOB_SPACE - 1, JOB_SPACE + 1] {
            data.resize(len, 0);
            assert!(decode::<Job>(&data).is_err(), "{len} bytes");
        }
        data.resize(JOB_SPACE, 0);
        data[0] ^= 1;
        assert!(decode::<Job>(&data).is_err(), "wrong discriminator");
    }

    /// The program's kernel ids (in the IDL, and what `create_job` accepts) are the kernel
    /// registry's: a kernel added to one and not the other fails here.
    #[test]
    fn the_programs_kernel_ids_are_the_registrys() {
        use tessera_kernels::KernelId;
        assert_eq!(KernelId::Render.id(), constants::KERNEL_RENDER);
        assert_eq!(KernelId::GemmI8.id(), constants::KERNEL_GEMM_I8);
        assert_eq!(KernelId::MlpI8.id(), constants::KERNEL_MLP_I8);
        assert_eq!(KernelId::Benchmark.id(), constants::KERNEL_BENCHMARK);
        assert_eq!(KernelId::all_mask(), constants::KNOWN_KERNELS);
    }
}
