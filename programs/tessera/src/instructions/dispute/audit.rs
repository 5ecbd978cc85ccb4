//! Protocol audits (see `docs/economics.md`): a market that audits escrows an audit fee with
//! each job's rewards. Once the results are in, anyone draws (`draw_audit`) whether the job is
//! audited and which chunks, from the hash of the first slot after the one the results came in,
//! which nobody knew when they were posted. A drawn job's challenge window restarts, and a
//! staked operator of none of its slots audits it:
//! - `commit_audit`: it bonds and commits to the leaves it recomputed for the drawn chunks,
//!   before any of the operators' leaves are on chain;
//! - `post_audit_leaf`: the operators' leaf of each drawn chunk, with its Merkle proof under the
//!   agreed root, is posted (by anyone: the operators, from their leaves file) by the challenge
//!   reveal deadline, or the operators are convicted as if wrong (`convict_withheld`);
//! - `reveal_audit`: the auditor opens its commitment. Every leaf matches: the auditor is paid
//!   the fee when the job settles. A leaf differs: the audit becomes a chunk challenge of that
//!   chunk and the job is disputed, settled by the referee or the arbiter as any challenge.
//!
//! An auditor that commits and never reveals is slashed as a no-show when the job settles. An
//! audit fee nobody earns goes back to the creator with the escrow's remainder.
//!
//! A job that was not drawn (its market does not audit, or the draw skipped it) takes a
//! volunteer audit: a verifier names the chunks, and the same moves follow, data availability
//! included, with no fee. That is how a verifier makes an operator publish the leaves it would
//! otherwise withhold.
use crate::constants::{MAX_AUDIT_CHUNKS, MAX_PROOF_LEN};
use crate::error::TesseraError;
use crate::events::{AuditCommitted, AuditDrawn, AuditLeafPosted, AuditRevealed, DisputeResolved};
use crate::instructions::challenge::ChallengeResult;
use crate::instructions::resolve_dispute::{challenger_bit, settle_verdict};
use crate::instructions::settlement::*;
use crate::math::add_time;
use crate::state::{AuditState, ChallengeKind, ChallengeStatus, Job, JobState};
use anchor_lang::prelude::*;
use anchor_lang::solana_program::sysvar::SysvarId;

/// Entries the `SlotHashes` sysvar keeps (the newest slots, newest first).
pub const SLOT_HASHES_MAX_ENTRIES: usize = 512;

/// Where a draw's randomness comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrawSource {
    /// The hash of the first slot after the results' slot.
    Slot { slot: u64, hash: [u8; 32] },
    /// That slot has left the sysvar's history (nobody drew for 512 slots): the job is audited,
    /// its chunks drawn from the newest slot hash.
    AgedOut { slot: u64, hash: [u8; 32] },
}

/// Reads the `SlotHashes` sysvar's data (`u64` count, then `(slot u64, hash)` pairs, newest
/// first) for the first slot after `after`. `None`: no slot after it yet.
pub fn draw_source(data: &[u8], after: u64) -> Option<DrawSource> {
    let count = u64::from_le_bytes(data.get(..8)?.try_into().ok()?) as usize;
    let entry = |i: usize| -> Option<(u64, [u8; 32])> {
        let at = 8 + i.checked_mul(40)?;
        let e = data.get(at..at + 40)?;
        Some((
            u64::from_le_bytes(e[..8].try_into().ok()?),
            e[8..].try_into().ok()?,
        ))
    };
    let count = count.min((data.len().saturating_sub(8)) / 40);
    if count == 0 {
        return None;
    }
    let newest = entry(0).filter(|(slot, _)| *slot > after)?;
    // Binary search for the oldest entry still after `after` (entries are newest first).
    let (mut lo, mut hi) = (0usize, count - 1);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if entry(mid)?.0 > after {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let (slot, hash) = entry(lo)?;
    // The oldest entry kept, in a full history, may not be the first slot after `after`.
    let aged_out = lo == count - 1 && count >= SLOT_HASHES_MAX_ENTRIES && slot != after + 1;
    Some(if aged_out {
        DrawSource::AgedOut {
            slot: newest.0,
            hash: newest.1,
        }
    } else {
        DrawSource::Slot { slot, hash }
    })
}

#[event_cpi]
#[derive(Accounts)]
pub struct DrawAudit<'info> {
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    /// CHECK: the `SlotHashes` sysvar (checked by key), read in place.
    #[account(address = SlotHashes::id())]
    pub slot_hashes: UncheckedAccount<'info>,
}

