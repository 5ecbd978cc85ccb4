//! The on-chain referee for `gemm-i8` jobs: a fraud proof the program checks itself, with no
//! arbiter. A `gemm-i8` output row is one function of one committed input row and the
//! committed weight rows, so one element is enough to prove a result wrong: the program
//! re-executes it with `tessera_int8::element`, the function the CPU reference and every GPU
//! path give the bytes of.
//!
//! Two disputes are refereed:
//! - **a challenged agreed root** (`FraudTarget::Challenge`): every replica delivered it, a
//!   verifier challenged one chunk; the proof convicts them all and upholds the challenge;
//! - **replicas that disagree** (`FraudTarget::Slot`): they are each other's accusers, with no
//!   challenger and no arbiter. A proof against a slot's chunk (its leaf proven under the
//!   slot's root) convicts that slot and every slot that delivered the same root; once the
//!   slots left agree, the job is settled with them as the honest parties (an honest minority
//!   of one convicts two replicas that colluded on one wrong root). Until then the convictions
//!   are kept in `Job::convicted`, and `expire_dispute` slashes them at the dispute deadline.
//!
//! The proof's data (an input row, a weight row and the challenged output chunk, up to
//! 16 KiB + 16 KiB + the chunk, and two Merkle proofs) does not fit in a transaction: it is
//! staged in a [`ProofBuffer`] (`init_buffer`, `write_buffer`, `close_buffer`), laid out as
//!
//! ```text
//! chunk (as delivered) ‖ x (K bytes) ‖ w (K bytes) ‖ input proof ‖ weight proof ‖ leaf proof
//! ```
//!
//! and read in place by `prove_fraud`, which checks every piece against the job:
//! the header and roots against the model root in `kernel_params`, `x` against the input root,
//! `w` (with the feature's bias, multiplier and shift) against the layer root, the chunk
//! against the operators' leaf: the one the challenge proved under the agreed root at its
//! reveal, or the one the leaf proof (slot targets only) proves under the slot's root.
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

/// What a fraud proof accuses.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FraudTarget {
    /// The revealed chunk challenge the proof upholds (its place in commitment order), of a
    /// root every replica delivered.
    Challenge { index: u8 },
    /// Chunk `chunk` of the root slot `slot` revealed, when replicas revealed different roots.
    Slot { slot: u8, chunk: u32 },
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct FraudArgs {
    pub target: FraudTarget,
    /// The row within the chunk, and the output feature, whose value is wrong.
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
    /// Hashes in the staged Merkle proofs of the input row, of the weight row, and (slot
    /// targets) of the chunk's leaf under the slot's root.
    pub input_proof_len: u8,
    pub weight_proof_len: u8,
    pub leaf_proof_len: u8,
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
    /// A disputed `gemm-i8` job, before the dispute deadline, and a target it has:
    /// - a challenge: every live slot revealed the agreed root, every challenge is revealed or
    ///   past its reveal deadline, and the one named is a revealed chunk challenge;
    /// - a slot: live slots revealed different roots, and the one named is a live slot not yet
    ///   convicted, the chunk one of the job's.
    pub fn validate(&self, args: &FraudArgs) -> Result<()> {
        let job = self.settlement.job.load()?;
        job.require_state(JobState::Disputed)?;
        require!(
            REFEREE_KERNELS & (1 << job.kernel) != 0,
            TesseraError::NotRefereeable
        );
        let now = Clock::get()?.unix_timestamp;
        require!(
            now <= job.dispute_deadline,
            TesseraError::DisputeDeadlinePassed
        );
        match args.target {
            FraudTarget::Challenge { index } => {
                require!(agreed_and_challenged(&job), TesseraError::NotRefereeable);
                require!(
                    now > job.challenge_reveal_deadline()?,
                    TesseraError::ChallengeRevealOpen
                );
                let c = job
                    .challenges
                    .get(index as usize)
                    .filter(|c| c.is_revealed() && c.chunk != WHOLE_ROOT)
                    .ok_or(TesseraError::NotRefereeable)?;
                require!(c.chunk < job.chunk_count, TesseraError::BadFraudProof);
            }
            FraudTarget::Slot { slot, chunk } => {
                require!(disagreeing(&job), TesseraError::NotRefereeable);
                require!(
                    job.settlement_slots()
                        .any(|(i, _)| i == slot as usize && job.convicted & (1 << i) == 0),
                    TesseraError::NotRefereeable
                );
                require!(chunk < job.chunk_count, TesseraError::BadFraudProof);
            }
        }
        Ok(())
    }
}

/// Every live slot revealed the agreed root (the dispute came from challenges, not from
/// replicas that disagreed), so a proven wrong element convicts them all.
pub(crate) fn agreed_and_challenged(job: &Job) -> bool {
    job.agreed_root != [0; 32]
        && job.has_challenge()
        && job
            .settlement_slots()
            .all(|(_, a)| a.status() == SlotStatus::Revealed && a.root == job.agreed_root)
}

/// Every live slot revealed, and not all the same root (the dispute came from replicas that
/// disagreed).
pub(crate) fn disagreeing(job: &Job) -> bool {
    let mut slots = job.settlement_slots();
    let Some((_, first)) = slots.next() else {
        return false;
    };
    job.agreed_root == [0; 32]
        && !job.has_challenge()
        && job
            .settlement_slots()
            .all(|(_, a)| a.status() == SlotStatus::Revealed)
        && slots.any(|(_, a)| a.root != first.root)
}

