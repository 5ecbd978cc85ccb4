//! The policy: what to do next about one job ([`decide`]), read from the job on chain, the
//! worker's own record of it and its [`Situation`]. Pure, so that every rule is tested on its
//! own; [`crate::node`] runs what it decides and [`crate::steps`] holds the steps themselves.
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use tessera_client::constants::{MAX_REPLICAS, WHOLE_ROOT};
use tessera_client::state::{AuditState, ChallengeStatus, Job, JobState, SlotStatus};
use tessera_kernels::KernelId;

use crate::db::JobRecord;

/// The next step for one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Fetch and check the input, then claim a free slot.
    Claim,
    /// Compute the claimed job and store the output.
    Compute,
    /// Deliver the root (1 replica).
    Submit,
    /// Commit to the root (≥ 2 replicas).
    Commit,
    /// Reveal the committed root.
    Reveal,
    /// Crank: pay out a revealed job after its challenge window.
    Finalize,
    /// Crank: slash late slots.
    Timeout,
    /// Crank: refund an unfilled job after its claim deadline.
    Expire,
    /// Verifier: recompute sampled chunks of another operator's revealed result (and commit
    /// a challenge when they differ).
    Verify,
    /// Verifier: reveal the challenge this worker committed.
    RevealChallenge,
    /// Draw whether a job whose results are in is audited (a market that audits).
    DrawAudit,
    /// Auditor: recompute the drawn chunks of another operator's result and commit to them.
    Audit,
    /// Replica of an audited job: post its leaves of the drawn chunks, with their proofs.
    PostAuditLeaves,
    /// Auditor: reveal the audit this worker committed.
    RevealAudit,
    /// Crank: convict the replicas of an audited job that did not post their leaves in time.
    ConvictWithheld,
    /// Verifier: prove its revealed chunk challenge of a `gemm-i8` job to the on-chain referee
    /// (no arbiter needed).
    ProveFraud,
    /// Replica of an `mlp-i8` job whose replicas disagree: one move in the referee's games
    /// (open one, defend, accuse, end a late one, settle; `crate::game`).
    Referee,
    /// Arbiter: recompute the whole output of a disputed job and post the verdict.
    Resolve,
    /// Stop delivering a claimed job the program no longer accepts a delivery for, and record
    /// why; the job is never claimed again.
    GiveUp(GiveUp),
}

/// Why a claimed job's delivery is given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// The slot's `claimed_at + exec_timeout` has passed: a submit or commit would fail with
    /// `ExecTimeoutPassed`.
    ExecTimeout,
    /// The reveal deadline has passed: a reveal would fail with `RevealWindowClosed`.
    RevealClosed,
    /// The slot is no longer this operator's: it was timed out (failed, or reopened for
    /// another operator) while this worker was not looking.
    SlotLost,
}

impl std::fmt::Display for GiveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GiveUp::ExecTimeout => {
                "past the slot's exec timeout (claimed_at + exec_timeout): the program no longer accepts a result"
            }
            GiveUp::RevealClosed => "the reveal window closed: the program no longer accepts a reveal",
            GiveUp::SlotLost => "the slot was timed out: it is no longer this operator's",
        })
    }
}

/// What [`decide`] needs besides the job and its record.
#[derive(Clone, Debug)]
pub struct Situation {
    /// This worker's operator account.
    pub operator: Pubkey,
    /// The chain's unix time.
    pub now: i64,
    /// Kernel capability bits of the operator.
    pub capabilities: u32,
    /// Whether another job may be claimed now (capacity, an active operator, not shutting down).
    pub may_claim: bool,
    /// Whether the compute backends are trusted now ([`Health::may_claim`]): after repeated
    /// compute failures or a lost GPU, nothing is claimed until the self-test passes again.
    pub healthy: bool,
    /// Stake a claim may bond now: the operator's free stake, or 0 when its stake is below the
    /// market's minimum (the program refuses such a claim).
    pub free_stake: u64,
    pub crank: bool,
    /// Seconds between two turns of the crank order (see [`crank_turn`]).
    pub crank_grace: i64,
    /// Whether this job falls in the verifier's sample.
    pub verify: bool,
    /// Whether this worker takes audits now (verification on, within its budget).
    pub audit: bool,
    /// The chain's slot.
    pub slot: u64,
    /// This worker holds the market's arbiter key and is configured to rule disputes.
    pub arbiter: bool,
}

