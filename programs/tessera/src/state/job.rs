use crate::constants::{MAX_AUDIT_CHUNKS, MAX_CHALLENGERS, MAX_REPLICAS, MAX_URI_LEN};
use crate::error::TesseraError;
use crate::math::{add_time, bond_for};
use crate::state::MarketParams;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
#[repr(u8)]
pub enum JobState {
    /// At least one replica slot is free.
    Open,
    /// Every slot is taken; results are being computed.
    Claimed,
    /// (replicas ≥ 2) every live slot has committed; reveals are due by `reveal_deadline`.
    Committed,
    /// Every live slot delivered the same root; challengeable until `challenge_deadline`.
    Revealed,
    /// Roots differ or a challenge was posted; waits for the arbiter.
    Disputed,
    /// Paid out (terminal).
    Settled,
    /// Could not be completed; the creator was refunded (terminal).
    Expired,
    /// Cancelled by the creator before any claim (terminal).
    Cancelled,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
#[repr(u8)]
pub enum SlotStatus {
    /// Free to claim.
    Empty,
    /// Claimed; result not yet submitted or committed.
    Claimed,
    /// Commitment posted (replicas ≥ 2).
    Committed,
    /// Root delivered (submitted or revealed).
    Revealed,
    /// Missed its deadline after the job could no longer be reopened; its reward goes back to
    /// the creator.
    Failed,
}

/// A URI stored in an account: UTF-8, NUL-padded to `MAX_URI_LEN` bytes (URIs hold no NUL).
pub type UriBytes = [u8; MAX_URI_LEN as usize];

/// A URI an instruction may store: 1..=`MAX_URI_LEN` bytes, no NUL.
pub fn check_uri(uri: &str) -> Result<()> {
    require!(
        !uri.is_empty() && uri.len() <= MAX_URI_LEN as usize && !uri.as_bytes().contains(&0),
        TesseraError::BadUri
    );
    Ok(())
}

/// Packs `uri` (already checked: 1..=`MAX_URI_LEN` bytes, no NUL) into its stored form.
pub fn pack_uri(uri: &str) -> UriBytes {
    let mut out = [0u8; MAX_URI_LEN as usize];
    out[..uri.len()].copy_from_slice(uri.as_bytes());
    out
}

/// The stored URI as text ("" when empty; lossy only if the bytes were not written by the
/// program).
pub fn unpack_uri(bytes: &UriBytes) -> &str {
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    std::str::from_utf8(&bytes[..len]).unwrap_or("")
}

/// One replica of a job. Zero-copy (`repr(C)`, every byte a named field).
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The operator account (PDA) holding the slot; default when empty.
    pub operator: Pubkey,
    /// When the slot was claimed (unix seconds).
    pub claimed_at: i64,
    /// Stake locked by this claim.
    pub bond: u64,
    /// sha256(root ‖ operator ‖ salt) (replicas ≥ 2).
    pub commitment: [u8; 32],
    /// The delivered Merkle root of the output.
    pub root: [u8; 32],
    /// Where the output chunks are stored (see `unpack_uri`).
    pub output_uri: UriBytes,
    /// A `SlotStatus`.
    pub status: u8,
    pub padding: [u8; 7],
}

impl Assignment {
    pub fn empty() -> Self {
        Self {
            operator: Pubkey::default(),
            claimed_at: 0,
            bond: 0,
            commitment: [0; 32],
            root: [0; 32],
            output_uri: [0; MAX_URI_LEN as usize],
            status: SlotStatus::Empty as u8,
            padding: [0; 7],
        }
    }

    pub fn status(&self) -> SlotStatus {
        SlotStatus::from_u8(self.status)
    }

    pub fn set_status(&mut self, status: SlotStatus) {
        self.status = status as u8;
    }

    pub fn output_uri(&self) -> &str {
        unpack_uri(&self.output_uri)
    }

