//! One event per state change, emitted with `emit_cpi!` (indexers and frontends read them; the
//! worker reads accounts and never depends on them).
use crate::instructions::FraudTarget;
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
    /// The arbiter in office.
    pub arbiter: Pubkey,
    /// The arbiter named to take over at `arbiter_change_at` (default: none pending).
    pub pending_arbiter: Pubkey,
    pub arbiter_change_at: i64,
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
    /// The market the account belongs to.
    pub market: Pubkey,
    pub operator: Pubkey,
    pub amount: u64,
    /// Stake after the deposit.
    pub stake: u64,
}

#[event]
pub struct UnstakeRequested {
    /// The market the account belongs to.
    pub market: Pubkey,
    pub operator: Pubkey,
    pub amount: u64,
    pub stake: u64,
    pub unbonding: u64,
    pub ready_at: i64,
}

#[event]
pub struct StakeWithdrawn {
    /// The market the account belongs to.
    pub market: Pubkey,
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
    /// The market the account belongs to.
    pub market: Pubkey,
    pub operator: Pubkey,
    pub capabilities: u32,
}

#[event]
pub struct OperatorExited {
    /// The market the account belongs to.
    pub market: Pubkey,
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
    /// The market the account belongs to.
    pub market: Pubkey,
    pub job: Pubkey,
    pub operator: Pubkey,
    pub slot: u8,
    pub bond: u64,
    pub state: JobState,
}

#[event]
pub struct ResultCommitted {
    /// The market the account belongs to.
    pub market: Pubkey,
    pub job: Pubkey,
    pub operator: Pubkey,
    pub slot: u8,
    pub commitment: [u8; 32],
    pub state: JobState,
}

#[event]
pub struct ResultDelivered {
    /// The market the account belongs to.
    pub market: Pubkey,
    pub job: Pubkey,
    pub operator: Pubkey,
    pub slot: u8,
    pub root: [u8; 32],
    pub state: JobState,
}

/// `finalize_job`: the job was paid out and its escrow closed.
#[event]
pub struct JobSettled {
    /// The market the account belongs to.
    pub market: Pubkey,
    pub job: Pubkey,
    pub root: [u8; 32],
    /// Credited to the operators' earnings in total.
    pub paid: u64,
    /// Accrued in the market's fee vault.
    pub fee: u64,
    /// Burned from the escrow.
    pub burned: u64,
    /// Returned to the creator (rewards of failed slots).
    pub refunded: u64,
    /// Challengers that committed and never revealed, slashed as no-shows.
    pub slashes: Vec<Slash>,
    /// Credited to the auditor whose audit found the result right (included in `paid`).
    pub audit_fee: u64,
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
    /// The slot (0..=2), or 3 + k for challenger k (in commitment order).
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
    /// The market the account belongs to.
    pub market: Pubkey,
    pub job: Pubkey,
    pub slashes: Vec<Slash>,
    /// The job's state after the timeout (Open when slots reopened, Expired when refunded).
    pub state: JobState,
    /// Returned to the creator when the job expired (its escrow is then closed).
    pub refunded: u64,
}

/// `commit_challenge`: a challenger bonded and committed (its challenge is not public yet).
#[event]
pub struct ChallengeCommitted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub challenger: Pubkey,
    /// Its place in commitment order.
    pub index: u8,
    pub bond: u64,
}

/// `reveal_challenge`: the committed challenge, opened; the job is disputed.
#[event]
pub struct ChallengeRevealed {
    pub market: Pubkey,
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub index: u8,
    pub chunk: u32,
    pub hash: [u8; 32],
}

#[event]
pub struct DisputeResolved {
    /// The market the account belongs to.
    pub market: Pubkey,
    pub job: Pubkey,
    pub honest_mask: u8,
    pub root: [u8; 32],
    pub paid: u64,
    pub fee: u64,
    pub burned: u64,
    /// Credited from the slashes to each honest party.
    pub honest_share: u64,
    /// Paid to the creator out of the slashes.
    pub compensation: u64,
    /// Burned out of the slashes (their burn share and the pool's indivisible remainder);
    /// `burned` is the reward burn.
    pub slash_burned: u64,
    /// The wrong parties, slashed.
    pub slashes: Vec<Slash>,
    /// Returned to the creator (rewards of the wrong slots); the escrow is closed.
    pub refunded: u64,
    /// Credited to the auditor whose audit was right (included in `paid`).
    pub audit_fee: u64,
}

/// `draw_audit`: the job's audit draw was made.
#[event]
pub struct AuditDrawn {
    pub market: Pubkey,
    pub job: Pubkey,
    /// Whether the job is audited (else its audit fee goes back to the creator).
    pub drawn: bool,
    /// The chunks the audit checks (empty when not drawn).
    pub chunks: Vec<u32>,
    /// The slot whose hash seeded the draw.
    pub seed_slot: u64,
    /// Auditors may commit until this time (the challenge deadline, restarted by a draw).
    pub challenge_deadline: i64,
}