/// The next step for `job`, if any. Pure, so that every rule is tested on its own.
pub fn decide(job: &Job, rec: &JobRecord, s: &Situation) -> Option<Step> {
    let mine = job.slot_of(&s.operator);
    // A delivery the program would refuse is given up once (and recorded), never retried.
    let give_up = |why| rec.gave_up.is_none().then_some(Step::GiveUp(why));
    if let Some(i) = mine {
        let slot = &job.assignments[i];
        match (job.state(), slot.status()) {
            (JobState::Open | JobState::Claimed, SlotStatus::Claimed) => {
                if s.now > slot.claimed_at.saturating_add(job.exec_timeout) {
                    if let Some(step) = give_up(GiveUp::ExecTimeout) {
                        return Some(step);
                    }
                } else {
                    return Some(match (&rec.root, &rec.output_uri) {
                        (Some(_), Some(_)) if job.replicas == 1 => Step::Submit,
                        (Some(_), Some(_)) => Step::Commit,
                        _ => Step::Compute,
                    });
                }
            }
            (JobState::Committed, SlotStatus::Committed) if rec.salt.is_some() => {
                if s.now <= job.reveal_deadline {
                    return Some(Step::Reveal);
                }
                if let Some(step) = give_up(GiveUp::RevealClosed) {
                    return Some(step);
                }
            }
            (_, SlotStatus::Failed) if rec.claimed => {
                if let Some(step) = give_up(GiveUp::SlotLost) {
                    return Some(step);
                }
            }
            _ => {}
        }
    } else if rec.claim_landed && !job.state().has_ended() {
        // Held once, gone now: timed out and reopened for someone else.
        if let Some(step) = give_up(GiveUp::SlotLost) {
            return Some(step);
        }
    }
    let my_challenge = job.challenge_of(&s.operator).map(|k| &job.challenges[k]);
    // The audit an auditor committed to and has not revealed, with whether every drawn chunk's
    // leaf is posted.
    let open_audit = job
        .audit_index()
        .map(|k| &job.challenges[k])
        .filter(|c| c.status() == ChallengeStatus::Committed)
        .map(|c| c.leaves_posted >= job.audit_chunk_count);
    // A challenged job settles (finalize, or the arbiter's ruling) once every challenge is
    // revealed or past its reveal deadline, and an audit under way once its auditor revealed or
    // is past its deadline.
    let settle_from = if open_audit.is_some() {
        job.audit_reveal_deadline().unwrap_or(i64::MAX)
    } else if job.has_challenge() {
        job.challenge_reveal_deadline().unwrap_or(i64::MAX)
    } else {
        job.challenge_deadline
    };
    let reveals_until = job.challenge_reveal_deadline().unwrap_or(i64::MAX);
    // A job whose audit is still to be drawn or taken is checked by its auditor first.
    let awaiting_audit = match job.audit_state() {
        AuditState::Pending => true,
        AuditState::Drawn => job.audit_index().is_none(),
        _ => false,
    };
    let crankable = s.crank || mine.is_some();
    let turn = |due: i64| crankable && s.now > crank_turn(due, mine, s.crank_grace);
    match job.state() {
        JobState::Open if s.now > job.claim_deadline => {
            turn(job.claim_deadline).then_some(Step::Expire)
        }
        JobState::Open | JobState::Claimed | JobState::Committed
            if late_since(job, s.now).is_some_and(turn) =>
        {
            Some(Step::Timeout)
        }
        JobState::Open
            if mine.is_none()
                && s.may_claim
                && s.healthy
                && rec.rejected.is_none()
                && !rec.claim_landed
                && rec.gave_up.is_none()
                && s.now <= job.claim_deadline
                && KernelId::id_is_in(job.kernel, s.capabilities)
                && job.terms.bond <= s.free_stake
                && job.slots().iter().any(|a| a.status() == SlotStatus::Empty) =>
        {
            Some(Step::Claim)
        }
        JobState::Revealed | JobState::Disputed
            if my_challenge.is_some_and(|c| c.status() == ChallengeStatus::Committed)
                && rec.challenge.is_some()
                && job.challenge_reveal_deadline().is_ok_and(|d| s.now <= d) =>
        {
            Some(Step::RevealChallenge)
        }
        // Audits: the draw (by a replica, which wants its pay, an auditor or a crank), the
        // audit, the replicas' leaves, the reveal, and the conviction of withheld leaves.
        JobState::Revealed
            if job.audit_state() == AuditState::Pending
                && s.now <= job.challenge_deadline
                && s.slot > job.revealed_slot.saturating_add(1)
                && (mine.is_some() || s.audit || s.crank) =>
        {
            Some(Step::DrawAudit)
        }
        JobState::Revealed
            if job.audit_state() == AuditState::Drawn
                && job.audit_index().is_none()
                && s.audit
                && mine.is_none()
                && my_challenge.is_none()
                && rec.audit.is_none()
                && rec.audit_refused.is_none()
                && job.terms.bond <= s.free_stake
                && s.now <= job.challenge_deadline =>
        {
            Some(Step::Audit)
        }
        JobState::Revealed
            if open_audit == Some(false)
                && mine.is_some_and(|i| job.assignments[i].status() == SlotStatus::Revealed)
                && s.now <= reveals_until =>
        {
            Some(Step::PostAuditLeaves)
        }
        JobState::Revealed
            if open_audit == Some(true)
                && my_challenge.is_some_and(|c| c.is_audit())
                && rec.audit.is_some()
                && s.now <= settle_from =>
        {
            Some(Step::RevealAudit)
        }
        JobState::Revealed
            if open_audit == Some(false)
                && s.now > reveals_until
                && (my_challenge.is_some_and(|c| c.is_audit())
                    || (s.crank && turn(reveals_until))) =>
        {
            Some(Step::ConvictWithheld)
        }
        // Withheld leaves settle by conviction, not by finalize.
        JobState::Revealed if s.now > settle_from && open_audit != Some(false) => {
            turn(settle_from).then_some(Step::Finalize)
        }
        JobState::Revealed | JobState::Disputed
            if s.verify
                && !awaiting_audit
                && mine.is_none()
                && rec.verified.is_none()
                && my_challenge.is_none()
                && (job.state() == JobState::Revealed || job.has_challenge())
                && s.now <= job.challenge_deadline =>
        {
            Some(Step::Verify)
        }
        JobState::Disputed
            if job.kernel == KernelId::GemmI8.id()
                && my_challenge.is_some_and(|c| c.is_revealed() && c.chunk != WHOLE_ROOT)
                && rec.fraud_proof.is_none()
                && s.now > settle_from
                && s.now <= job.dispute_deadline =>
        {
            Some(Step::ProveFraud)
        }
        // Replicas that disagree are each other's accusers: a replica proves another's root
        // wrong to the referee (no challenger, no arbiter).
        JobState::Disputed
            if job.kernel == KernelId::GemmI8.id()
                && mine.is_some_and(|i| accused_slot(job, i).is_some())
                && rec.fraud_proof.is_none()
                && s.now <= job.dispute_deadline =>
        {
            Some(Step::ProveFraud)
        }
        // Replicas of an mlp-i8 job that disagree, and verifiers that challenged a chunk of its
        // agreed root (once every challenge is revealed), play the referee's game: one move per
        // run.
        JobState::Disputed
            if job.kernel == KernelId::MlpI8.id()
                && (mine.is_some_and(|i| in_games(job, i))
                    || (my_challenge
                        .is_some_and(|c| c.is_revealed() && c.chunk != WHOLE_ROOT)
                        && s.now > settle_from)) =>
        {
            Some(Step::Referee)
        }
        JobState::Disputed if s.arbiter && (!job.has_challenge() || s.now > settle_from) => {
            Some(Step::Resolve)
        }
        // A job that ended with referee games open (settled by another game, the arbiter or the
        // deadline): this worker's games are ended so that their rent comes back.
        _ if ends_games(job, &s.operator) => Some(Step::Referee),
        _ => None,
    }
}

/// In a job whose replicas revealed different roots (no agreed root, no challenge), the first
/// live slot not yet convicted whose root differs from slot `mine`'s (itself revealed and not
/// convicted): the one `mine` accuses.
pub fn accused_slot(job: &Job, mine: usize) -> Option<usize> {
    let me = &job.assignments[mine];
    let live = |i: usize, a: &tessera_client::state::Assignment| {
        a.status() == SlotStatus::Revealed && job.convicted & (1 << i) == 0
    };
    if job.agreed_root != [0; 32] || job.has_challenge() || !live(mine, me) {
        return None;
    }
    job.slots()
        .iter()
        .enumerate()
        .position(|(i, a)| i != mine && live(i, a) && a.root != me.root)
}

/// Slot `mine` takes part in the referee's games of `job`: the replicas revealed different
/// roots (no agreed root, no challenge) and `mine` is a live slot. It plays while games are open,
/// while it can accuse another root, or until the convictions let the job be settled.
pub fn in_games(job: &Job, mine: usize) -> bool {
    let me = &job.assignments[mine];
    let disagree = job
        .settlement_slots()
        .any(|(_, a)| a.status() == SlotStatus::Revealed && a.root != me.root);
    job.agreed_root == [0; 32]
        && !job.has_challenge()
        && me.status() == SlotStatus::Revealed
        && disagree
}

/// An ended job with referee games still open, in which `operator` took part (a slot, or a
/// challenge): it ends them (`end_game`), as anyone may once the job has ended.
pub fn ends_games(job: &Job, operator: &Pubkey) -> bool {
    job.state().has_ended()
        && job.open_games > 0
        && (job.slot_of(operator).is_some() || job.challenge_of(operator).is_some())
}

/// The verifier's compute budget: the seconds its checks took over the last hour, against
/// `verify.budget_secs_per_hour`. No new check starts while the budget is spent; the oldest
/// checks leave the window as time passes.
#[derive(Clone, Debug)]
pub struct VerifyBudget {
    per_hour: Duration,
    /// When each check ended, and how long it took, oldest first.
    spent: std::collections::VecDeque<(Instant, Duration)>,
}

impl VerifyBudget {
    const WINDOW: Duration = Duration::from_secs(3_600);

    pub fn new(secs_per_hour: u64) -> Self {
        Self {
            per_hour: Duration::from_secs(secs_per_hour),
            spent: Default::default(),
        }
    }