    /// The slot holds a live claim (its operator's bond is locked).
    pub fn is_live(&self) -> bool {
        matches!(
            self.status(),
            SlotStatus::Claimed | SlotStatus::Committed | SlotStatus::Revealed
        )
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
#[repr(u8)]
pub enum ChallengeStatus {
    /// No challenge in this place.
    Empty,
    /// Committed (`sha256(chunk ‖ hash ‖ operator_leaf ‖ challenger ‖ salt)`), bonded; the
    /// challenge itself is due by the challenge reveal deadline.
    Committed,
    /// Revealed and checked: the job is disputed.
    Revealed,
    /// (an audit) Revealed and found the operators' leaves right: its auditor is paid the audit
    /// fee when the job settles.
    Audited,
}

/// What a place among a job's challenges holds.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
#[repr(u8)]
pub enum ChallengeKind {
    /// A verifier's challenge (`commit_challenge`).
    Challenge,
    /// The job's audit (`commit_audit`): committed to the drawn chunks' leaves; a mismatch
    /// turns it into a chunk challenge.
    Audit,
}

/// Where a job stands with its audit draw.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
#[repr(u8)]
pub enum AuditState {
    /// The job's market did not audit when it was created.
    None,
    /// Waiting for the draw (`draw_audit`) once the results are in.
    Pending,
    /// Drawn and not audited: the audit fee goes back to the creator.
    Skipped,
    /// Drawn for an audit of `Job::audit_chunks`.
    Drawn,
}

impl AuditState {
    /// The state stored as `byte` (an unknown value reads as `None`).
    pub fn from_u8(byte: u8) -> Self {
        match byte {
            1 => AuditState::Pending,
            2 => AuditState::Skipped,
            3 => AuditState::Drawn,
            _ => AuditState::None,
        }
    }
}

/// A verifier's challenge of a revealed result. A job takes up to `MAX_CHALLENGERS`, kept in
/// the order they were committed: a challenge is committed first (so nobody can copy it) and
/// revealed later, and the first revealed challenge the arbiter upholds wins the honest share.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The challenger's operator account; default when there is no challenge.
    pub challenger: Pubkey,
    /// Stake the challenger locked.
    pub bond: u64,
    /// The challenged chunk, or `WHOLE_ROOT` (once revealed).
    pub chunk: u32,
    /// A `ChallengeStatus`.
    pub status: u8,
    /// A `ChallengeKind`.
    pub kind: u8,
    /// (an audit) How many of the drawn chunks' operator leaves have been posted.
    pub leaves_posted: u8,
    pub padding: [u8; 1],
    /// What the challenger committed to.
    pub commitment: [u8; 32],
    /// The challenger's root (whole) or leaf hash (chunk), once revealed.
    pub hash: [u8; 32],
    /// The operators' leaf at `chunk`, proven under the agreed root (chunk challenges).
    pub operator_leaf: [u8; 32],
}

impl Challenge {
    pub fn none() -> Self {
        Self {
            challenger: Pubkey::default(),
            bond: 0,
            chunk: 0,
            status: ChallengeStatus::Empty as u8,
            kind: ChallengeKind::Challenge as u8,
            leaves_posted: 0,
            padding: [0; 1],
            commitment: [0; 32],
            hash: [0; 32],
            operator_leaf: [0; 32],
        }
    }

    pub fn status(&self) -> ChallengeStatus {
        match self.status {
            1 => ChallengeStatus::Committed,
            2 => ChallengeStatus::Revealed,
            3 => ChallengeStatus::Audited,
            _ => ChallengeStatus::Empty,
        }
    }

    pub fn is_audit(&self) -> bool {
        self.kind == ChallengeKind::Audit as u8
    }

    pub fn is_revealed(&self) -> bool {
        self.status() == ChallengeStatus::Revealed
    }

    /// What a challenger commits to: `sha256(chunk (u32 LE) ‖ hash ‖ operator_leaf ‖
    /// challenger ‖ salt)`. Bound to the challenger's operator account, so a copied commitment
    /// is worthless to anyone else.
    pub fn commitment_of(
        chunk: u32,
        hash: &[u8; 32],
        operator_leaf: &[u8; 32],
        challenger: &Pubkey,
        salt: &[u8; 32],
    ) -> [u8; 32] {
        tessera_merkle::challenge_commitment(
            chunk,
            hash,
            operator_leaf,
            &challenger.to_bytes(),
            salt,
        )
    }
}

/// The terms a job was created under: the market's rates and windows and its arbiter at that
/// moment. Settlement reads these, never the market's current values, so that nothing the
/// admin changes later touches a job already posted.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct JobTerms {
    /// Rules on this job's disputes (the market's arbiter when the job was created).
    pub arbiter: Pubkey,
    pub reveal_window: i64,
    pub challenge_window: i64,
    pub dispute_window: i64,
    /// Locked per claim or challenge (`collateral_bps` of the reward, rounded up; never 0).
    pub bond: u64,
    pub protocol_fee_bps: u16,
    pub burn_bps: u16,
    pub slash_no_show_bps: u16,
    pub slash_fraud_bps: u16,
    pub creator_compensation_bps: u16,
    pub honest_share_bps: u16,
    /// Share of jobs audited (`MarketParams::audit_rate_bps`; 0: this job is not audited).
    pub audit_rate_bps: u16,
    /// Chunks an audit of this job recomputes (`MarketParams::audit_chunks`).
    pub audit_chunks: u8,
    pub padding: [u8; 1],
}

