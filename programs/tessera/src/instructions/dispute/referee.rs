//! The on-chain referee for `gemm-i8` jobs: a fraud proof the program checks itself, with no
//! arbiter. A `gemm-i8` output row is one function of one committed input row and the
//! committed weight rows, so one element is enough to prove a result wrong: the program
//! re-executes it with `tessera_int8::element`, the function the CPU reference and every GPU
//! path give the bytes of.
//!
//! The proof's data (an input row, a weight row and the challenged output chunk, up to
//! 16 KiB + 16 KiB + the chunk, and two Merkle proofs) does not fit in a transaction: it is
//! staged in a [`ProofBuffer`] (`init_buffer`, `write_buffer`, `close_buffer`), laid out as
//!
//! ```text
//! chunk (as delivered) ‖ x (K bytes) ‖ w (K bytes) ‖ input proof ‖ weight proof
//! ```
//!
//! and read in place by `prove_fraud`, which checks every piece against the job:
//! the header and roots against the model root in `kernel_params`, `x` against the input root,
//! `w` (with the feature's bias, multiplier and shift) against the layer root, the chunk
//! against the operators' leaf the challenge proved under the agreed root at its reveal.
use crate::constants::{REFEREE_KERNELS, WHOLE_ROOT};
use crate::error::TesseraError;
use crate::events::FraudProven;
use crate::instructions::resolve_dispute::{challenger_bit, settle_verdict};
use crate::instructions::settlement::*;
use crate::state::{Job, JobState, ProofBuffer, SlotStatus, BUFFER_DATA_OFFSET};
use anchor_lang::prelude::*;
use tessera_int8::model::{feature_leaf, input_row_leaf, model_root, Header};
use tessera_int8::{element, Feature, Quantization};
use tessera_merkle::Hash;

#[derive(Accounts)]
pub struct InitBuffer<'info> {
    pub authority: Signer<'info>,
    /// A new account owned by the program, created by the System Program in the same
    /// transaction at its full size.
    #[account(zero)]
    pub buffer: AccountLoader<'info, ProofBuffer>,
}

/// Takes a freshly created buffer: `authority` may write and close it.
pub fn init_buffer(ctx: Context<InitBuffer>) -> Result<()> {
    ctx.accounts.buffer.load_init()?.authority = ctx.accounts.authority.key();
    Ok(())
}

#[derive(Accounts)]
pub struct WriteBuffer<'info> {
    pub authority: Signer<'info>,
    #[account(mut, has_one = authority @ TesseraError::NotBufferAuthority)]
    pub buffer: AccountLoader<'info, ProofBuffer>,
}

/// Writes `bytes` at `offset` of the buffer's data.
pub fn write_buffer(ctx: Context<WriteBuffer>, offset: u32, bytes: Vec<u8>) -> Result<()> {
    let info = ctx.accounts.buffer.to_account_info();
    let mut data = info.try_borrow_mut_data()?;
    let start = BUFFER_DATA_OFFSET + offset as usize;
    let end = start
        .checked_add(bytes.len())
        .ok_or(TesseraError::BufferOverflow)?;
    require!(end <= data.len(), TesseraError::BufferOverflow);
    data[start..end].copy_from_slice(&bytes);
    Ok(())
}

#[derive(Accounts)]
pub struct CloseBuffer<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(mut, close = authority, has_one = authority @ TesseraError::NotBufferAuthority)]
    pub buffer: AccountLoader<'info, ProofBuffer>,
}

