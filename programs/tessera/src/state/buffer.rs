use anchor_lang::prelude::*;

/// Bytes staged for the referee: data too large for one transaction (an input row, a weight
/// row and an output chunk of an int8 model, with their Merkle proofs), written in pieces by
/// its authority and read in place by `prove_fraud`. What it holds is trusted by nobody: the
/// referee checks every piece against a hash committed on chain.
///
/// Created at its full size by the System Program (an account created by the program itself
/// could hold at most 10 KiB), then initialized by `init_buffer`; the data follows this header.
#[account(zero_copy)]
#[derive(Debug)]
pub struct ProofBuffer {
    /// May write and close the buffer.
    pub authority: Pubkey,
}

/// Bytes before a buffer's data: the discriminator and the header.
pub const BUFFER_DATA_OFFSET: usize = 8 + std::mem::size_of::<ProofBuffer>();