impl JobTerms {
    /// All zero (a job account before `create_job` writes it; test fixtures).
    pub fn none() -> Self {
        Self {
            arbiter: Pubkey::default(),
            reveal_window: 0,
            challenge_window: 0,
            dispute_window: 0,
            bond: 0,
            protocol_fee_bps: 0,
            burn_bps: 0,
            slash_no_show_bps: 0,
            slash_fraud_bps: 0,
            creator_compensation_bps: 0,
            honest_share_bps: 0,
            audit_rate_bps: 0,
            audit_chunks: 0,
            padding: [0; 1],
        }
    }

    /// The market's terms at `now` for a job paying `reward` per replica.
    pub fn snapshot(params: &MarketParams, arbiter: Pubkey, reward: u64) -> Result<Self> {
        Ok(Self {
            arbiter,
            reveal_window: params.reveal_window,
            challenge_window: params.challenge_window,
            dispute_window: params.dispute_window,
            bond: bond_for(reward, params.collateral_bps)?,
            protocol_fee_bps: params.protocol_fee_bps,
            burn_bps: params.burn_bps,
            slash_no_show_bps: params.slash_no_show_bps,
            slash_fraud_bps: params.slash_fraud_bps,
            creator_compensation_bps: params.creator_compensation_bps,
            honest_share_bps: params.honest_share_bps,
            audit_rate_bps: params.audit_rate_bps,
            audit_chunks: params.audit_chunks,
            padding: [0; 1],
        })
    }
}

/// What an operator vetted before claiming, carried by `claim_job`: a job re-created at the
/// same address with other terms (or a bond changed by the market) refuses the claim.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimTerms {
    pub input_hash: [u8; 32],
    pub reward_per_replica: u64,
    pub exec_timeout: i64,
    pub chunk_count: u32,
    /// The most stake the claim may bond.
    pub max_bond: u64,
}