/// Closes the buffer; its lamports go back to its authority.
pub fn close_buffer(_ctx: Context<CloseBuffer>) -> Result<()> {
    Ok(())
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct FraudArgs {
    /// The revealed chunk challenge the proof upholds (its place in commitment order).
    pub challenge: u8,
    /// The row within the challenged chunk, and the output feature, whose value is wrong.
    pub row: u32,
    pub feature: u32,
    /// Bytes of the delivered chunk staged first. A chunk whose size is not
    /// `rows_in_chunk · N` is wrong by its size alone (then nothing follows it).
    pub chunk_len: u32,
    /// The model's header (`tessera_int8::model`), the root of its input rows and the root of
    /// its one layer: together they hash to the job's model root.
    pub header: Vec<u8>,
    pub input_root: [u8; 32],
    pub layer_root: [u8; 32],
    /// The feature's parameters (its leaf holds them after the weight row).
    pub bias: i32,
    pub multiplier: i32,
    pub shift: i32,
    /// Hashes in the staged Merkle proofs of the input row and of the weight row.
    pub input_proof_len: u8,
    pub weight_proof_len: u8,
}

/// Remaining accounts: the operator account of every live slot in slot order, then every
/// challenger's in commitment order (`Job::party_keys`, as for `resolve_dispute`).
#[event_cpi]
#[derive(Accounts)]
pub struct ProveFraud<'info> {
    pub settlement: JobSettlement<'info>,
    /// CHECK: the market's fee vault (checked by key), where the fee accrues.
    #[account(mut, address = settlement.market.fee_vault @ TesseraError::WrongFeeVault)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: the market's stake vault (checked by key); the token program checks the rest.
    #[account(mut, address = settlement.market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: UncheckedAccount<'info>,
    /// The staged rows, chunk and proofs (anyone's: every byte is checked).
    pub buffer: AccountLoader<'info, ProofBuffer>,
}

impl ProveFraud<'_> {
    /// A `gemm-i8` job disputed by challenges of the root its replicas agreed on, once every
    /// challenge is revealed or past its reveal deadline, before the dispute deadline; the
    /// challenge named is a revealed chunk challenge.
    pub fn validate(&self, args: &FraudArgs) -> Result<()> {
        let job = self.settlement.job.load()?;
        job.require_state(JobState::Disputed)?;
        require!(
            REFEREE_KERNELS & (1 << job.kernel) != 0 && refereeable(&job),
            TesseraError::NotRefereeable
        );
        let now = Clock::get()?.unix_timestamp;
        require!(
            now > job.challenge_reveal_deadline()?,
            TesseraError::ChallengeRevealOpen
        );
        require!(
            now <= job.dispute_deadline,
            TesseraError::DisputeDeadlinePassed
        );
        let c = job
            .challenges
            .get(args.challenge as usize)
            .filter(|c| c.is_revealed() && c.chunk != WHOLE_ROOT)
            .ok_or(TesseraError::NotRefereeable)?;
        require!(c.chunk < job.chunk_count, TesseraError::BadFraudProof);
        Ok(())
    }
}

/// Every live slot revealed the agreed root (the dispute came from challenges, not from
/// replicas that disagreed), so a proven wrong element convicts them all.
fn refereeable(job: &Job) -> bool {
    job.agreed_root != [0; 32]
        && job.has_challenge()
        && job
            .settlement_slots()
            .all(|(_, a)| a.status() == SlotStatus::Revealed && a.root == job.agreed_root)
}

/// Splits `n` bytes off the front of `rest`.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
    require!(rest.len() >= n, TesseraError::BadFraudProof);
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Ok(head)
}

