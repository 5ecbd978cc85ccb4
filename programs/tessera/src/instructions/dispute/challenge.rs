//! Challenging a revealed result: `commit_challenge` during the challenge window (bonded, and
//! bound to the challenger, so nobody can copy it), then `reveal_challenge` by the challenge
//! reveal deadline. Up to `MAX_CHALLENGERS` operators may challenge one job; the first revealed
//! challenge the arbiter upholds, in commitment order, wins the honest share, so neither a copy
//! nor a decoy committed first can take a real verifier's reward.
use crate::constants::{MAX_PROOF_LEN, WHOLE_ROOT};
use crate::error::TesseraError;
use crate::events::{ChallengeCommitted, ChallengeRevealed};
use crate::math::add_time;
use crate::state::{
    Challenge, ChallengeKind, ChallengeStatus, Job, JobState, Market, Operator, OperatorStatus,
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ChallengeArgs {
    /// The chunk recomputed, or `WHOLE_ROOT` to challenge the whole root.
    pub chunk: u32,
    /// The challenger's root (whole) or leaf hash of the chunk.
    pub hash: [u8; 32],
    /// (chunk) The operators' leaf at `chunk`.
    pub operator_leaf: [u8; 32],
    /// (chunk) Merkle proof of `operator_leaf` under the agreed root.
    pub proof: Vec<[u8; 32]>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ChallengeResult<'info> {
    pub authority: Signer<'info>,
    pub market: Box<Account<'info, Market>>,
    /// The challenger (a staked operator acting as verifier).
    #[account(
        mut,
        has_one = market @ TesseraError::WrongMarket,
        has_one = authority @ TesseraError::NotOperatorAuthority
    )]
    pub challenger: Box<Account<'info, Operator>>,
    #[account(mut, has_one = market @ TesseraError::WrongMarket)]
    pub job: AccountLoader<'info, Job>,
}

impl ChallengeResult<'_> {
    /// A new challenge may be committed: the results are in (the job is Revealed, or disputed
    /// by an earlier challenge), the window is open, there is room, and the challenger is an
    /// active, staked operator of none of the job's slots that has not challenged it yet.
    pub fn validate_commit(&self) -> Result<()> {
        let (job, challenger) = (&self.job.load()?, &self.challenger);
        require!(
            job.state() == JobState::Revealed
                || (job.state() == JobState::Disputed && job.has_challenge()),
            TesseraError::WrongJobState
        );
        require!(
            Clock::get()?.unix_timestamp <= job.challenge_deadline,
            TesseraError::ChallengeWindowClosed
        );
        require!(
            challenger.status == OperatorStatus::Active,
            TesseraError::OperatorNotActive
        );
        require!(
            challenger.stake >= self.market.params.min_operator_stake,
            TesseraError::StakeBelowMinimum
        );
        require!(
            job.slot_of(&challenger.key()).is_none(),
            TesseraError::SelfChallenge
        );
        require!(
            job.challenge_of(&challenger.key()).is_none(),
            TesseraError::AlreadyChallenged
        );
        require!(
            job.challengers().count() < job.challenges.len(),
            TesseraError::TooManyChallenges
        );
        Ok(())
    }

    /// The challenge revealed is the one committed, in time, and says the agreed root (or one
    /// chunk of it, proven by a Merkle path) is wrong.
    pub fn validate_reveal(&self, args: &ChallengeArgs, salt: &[u8; 32]) -> Result<()> {
        let job = &self.job.load()?;
        let i = job
            .challenge_of(&self.challenger.key())
            .ok_or(TesseraError::NotAssigned)?;
        let c = &job.challenges[i];
        require!(
            c.status() == ChallengeStatus::Committed && !c.is_audit(),
            TesseraError::WrongSlotState
        );
        require!(
            Clock::get()?.unix_timestamp <= job.challenge_reveal_deadline()?,
            TesseraError::RevealWindowClosed
        );
        require!(
            Challenge::commitment_of(
                args.chunk,
                &args.hash,
                &args.operator_leaf,
                &self.challenger.key(),
                salt
            ) == c.commitment,
            TesseraError::CommitmentMismatch
        );
        if args.chunk == WHOLE_ROOT {
            require!(args.hash != job.agreed_root, TesseraError::ChallengeAgrees);
        } else {
            require!(
                args.proof.len() <= MAX_PROOF_LEN as usize
                    && tessera_merkle::verify_proof(
                        &job.agreed_root,
                        &args.operator_leaf,
                        args.chunk,
                        job.chunk_count,
                        &args.proof,
                    ),
                TesseraError::BadMerkleProof
            );
            require!(
                args.hash != args.operator_leaf,
                TesseraError::ChallengeAgrees
            );
        }
        Ok(())
    }
}

impl ChallengeResult<'_> {
    /// Bonds the challenger like a claim and records its `commitment`, of `kind`, in the next
    /// free place of `job` (commitment order). Returns the place and the bond.
    pub fn record(
        &mut self,
        job: &mut Job,
        commitment: [u8; 32],
        kind: ChallengeKind,
    ) -> Result<(usize, u64)> {
        let bond = job.terms.bond;
        self.challenger.bond(bond)?;
        let index = job
            .challenges
            .iter()
            .position(|c| c.status() == ChallengeStatus::Empty)
            .ok_or(TesseraError::TooManyChallenges)?;
        job.challenges[index] = Challenge {
            challenger: self.challenger.key(),
            bond,
            status: ChallengeStatus::Committed as u8,
            kind: kind as u8,
            commitment,
            ..Challenge::none()
        };
        Ok((index, bond))
    }
}

/// During the challenge window, bonds the challenger like a claim and records its commitment
/// in the next free place (commitment order).
pub fn commit(ctx: Context<ChallengeResult>, commitment: [u8; 32]) -> Result<()> {
    let loader = ctx.accounts.job.clone();
    let mut job = loader.load_mut()?;
    let (index, bond) = ctx
        .accounts
        .record(&mut job, commitment, ChallengeKind::Challenge)?;
    emit_cpi!(ChallengeCommitted {
        market: job.market,
        job: ctx.accounts.job.key(),
        challenger: ctx.accounts.challenger.key(),
        index: index as u8,
        bond,
    });
    Ok(())
}

/// Opens the committed challenge; the first one revealed disputes the job. The arbiter rules
/// once every challenge is revealed or its reveal deadline has passed.
pub fn reveal(ctx: Context<ChallengeResult>, args: ChallengeArgs, _salt: [u8; 32]) -> Result<()> {
    let mut job = ctx.accounts.job.load_mut()?;
    let index = job
        .challenge_of(&ctx.accounts.challenger.key())
        .ok_or(TesseraError::NotAssigned)?;
    let c = &mut job.challenges[index];
    c.chunk = args.chunk;
    c.hash = args.hash;
    c.operator_leaf = args.operator_leaf;
    c.status = ChallengeStatus::Revealed as u8;
    if job.state() == JobState::Revealed {
        let from = job.challenge_reveal_deadline()?;
        job.dispute_deadline = add_time(from, job.terms.dispute_window)?;
        job.set_state(JobState::Disputed);
    }
    emit_cpi!(ChallengeRevealed {
        market: job.market,
        job: ctx.accounts.job.key(),
        challenger: ctx.accounts.challenger.key(),
        index: index as u8,
        chunk: args.chunk,
        hash: args.hash,
    });
    Ok(())
}