/// A compute job: `["job", market, creator, job_id]`. Its escrow is `["escrow", job]`.
///
/// Zero-copy: instructions read and write it in place instead of decoding and re-encoding its
/// 1.3 KB. Fields are ordered so that `repr(C)` leaves no implicit padding, which makes the
/// layout the same as the IDL's field-by-field encoding.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Job {
    pub market: Pubkey,
    pub creator: Pubkey,
    /// The job's escrow token account (`["escrow", job]`), kept so settlements check it by key.
    pub escrow: Pubkey,
    /// Chosen by the creator; unique per (market, creator).
    pub job_id: u64,
    /// Paid to each replica on success.
    pub reward_per_replica: u64,
    pub created_at: i64,
    /// After this, no claim is accepted and an unfilled job can be expired.
    pub claim_deadline: i64,
    /// Seconds a replica has from its claim to submit or commit.
    pub exec_timeout: i64,
    /// Reveals are due by this time (set when every live slot has committed).
    pub reveal_deadline: i64,
    /// Challenges are accepted until this time (set when the results are in).
    pub challenge_deadline: i64,
    /// The arbiter may rule until this time (set when the job becomes Disputed); after it
    /// anyone may settle the job with `expire_dispute`.
    pub dispute_deadline: i64,
    /// Number of output chunks (Merkle leaves).
    pub chunk_count: u32,
    /// Kernel id (see the kernel registry); bit `kernel` of an operator's capabilities.
    pub kernel: u8,
    /// Number of independent replicas (1..=3).
    pub replicas: u8,
    /// A `JobState`.
    pub state: u8,
    pub bump: u8,
    /// Small kernel parameters (meaning defined by the kernel).
    pub kernel_params: [u8; 32],
    /// sha256 of the input blob.
    pub input_hash: [u8; 32],
    /// The root every live replica delivered (or the arbiter upheld).
    pub agreed_root: [u8; 32],
    /// Where the input blob is stored (see `unpack_uri`).
    pub input_uri: UriBytes,
    /// One per replica; only the first `replicas` are used.
    pub assignments: [Assignment; MAX_REPLICAS as usize],
    /// Challenges in the order they were committed.
    pub challenges: [Challenge; MAX_CHALLENGERS as usize],
    /// The market's terms when the job was created.
    pub terms: JobTerms,
    /// Slots the referee has proven wrong (bit `i` = slot `i`) while replicas that disagreed
    /// still do: settled once the slots left agree (see `prove_fraud`).
    pub convicted: u8,
    /// Referee games (`open_game`) of this job not yet ended: the dispute cannot expire while
    /// one is being played.
    pub open_games: u8,
    /// Every (defender slot, accuser) pair that has opened a game (bit `6 · defender +
    /// accuser id`, little-endian; see [`Job::game_played`]): a pair plays at most one game
    /// per job.
    pub games_played: [u8; 4],
    /// Challengers (bit `i` = challenge `i`) whose game convicted a slot: the honest parties
    /// of a challenged job the referee settles.
    pub challenge_wins: u8,
    /// An `AuditState`.
    pub audit_state: u8,
    /// The audit fee escrowed with the rewards (`audit_fee_bps` of one reward; 0 when the job
    /// is not audited).
    pub audit_fee: u64,
    /// The slot in which the results came in (the job became Revealed): the audit draw uses
    /// the hash of the first slot after it, which nobody knew when the results were posted.
    pub revealed_slot: u64,
    /// The chunks the audit checks, in draw order (the first `audit_chunk_count`).
    pub audit_chunks: [u32; MAX_AUDIT_CHUNKS as usize],
    pub audit_chunk_count: u8,
    /// The operators' leaves of the audited chunks, in draw order, as posted and proven under
    /// the agreed root (`post_audit_leaf`); the first `leaves_posted` of the audit's.
    pub audit_leaves: [[u8; 32]; MAX_AUDIT_CHUNKS as usize],
    pub reserved: [u8; 23],
}

/// Account size of a job, discriminator included.
pub const JOB_SPACE: usize = 8 + std::mem::size_of::<Job>();

impl JobState {
    /// Settled, expired or cancelled: nothing more happens to the job, its escrow is closed and
    /// every bond released, and its creator may close its account.
    pub fn has_ended(self) -> bool {
        matches!(
            self,
            JobState::Settled | JobState::Expired | JobState::Cancelled
        )
    }

    /// The state stored as `byte` (only the program writes it; an unknown value reads as
    /// `Expired`, which no instruction acts on).
    pub fn from_u8(byte: u8) -> Self {
        const ALL: [JobState; 8] = [
            JobState::Open,
            JobState::Claimed,
            JobState::Committed,
            JobState::Revealed,
            JobState::Disputed,
            JobState::Settled,
            JobState::Expired,
            JobState::Cancelled,
        ];
        ALL.get(byte as usize).copied().unwrap_or(JobState::Expired)
    }
}

impl SlotStatus {
    /// The status stored as `byte` (an unknown value reads as `Failed`, which no instruction
    /// acts on).
    pub fn from_u8(byte: u8) -> Self {
        const ALL: [SlotStatus; 5] = [
            SlotStatus::Empty,
            SlotStatus::Claimed,
            SlotStatus::Committed,
            SlotStatus::Revealed,
            SlotStatus::Failed,
        ];
        ALL.get(byte as usize)
            .copied()
            .unwrap_or(SlotStatus::Failed)
    }
}

impl Job {
    pub fn state(&self) -> JobState {
        JobState::from_u8(self.state)
    }

    pub fn set_state(&mut self, state: JobState) {
        self.state = state as u8;
    }

    pub fn input_uri(&self) -> &str {
        unpack_uri(&self.input_uri)
    }

    pub fn slots(&self) -> &[Assignment] {
        &self.assignments[..self.replicas as usize]
    }