    /// Whether a check may start at `now`.
    pub fn allows(&mut self, now: Instant) -> bool {
        while self
            .spent
            .front()
            .is_some_and(|&(ended, _)| now.saturating_duration_since(ended) >= Self::WINDOW)
        {
            self.spent.pop_front();
        }
        self.spent.iter().map(|&(_, took)| took).sum::<Duration>() < self.per_hour
    }

    /// Books a check that ended at `ended` and took `took`.
    pub fn spend(&mut self, ended: Instant, took: Duration) {
        self.spent.push_back((ended, took));
    }
}

/// When the worker stops claiming because its compute backends failed, and when it tries them
/// again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthPolicy {
    /// Compute failures in a row that stop claiming.
    pub max_failures: u32,
    /// Wait before the first re-run of the self-test; it doubles after each failed re-run.
    pub first_retest: Duration,
    /// The longest wait between two re-runs.
    pub max_retest: Duration,
}

/// Whether the compute backends may be trusted with a new claim. A worker whose computations
/// keep failing would otherwise claim job after job and be slashed for each one it cannot
/// deliver: after [`HealthPolicy::max_failures`] failures in a row, or at once when a GPU is
/// lost (a sticky driver error), it stops claiming until its backends pass the self-test
/// again, re-run with exponential backoff. Jobs already claimed carry on meanwhile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    policy: HealthPolicy,
    /// Compute failures since the last success.
    failures: u32,
    /// While claims are stopped: when the self-test is due again, and the wait after that.
    suspended: Option<(Instant, Duration)>,
}

impl Health {
    pub fn new(policy: HealthPolicy) -> Health {
        Health {
            policy,
            failures: 0,
            suspended: None,
        }
    }

    /// Whether a new job may be claimed.
    pub fn may_claim(&self) -> bool {
        self.suspended.is_none()
    }

    /// Compute failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A computation succeeded.
    pub fn computed(&mut self) {
        self.failures = 0;
    }

    /// A computation failed (`device_lost`: its GPU is unusable for good). Returns `true` when
    /// this failure stops claiming.
    pub fn compute_failed(&mut self, device_lost: bool, now: Instant) -> bool {
        self.failures = self.failures.saturating_add(1);
        if self.suspended.is_some() || !(device_lost || self.failures >= self.policy.max_failures) {
            return false;
        }
        self.suspended = Some((now + self.policy.first_retest, self.policy.first_retest));
        true
    }

    /// Whether the self-test should run again now.
    pub fn retest_due(&self, now: Instant) -> bool {
        self.suspended.is_some_and(|(at, _)| now >= at)
    }

    /// The self-test ran again at `now`: a pass lets claims resume, a failure doubles the wait
    /// before the next run (up to [`HealthPolicy::max_retest`]).
    pub fn self_tested(&mut self, passed: bool, now: Instant) {
        if passed {
            self.failures = 0;
            self.suspended = None;
        } else if let Some((_, wait)) = self.suspended {
            let next = (wait * 2).min(self.policy.max_retest);
            self.suspended = Some((now + next, next));
        }
    }
}

/// Exponential backoff: waits of `first`, doubling each time, at most `max`; [`reset`] starts
/// again from `first`. Every wait the worker makes for the RPC node (at start-up, and during
/// an outage) follows one.
///
/// [`reset`]: Backoff::reset
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Waits for the RPC node: 1 s, 2 s, 4 s, … up to 30 s.
    pub const RPC: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));

    pub const fn new(first: Duration, max: Duration) -> Backoff {
        Backoff {
            first,
            max,
            next: first,
        }
    }

    /// The wait before the next try; the one after it is twice as long (up to the cap).
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        wait
    }

    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

/// The RPC node as the loop sees it: reachable, or down since some time with the next try
/// backed off. While it is down the loop asks it only when [`due`], and logs one line per
/// failed try (each with its wait), not one per tick.
///
/// [`due`]: Outage::due
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outage {
    backoff: Backoff,
    /// While down: since when, and when to try again.
    down: Option<(Instant, Instant)>,
}

impl Outage {
    pub fn new(backoff: Backoff) -> Outage {
        Outage {
            backoff,
            down: None,
        }
    }

    pub fn is_down(&self) -> bool {
        self.down.is_some()
    }

    /// Whether the node should be asked at `now`: always while it is up, after the wait while
    /// it is down.
    pub fn due(&self, now: Instant) -> bool {
        self.down.is_none_or(|(_, retry)| now >= retry)
    }

    /// A request failed at `now`: the wait before the next try.
    pub fn failed(&mut self, now: Instant) -> Duration {
        let wait = self.backoff.next_wait();
        let since = self.down.map_or(now, |(since, _)| since);
        self.down = Some((since, now + wait));
        wait
    }

    /// A request succeeded at `now`: how long the node was down, if it was.
    pub fn recovered(&mut self, now: Instant) -> Option<Duration> {
        self.backoff.reset();
        self.down.take().map(|(since, _)| now - since)
    }
}

/// Whether a job with `exec_timeout` seconds per slot can be computed and delivered in time:
/// its estimated compute time (`work_units` at `units_per_sec`, this worker's throughput for
/// the kernel) plus `margin` seconds (transactions, upload) must fit. A creator who sets an
/// execution timeout no worker can meet would otherwise collect no-show slashes. `Err` says
/// why not.
pub fn fits_in_time(
    exec_timeout: i64,
    work_units: u64,
    units_per_sec: f64,
    margin: u64,
) -> Result<(), String> {
    let compute = if units_per_sec > 0.0 {
        work_units as f64 / units_per_sec
    } else {
        f64::INFINITY
    };
    let needed = compute + margin as f64;
    if (exec_timeout as f64) < needed {
        return Err(format!(
            "exec_timeout {exec_timeout} s is shorter than the estimated {compute:.1} s of compute \
             ({work_units} work units at {units_per_sec:.0}/s) plus the {margin} s margin \
             (min_exec_margin_secs)"
        ));
    }
    Ok(())
}

/// How an ended job went for `operator`, read from the job alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Settled, and its slot delivered the agreed root.
    Paid,
    /// Settled with another root, or its slot failed (missed its deadline for good).
    Failed,
}

/// `None` when `operator` holds no slot of the ended `job` (it lost the claim race, or its slot
/// was reopened and taken) or its slot was released without fault (expired, cancelled).
pub fn outcome(job: &Job, operator: &Pubkey) -> Option<Outcome> {
    let a = &job.assignments[job.slot_of(operator)?];
    match (job.state(), a.status()) {
        (_, SlotStatus::Failed) => Some(Outcome::Failed),
        (JobState::Settled, SlotStatus::Revealed) if a.root == job.agreed_root => {
            Some(Outcome::Paid)
        }
        (JobState::Settled, _) => Some(Outcome::Failed),
        _ => None,
    }
}

/// The earliest deadline a slot of `job` has missed by `now`, if any.
fn late_since(job: &Job, now: i64) -> Option<i64> {
    (0..job.replicas as usize)
        .filter_map(|i| job.slot_deadline(i).ok().flatten())
        .filter(|&d| now > d)
        .min()
}