impl DrawAudit<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = self.job.load()?;
        job.require_state(JobState::Revealed)?;
        require!(
            job.audit_state() == AuditState::Pending,
            TesseraError::NoAuditDraw
        );
        require!(
            Clock::get()?.unix_timestamp <= job.challenge_deadline,
            TesseraError::ChallengeWindowClosed
        );
        Ok(())
    }
}

/// Permissionless, while the challenge window is open: draws whether the job is audited (the
/// market's rate at its creation) and, if it is, which chunks, and restarts the challenge window
/// so that auditors have all of it.
pub fn draw_audit(ctx: Context<DrawAudit>) -> Result<()> {
    let source = {
        let data = ctx.accounts.slot_hashes.try_borrow_data()?;
        let job = ctx.accounts.job.load()?;
        draw_source(&data, job.revealed_slot).ok_or(TesseraError::AuditNotReady)?
    };
    let mut job = ctx.accounts.job.load_mut()?;
    let key = ctx.accounts.job.key().to_bytes();
    let (seed_slot, seed, drawn) = match source {
        DrawSource::Slot { slot, hash } => {
            let seed = tessera_merkle::audit_seed(&hash, &key);
            (
                slot,
                seed,
                tessera_merkle::audit_drawn(&seed, job.terms.audit_rate_bps),
            )
        }
        DrawSource::AgedOut { slot, hash } => (slot, tessera_merkle::audit_seed(&hash, &key), true),
    };
    let mut chunks = Vec::new();
    if drawn {
        chunks = tessera_merkle::audit_chunks(&seed, job.chunk_count, job.terms.audit_chunks);
        job.audit_chunks[..chunks.len()].copy_from_slice(&chunks);
        job.audit_chunk_count = chunks.len() as u8;
        job.audit_state = AuditState::Drawn as u8;
        let restart = add_time(Clock::get()?.unix_timestamp, job.terms.challenge_window)?;
        job.challenge_deadline = job.challenge_deadline.max(restart);
    } else {
        job.audit_state = AuditState::Skipped as u8;
    }
    emit_cpi!(AuditDrawn {
        market: job.market,
        job: ctx.accounts.job.key(),
        drawn,
        chunks,
        seed_slot,
        challenge_deadline: job.challenge_deadline,
    });
    Ok(())
}

impl ChallengeResult<'_> {
    /// An audit may be committed: the job is still only Revealed, its challenge window is
    /// open, nobody audits it yet, and the auditor may challenge it. A drawn job's audit checks
    /// the drawn chunks (`chunks` empty); a job not drawn (its market does not audit, or the
    /// draw skipped it) takes a volunteer audit of 1..=`MAX_AUDIT_CHUNKS` distinct chunks the
    /// auditor names. A job still waiting for its draw takes none.
    pub fn validate_audit_commit(&self, chunks: &[u32]) -> Result<()> {
        {
            let job = self.job.load()?;
            job.require_state(JobState::Revealed)?;
            require!(job.audit_index().is_none(), TesseraError::NotAuditable);
            match job.audit_state() {
                AuditState::Pending => return err!(TesseraError::NotAuditable),
                AuditState::Drawn => require!(chunks.is_empty(), TesseraError::BadAuditChunks),
                AuditState::None | AuditState::Skipped => require!(
                    (1..=MAX_AUDIT_CHUNKS as usize).contains(&chunks.len())
                        && chunks.iter().all(|&c| c < job.chunk_count)
                        && chunks
                            .iter()
                            .enumerate()
                            .all(|(i, c)| !chunks[..i].contains(c)),
                    TesseraError::BadAuditChunks
                ),
            }
        }
        self.validate_commit()
    }

    /// The auditor's own, committed audit.
    fn audit_place(&self, job: &Job) -> Result<usize> {
        let i = job
            .challenge_of(&self.challenger.key())
            .ok_or(TesseraError::NoAudit)?;
        let c = &job.challenges[i];
        require!(
            c.is_audit() && c.status() == ChallengeStatus::Committed,
            TesseraError::NoAudit
        );
        Ok(i)
    }

    /// The audit revealed is the one committed, in time, after every operator leaf was posted.
    pub fn validate_audit_reveal(&self, leaves: &[[u8; 32]], salt: &[u8; 32]) -> Result<()> {
        let job = self.job.load()?;
        job.require_state(JobState::Revealed)?;
        let c = &job.challenges[self.audit_place(&job)?];
        let count = job.audit_chunk_count;
        require!(c.leaves_posted == count, TesseraError::AuditLeavesMissing);
        require!(
            Clock::get()?.unix_timestamp <= job.audit_reveal_deadline()?,
            TesseraError::RevealWindowClosed
        );
        require!(
            leaves.len() == count as usize
                && tessera_merkle::audit_commitment(
                    leaves,
                    &self.challenger.key().to_bytes(),
                    salt
                ) == c.commitment,
            TesseraError::AuditMismatch
        );
        Ok(())
    }
}

