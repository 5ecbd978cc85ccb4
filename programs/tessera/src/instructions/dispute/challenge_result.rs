use crate::constants::{MAX_PROOF_LEN, WHOLE_ROOT};
use crate::error::TesseraError;
use crate::events::ChallengeOpened;
use crate::state::{Challenge, Job, JobState, Market, Operator, OperatorStatus};
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
    pub fn validate(&self, args: &ChallengeArgs) -> Result<()> {
        let (job, challenger) = (&self.job.load()?, &self.challenger);
        job.require_state(JobState::Revealed)?;
        require!(
            Clock::get()?.unix_timestamp <= job.challenge_deadline,
            TesseraError::ChallengeWindowClosed
        );
        require!(!job.has_challenge(), TesseraError::AlreadyChallenged);
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

/// During the challenge window, bonds the challenger like a claim and opens a dispute: the
/// challenger says the agreed root (or one chunk of it, proven by a Merkle path) is wrong.
pub fn handler(ctx: Context<ChallengeResult>, args: ChallengeArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut job = ctx.accounts.job.load_mut()?;
    let bond = job.terms.bond;
    ctx.accounts.challenger.bond(bond)?;
    job.challenge = Challenge {
        challenger: ctx.accounts.challenger.key(),
        bond,
        chunk: args.chunk,
        hash: args.hash,
        operator_leaf: args.operator_leaf,
        padding: [0; 4],
    };
    job.open_dispute(now)?;
    emit_cpi!(ChallengeOpened {
        market: job.market,
        job: ctx.accounts.job.key(),
        challenger: job.challenge.challenger,
        bond,
        chunk: args.chunk,
        hash: args.hash,
    });
    Ok(())
}