/// When a crank due at `due` is this worker's to send: the job's own operators first, in slot
/// order, one `grace` apart, then every other cranking worker. Every worker computes the same
/// order from the job alone, so a crank is normally sent once, by the operator it pays (or
/// whose co-replica failed), and still goes out if that worker is down.
pub fn crank_turn(due: i64, mine: Option<usize>, grace: i64) -> i64 {
    let rank = mine.map_or(MAX_REPLICAS as i64, |slot| slot as i64);
    due.saturating_add(rank.saturating_mul(grace))
}

/// Whether `job` falls in a verifier's sample of `rate` (0..=1): a hash of the job and the
/// verifier, so each verifier checks its own stable subset.
pub fn sampled(job: &Pubkey, verifier: &Pubkey, rate: f64) -> bool {
    let h = tessera_merkle::sha256(&[job.as_ref(), verifier.as_ref()]);
    let x = u32::from_le_bytes(h[..4].try_into().expect("4 bytes")) as f64 / u32::MAX as f64;
    x < rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_client::state::Assignment;

    const NOW: i64 = 1_000;

    fn job(replicas: u8, state: JobState) -> Job {
        Job {
            market: Pubkey::new_unique(),
            creator: Pubkey::new_unique(),
            job_id: 1,
            kernel: KernelId::Render.id(),
            kernel_params: [0; 32],
            input_uri: tessera_client::state::pack_uri("file:///in"),
            input_hash: [0; 32],
            chunk_count: 4,
            replicas,
            reward_per_replica: 1_000,
            created_at: 0,
            claim_deadline: NOW + 100,
            exec_timeout: 60,
            state: state as u8,
            assignments: [
                Assignment::empty(),
                Assignment::empty(),
                Assignment::empty(),
            ],
            reveal_deadline: 0,
            challenge_deadline: 0,
            dispute_deadline: 0,
            agreed_root: [0; 32],
            challenges: [tessera_client::state::Challenge::none(); 3],
            bump: 0,
            escrow: Pubkey::default(),
            // Bond: 50 % of the 1 000 reward, as the job's terms say.
            terms: tessera_client::state::JobTerms {
                bond: 500,
                ..tessera_client::state::JobTerms::none()
            },
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

    fn situation(me: Pubkey) -> Situation {
        Situation {
            operator: me,
            now: NOW,
            capabilities: KernelId::Render.mask(),
            may_claim: true,
            healthy: true,
            free_stake: u64::MAX,
            crank: true,
            crank_grace: 0,
            verify: false,
            audit: false,
            slot: 1_000,
            arbiter: false,
        }
    }

    fn hold(job: &mut Job, slot: usize, who: Pubkey, status: SlotStatus) {
        job.assignments[slot].operator = who;
        job.assignments[slot].set_status(status);
        job.assignments[slot].claimed_at = NOW - 10;
    }

    #[test]
    fn an_open_job_is_claimed_only_when_it_may_be() {
        let me = Pubkey::new_unique();
        let j = job(1, JobState::Open);
        let rec = JobRecord::default();
        assert_eq!(decide(&j, &rec, &situation(me)), Some(Step::Claim));

        let full = Situation {
            may_claim: false,
            ..situation(me)
        };
        assert_eq!(decide(&j, &rec, &full), None, "at capacity");
        let unhealthy = Situation {
            healthy: false,
            ..situation(me)
        };
        assert_eq!(decide(&j, &rec, &unhealthy), None, "backends failing");
        let unable = Situation {
            capabilities: KernelId::GemmI8.mask(),
            ..situation(me)
        };
        assert_eq!(decide(&j, &rec, &unable), None, "kernel not run here");
        // Every capability bit set, but an id that names no kernel (or lies past the mask).
        for kernel in [0, 31, 32, 200] {
            let mut unknown = j;
            unknown.kernel = kernel;
            let all_bits = Situation {
                capabilities: u32::MAX,
                ..situation(me)
            };
            assert_eq!(decide(&unknown, &rec, &all_bits), None, "kernel {kernel}");
        }
        let rejected = JobRecord {
            rejected: Some("bad hash".into()),
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &rejected, &situation(me)), None, "bad input");
        // The job's bond is 500 (its terms): a claim needs that much free stake.
        let stake = |free_stake| Situation {
            free_stake,
            ..situation(me)
        };
        assert_eq!(decide(&j, &rec, &stake(500)), Some(Step::Claim));
        assert_eq!(decide(&j, &rec, &stake(499)), None, "free stake short");
        assert_eq!(decide(&j, &rec, &stake(0)), None, "stake below minimum");
    }

    #[test]
    fn a_claimed_slot_is_computed_then_delivered() {
        let me = Pubkey::new_unique();
        let mut j = job(1, JobState::Claimed);
        hold(&mut j, 0, me, SlotStatus::Claimed);
        let mut rec = JobRecord {
            claimed: true,
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &rec, &situation(me)), Some(Step::Compute));
        rec.root = Some([1; 32]);
        rec.output_uri = Some("file:///out".into());
        assert_eq!(decide(&j, &rec, &situation(me)), Some(Step::Submit));

        let mut j2 = job(2, JobState::Open);
        hold(&mut j2, 0, me, SlotStatus::Claimed);
        assert_eq!(
            decide(&j2, &rec, &situation(me)),
            Some(Step::Commit),
            "2 replicas commit; the free slot is not claimed a second time"
        );
    }

    /// A delivery the program would refuse is given up once (not retried every backoff), and
    /// a job this worker held is never claimed again.
    #[test]
    fn a_late_delivery_is_given_up_once_and_the_job_never_reclaimed() {
        let me = Pubkey::new_unique();
        let mut j = job(1, JobState::Claimed);
        hold(&mut j, 0, me, SlotStatus::Claimed); // claimed at NOW - 10, exec_timeout 60
        let mut rec = JobRecord {
            claimed: true,
            claim_landed: true,
            root: Some([1; 32]),
            output_uri: Some("file:///out".into()),
            ..JobRecord::default()
        };
        let at = |now| Situation {
            now,
            ..situation(me)
        };
        assert_eq!(
            decide(&j, &rec, &at(NOW + 50)),
            Some(Step::Submit),
            "at the deadline"
        );
        assert_eq!(
            decide(&j, &rec, &at(NOW + 51)),
            Some(Step::GiveUp(GiveUp::ExecTimeout))
        );
        rec.gave_up = Some(GiveUp::ExecTimeout.to_string());
        assert_eq!(
            decide(&j, &rec, &at(NOW + 51)),
            Some(Step::Timeout),
            "recorded: no submit; the late slot is cranked like anyone's"
        );
        let no_crank = Situation {
            crank: false,
            ..at(NOW + 51)
        };
        assert_eq!(
            decide(&j, &rec, &no_crank),
            Some(Step::Timeout),
            "its own slot"
        );

        // Timed out and reopened: the job is open again, but not for this worker.
        let mut reopened = job(1, JobState::Open);
        reopened.claim_deadline = NOW + 100;
        assert_eq!(decide(&reopened, &rec, &situation(me)), None);
        let unrecorded = JobRecord {
            gave_up: None,
            ..rec.clone()
        };
        assert_eq!(
            decide(&reopened, &unrecorded, &situation(me)),
            Some(Step::GiveUp(GiveUp::SlotLost)),
            "timed out while the worker was down: recorded"
        );
        // A claim that never landed may be tried again.
        let lost_race = JobRecord {
            claimed: true,
            ..JobRecord::default()
        };
        assert_eq!(
            decide(&reopened, &lost_race, &situation(me)),
            Some(Step::Claim)
        );

        // Failed in place (the job was past its claim deadline).
        let mut failed = job(2, JobState::Claimed);
        hold(&mut failed, 0, me, SlotStatus::Failed);
        assert_eq!(
            decide(&failed, &unrecorded, &situation(me)),
            Some(Step::GiveUp(GiveUp::SlotLost))
        );
        assert_eq!(decide(&failed, &rec, &situation(me)), None);

        // A reveal after the reveal window.
        let mut c = job(2, JobState::Committed);
        hold(&mut c, 0, me, SlotStatus::Committed);
        hold(&mut c, 1, Pubkey::new_unique(), SlotStatus::Committed);
        c.reveal_deadline = NOW;
        let committed = JobRecord {
            salt: Some([2; 32]),
            ..unrecorded
        };
        assert_eq!(decide(&c, &committed, &at(NOW)), Some(Step::Reveal));
        assert_eq!(
            decide(&c, &committed, &at(NOW + 1)),
            Some(Step::GiveUp(GiveUp::RevealClosed))
        );
    }

    #[test]
    fn an_exec_timeout_must_fit_the_estimate_and_the_margin() {
        // 50 M work units at 10 M/s: 5 s of compute, plus a 10 s margin.
        assert!(fits_in_time(15, 50_000_000, 1e7, 10).is_ok());
        let e = fits_in_time(14, 50_000_000, 1e7, 10).unwrap_err();
        assert!(e.contains("exec_timeout 14 s"), "{e}");
        assert!(e.contains("5.0 s of compute"), "{e}");
        assert!(e.contains("10 s margin"), "{e}");
        // A 1 s timeout is refused whatever the work.
        assert!(fits_in_time(1, 1, 1e9, 10).is_err());
        assert!(fits_in_time(1, 1, 1e9, 0).is_ok());
        assert!(
            fits_in_time(600, 1, 0.0, 0).is_err(),
            "no throughput: nothing fits"
        );
    }

    #[test]
    fn reveal_needs_every_commit_and_the_stored_salt() {
        let me = Pubkey::new_unique();
        let mut j = job(2, JobState::Claimed);
        hold(&mut j, 0, me, SlotStatus::Committed);
        hold(&mut j, 1, Pubkey::new_unique(), SlotStatus::Claimed);
        let rec = JobRecord {
            claimed: true,
            root: Some([1; 32]),
            output_uri: Some("u".into()),
            salt: Some([2; 32]),
            ..JobRecord::default()
        };
        assert_eq!(
            decide(&j, &rec, &situation(me)),
            None,
            "the other has not committed"
        );
        j.set_state(JobState::Committed);
        j.assignments[1].set_status(SlotStatus::Committed);
        j.reveal_deadline = NOW + 10;
        assert_eq!(decide(&j, &rec, &situation(me)), Some(Step::Reveal));
        let lost = JobRecord { salt: None, ..rec };
        assert_eq!(
            decide(&j, &lost, &situation(me)),
            None,
            "never reveals another root"
        );
    }

    #[test]
    fn outcomes_count_only_the_operators_own_slot() {
        let (me, other) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut j = job(2, JobState::Settled);
        j.agreed_root = [1; 32];
        hold(&mut j, 0, me, SlotStatus::Revealed);
        hold(&mut j, 1, other, SlotStatus::Revealed);
        j.assignments[0].root = [1; 32];
        j.assignments[1].root = [2; 32];
        assert_eq!(outcome(&j, &me), Some(Outcome::Paid));
        assert_eq!(outcome(&j, &other), Some(Outcome::Failed), "wrong root");
        assert_eq!(outcome(&j, &Pubkey::new_unique()), None, "lost the claim");
        let mut expired = job(1, JobState::Expired);
        hold(&mut expired, 0, me, SlotStatus::Failed);
        assert_eq!(outcome(&expired, &me), Some(Outcome::Failed), "no-show");
        expired.assignments[0].set_status(SlotStatus::Claimed);
        assert_eq!(outcome(&expired, &me), None, "released without fault");
    }

    #[test]
    fn cranks_fire_only_when_due() {
        let me = Pubkey::new_unique();
        let rec = JobRecord::default();
        let mut j = job(1, JobState::Revealed);
        hold(&mut j, 0, Pubkey::new_unique(), SlotStatus::Revealed);
        j.challenge_deadline = NOW;
        assert_eq!(decide(&j, &rec, &situation(me)), None, "window still open");
        j.challenge_deadline = NOW - 1;
        assert_eq!(decide(&j, &rec, &situation(me)), Some(Step::Finalize));
        let no_crank = Situation {
            crank: false,
            ..situation(me)
        };
        assert_eq!(decide(&j, &rec, &no_crank), None);

        let mut late = job(1, JobState::Claimed);
        hold(&mut late, 0, Pubkey::new_unique(), SlotStatus::Claimed);
        late.assignments[0].claimed_at = NOW - 61;
        assert_eq!(decide(&late, &rec, &situation(me)), Some(Step::Timeout));
        late.assignments[0].claimed_at = NOW - 60;
        assert_eq!(decide(&late, &rec, &situation(me)), None, "not late yet");

        let mut unfilled = job(1, JobState::Open);
        unfilled.claim_deadline = NOW - 1;
        assert_eq!(decide(&unfilled, &rec, &situation(me)), Some(Step::Expire));
    }

    #[test]
    fn cranks_go_to_the_jobs_own_operators_first_then_to_everyone() {
        let (first, second, outsider) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let rec = JobRecord::default();
        let at = |who: Pubkey, now: i64| Situation {
            now,
            crank_grace: 2,
            ..situation(who)
        };
        // Finalize, due after NOW - 1: slot 0 at once, slot 1 two seconds on, others after
        // every slot's turn (3 × 2 s).
        let mut j = job(2, JobState::Revealed);
        hold(&mut j, 0, first, SlotStatus::Revealed);
        hold(&mut j, 1, second, SlotStatus::Revealed);
        j.challenge_deadline = NOW - 1;
        let due = |who: Pubkey, j: &Job| {
            (NOW..NOW + 20)
                .find(|&now| decide(j, &rec, &at(who, now)).is_some())
                .map(|now| (now, decide(j, &rec, &at(who, now)).unwrap()))
        };
        assert_eq!(due(first, &j), Some((NOW, Step::Finalize)));
        assert_eq!(due(second, &j), Some((NOW + 2, Step::Finalize)));
        assert_eq!(due(outsider, &j), Some((NOW + 6, Step::Finalize)));

        // Timeout of slot 0 (late since NOW - 1): its co-replica's turn comes first, then
        // everyone's; the late operator's own worker gives up its delivery (the program would
        // refuse it), then cranks like the others.
        let mut late = job(2, JobState::Claimed);
        hold(&mut late, 0, first, SlotStatus::Claimed);
        hold(&mut late, 1, second, SlotStatus::Committed);
        late.assignments[0].claimed_at = NOW - 61;
        assert_eq!(due(second, &late), Some((NOW + 2, Step::Timeout)));
        assert_eq!(due(outsider, &late), Some((NOW + 6, Step::Timeout)));
        assert_eq!(
            due(first, &late),
            Some((NOW, Step::GiveUp(GiveUp::ExecTimeout)))
        );

        // Expire of an unclaimed job: nobody holds a slot, so every worker waits the same.
        let mut unfilled = job(1, JobState::Open);
        unfilled.claim_deadline = NOW - 1;
        assert_eq!(due(outsider, &unfilled), Some((NOW + 6, Step::Expire)));
        // Grace 0: everyone at once.
        let eager = Situation {
            crank_grace: 0,
            ..situation(outsider)
        };
        assert_eq!(decide(&unfilled, &rec, &eager), Some(Step::Expire));
    }

    #[test]
    fn verifiers_check_others_once_and_arbiters_rule_disputes() {
        let me = Pubkey::new_unique();
        let verifier = Situation {
            verify: true,
            ..situation(me)
        };
        let mut j = job(1, JobState::Revealed);
        hold(&mut j, 0, Pubkey::new_unique(), SlotStatus::Revealed);
        j.challenge_deadline = NOW + 5;
        assert_eq!(
            decide(&j, &JobRecord::default(), &verifier),
            Some(Step::Verify)
        );
        let done = JobRecord {
            verified: Some(false),
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &done, &verifier), None, "checked once");
        let mut own = j;
        own.assignments[0].operator = me;
        assert_eq!(
            decide(&own, &JobRecord::default(), &verifier),
            None,
            "not its own"
        );

        j.set_state(JobState::Disputed);
        assert_eq!(decide(&j, &JobRecord::default(), &situation(me)), None);
        let arbiter = Situation {
            arbiter: true,
            ..situation(me)
        };
        assert_eq!(
            decide(&j, &JobRecord::default(), &arbiter),
            Some(Step::Resolve)
        );
    }

    /// A verifier whose chunk challenge of a `gemm-i8` job was revealed proves it to the
    /// referee once every challenge could be revealed, before the dispute deadline, once.
    #[test]
    fn a_revealed_chunk_challenge_of_a_gemm_job_is_proven_to_the_referee_once() {
        use tessera_client::state::{Challenge, ChallengeStatus};
        let me = Pubkey::new_unique();
        let mut j = job(1, JobState::Disputed);
        j.kernel = KernelId::GemmI8.id();
        hold(&mut j, 0, Pubkey::new_unique(), SlotStatus::Revealed);
        j.challenge_deadline = NOW - 40;
        j.terms.reveal_window = 30;
        j.dispute_deadline = NOW + 100;
        j.challenges[0] = Challenge {
            challenger: me,
            bond: 1,
            chunk: 2,
            status: ChallengeStatus::Revealed as u8,
            ..Challenge::none()
        };
        let rec = JobRecord::default();
        let at = |now| Situation {
            now,
            ..situation(me)
        };
        assert_eq!(decide(&j, &rec, &at(NOW)), Some(Step::ProveFraud));
        // Not while another challenge may still be revealed, nor after the dispute deadline.
        assert_eq!(decide(&j, &rec, &at(NOW - 10)), None);
        assert_eq!(decide(&j, &rec, &at(NOW + 101)), None);
        // Once tried, never again.
        let tried = JobRecord {
            fraud_proof: Some("proven".into()),
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &tried, &at(NOW)), None);
        // Not someone else's challenge, a whole-root challenge, or another kernel's job.
        assert_eq!(decide(&j, &rec, &situation(Pubkey::new_unique())), None);
        let mut whole = j;
        whole.challenges[0].chunk = tessera_client::constants::WHOLE_ROOT;
        assert_eq!(decide(&whole, &rec, &at(NOW)), None);
        let mut render = j;
        render.kernel = KernelId::Render.id();
        assert_eq!(decide(&render, &rec, &at(NOW)), None);
    }

    /// A replica of a `gemm-i8` job whose replicas revealed different roots accuses the first
    /// other live slot with another root that is not yet convicted, once, before the dispute
    /// deadline.
    #[test]
    fn a_replica_accuses_one_that_disagreed_once() {
        let me = Pubkey::new_unique();
        let mut j = job(3, JobState::Disputed);
        j.kernel = KernelId::GemmI8.id();
        for slot in 0..3 {
            hold(&mut j, slot, Pubkey::new_unique(), SlotStatus::Revealed);
        }
        j.assignments[1].operator = me;
        j.assignments[0].root = [1; 32];
        j.assignments[1].root = [2; 32];
        j.assignments[2].root = [2; 32];
        j.dispute_deadline = NOW + 100;
        let rec = JobRecord::default();
        let at = |now| Situation {
            now,
            ..situation(me)
        };
        assert_eq!(accused_slot(&j, 1), Some(0));
        assert_eq!(accused_slot(&j, 0), Some(1));
        assert_eq!(decide(&j, &rec, &at(NOW)), Some(Step::ProveFraud));
        assert_eq!(decide(&j, &rec, &at(NOW + 101)), None, "past the deadline");
        let tried = JobRecord {
            fraud_proof: Some("proven".into()),
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &tried, &at(NOW)), None, "once");
        // Convicted slots are neither accused nor accusers.
        let mut convicted = j;
        convicted.convicted = 0b001;
        assert_eq!(accused_slot(&convicted, 1), None);
        convicted.convicted = 0b010;
        assert_eq!(accused_slot(&convicted, 1), None);
        assert_eq!(decide(&convicted, &rec, &at(NOW)), None);
        // Not when the replicas agreed (a challenge is the way), nor for another kernel, nor
        // for a worker holding no slot.
        let mut agreed = j;
        agreed.agreed_root = [2; 32];
        assert_eq!(accused_slot(&agreed, 1), None);
        let mut render = j;
        render.kernel = KernelId::Render.id();
        assert_eq!(decide(&render, &rec, &at(NOW)), None);
        assert_eq!(decide(&j, &rec, &situation(Pubkey::new_unique())), None);
    }

    /// A replica of an `mlp-i8` job whose replicas revealed different roots plays the
    /// referee's games, whatever its record says and past the dispute deadline (open games
    /// outlive it); not when the replicas agreed, nor as a slot that never revealed, nor
    /// holding no slot.
    #[test]
    fn a_replica_of_an_mlp_job_that_disagreed_plays_the_games() {
        let me = Pubkey::new_unique();
        let mut j = job(2, JobState::Disputed);
        j.kernel = KernelId::MlpI8.id();
        for slot in 0..2 {
            hold(&mut j, slot, Pubkey::new_unique(), SlotStatus::Revealed);
        }
        j.assignments[1].operator = me;
        j.assignments[0].root = [1; 32];
        j.assignments[1].root = [2; 32];
        j.dispute_deadline = NOW + 100;
        let tried = JobRecord {
            fraud_proof: Some("game opened".into()),
            ..JobRecord::default()
        };
        for (rec, now) in [(JobRecord::default(), NOW), (tried, NOW + 500)] {
            let s = Situation {
                now,
                ..situation(me)
            };
            assert_eq!(decide(&j, &rec, &s), Some(Step::Referee));
        }
        let rec = JobRecord::default();
        assert!(in_games(&j, 1) && in_games(&j, 0));
        let mut agreed = j;
        agreed.assignments[0].root = [2; 32];
        assert!(!in_games(&agreed, 1));
        let mut challenged = j;
        challenged.agreed_root = [2; 32];
        assert_eq!(decide(&challenged, &rec, &situation(me)), None);
        let mut silent = j;
        silent.assignments[1].set_status(SlotStatus::Committed);
        assert!(!in_games(&silent, 1));
        assert_eq!(decide(&j, &rec, &situation(Pubkey::new_unique())), None);
        // A verifier that challenged a chunk of an agreed root plays once every challenge is
        // revealed.
        let verifier = Pubkey::new_unique();
        let mut challenged = j;
        challenged.agreed_root = [2; 32];
        challenged.assignments[0].root = [2; 32];
        challenged.challenges[0].challenger = verifier;
        challenged.challenges[0].status = tessera_client::state::ChallengeStatus::Revealed as u8;
        challenged.challenges[0].chunk = 3;
        let after = |now| Situation {
            now,
            ..situation(verifier)
        };
        let revealed_by = challenged.challenge_reveal_deadline().unwrap();
        assert_eq!(decide(&challenged, &rec, &after(revealed_by)), None);
        assert_eq!(
            decide(&challenged, &rec, &after(revealed_by + 1)),
            Some(Step::Referee)
        );
        let mut whole = challenged;
        whole.challenges[0].chunk = WHOLE_ROOT;
        assert_eq!(decide(&whole, &rec, &after(revealed_by + 1)), None);
        // Once the job has ended, its games still open are ended, by a replica or a challenger
        // of it, and by nobody else.
        let mut settled = challenged;
        settled.set_state(JobState::Settled);
        settled.open_games = 1;
        assert_eq!(decide(&settled, &rec, &situation(me)), Some(Step::Referee));
        assert_eq!(
            decide(&settled, &rec, &situation(verifier)),
            Some(Step::Referee)
        );
        assert_eq!(
            decide(&settled, &rec, &situation(Pubkey::new_unique())),
            None
        );
        settled.open_games = 0;
        assert_eq!(decide(&settled, &rec, &situation(me)), None);
        // A gemm-i8 job is proven in one transaction instead.
        let mut gemm = j;
        gemm.kernel = KernelId::GemmI8.id();
        assert_eq!(decide(&gemm, &rec, &situation(me)), Some(Step::ProveFraud));
    }

    /// An audited job: drawn by a replica, an auditor or a crank once a slot has passed; audited
    /// by an auditor of none of its slots; the replica posts its leaves; the auditor reveals; a
    /// withheld leaf is convicted instead of finalized.
    #[test]
    fn an_audit_is_drawn_taken_answered_and_revealed_by_the_right_parties() {
        use crate::db::AuditRecord;
        use tessera_client::state::{AuditState, Challenge, ChallengeKind, ChallengeStatus};
        let (me, auditor_key) = (Pubkey::new_unique(), Pubkey::new_unique());
        let outsider = Situation {
            crank: false,
            ..situation(Pubkey::new_unique())
        };
        let auditor = Situation {
            audit: true,
            crank: false,
            ..situation(auditor_key)
        };
        let replica = Situation {
            crank: false,
            ..situation(me)
        };
        let mut j = job(1, JobState::Revealed);
        hold(&mut j, 0, me, SlotStatus::Revealed);
        j.challenge_deadline = NOW + 5;
        j.terms.reveal_window = 30;
        j.audit_state = AuditState::Pending as u8;
        j.audit_fee = 100;
        j.revealed_slot = 999;
        let rec = JobRecord::default();
        // The draw waits for a slot after the results' next one.
        assert_eq!(decide(&j, &rec, &replica), None);
        j.revealed_slot = 990;
        assert_eq!(decide(&j, &rec, &replica), Some(Step::DrawAudit));
        assert_eq!(decide(&j, &rec, &auditor), Some(Step::DrawAudit));
        assert_eq!(decide(&j, &rec, &outsider), None);
        // Drawn: the auditor takes it, if it has the stake; the replica does not audit itself.
        j.audit_state = AuditState::Drawn as u8;
        j.audit_chunks = [3, 1, 0, 0];
        j.audit_chunk_count = 2;
        assert_eq!(decide(&j, &rec, &auditor), Some(Step::Audit));
        let poor = Situation {
            free_stake: 499,
            ..auditor.clone()
        };
        assert_eq!(decide(&j, &rec, &poor), None);
        let mine = Situation {
            audit: true,
            ..replica.clone()
        };
        assert_ne!(decide(&j, &rec, &mine), Some(Step::Audit));
        let refused = JobRecord {
            audit_refused: Some("bad input".into()),
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &refused, &auditor), None);
        // Committed: the replica posts its leaves until all are.
        j.challenges[0] = Challenge {
            challenger: auditor_key,
            bond: 500,
            status: ChallengeStatus::Committed as u8,
            kind: ChallengeKind::Audit as u8,
            ..Challenge::none()
        };
        let audit = JobRecord {
            audit: Some(AuditRecord {
                leaves: vec![[1; 32], [2; 32]],
                salt: [3; 32],
            }),
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &rec, &replica), Some(Step::PostAuditLeaves));
        assert_eq!(decide(&j, &audit, &auditor), None, "waits for the leaves");
        j.challenges[0].leaves_posted = 2;
        assert_eq!(decide(&j, &rec, &replica), None);
        assert_eq!(decide(&j, &audit, &auditor), Some(Step::RevealAudit));
        // Settlement waits for the audit's reveal deadline (challenge window, then two reveal
        // windows).
        let at = |now, s: &Situation| Situation { now, ..s.clone() };
        let crank = situation(Pubkey::new_unique());
        assert_eq!(decide(&j, &rec, &at(NOW + 36, &crank)), None);
        assert_eq!(
            decide(&j, &audit, &at(NOW + 66, &auditor)),
            None,
            "too late to reveal"
        );
        assert_eq!(
            decide(&j, &rec, &at(NOW + 66, &crank)),
            Some(Step::Finalize)
        );
        // Leaves withheld past the challenge reveal deadline: convicted, never finalized.
        j.challenges[0].leaves_posted = 1;
        assert_eq!(
            decide(&j, &rec, &at(NOW + 35, &replica)),
            Some(Step::PostAuditLeaves)
        );
        assert_eq!(decide(&j, &rec, &at(NOW + 36, &replica)), None);
        assert_eq!(
            decide(&j, &audit, &at(NOW + 36, &auditor)),
            Some(Step::ConvictWithheld)
        );
        assert_eq!(
            decide(&j, &rec, &at(NOW + 36, &crank)),
            Some(Step::ConvictWithheld)
        );
        assert_eq!(
            decide(&j, &rec, &at(NOW + 100, &crank)),
            Some(Step::ConvictWithheld)
        );
    }

    /// Checks stop once the last hour's took the budget, and start again as they age out.
    #[test]
    fn verification_stays_within_its_hourly_budget() {
        let t0 = Instant::now();
        let mut budget = VerifyBudget::new(180);
        assert!(budget.allows(t0));
        budget.spend(t0, Duration::from_secs(100));
        assert!(budget.allows(t0 + Duration::from_secs(1)));
        budget.spend(t0 + Duration::from_secs(600), Duration::from_secs(80));
        assert!(!budget.allows(t0 + Duration::from_secs(601)), "180 s spent");
        // The first check leaves the window an hour after it ended.
        assert!(!budget.allows(t0 + Duration::from_secs(3_599)));
        assert!(budget.allows(t0 + Duration::from_secs(3_600)));
        assert!(
            !VerifyBudget::new(0).allows(t0),
            "a zero budget checks nothing"
        );
    }

    #[test]
    fn a_committed_challenge_is_revealed_in_time_and_settlement_waits_for_it() {
        use crate::db::ChallengeRecord;
        use tessera_client::state::{Challenge, ChallengeStatus};
        let me = Pubkey::new_unique();
        let verifier = Situation {
            verify: true,
            ..situation(me)
        };
        let mut j = job(1, JobState::Revealed);
        hold(&mut j, 0, Pubkey::new_unique(), SlotStatus::Revealed);
        j.challenge_deadline = NOW + 5;
        j.terms.reveal_window = 30;
        j.challenges[0] = Challenge {
            challenger: me,
            bond: 1,
            status: ChallengeStatus::Committed as u8,
            ..Challenge::none()
        };
        let rec = JobRecord {
            verified: Some(true),
            challenge: Some(ChallengeRecord {
                chunk: 0,
                hash: [1; 32],
                operator_leaf: [2; 32],
                proof: vec![],
                salt: [3; 32],
            }),
            ..JobRecord::default()
        };
        assert_eq!(decide(&j, &rec, &verifier), Some(Step::RevealChallenge));
        // Until the challenge reveal deadline (the challenge window, then the reveal window).
        let at = |now| Situation {
            now,
            ..verifier.clone()
        };
        assert_eq!(decide(&j, &rec, &at(NOW + 35)), Some(Step::RevealChallenge));
        assert_eq!(decide(&j, &rec, &at(NOW + 36)), Some(Step::Finalize));
        // Without its record (the salt), nothing to reveal: it waits like everyone else, and
        // nobody finalizes before the deadline.
        let lost = JobRecord::default();
        assert_eq!(decide(&j, &lost, &at(NOW + 20)), None);
        // Revealed: the job is disputed; the arbiter rules only after the reveal deadline.
        j.challenges[0].status = ChallengeStatus::Revealed as u8;
        j.set_state(JobState::Disputed);
        assert_eq!(decide(&j, &rec, &verifier), None);
        let arbiter = |now| Situation {
            arbiter: true,
            now,
            ..situation(Pubkey::new_unique())
        };
        assert_eq!(decide(&j, &JobRecord::default(), &arbiter(NOW + 35)), None);
        assert_eq!(
            decide(&j, &JobRecord::default(), &arbiter(NOW + 36)),
            Some(Step::Resolve)
        );
        // Another verifier may still challenge a disputed job inside the window.
        let other = Situation {
            verify: true,
            ..situation(Pubkey::new_unique())
        };
        assert_eq!(
            decide(&j, &JobRecord::default(), &other),
            Some(Step::Verify)
        );
    }

    #[test]
    fn sampling_follows_the_rate() {
        let v = Pubkey::new_unique();
        let jobs: Vec<Pubkey> = (0..400).map(|_| Pubkey::new_unique()).collect();
        assert!(jobs.iter().all(|j| sampled(j, &v, 1.0)));
        assert!(!jobs.iter().any(|j| sampled(j, &v, 0.0)));
        let some = jobs.iter().filter(|j| sampled(j, &v, 0.25)).count();
        assert!((50..150).contains(&some), "{some} of 400 at 25 %");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_resets() {
        let s = Duration::from_secs;
        let mut b = Backoff::RPC;
        let waits: Vec<u64> = (0..8).map(|_| b.next_wait().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
        b.reset();
        assert_eq!(b.next_wait(), s(1));
        let mut huge = Backoff::new(Duration::MAX / 2, Duration::MAX);
        huge.next_wait();
        assert_eq!(huge.next_wait(), Duration::MAX / 2 * 2, "no overflow");
        assert_eq!(huge.next_wait(), Duration::MAX);
    }

    #[test]
    fn an_outage_is_retried_with_backoff_and_timed() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut o = Outage::new(Backoff::RPC);
        assert!(!o.is_down() && o.due(t0));
        assert_eq!(o.recovered(t0), None, "was not down");
        assert_eq!(o.failed(t0), s(1));
        assert!(o.is_down());
        assert!(
            !o.due(t0 + Duration::from_millis(500)),
            "a tick inside the wait"
        );
        assert!(o.due(t0 + s(1)));
        assert_eq!(o.failed(t0 + s(1)), s(2));
        assert!(!o.due(t0 + s(2)));
        assert!(o.due(t0 + s(3)));
        assert_eq!(o.failed(t0 + s(3)), s(4));
        assert_eq!(
            o.recovered(t0 + s(7)),
            Some(s(7)),
            "down since the first failure"
        );
        assert!(!o.is_down() && o.due(t0 + s(7)));
        assert_eq!(
            o.failed(t0 + s(8)),
            s(1),
            "a new outage starts from the first wait"
        );
    }

    const POLICY: HealthPolicy = HealthPolicy {
        max_failures: 3,
        first_retest: Duration::from_secs(10),
        max_retest: Duration::from_secs(25),
    };

    #[test]
    fn claims_stop_after_repeated_compute_failures() {
        let t0 = Instant::now();
        let mut h = Health::new(POLICY);
        assert!(h.may_claim());
        assert!(!h.compute_failed(false, t0));
        assert!(!h.compute_failed(false, t0));
        h.computed();
        assert_eq!(h.failures(), 0, "a success resets the count");
        assert!(!h.compute_failed(false, t0));
        assert!(!h.compute_failed(false, t0));
        assert!(h.may_claim(), "two in a row are not enough");
        assert!(h.compute_failed(false, t0), "the third stops claiming");
        assert!(!h.may_claim());
        assert!(!h.compute_failed(false, t0), "already stopped");
        // A success of a job already claimed (on the CPU) does not resume claiming.
        h.computed();
        assert!(!h.may_claim());
    }

    #[test]
    fn a_lost_gpu_stops_claims_at_once() {
        let t0 = Instant::now();
        let mut h = Health::new(POLICY);
        assert!(h.compute_failed(true, t0));
        assert!(!h.may_claim());
        let lenient = HealthPolicy {
            max_failures: u32::MAX,
            ..POLICY
        };
        let mut h = Health::new(lenient);
        assert!(!h.compute_failed(false, t0));
        assert!(h.compute_failed(true, t0));
    }

    #[test]
    fn claims_resume_once_the_self_test_passes_again_with_backoff() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut h = Health::new(POLICY);
        assert!(!h.retest_due(t0), "healthy: nothing to re-test");
        h.compute_failed(true, t0);
        assert!(!h.retest_due(t0 + s(9)));
        assert!(h.retest_due(t0 + s(10)));
        h.self_tested(false, t0 + s(10));
        assert!(!h.may_claim());
        assert!(!h.retest_due(t0 + s(29)), "the wait doubled to 20 s");
        assert!(h.retest_due(t0 + s(30)));
        h.self_tested(false, t0 + s(30));
        assert!(!h.retest_due(t0 + s(54)), "capped at 25 s");
        assert!(h.retest_due(t0 + s(55)));
        h.self_tested(true, t0 + s(55));
        assert!(h.may_claim());
        assert_eq!(h.failures(), 0);
        assert!(!h.retest_due(t0 + s(1000)));
        // A pass while healthy changes nothing.
        h.self_tested(true, t0);
        assert!(h.may_claim());
    }
}
