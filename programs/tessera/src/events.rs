//! One event per state change, emitted with `emit_cpi!` (indexers and frontends read them; the
//! worker reads accounts and never depends on them).
use crate::state::{JobState, MarketParams};
use anchor_lang::prelude::*;

#[event]
pub struct MarketInitialized {
    pub market: Pubkey,
    pub admin: Pubkey,
    pub arbiter: Pubkey,
    pub mint: Pubkey,
    pub treasury: Pubkey,
    pub params: MarketParams,
}

#[event]
pub struct MarketUpdated {
    pub market: Pubkey,
    pub admin: Pubkey,
    pub arbiter: Pubkey,
    pub treasury: Pubkey,
    pub before: MarketParams,
    pub after: MarketParams,
}

#[event]
pub struct MarketPaused {
    pub market: Pubkey,
    pub paused: bool,
}

#[event]
pub struct OperatorRegistered {
    pub market: Pubkey,
    pub operator: Pubkey,
    pub authority: Pubkey,
    pub capabilities: u32,
}

#[event]
pub struct StakeDeposited {
    pub operator: Pubkey,
    pub amount: u64,
    /// Stake after the deposit.
    pub stake: u64,
}

#[event]
pub struct UnstakeRequested {
    pub operator: Pubkey,
    pub amount: u64,
    pub stake: u64,
    pub unbonding: u64,
    pub ready_at: i64,
}

#[event]
pub struct StakeWithdrawn {
    pub operator: Pubkey,
    /// Everything paid out: earnings plus unbonded stake.
    pub amount: u64,
    /// The part of `amount` that was earnings.
    pub earnings: u64,
    /// The operator account was closed (it had exited and nothing is left).
    pub closed: bool,
}

#[event]
pub struct OperatorUpdated {
    pub operator: Pubkey,
    pub capabilities: u32,
}

#[event]
pub struct OperatorExited {
    pub operator: Pubkey,
    pub unbonding: u64,
    pub ready_at: i64,
}

#[event]
pub struct JobCreated {
    pub job: Pubkey,
    pub market: Pubkey,
    pub creator: Pubkey,
    pub job_id: u64,
    pub kernel: u8,
    pub replicas: u8,
    pub reward_per_replica: u64,
    pub escrowed: u64,
    pub claim_deadline: i64,
}

#[event]
pub struct JobClaimed {
    pub job: Pubkey,
    pub operator: Pubkey,
    pub slot: u8,
    pub bond: u64,
    pub state: JobState,
}

#[event]
pub struct ResultCommitted {
    pub job: Pubkey,
    pub operator: Pubkey,
    pub slot: u8,
    pub commitment: [u8; 32],
    pub state: JobState,
}

#[event]
pub struct ResultDelivered {
    pub job: Pubkey,
    pub operator: Pubkey,
    pub slot: u8,
    pub root: [u8; 32],
    pub state: JobState,
}

/// `finalize_job`: the job was paid out and its escrow closed.
#[event]
pub struct JobSettled {
    pub job: Pubkey,
    pub root: [u8; 32],
    /// Credited to the operators' earnings in total.
    pub paid: u64,
    /// Sent to the treasury.
    pub fee: u64,
    /// Burned from the escrow.
    pub burned: u64,
    /// Returned to the creator (rewards of failed slots).
    pub refunded: u64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlashReason {
    NoShow,
    Fraud,
}

/// One party slashed by a timeout or a dispute.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slash {
    pub operator: Pubkey,
    /// The slot, or 3 for a challenger.
    pub slot: u8,
    pub reason: SlashReason,
    pub bond: u64,
    pub slashed: u64,
    pub to_creator: u64,
    pub to_honest: u64,
    pub burned: u64,
}

/// `timeout_job`: the late slots slashed, and what became of the job.
#[event]
pub struct SlotsTimedOut {
    pub job: Pubkey,
    pub slashes: Vec<Slash>,
    /// The job's state after the timeout (Open when slots reopened, Expired when refunded).
    pub state: JobState,
    /// Returned to the creator when the job expired (its escrow is then closed).
    pub refunded: u64,
}

#[event]
pub struct ChallengeOpened {
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub bond: u64,
    pub chunk: u32,
    pub hash: [u8; 32],
}

#[event]
pub struct DisputeResolved {
    pub job: Pubkey,
    pub honest_mask: u8,
    pub root: [u8; 32],
    pub paid: u64,
    pub fee: u64,
    pub burned: u64,
    /// Credited from the slashes to each honest party.
    pub honest_share: u64,
    /// The wrong parties, slashed.
    pub slashes: Vec<Slash>,
    /// Returned to the creator (rewards of the wrong slots); the escrow is closed.
    pub refunded: u64,
}

/// An ended job's account was closed (`close_job`).
#[event]
pub struct JobAccountClosed {
    pub job: Pubkey,
    pub creator: Pubkey,
    /// Settled, Expired or Cancelled.
    pub state: JobState,
    /// The account's lamports, returned to the creator.
    pub rent: u64,
}

#[event]
pub struct JobClosed {
    pub job: Pubkey,
    /// Settled, Expired or Cancelled.
    pub state: JobState,
    /// Returned to the creator.
    pub refunded: u64,
}