/// Checks the fraud proof and, when the operators' element is not the model's, settles the
/// job: every replica (they all delivered the proven-wrong root) is slashed for fraud, the
/// challenges of the proven chunk are upheld (the first in commitment order wins the honest
/// share), other revealed challenges are released, silent ones slashed as no-shows. The money
/// moves as a `resolve_dispute` verdict's would.
pub fn prove_fraud<'info>(ctx: Context<'info, ProveFraud<'info>>, args: FraudArgs) -> Result<()> {
    let (job_key, market, chunk, honest, released, delivered, computed) = {
        let job = ctx.accounts.settlement.job.load()?;
        let header = Header::from_bytes(&args.header).ok_or(TesseraError::BadModelCommitment)?;
        require!(
            model_root(&args.header, &args.input_root, &[args.layer_root]) == job.kernel_params
                && header.layers.len() == 1,
            TesseraError::BadModelCommitment
        );
        let layer = header.layers[0];
        let (rows, per_chunk) = (header.rows, header.rows_per_chunk);
        require!(
            per_chunk > 0 && rows.div_ceil(per_chunk) == job.chunk_count,
            TesseraError::BadFraudProof
        );
        let c = job.challenges[args.challenge as usize];
        let first_row = c.chunk * per_chunk;
        let rows_in_chunk = per_chunk.min(rows - first_row);
        require!(
            args.row < rows_in_chunk && args.feature < layer.n,
            TesseraError::BadFraudProof
        );
        let (k, n) = (layer.k as usize, layer.n as usize);

        let info = ctx.accounts.buffer.to_account_info();
        let data = info.try_borrow_data()?;
        let mut rest = &data[BUFFER_DATA_OFFSET..];
        let chunk_bytes = take(&mut rest, args.chunk_len as usize)?;
        require!(
            tessera_merkle::leaf_hash(chunk_bytes) == c.operator_leaf,
            TesseraError::BadFraudProof
        );
        let (delivered, computed) = if chunk_bytes.len() != rows_in_chunk as usize * n {
            // Not an output of this model's shape: wrong whatever its bytes.
            (0, 0)
        } else {
            let x = take(&mut rest, k)?;
            let w = take(&mut rest, k)?;
            let input_proof: &[Hash] =
                bytemuck::cast_slice(take(&mut rest, 32 * args.input_proof_len as usize)?);
            let weight_proof: &[Hash] =
                bytemuck::cast_slice(take(&mut rest, 32 * args.weight_proof_len as usize)?);
            let (x, w): (&[i8], &[i8]) = (bytemuck::cast_slice(x), bytemuck::cast_slice(w));
            let feature = Feature {
                bias: args.bias,
                multiplier: args.multiplier,
                shift: args.shift,
            };
            require!(
                tessera_merkle::verify_proof(
                    &args.input_root,
                    &input_row_leaf(x),
                    first_row + args.row,
                    rows,
                    input_proof
                ) && tessera_merkle::verify_proof(
                    &args.layer_root,
                    &feature_leaf(w, feature),
                    args.feature,
                    layer.n,
                    weight_proof
                ),
                TesseraError::BadFraudProof
            );
            let computed = element(
                x,
                w,
                feature,
                Quantization {
                    input_zero_point: header.input_zero_point as i32,
                    output_zero_point: layer.output_zero_point as i32,
                    relu: layer.relu,
                },
            );
            let delivered = chunk_bytes[args.row as usize * n + args.feature as usize] as i8;
            require!(delivered != computed, TesseraError::NoFraud);
            (delivered, computed)
        };

        let (mut honest, mut released) = (0u8, 0u8);
        for (i, other) in job.challengers().filter(|(_, o)| o.is_revealed()) {
            if other.chunk == c.chunk {
                honest |= challenger_bit(i);
            } else {
                released |= challenger_bit(i);
            }
        }
        (
            ctx.accounts.settlement.job.key(),
            job.market,
            c.chunk,
            honest,
            released,
            delivered,
            computed,
        )
    };
    let verdict = settle_verdict(
        &ctx.accounts.settlement,
        ctx.remaining_accounts,
        &ctx.accounts.fee_vault.to_account_info(),
        &ctx.accounts.stake_vault.to_account_info(),
        honest,
        released,
    )?;
    emit_cpi!(FraudProven {
        market,
        job: job_key,
        challenge: args.challenge,
        chunk,
        row: args.row,
        feature: args.feature,
        delivered,
        computed,
        chunk_len: args.chunk_len,
    });
    emit_cpi!(verdict);
    Ok(())
}