/// During the challenge window (restarted by a draw): bonds the auditor like a challenger and
/// records its commitment to the leaves of the audited chunks (`tessera_merkle::
/// audit_commitment`): the drawn ones, or those a volunteer audit names.
pub fn commit_audit(
    ctx: Context<ChallengeResult>,
    commitment: [u8; 32],
    chunks: Vec<u32>,
) -> Result<()> {
    let loader = ctx.accounts.job.clone();
    let mut job = loader.load_mut()?;
    if !chunks.is_empty() {
        job.audit_chunks = [0; MAX_AUDIT_CHUNKS as usize];
        job.audit_chunks[..chunks.len()].copy_from_slice(&chunks);
        job.audit_chunk_count = chunks.len() as u8;
    }
    let (index, bond) = ctx
        .accounts
        .record(&mut job, commitment, ChallengeKind::Audit)?;
    emit_cpi!(AuditCommitted {
        market: job.market,
        job: ctx.accounts.job.key(),
        auditor: ctx.accounts.challenger.key(),
        index: index as u8,
        bond,
    });
    Ok(())
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AuditLeaf {
    /// The operators' leaf of the next drawn chunk (in draw order).
    pub leaf: [u8; 32],
    /// Its Merkle proof under the agreed root.
    pub proof: Vec<[u8; 32]>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct PostAuditLeaf<'info> {
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
}

impl PostAuditLeaf<'_> {
    pub fn validate(&self, args: &AuditLeaf) -> Result<()> {
        let job = self.job.load()?;
        job.require_state(JobState::Revealed)?;
        let i = job.audit_index().ok_or(TesseraError::NoAudit)?;
        let c = &job.challenges[i];
        require!(
            c.status() == ChallengeStatus::Committed,
            TesseraError::NoAudit
        );
        require!(
            c.leaves_posted < job.audit_chunk_count,
            TesseraError::AuditLeavesDone
        );
        require!(
            Clock::get()?.unix_timestamp <= job.challenge_reveal_deadline()?,
            TesseraError::RevealWindowClosed
        );
        let chunk = job.audit_chunks[c.leaves_posted as usize];
        require!(
            args.proof.len() <= MAX_PROOF_LEN as usize
                && tessera_merkle::verify_proof(
                    &job.agreed_root,
                    &args.leaf,
                    chunk,
                    job.chunk_count,
                    &args.proof,
                ),
            TesseraError::BadMerkleProof
        );
        Ok(())
    }
}

/// Anyone (the operators, from their leaves file) posts the operators' leaf of the next drawn
/// chunk once the auditor has committed, by the challenge reveal deadline.
pub fn post_audit_leaf(ctx: Context<PostAuditLeaf>, args: AuditLeaf) -> Result<()> {
    let mut job = ctx.accounts.job.load_mut()?;
    let i = job.audit_index().ok_or(TesseraError::NoAudit)?;
    let n = job.challenges[i].leaves_posted;
    let chunk = job.audit_chunks[n as usize];
    job.audit_leaves[n as usize] = args.leaf;
    job.challenges[i].leaves_posted = n + 1;
    emit_cpi!(AuditLeafPosted {
        market: job.market,
        job: ctx.accounts.job.key(),
        chunk,
        leaf: args.leaf,
        posted: n + 1,
    });
    Ok(())
}

/// The auditor opens its commitment (its leaves, in draw order), compared with the operators'
/// leaves posted. All equal: the audit passes. The first that differs becomes a chunk challenge
/// of the agreed root, and the job is disputed.
pub fn reveal_audit(ctx: Context<ChallengeResult>, leaves: Vec<[u8; 32]>) -> Result<()> {
    let mut job = ctx.accounts.job.load_mut()?;
    let i = ctx.accounts.audit_place(&job)?;
    let differs = (0..leaves.len()).find(|&k| leaves[k] != job.audit_leaves[k]);
    let chunk = differs.map(|k| job.audit_chunks[k]);
    match differs {
        None => job.challenges[i].status = ChallengeStatus::Audited as u8,
        Some(k) => {
            let (chunk, operator_leaf) = (job.audit_chunks[k], job.audit_leaves[k]);
            let c = &mut job.challenges[i];
            c.chunk = chunk;
            c.hash = leaves[k];
            c.operator_leaf = operator_leaf;
            c.status = ChallengeStatus::Revealed as u8;
            let from = job.audit_reveal_deadline()?;
            job.dispute_deadline = add_time(from, job.terms.dispute_window)?;
            job.set_state(JobState::Disputed);
        }
    }
    emit_cpi!(AuditRevealed {
        market: job.market,
        job: ctx.accounts.job.key(),
        auditor: ctx.accounts.challenger.key(),
        matched: differs.is_none(),
        chunk,
    });
    Ok(())
}

