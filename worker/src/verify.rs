//! Verifier mode: re-run sampled chunks of another operator's revealed result and prove a
//! mismatch on chain.
//!
//! Because every kernel gives the same bytes on any GPU and on the CPU, one recomputed chunk is
//! enough: its leaf hash either equals the operators' leaf at that index (proven under the
//! agreed root by a Merkle proof) or it does not, and then the chunk challenge carries both
//! leaves and the proof. When no leaves are published, the sampled chunks are recomputed and a
//! volunteer audit of them (`commit_audit`) makes the operators post their leaves on chain or be
//! convicted. When the stored leaves do not hash to the agreed root (or the job cannot take a
//! volunteer audit), the whole output is recomputed and the root itself is challenged.
use std::sync::Arc;

use rand::seq::index::sample;
use tessera_client::constants::{MAX_AUDIT_CHUNKS, WHOLE_ROOT};
use tessera_client::program::instructions::challenger_bit;
use tessera_client::state::{AuditState, Job, JobState, SlotStatus};
use tessera_client::store::{self, Store};
use tessera_client::ChallengeArgs;
use tessera_kernels::{Backend, Workload};
use tessera_merkle::{leaf_hash, proof, root_from_leaves, Hash};

use crate::error::WorkerError;
use crate::input;

/// What a check found.
#[derive(Debug)]
pub enum Finding {
    /// Every sampled chunk matched (their indices).
    Agrees { checked: Vec<u32> },
    /// The result is wrong: the challenge to post.
    Wrong(ChallengeArgs),
    /// The result cannot be checked (bad input, missing output): why.
    Unverifiable(String),
    /// The operators' leaves are not published: the chunks recomputed and their leaves, for a
    /// volunteer audit that makes the operators post theirs on chain or be convicted.
    Withheld { chunks: Vec<u32>, leaves: Vec<Hash> },
}

/// Checks `chunks` randomly chosen chunks of `job`'s agreed result against a recomputation
/// on `backend`, from the job's input (fetched and checked as a worker checks it before a
/// claim).
pub async fn check(
    store: &Store,
    input_bases: &[String],
    job: &Job,
    backend: &Backend,
    chunks: u32,
) -> Result<Finding, WorkerError> {
    let parsed = match input::load(store, input_bases, job).await? {
        Ok(p) => p,
        Err(refusal) => return Ok(Finding::Unverifiable(refusal.to_string())),
    };
    let Some(slot) = job
        .slots()
        .iter()
        .find(|a| a.status() == SlotStatus::Revealed && a.root == job.agreed_root)
    else {
        return Ok(Finding::Unverifiable(
            "no revealed slot holds the agreed root".into(),
        ));
    };
    let count = job.chunk_count;
    let leaves = read_leaves(store, slot.output_uri(), count).await;
    let volunteer = job.state() == JobState::Revealed
        && job.audit_index().is_none()
        && matches!(job.audit_state(), AuditState::None | AuditState::Skipped);
    let leaves = match leaves {
        Some(l) if root_from_leaves(&l) == job.agreed_root => l,
        None if volunteer => {
            // Withheld: a volunteer audit of sampled chunks makes the operators publish their
            // leaves of them on chain, or be convicted, instead of a whole recomputation.
            let picks = pick(count, chunks.clamp(1, MAX_AUDIT_CHUNKS.into()));
            let parsed = Arc::new(parsed);
            let mut leaves = Vec::new();
            for &i in &picks {
                leaves.push(chunk_leaf(&parsed, backend, i).await?);
            }
            return Ok(Finding::Withheld {
                chunks: picks,
                leaves,
            });
        }
        _ => {
            // No usable leaves: recompute everything and challenge the root if it differs.
            let b = backend.clone();
            let output = tokio::task::spawn_blocking(move || parsed.run(&b))
                .await
                .map_err(|e| WorkerError::from_join("the verifier's computation", e))?
                .map_err(|source| WorkerError::Compute {
                    device: backend.describe(),
                    source,
                })?;
            let root = output.root();
            if root == job.agreed_root {
                return Ok(Finding::Agrees {
                    checked: (0..count).collect(),
                });
            }
            return Ok(Finding::Wrong(ChallengeArgs {
                chunk: WHOLE_ROOT,
                hash: root,
                operator_leaf: [0; 32],
                proof: vec![],
            }));
        }
    };
    let picks = pick(count, chunks);
    let parsed = Arc::new(parsed);
    for &i in &picks {
        let leaf = chunk_leaf(&parsed, backend, i).await?;
        if leaf != leaves[i as usize] {
            return Ok(Finding::Wrong(ChallengeArgs {
                chunk: i,
                hash: leaf,
                operator_leaf: leaves[i as usize],
                proof: proof(&leaves, i as usize),
            }));
        }
    }
    Ok(Finding::Agrees { checked: picks })
}

/// Recomputes the chunks drawn for `job`'s audit (in draw order) on `backend`, from the job's
/// input: their leaves, or why the input cannot be used.
pub async fn audit_leaves(
    store: &Store,
    input_bases: &[String],
    job: &Job,
    backend: &Backend,
) -> Result<Result<Vec<Hash>, String>, WorkerError> {
    let parsed = match input::load(store, input_bases, job).await? {
        Ok(p) => Arc::new(p),
        Err(refusal) => return Ok(Err(refusal.to_string())),
    };
    let mut leaves = Vec::new();
    for &i in job.audited_chunks() {
        leaves.push(chunk_leaf(&parsed, backend, i).await?);
    }
    Ok(Ok(leaves))
}

/// `n` distinct chunks of `count` (all of them when there are fewer), drawn at random, in order.
fn pick(count: u32, n: u32) -> Vec<u32> {
    let mut picks: Vec<u32> = sample(&mut rand::rng(), count as usize, n.min(count) as usize)
        .into_iter()
        .map(|i| i as u32)
        .collect();
    picks.sort_unstable();
    picks
}