    pub fn slots_mut(&mut self) -> &mut [Assignment] {
        &mut self.assignments[..self.replicas as usize]
    }

    /// Index of the slot held by `operator`.
    pub fn slot_of(&self, operator: &Pubkey) -> Option<usize> {
        self.slots()
            .iter()
            .position(|a| a.status() != SlotStatus::Empty && a.operator == *operator)
    }

    /// Slots whose operator accounts settlement instructions take, in order.
    pub fn settlement_slots(&self) -> impl Iterator<Item = (usize, &Assignment)> {
        self.slots().iter().enumerate().filter(|(_, a)| a.is_live())
    }

    /// The challenges posted (committed or revealed), in commitment order, with their index.
    pub fn challengers(&self) -> impl Iterator<Item = (usize, &Challenge)> {
        self.challenges
            .iter()
            .enumerate()
            .filter(|(_, c)| c.status() != ChallengeStatus::Empty)
    }

    /// Whether anyone committed a challenge.
    pub fn has_challenge(&self) -> bool {
        self.challengers().next().is_some()
    }

    /// The challenger's place among the challenges, if it posted one.
    pub fn challenge_of(&self, challenger: &Pubkey) -> Option<usize> {
        self.challengers()
            .find(|(_, c)| c.challenger == *challenger)
            .map(|(i, _)| i)
    }

    /// Committed challenges must be revealed by this time: the job's reveal window after the
    /// challenge window.
    pub fn challenge_reveal_deadline(&self) -> Result<i64> {
        add_time(self.challenge_deadline, self.terms.reveal_window)
    }

    pub fn audit_state(&self) -> AuditState {
        AuditState::from_u8(self.audit_state)
    }

    /// The chunks the audit checks, in draw order.
    pub fn audited_chunks(&self) -> &[u32] {
        &self.audit_chunks[..self.audit_chunk_count as usize]
    }

    /// The audit's place among the challenges, once an auditor has committed.
    pub fn audit_index(&self) -> Option<usize> {
        self.challengers()
            .find(|(_, c)| c.is_audit())
            .map(|(i, _)| i)
    }

    /// The auditor must reveal by this time: the job's reveal window after the challenge reveal
    /// deadline, by which the operators' leaves are due.
    pub fn audit_reveal_deadline(&self) -> Result<i64> {
        add_time(self.challenge_reveal_deadline()?, self.terms.reveal_window)
    }

    /// Every party of a settlement, in the order settling instructions take their operator
    /// accounts: the live slots in slot order, then the challengers in commitment order.
    pub fn party_keys(&self) -> Vec<Pubkey> {
        self.settlement_slots()
            .map(|(_, a)| a.operator)
            .chain(self.challengers().map(|(_, c)| c.challenger))
            .collect()
    }

    /// Deadline of slot `i` at time of call, or None if it is not waiting on its operator.
    pub fn slot_deadline(&self, i: usize) -> Result<Option<i64>> {
        let a = &self.assignments[i];
        Ok(match a.status() {
            SlotStatus::Claimed => Some(add_time(a.claimed_at, self.exec_timeout)?),
            SlotStatus::Committed if self.state() == JobState::Committed => {
                Some(self.reveal_deadline)
            }
            _ => None,
        })
    }

    /// What a claim must carry to be accepted on this job as it is now.
    pub fn claim_terms(&self) -> ClaimTerms {
        ClaimTerms {
            input_hash: self.input_hash,
            reward_per_replica: self.reward_per_replica,
            exec_timeout: self.exec_timeout,
            chunk_count: self.chunk_count,
            max_bond: self.terms.bond,
        }
    }

    /// Refuses a claim whose vetted terms differ from this job's.
    pub fn require_claim_terms(&self, vetted: &ClaimTerms) -> Result<()> {
        let now = self.claim_terms();
        require!(
            vetted.input_hash == now.input_hash
                && vetted.reward_per_replica == now.reward_per_replica
                && vetted.exec_timeout == now.exec_timeout
                && vetted.chunk_count == now.chunk_count
                && now.max_bond <= vetted.max_bond,
            TesseraError::TermsChanged
        );
        Ok(())
    }