/// Remaining accounts: `Job::party_keys`, as for `finalize_job`.
#[event_cpi]
#[derive(Accounts)]
pub struct ConvictWithheld<'info> {
    pub settlement: JobSettlement<'info>,
    /// CHECK: the market's fee vault (checked by key).
    #[account(mut, address = settlement.market.fee_vault @ TesseraError::WrongFeeVault)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: the market's stake vault (checked by key).
    #[account(mut, address = settlement.market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: UncheckedAccount<'info>,
}

impl ConvictWithheld<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = self.settlement.job.load()?;
        job.require_state(JobState::Revealed)?;
        let i = job.audit_index().ok_or(TesseraError::NoAudit)?;
        let c = &job.challenges[i];
        require!(
            c.status() == ChallengeStatus::Committed && c.leaves_posted < job.audit_chunk_count,
            TesseraError::AuditLeavesDone
        );
        require!(
            Clock::get()?.unix_timestamp > job.challenge_reveal_deadline()?,
            TesseraError::ChallengeRevealOpen
        );
        Ok(())
    }
}

/// Permissionless, once the challenge reveal deadline has passed with a drawn chunk's leaf not
/// posted: the data the audit needed was withheld, so the operators are convicted as if wrong
/// (slashed for fraud, their rewards back to the creator) and the auditor is the honest party
/// (its bond back, the honest share and the audit fee). Challengers that never revealed are
/// slashed as no-shows.
pub fn convict_withheld<'info>(ctx: Context<'info, ConvictWithheld<'info>>) -> Result<()> {
    let auditor = {
        let job = ctx.accounts.settlement.job.load()?;
        job.audit_index().ok_or(TesseraError::NoAudit)?
    };
    let event: DisputeResolved = settle_verdict(
        &ctx.accounts.settlement,
        ctx.remaining_accounts,
        &ctx.accounts.fee_vault.to_account_info(),
        &ctx.accounts.stake_vault.to_account_info(),
        challenger_bit(auditor),
        0,
    )?;
    emit_cpi!(event);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sysvar(entries: &[(u64, u8)]) -> Vec<u8> {
        let mut data = (entries.len() as u64).to_le_bytes().to_vec();
        for &(slot, b) in entries {
            data.extend_from_slice(&slot.to_le_bytes());
            data.extend_from_slice(&[b; 32]);
        }
        data
    }

    #[test]
    fn the_draw_reads_the_first_slot_after_the_results() {
        // Newest first; slot 12 was skipped.
        let data = sysvar(&[(14, 4), (13, 3), (11, 1), (10, 0)]);
        assert_eq!(
            draw_source(&data, 10),
            Some(DrawSource::Slot {
                slot: 11,
                hash: [1; 32]
            })
        );
        assert_eq!(
            draw_source(&data, 11),
            Some(DrawSource::Slot {
                slot: 13,
                hash: [3; 32]
            })
        );
        assert_eq!(
            draw_source(&data, 2),
            Some(DrawSource::Slot {
                slot: 10,
                hash: [0; 32]
            }),
            "a young chain keeps every slot"
        );
        assert_eq!(
            draw_source(&data, 14),
            None,
            "no slot after the results yet"
        );
        assert_eq!(draw_source(&sysvar(&[]), 0), None);
        assert_eq!(draw_source(&[1, 2], 0), None);
    }

    #[test]
    fn a_draw_whose_slot_left_the_history_audits_the_job() {
        let entries: Vec<(u64, u8)> = (0..SLOT_HASHES_MAX_ENTRIES as u64)
            .map(|i| (1_000 - i, i as u8))
            .collect();
        let data = sysvar(&entries);
        // The oldest kept is 489: the first slot after 488 is still known, after 400 it is not.
        assert_eq!(
            draw_source(&data, 488),
            Some(DrawSource::Slot {
                slot: 489,
                hash: [255; 32]
            })
        );
        assert_eq!(
            draw_source(&data, 400),
            Some(DrawSource::AgedOut {
                slot: 1_000,
                hash: [0; 32]
            })
        );
        assert_eq!(
            draw_source(&data, 700),
            Some(DrawSource::Slot {
                slot: 701,
                hash: [(1_000u64 - 701) as u8; 32]
            })
        );
    }
}