/// The leaf of chunk `i` of `parsed`, recomputed on `backend` off the async runtime.
async fn chunk_leaf(
    parsed: &Arc<Workload>,
    backend: &Backend,
    i: u32,
) -> Result<Hash, WorkerError> {
    let (p, b) = (parsed.clone(), backend.clone());
    let chunk = tokio::task::spawn_blocking(move || p.chunk(&b, i))
        .await
        .map_err(|e| WorkerError::from_join("the verifier's computation", e))?
        .map_err(|source| WorkerError::Compute {
            device: backend.describe(),
            source,
        })?;
    Ok(leaf_hash(&chunk))
}

/// The leaf hashes stored next to an output, if present and of the right length.
pub(crate) async fn read_leaves(store: &Store, output_uri: &str, count: u32) -> Option<Vec<Hash>> {
    let bytes = store.get(&store::leaves_uri(output_uri)).await.ok()?;
    if bytes.len() != count as usize * 32 {
        return None;
    }
    Some(bytes.as_chunks::<32>().0.to_vec())
}

/// The arbiter's verdict on a disputed job, from the true leaves of its output (recomputed):
/// bit `i` for slot `i` when its root is the true root, bit `3 + k` for challenger `k` when
/// it revealed a right claim (the true leaf at its chunk, or the true root).
pub fn verdict(job: &Job, true_leaves: &[Hash]) -> u8 {
    let root = root_from_leaves(true_leaves);
    let mut mask = 0u8;
    for (i, a) in job.settlement_slots() {
        if a.status() == SlotStatus::Revealed && a.root == root {
            mask |= 1 << i;
        }
    }
    for (k, c) in job.challengers().filter(|(_, c)| c.is_revealed()) {
        let right = if c.chunk == WHOLE_ROOT {
            c.hash == root
        } else {
            true_leaves.get(c.chunk as usize) == Some(&c.hash)
        };
        if right {
            mask |= challenger_bit(k);
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;
    use tessera_client::state::{Assignment, Challenge, ChallengeStatus, JobState};

    fn disputed(roots: &[[u8; 32]], challenge: Option<(u32, [u8; 32])>) -> Job {
        let mut assignments = [
            Assignment::empty(),
            Assignment::empty(),
            Assignment::empty(),
        ];
        for (a, r) in assignments.iter_mut().zip(roots) {
            a.operator = Pubkey::new_unique();
            a.set_status(SlotStatus::Revealed);
            a.root = *r;
        }
        let mut challenges = [Challenge::none(); 3];
        if let Some((chunk, hash)) = challenge {
            challenges[0] = Challenge {
                challenger: Pubkey::new_unique(),
                bond: 1,
                chunk,
                status: ChallengeStatus::Revealed as u8,
                hash,
                ..Challenge::none()
            };
        }
        Job {
            market: Pubkey::default(),
            creator: Pubkey::default(),
            job_id: 0,
            kernel: 0,
            kernel_params: [0; 32],
            input_uri: tessera_client::state::pack_uri(""),
            input_hash: [0; 32],
            chunk_count: 2,
            replicas: roots.len() as u8,
            reward_per_replica: 1,
            created_at: 0,
            claim_deadline: 0,
            exec_timeout: 1,
            state: JobState::Disputed as u8,
            assignments,
            reveal_deadline: 0,
            challenge_deadline: 0,
            dispute_deadline: 0,
            agreed_root: [0; 32],
            challenges,
            bump: 0,
            escrow: Pubkey::default(),
            terms: tessera_client::state::JobTerms::none(),
            convicted: 0,
            open_games: 0,
            games_played: [0; 4],
            challenge_wins: 0,
            audit_state: 0,
            audit_fee: 0,
            revealed_slot: 0,
            audit_chunks: [0; 4],
            audit_chunk_count: 0,
            audit_leaves: [[0; 32]; 4],
            reserved: [0; 23],
        }
    }

    use tessera_client::program::instructions::CHALLENGER_BIT;

    #[test]
    fn the_verdict_names_who_was_right() {
        let leaves = [leaf_hash(b"a"), leaf_hash(b"b")];
        let root = root_from_leaves(&leaves);
        let wrong = [9; 32];
        assert_eq!(verdict(&disputed(&[root, wrong], None), &leaves), 0b01);
        assert_eq!(
            verdict(&disputed(&[wrong, root, root], None), &leaves),
            0b110
        );
        // A chunk challenge is right when it names the true leaf.
        let upheld = disputed(&[wrong], Some((1, leaves[1])));
        assert_eq!(verdict(&upheld, &leaves), CHALLENGER_BIT);
        let frivolous = disputed(&[root], Some((1, leaf_hash(b"x"))));
        assert_eq!(verdict(&frivolous, &leaves), 0b1);
        let whole = disputed(&[wrong], Some((WHOLE_ROOT, root)));
        assert_eq!(verdict(&whole, &leaves), CHALLENGER_BIT);
        // Several challengers, each judged on what it revealed; an unrevealed one is never
        // named right.
        let mut several = disputed(&[wrong], Some((1, leaf_hash(b"x"))));
        for (k, (status, hash)) in [
            (ChallengeStatus::Revealed, root),
            (ChallengeStatus::Committed, root),
        ]
        .into_iter()
        .enumerate()
        {
            several.challenges[k + 1] = Challenge {
                challenger: Pubkey::new_unique(),
                bond: 1,
                chunk: WHOLE_ROOT,
                status: status as u8,
                hash,
                ..Challenge::none()
            };
        }
        assert_eq!(verdict(&several, &leaves), challenger_bit(1));
    }
}