/// `commit_audit`: an auditor bonded and committed to the drawn chunks' leaves.
#[event]
pub struct AuditCommitted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub auditor: Pubkey,
    /// Its place among the job's challenges.
    pub index: u8,
    pub bond: u64,
}

/// `post_audit_leaf`: the operators' leaf of one drawn chunk, proven under the agreed root.
#[event]
pub struct AuditLeafPosted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub chunk: u32,
    pub leaf: [u8; 32],
    /// Leaves posted so far, of the audit's chunks.
    pub posted: u8,
}

/// `reveal_audit`: the auditor's leaves, compared with the operators'.
#[event]
pub struct AuditRevealed {
    pub market: Pubkey,
    pub job: Pubkey,
    pub auditor: Pubkey,
    /// Every leaf matched: the auditor is paid the audit fee when the job settles.
    pub matched: bool,
    /// The first chunk whose leaves differ (a chunk challenge now disputes the job).
    pub chunk: Option<u32>,
}

/// An ended job's account was closed (`close_job`).
#[event]
pub struct JobAccountClosed {
    /// The market the account belongs to.
    pub market: Pubkey,
    pub job: Pubkey,
    pub creator: Pubkey,
    /// Settled, Expired or Cancelled.
    pub state: JobState,
    /// The account's lamports, returned to the creator.
    pub rent: u64,
}

#[event]
pub struct JobClosed {
    /// The market the account belongs to.
    pub market: Pubkey,
    pub job: Pubkey,
    /// Settled, Expired or Cancelled.
    pub state: JobState,
    /// Returned to the creator.
    pub refunded: u64,
    /// (expire) Slots past their execution timeout, slashed as no-shows.
    pub slashes: Vec<Slash>,
}

/// `expire_dispute`: the arbiter did not rule by the dispute deadline, and the job was settled
/// by the fallback (a challenged agreed root is paid as by `finalize_job` and the challenger's
/// bond released; replicas that disagreed are not paid, and the creator is refunded). Nobody
/// is slashed.
#[event]
pub struct DisputeExpired {
    pub market: Pubkey,
    pub job: Pubkey,
    /// Whether the replicas had agreed (and the job was challenged).
    pub paid_agreed_root: bool,
    pub paid: u64,
    pub fee: u64,
    pub burned: u64,
    pub refunded: u64,
}

/// `collect_fees`: the fee vault's balance went to the treasury.
#[event]
pub struct FeesCollected {
    pub market: Pubkey,
    pub treasury: Pubkey,
    pub amount: u64,
}

/// `prove_fraud`: the referee re-executed one element of a `gemm-i8` job's output and found
/// the replicas' value wrong; a `DisputeResolved` with the verdict follows.
#[event]
pub struct FraudProven {
    pub market: Pubkey,
    pub job: Pubkey,
    /// What was proven wrong: a revealed challenge of the agreed root, or a slot whose root
    /// another replica's differs from.
    pub target: FraudTarget,
    pub chunk: u32,
    /// The row within the chunk, and the output feature.
    pub row: u32,
    pub feature: u32,
    /// What the replicas delivered, and what the model gives (both 0 when the chunk was
    /// proven wrong by its size).
    pub delivered: i8,
    pub computed: i8,
    /// The delivered chunk's size, in bytes.
    pub chunk_len: u32,
    /// Every slot proven wrong so far (a slot target convicts every slot with its root); the
    /// job is settled in the same instruction once the slots left agree.
    pub convicted: u8,
}

/// A referee game was opened: the accuser (a slot whose root differs, or a challenger of the
/// agreed root) says slot `defender_slot`'s output row `row` is wrong.
#[event]
pub struct GameOpened {
    pub market: Pubkey,
    pub job: Pubkey,
    pub game: Pubkey,
    pub defender_slot: u8,
    /// A slot, or `MAX_REPLICAS` + a challenge's index.
    pub accuser_id: u8,
    pub row: u32,
}

/// How a referee game ended.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GameOutcome {
    /// The accuser proved feature `feature` of the picked layer wrong: the defender delivered
    /// `delivered`, the model gives `computed`.
    Proven {
        feature: u32,
        delivered: i8,
        computed: i8,
    },
    /// The defender did not move in time (`phase`, a `GamePhase`): convicted.
    DefenderSilent { phase: u8 },
    /// The accuser did not move in time: the accusation failed, the defender stands.
    AccuserSilent { phase: u8 },
    /// The job was no longer disputed or the defender already convicted: nothing changed.
    Moot,
}

/// A referee game ended (its account closed).
#[event]
pub struct GameEnded {
    pub market: Pubkey,
    pub job: Pubkey,
    pub game: Pubkey,
    pub defender_slot: u8,
    pub accuser_id: u8,
    pub row: u32,
    /// The layer the accuser picked (0 if it never did).
    pub layer: u8,
    pub outcome: GameOutcome,
    /// Every slot convicted so far; `settle_referee` settles the job once the rest agree.
    pub convicted: u8,
}