    /// Recomputes `state` from the slots after a slot changed, at time `now` and slot `slot`.
    /// Sets the reveal, challenge and dispute deadlines when a phase begins (from the job's own
    /// terms), and the slot the results came in. Returns the new state.
    pub fn advance(&mut self, now: i64, slot: u64) -> Result<JobState> {
        let (reveal_window, challenge_window, dispute_window) = (
            self.terms.reveal_window,
            self.terms.challenge_window,
            self.terms.dispute_window,
        );
        let slots = self.slots();
        let any = |s: SlotStatus| slots.iter().any(|a| a.status() == s);
        let next = if any(SlotStatus::Empty) {
            JobState::Open
        } else if any(SlotStatus::Claimed) {
            JobState::Claimed
        } else if any(SlotStatus::Committed) {
            JobState::Committed
        } else {
            let mut roots = slots
                .iter()
                .filter(|a| a.status() == SlotStatus::Revealed)
                .map(|a| a.root);
            match roots.next() {
                None => JobState::Expired,
                Some(first) if roots.all(|r| r == first) => {
                    self.agreed_root = first;
                    JobState::Revealed
                }
                Some(_) => JobState::Disputed,
            }
        };
        if next != self.state() {
            match next {
                JobState::Committed => self.reveal_deadline = add_time(now, reveal_window)?,
                JobState::Revealed => {
                    self.challenge_deadline = add_time(now, challenge_window)?;
                    self.revealed_slot = slot;
                }
                JobState::Disputed => self.dispute_deadline = add_time(now, dispute_window)?,
                _ => {}
            }
        }
        self.set_state(next);
        Ok(next)
    }

    /// The bit of a game between slot `defender` and accuser `accuser_id` (a slot, or
    /// `MAX_REPLICAS` + a challenge's index) in `games_played`.
    fn game_bit(defender: u8, accuser_id: u8) -> u32 {
        debug_assert!(defender < MAX_REPLICAS && accuser_id < MAX_REPLICAS + MAX_CHALLENGERS);
        1 << (defender as u32 * (MAX_REPLICAS + MAX_CHALLENGERS) as u32 + accuser_id as u32)
    }

    /// Whether slot `defender` and accuser `accuser_id` have opened their game.
    pub fn game_played(&self, defender: u8, accuser_id: u8) -> bool {
        u32::from_le_bytes(self.games_played) & Self::game_bit(defender, accuser_id) != 0
    }

    pub fn mark_game_played(&mut self, defender: u8, accuser_id: u8) {
        let played = u32::from_le_bytes(self.games_played) | Self::game_bit(defender, accuser_id);
        self.games_played = played.to_le_bytes();
    }

    pub fn require_state(&self, state: JobState) -> Result<()> {
        require!(self.state() == state, TesseraError::WrongJobState);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: [JobState; 8] = [
        JobState::Open,
        JobState::Claimed,
        JobState::Committed,
        JobState::Revealed,
        JobState::Disputed,
        JobState::Settled,
        JobState::Expired,
        JobState::Cancelled,
    ];

    #[test]
    fn states_and_statuses_round_trip_through_their_bytes() {
        for s in STATES {
            assert_eq!(JobState::from_u8(s as u8), s);
        }
        assert_eq!(JobState::from_u8(8), JobState::Expired);
        for s in [
            SlotStatus::Empty,
            SlotStatus::Claimed,
            SlotStatus::Committed,
            SlotStatus::Revealed,
            SlotStatus::Failed,
        ] {
            assert_eq!(SlotStatus::from_u8(s as u8), s);
        }
        assert_eq!(SlotStatus::from_u8(u8::MAX), SlotStatus::Failed);
    }

    #[test]
    fn only_settled_expired_and_cancelled_jobs_have_ended() {
        let ended: Vec<JobState> = STATES.into_iter().filter(|s| s.has_ended()).collect();
        assert_eq!(
            ended,
            [JobState::Settled, JobState::Expired, JobState::Cancelled]
        );
    }

    #[test]
    fn uris_pack_and_unpack() {
        assert_eq!(unpack_uri(&pack_uri("s3://b/x")), "s3://b/x");
        let full = "u".repeat(MAX_URI_LEN as usize);
        assert_eq!(unpack_uri(&pack_uri(&full)), full);
        assert!(check_uri("").is_err());
        assert!(check_uri(&format!("{full}u")).is_err());
        assert!(check_uri("a\0b").is_err());
        assert!(check_uri("é").is_ok());
    }
}