/// The live slots not in `convicted`, as a verdict's bits, if they all delivered one root (or
/// none is left): the job can then be settled with them as the honest parties.
pub(crate) fn agreeing_rest(job: &Job, convicted: u8) -> Option<u8> {
    let mut rest = job
        .settlement_slots()
        .filter(|(i, _)| convicted & (1 << i) == 0);
    let Some((first, kept)) = rest.next() else {
        return Some(0);
    };
    let mut bits = 1u8 << first;
    for (i, a) in rest {
        if a.root != kept.root {
            return None;
        }
        bits |= 1 << i;
    }
    Some(bits)
}

/// Splits `n` bytes off the front of `rest`.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
    require!(rest.len() >= n, TesseraError::BadFraudProof);
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Ok(head)
}

/// Checks the fraud proof; when the accused element is not the model's:
/// - a challenge target: the job is settled, every replica (they all delivered the
///   proven-wrong root) slashed for fraud, the challenges of the proven chunk upheld (the first
///   in commitment order wins the honest share), other revealed challenges released, silent
///   ones slashed as no-shows;
/// - a slot target: that slot and every slot with its root are convicted; if the slots left
///   agree (or none is left), the job is settled with them as the honest parties, else the
///   convictions are kept for the next proof.
///
/// The money moves as a `resolve_dispute` verdict's would.
pub fn prove_fraud<'info>(ctx: Context<'info, ProveFraud<'info>>, args: FraudArgs) -> Result<()> {
    let s = &ctx.accounts.settlement;
    let (market, chunk, delivered, computed, verdict, convicted) = {
        let job = s.job.load()?;
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
        let chunk = match args.target {
            FraudTarget::Challenge { index } => job.challenges[index as usize].chunk,
            FraudTarget::Slot { chunk, .. } => chunk,
        };
        let first_row = chunk * per_chunk;
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
        // A chunk of the wrong size is wrong whatever its bytes: no rows follow it.
        let sized = chunk_bytes.len() == rows_in_chunk as usize * n;
        let (x, w) = if sized {
            (take(&mut rest, k)?, take(&mut rest, k)?)
        } else {
            (&[][..], &[][..])
        };
        let mut proof = |len: u8| -> Result<&[Hash]> {
            Ok(bytemuck::cast_slice(take(&mut rest, 32 * len as usize)?))
        };
        let input_proof = proof(args.input_proof_len)?;
        let weight_proof = proof(args.weight_proof_len)?;
        let leaf_proof = proof(args.leaf_proof_len)?;

        // The chunk is the accused's: under the leaf its challenge proved, or under its root.
        let leaf = tessera_merkle::leaf_hash(chunk_bytes);
        let accused = match args.target {
            FraudTarget::Challenge { index } => {
                require!(
                    leaf == job.challenges[index as usize].operator_leaf,
                    TesseraError::BadFraudProof
                );
                job.agreed_root
            }
            FraudTarget::Slot { slot, .. } => {
                let root = job.assignments[slot as usize].root;
                require!(
                    tessera_merkle::verify_proof(&root, &leaf, chunk, job.chunk_count, leaf_proof),
                    TesseraError::BadFraudProof
                );
                root
            }
        };

        let (delivered, computed) = if !sized {
            (0, 0)
        } else {
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

        let (verdict, convicted) = match args.target {
            FraudTarget::Challenge { index } => {
                let (mut honest, mut released) = (0u8, 0u8);
                for (i, other) in job.challengers().filter(|(_, o)| o.is_revealed()) {
                    if other.chunk == chunk {
                        honest |= challenger_bit(i);
                    } else {
                        released |= challenger_bit(i);
                    }
                }
                debug_assert!(honest & challenger_bit(index as usize) != 0);
                let all = job.settlement_slots().fold(0u8, |m, (i, _)| m | (1 << i));
                (Some((honest, released)), all)
            }
            FraudTarget::Slot { .. } => {
                let convicted = job.convicted
                    | job
                        .settlement_slots()
                        .filter(|(_, a)| a.root == accused)
                        .fold(0u8, |m, (i, _)| m | (1 << i));
                (
                    agreeing_rest(&job, convicted).map(|honest| (honest, 0)),
                    convicted,
                )
            }
        };
        (job.market, chunk, delivered, computed, verdict, convicted)
    };
    // One byte, in place (no copy of the job): the settlement below reads it from the account.
    s.job.load_mut()?.convicted = convicted;
    emit_cpi!(FraudProven {
        market,
        job: s.job.key(),
        target: args.target,
        chunk,
        row: args.row,
        feature: args.feature,
        delivered,
        computed,
        chunk_len: args.chunk_len,
        convicted,
    });
    if let Some((honest, released)) = verdict {
        let verdict = settle_verdict(
            s,
            ctx.remaining_accounts,
            &ctx.accounts.fee_vault.to_account_info(),
            &ctx.accounts.stake_vault.to_account_info(),
            honest,
            released,
        )?;
        emit_cpi!(verdict);
    }
    Ok(())
}
