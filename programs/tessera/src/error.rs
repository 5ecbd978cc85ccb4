//! The program's errors. Append-only: codes are part of the interface.
use anchor_lang::prelude::*;

#[error_code]
pub enum TesseraError {
    #[msg("A basis-point value exceeds 10 000 (100 %); use a value between 0 and 10 000.")]
    BpsTooLarge,
    #[msg("protocol_fee_bps + burn_bps exceeds 2 000 (20 %); lower the fee or the burn.")]
    FeeAndBurnTooLarge,
    #[msg("creator_compensation_bps + honest_share_bps exceeds 10 000; lower one of them.")]
    SlashSplitTooLarge,
    #[msg("max_replicas must be between 1 and 3.")]
    BadMaxReplicas,
    #[msg("Every window and period must be longer than zero seconds.")]
    BadWindow,
    #[msg("An arithmetic operation overflowed; the amounts involved are too large.")]
    MathOverflow,
    #[msg("The market is paused; wait until the admin resumes it.")]
    MarketPaused,
    #[msg("Only the market admin may do this; sign with the admin keypair.")]
    NotAdmin,
    #[msg("Only the market arbiter may resolve disputes; sign with the arbiter keypair.")]
    NotArbiter,
    #[msg("The token account does not belong to the market's mint; pass an account of that mint.")]
    WrongMint,
    #[msg("The treasury account does not match the market's treasury.")]
    WrongTreasury,
    #[msg("The amount must be greater than zero.")]
    ZeroAmount,
    #[msg("The operator is not active (exiting or banned); it cannot take new work.")]
    OperatorNotActive,
    #[msg("Not enough free stake: deposit more stake or wait until live claims settle.")]
    InsufficientFreeStake,
    #[msg("The operator's stake is below the market minimum; deposit more stake first.")]
    StakeBelowMinimum,
    #[msg("The unbonding period has not ended yet; try again after the ready time.")]
    UnbondingNotReady,
    #[msg("There is nothing to withdraw: no earnings, and no unbonded stake; request an unstake first.")]
    NothingToWithdraw,
    #[msg("The operator still has bonded stake in live claims; wait until they settle.")]
    OperatorHasBonds,
    #[msg("The operator lacks the capability for this job's kernel; update its capabilities.")]
    MissingCapability,
    #[msg("The kernel id names no kernel (render 1, gemm-i8 2, mlp-i8 3, benchmark 4); no worker could claim the job.")]
    BadKernel,
    #[msg("The number of replicas is zero or above the market's max_replicas.")]
    BadReplicas,
    #[msg("The reward per replica is below the market's minimum.")]
    RewardTooLow,
    #[msg("The URI is empty or longer than 128 bytes.")]
    BadUri,
    #[msg("chunk_count must be between 1 and 2^20.")]
    BadChunkCount,
    #[msg("The claim deadline must be in the future, and at most 30 days away.")]
    BadClaimDeadline,
    #[msg("exec_timeout must be greater than zero and at most the market's max_exec_timeout.")]
    BadExecTimeout,
    #[msg("The job is not in the state this instruction needs.")]
    WrongJobState,
    #[msg("The claim deadline has passed; the job can no longer be claimed.")]
    ClaimDeadlinePassed,
    #[msg("Every replica slot of this job is taken.")]
    JobFull,
    #[msg("This operator already holds a slot of this job.")]
    AlreadyClaimed,
    #[msg("The signer holds no slot of this job.")]
    NotAssigned,
    #[msg("This slot is not in the state this instruction needs (already submitted, committed or revealed?).")]
    WrongSlotState,
    #[msg("Use commit_result and reveal_result for jobs with two or more replicas.")]
    UseCommitReveal,
    #[msg("Use submit_result for jobs with one replica.")]
    UseSubmit,
    #[msg("The execution timeout of this slot has passed; the result is too late.")]
    ExecTimeoutPassed,
    #[msg("The reveal window has closed.")]
    RevealWindowClosed,
    #[msg("The revealed root and salt do not match the commitment.")]
    CommitmentMismatch,
    #[msg("The challenge window is still open; finalize after it closes.")]
    ChallengeWindowOpen,
    #[msg("The challenge window has closed.")]
    ChallengeWindowClosed,
    #[msg("Nothing is late yet; timeout can be called only after the deadline.")]
    NotLate,
    #[msg("The claim deadline has not passed yet; the job can still be claimed.")]
    NotExpired,
    #[msg("The job already has claims; it can no longer be cancelled.")]
    JobHasClaims,
    #[msg("Only the job's creator may do this.")]
    NotCreator,
    #[msg("Wrong or missing operator accounts: pass the operator account of every live slot (then the challenger's), in slot order, writable.")]
    WrongOperatorAccounts,
    #[msg("The payout account is not the operator's registered payout account (no longer raised: rewards are credited to the operator's earnings).")]
    WrongPayout,
    #[msg("The creator token account is not owned by the job's creator.")]
    WrongCreatorAccount,
    #[msg("An operator of this job cannot challenge it.")]
    SelfChallenge,
    #[msg("The job was already challenged.")]
    AlreadyChallenged,
    #[msg("The Merkle proof does not show this leaf under the committed root.")]
    BadMerkleProof,
    #[msg("The challenge agrees with the committed result; there is nothing to dispute.")]
    ChallengeAgrees,
    #[msg("The verdict names a party that did not take part in the dispute.")]
    BadVerdict,
    #[msg("The slot index is out of range.")]
    BadSlot,
    #[msg("An account's balance does not match what the program owes; refusing to continue.")]
    InvariantViolated,
    #[msg("The signer is not this operator's authority; sign with the operator's keypair.")]
    NotOperatorAuthority,
    #[msg("The account belongs to another market; pass the accounts of this market.")]
    WrongMarket,
    #[msg("The escrow account is not this job's escrow.")]
    WrongEscrow,
    #[msg("The mint has a Token-2022 extension the market cannot work with (close authority, transfer fee, hook, permanent delegate, confidential transfers, default frozen state, non-transferable, pausable).")]
    UnsupportedMintExtension,
    #[msg("A window or period is longer than the market allows (at most 30 days).")]
    WindowTooLong,
    #[msg("The stake vault is not this market's stake vault.")]
    WrongStakeVault,
    #[msg(
        "The job has not ended: only a settled, expired or cancelled job's account can be closed."
    )]
    JobNotEnded,
    #[msg("collateral_bps must be between 1 and 50 000 (a bond of 0.01 % to 5× the reward): a claim always bonds stake.")]
    BadCollateral,
    #[msg("The job's terms differ from those the operator vetted (input, reward, timeout, bond or chunks); re-read the job before claiming.")]
    TermsChanged,
    #[msg("The operator still holds live claims or challenges; wait until they settle.")]
    OperatorHasLiveClaims,
    #[msg("exec_timeout is shorter than the market minimum for this many chunks (min_exec_timeout + chunk_count × min_exec_ms_per_chunk / 1000).")]
    ExecTimeoutTooShort,
    #[msg("The dispute deadline has not passed yet; the arbiter may still rule.")]
    DisputeOpen,
    #[msg("The dispute deadline has passed; the dispute can only be expired now.")]
    DisputeDeadlinePassed,
    #[msg("Tokens go to the creator in this settlement: pass the creator's token account (create its associated token account first if it was closed).")]
    CreatorTokenAccountRequired,
    #[msg("The fee vault is not this market's fee vault.")]
    WrongFeeVault,
    #[msg("No longer returned: a market may have no arbiter (the default key), and then takes only the jobs the referee rules.")]
    BadArbiter,
    #[msg("The treasury must not be one of the market's own vaults.")]
    BadTreasury,
    #[msg("There are no accrued fees to collect.")]
    NoFees,
    #[msg("The job already has the most challenges it takes (3).")]
    TooManyChallenges,
    #[msg("A committed challenge may still be revealed; wait for the challenge reveal deadline.")]
    ChallengeRevealOpen,
    #[msg("The referee rules gemm-i8 jobs whose replicas agreed and were challenged on a chunk, and gemm-i8 or mlp-i8 jobs whose replicas disagree (against a slot not yet convicted, in a game that still matters); this dispute is the arbiter's.")]
    NotRefereeable,
    #[msg("The model header and roots do not hash to the job's model root (its kernel_params).")]
    BadModelCommitment,
    #[msg("The staged rows or their Merkle proofs do not match what the job committed to.")]
    BadFraudProof,
    #[msg("The operators' value is the one the model gives: there is no fraud to prove.")]
    NoFraud,
    #[msg("Only the buffer's authority may write or close it.")]
    NotBufferAuthority,
    #[msg("The bytes do not fit in the buffer.")]
    BufferOverflow,
    #[msg("The market has no arbiter: it takes only jobs whose disputes the program settles itself (gemm-i8 and mlp-i8).")]
    KernelNeedsArbiter,
    #[msg("These two slots have already played their game in this job.")]
    GamePlayed,
    #[msg("The game waits for another move.")]
    WrongGamePhase,
    #[msg("Only the party whose move it is may make it (the defender's or the accuser's operator authority).")]
    NotGameParty,
    #[msg("The move's deadline has passed: the game can only be ended now.")]
    GameMoveLate,
    #[msg("The game is not this job's, or the rows buffer is not the game's.")]
    WrongGame,
    #[msg("The rows do not hash to the defender's chain (or the chain has the wrong length, or the chunk is not under its root).")]
    BadChain,
    #[msg("The layer must be between 1 and the model's layer count.")]
    BadLayer,
    #[msg("The party to move still has time: the game is not over.")]
    GameNotOver,
    #[msg("The slots not convicted still disagree: the referee cannot settle the job yet.")]
    SlotsStillDisagree,
    #[msg("Referee games are still being played on this job; end them first.")]
    GamesOpen,
    #[msg("Audit parameters: a market that audits (audit_rate_bps 1..=10000) pays a fee (audit_fee_bps 1..=10000) and checks 1..=4 chunks; one that does not sets all three to 0.")]
    BadAuditParams,
    #[msg("The job is not waiting for its audit draw (its market does not audit, or the draw was made).")]
    NoAuditDraw,
    #[msg(
        "The audit draw needs the hash of a slot after the one the results came in; wait a slot."
    )]
    AuditNotReady,
    #[msg("The job's audit draw is still to be made, or its audit is already taken.")]
    NotAuditable,
    #[msg("The instruction is for the job's audit: the auditor has not committed, or this is not the audit.")]
    NoAudit,
    #[msg("Every drawn chunk's leaf has been posted, or none may be yet.")]
    AuditLeavesDone,
    #[msg("The operators' leaves of the audited chunks are not all posted yet.")]
    AuditLeavesMissing,
    #[msg("The audit is still under way: wait for its reveal deadline.")]
    AuditOpen,
    #[msg("The leaves do not match the audit's commitment or the leaves posted.")]
    AuditMismatch,
    #[msg("A volunteer audit (a job not drawn) names 1..=4 distinct chunks of the job; the audit of a drawn job names none (the draw chose them).")]
    BadAuditChunks,
}
