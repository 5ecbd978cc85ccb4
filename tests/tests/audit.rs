//! Protocol audits: a draw after the results are in decides whether a job is audited and which
//! chunks; a bonded auditor commits to its recomputed leaves before the operators' leaves are
//! posted, then reveals. A match pays the auditor the audit fee, a mismatch disputes the job, and
//! withheld leaves convict the operators. Every test runs the real SBPF program in LiteSVM.
#![allow(clippy::result_large_err)] // TxResult carries the failed transaction's metadata, as LiteSVM returns it.
use anchor_lang::prelude::Pubkey;
use tessera::error::TesseraError;
use tessera::instructions::{ChallengeArgs, FraudTarget};
use tessera::state::{AuditState, ChallengeStatus, JobState, MarketParams};
use tessera_client::referee::{gemm_fraud_proof, FraudProof};
use tessera_kernels::benchmark::synthetic_mlp;
use tessera_kernels::quant::QuantModel;
use tessera_merkle::{leaf_hash, root_of_chunks, Hash};
use tessera_tests::amounts::*;
use tessera_tests::*;

/// The audit fee of a `REWARD` job under the preset's `audit_fee_bps`.
const AUDIT_FEE: u64 = (REWARD * tessera_client::presets::AUDIT_FEE_BPS as u64).div_ceil(10_000);
/// A fraud slash of one `BOND`, as the preset splits it.
const TO_CREATOR: u64 = BOND / 2;
const HONEST_SHARE: u64 = BOND / 4;

/// A one-layer model: 8 rows of 64 inputs to 24 outputs, 2 rows per chunk (4 chunks).
fn model() -> QuantModel {
    synthetic_mlp(0xa0d1, 8, &[64, 24], 2)
}

/// The preset's audits at `rate_bps`, every chunk of a 4-chunk job checked.
fn params(rate_bps: u16) -> MarketParams {
    MarketParams {
        audit_rate_bps: rate_bps,
        audit_chunks: 4,
        ..audit_params()
    }
}

struct Case {
    env: Env,
    creator: User,
    op: User,
    auditor: User,
    job: Pubkey,
    model: QuantModel,
    /// What the operator delivered.
    delivered: Vec<Vec<u8>>,
    /// The creator's tokens before the job.
    start: u64,
}

/// A one-replica `gemm-i8` job in `env` whose operator delivered the model's output changed by
/// `tamper`; its results are in.
fn delivered(mut env: Env, tamper: impl Fn(&mut [Vec<u8>])) -> Case {
    let creator = env.user(10 * REWARD);
    let start = env.balance(&creator.token);
    let model = model();
    let mut delivered = quant_chunks(&model);
    tamper(&mut delivered);
    env.create_gemm_job(&creator, 1, 1, &model).unwrap();
    let job = env.keys.job(&creator.pubkey(), 1);
    let op = env.operator(STAKE);
    let auditor = env.operator(STAKE);
    env.claim(&op, job).unwrap();
    env.warp(3);
    env.submit(&op, job, root_of_chunks(&delivered)).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Revealed);
    Case {
        env,
        creator,
        op,
        auditor,
        job,
        model,
        delivered,
        start,
    }
}

fn honest(_: &mut [Vec<u8>]) {}

/// One element of chunk 2 off by one.
fn one_wrong_element(chunks: &mut [Vec<u8>]) {
    chunks[2][24 + 5] = chunks[2][24 + 5].wrapping_add(1);
}

impl Case {
    fn delivered_leaves(&self) -> Vec<Hash> {
        self.delivered.iter().map(|c| leaf_hash(c)).collect()
    }

    /// The true leaves of the drawn chunks, in draw order (what an honest auditor recomputes).
    fn true_audit_leaves(&self) -> Vec<Hash> {
        let truth = quant_chunks(&self.model);
        let job = self.env.job(&self.job);
        job.audited_chunks()
            .iter()
            .map(|&c| leaf_hash(&truth[c as usize]))
            .collect()
    }

    /// A slot passes, then the draw.
    fn draw(&mut self) {
        self.env.warp(1);
        self.env.draw_audit(self.job).unwrap();
    }

    /// Draws, commits the honest auditor's leaves and posts the operators'.
    fn audit_until_reveal(&mut self) {
        self.draw();
        let leaves = self.true_audit_leaves();
        self.env
            .commit_audit(&self.auditor, self.job, &leaves)
            .unwrap();
        let all = self.delivered_leaves();
        self.env.post_audit_leaves(self.job, &all).unwrap();
    }

    fn reveal(&mut self) -> TxResult {
        let leaves = self.true_audit_leaves();
        self.env.reveal_audit(&self.auditor, self.job, leaves)
    }

    fn warp_past(&mut self, deadline: i64) {
        let now = self.env.now();
        self.env.warp(deadline - now + 1);
    }
}

#[test]
fn a_drawn_honest_job_pays_its_auditor_the_fee_and_its_operator_the_reward() {
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(10_000)), honest);
    assert_eq!(
        case.env.balance(&case.creator.token),
        case.start - REWARD - AUDIT_FEE,
        "the audit fee is escrowed with the reward"
    );
    let job = case.env.job(&case.job);
    assert_eq!(
        (job.audit_state(), job.audit_fee),
        (AuditState::Pending, AUDIT_FEE)
    );
    let revealed_slot = job.revealed_slot;
    let old_deadline = job.challenge_deadline;
    case.draw();
    let job = case.env.job(&case.job);
    assert_eq!(job.audit_state(), AuditState::Drawn);
    // The draw is the shared function of the first slot's hash after the results.
    let seed = tessera_merkle::audit_seed(&test_slot_hash(revealed_slot + 1), &case.job.to_bytes());
    assert_eq!(
        job.audited_chunks(),
        tessera_merkle::audit_chunks(&seed, 4, 4).as_slice()
    );
    assert!(
        job.challenge_deadline > old_deadline,
        "auditors get a whole challenge window"
    );
    case.env
        .commit_audit(&case.auditor, case.job, &case.true_audit_leaves())
        .unwrap();
    assert_eq!(case.env.operator_of(&case.auditor).bonded, BOND);
    let all = case.delivered_leaves();
    case.env.post_audit_leaves(case.job, &all).unwrap();
    case.reveal().unwrap();
    let job = case.env.job(&case.job);
    assert_eq!(job.challenges[0].status(), ChallengeStatus::Audited);
    assert_eq!(job.state(), JobState::Revealed);
    let deadline = job.challenge_reveal_deadline().unwrap();
    case.warp_past(deadline);
    case.env.finalize(case.job, &case.creator).unwrap();
    assert_eq!(case.env.earned(&case.op), PAY);
    assert_eq!(case.env.earned(&case.auditor), AUDIT_FEE);
    assert_eq!(case.env.operator_of(&case.auditor).bonded, 0);
    assert_eq!(case.env.operator_of(&case.op).bonded, 0);
    assert_eq!(
        case.env.balance(&case.creator.token),
        case.start - REWARD - AUDIT_FEE
    );
}

#[test]
fn an_undrawn_job_gives_the_audit_fee_back_to_the_creator() {
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(1)), honest);
    let slot = case.env.job(&case.job).revealed_slot;
    let seed = tessera_merkle::audit_seed(&test_slot_hash(slot + 1), &case.job.to_bytes());
    assert!(
        !tessera_merkle::audit_drawn(&seed, 1),
        "this slot's hash draws one job in 10 000"
    );
    case.draw();
    let job = case.env.job(&case.job);
    assert_eq!(job.audit_state(), AuditState::Skipped);
    assert!(job.audited_chunks().is_empty());
    // Not drawn: an audit must name its chunks (a volunteer's), and earns no fee.
    assert_tessera_error(
        &case
            .env
            .commit_audit(&case.auditor, case.job, &[[0; 32]; 4]),
        TesseraError::BadAuditChunks,
    );
    let truth = quant_chunks(&case.model);
    let leaves = [leaf_hash(&truth[3]), leaf_hash(&truth[0])];
    case.env
        .volunteer_audit(&case.auditor, case.job, &leaves, vec![3, 0])
        .unwrap();
    let all = case.delivered_leaves();
    case.env.post_audit_leaves(case.job, &all).unwrap();
    case.env
        .reveal_audit(&case.auditor, case.job, leaves.to_vec())
        .unwrap();
    let deadline = case.env.job(&case.job).challenge_reveal_deadline().unwrap();
    case.warp_past(deadline);
    case.env.finalize(case.job, &case.creator).unwrap();
    assert_eq!(case.env.earned(&case.op), PAY);
    let auditor = case.env.operator_of(&case.auditor);
    assert_eq!((auditor.earned, auditor.bonded), (0, 0));
    assert_eq!(case.env.balance(&case.creator.token), case.start - REWARD);
}

#[test]
fn a_volunteer_audit_makes_the_operator_of_a_job_in_a_market_without_audits_publish_or_lose() {
    // The market does not audit: a verifier names two chunks and commits to their leaves; the
    // operator withholds its leaves and is convicted as if wrong.
    let mut case = delivered(Env::new(), honest);
    assert_eq!(case.env.job(&case.job).audit_fee, 0);
    let truth = quant_chunks(&case.model);
    let leaves = [leaf_hash(&truth[1]), leaf_hash(&truth[2])];
    case.env
        .volunteer_audit(&case.auditor, case.job, &leaves, vec![1, 2])
        .unwrap();
    assert_eq!(case.env.job(&case.job).audited_chunks(), &[1, 2]);
    let deadline = case.env.job(&case.job).challenge_reveal_deadline().unwrap();
    case.warp_past(deadline);
    assert_tessera_error(
        &case.env.finalize(case.job, &case.creator),
        TesseraError::AuditLeavesMissing,
    );
    case.env.convict_withheld(case.job, &case.creator).unwrap();
    let op = case.env.operator_of(&case.op);
    assert_eq!((op.earned, op.bonded, op.stake), (0, 0, STAKE - BOND));
    let auditor = case.env.operator_of(&case.auditor);
    assert_eq!(
        (auditor.earned, auditor.bonded, auditor.stake),
        (HONEST_SHARE, 0, STAKE),
        "the honest share, and no fee"
    );
    assert_eq!(
        case.env.balance(&case.creator.token),
        case.start + TO_CREATOR
    );
}

#[test]
fn a_volunteer_audit_names_distinct_chunks_of_the_job_and_only_of_a_job_not_drawn() {
    let mut case = delivered(Env::new(), honest);
    let l = [[1u8; 32]; 5];
    for bad in [vec![], vec![1, 1], vec![4], vec![0, 1, 2, 3, 0]] {
        let n = bad.len();
        assert_tessera_error(
            &case
                .env
                .volunteer_audit(&case.auditor, case.job, &l[..n], bad),
            TesseraError::BadAuditChunks,
        );
    }
    // A job waiting for its draw takes no audit yet; a drawn one only the drawn chunks.
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(10_000)), honest);
    assert_tessera_error(
        &case
            .env
            .volunteer_audit(&case.auditor, case.job, &l[..1], vec![1]),
        TesseraError::NotAuditable,
    );
    case.draw();
    assert_tessera_error(
        &case
            .env
            .volunteer_audit(&case.auditor, case.job, &l[..1], vec![1]),
        TesseraError::BadAuditChunks,
    );
}

#[test]
fn a_job_nobody_drew_or_nobody_audited_settles_with_the_fee_refunded() {
    // Nobody draws: the window closes and the job settles unaudited.
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(10_000)), honest);
    let deadline = case.env.job(&case.job).challenge_deadline;
    case.warp_past(deadline);
    assert_tessera_error(
        &case.env.draw_audit(case.job),
        TesseraError::ChallengeWindowClosed,
    );
    case.env.finalize(case.job, &case.creator).unwrap();
    assert_eq!(case.env.balance(&case.creator.token), case.start - REWARD);
    // Drawn, and no auditor came.
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(10_000)), honest);
    case.draw();
    let deadline = case.env.job(&case.job).challenge_deadline;
    case.warp_past(deadline);
    case.env.finalize(case.job, &case.creator).unwrap();
    assert_eq!(case.env.earned(&case.op), PAY);
    assert_eq!(case.env.balance(&case.creator.token), case.start - REWARD);
}

#[test]
fn a_faked_chunk_found_by_the_audit_is_convicted_by_the_referee_with_no_arbiter() {
    let mut case = delivered(Env::without_arbiter_with(params(10_000)), one_wrong_element);
    case.audit_until_reveal();
    case.reveal().unwrap();
    let job = case.env.job(&case.job);
    assert_eq!(job.state(), JobState::Disputed);
    let c = &job.challenges[0];
    assert_eq!(
        (c.status(), c.chunk, c.hash, c.operator_leaf),
        (
            ChallengeStatus::Revealed,
            2,
            leaf_hash(&quant_chunks(&case.model)[2]),
            leaf_hash(&case.delivered[2])
        ),
        "the audit became a chunk challenge of the first wrong chunk"
    );
    let FraudProof { staged, args } = gemm_fraud_proof(
        &case.model,
        FraudTarget::Challenge { index: 0 },
        2,
        &case.delivered[2],
        &[],
    )
    .unwrap()
    .expect("the chunk is wrong");
    let prover = case.env.cranker();
    let buffer = case.env.stage(&prover, &staged);
    let deadline = case.env.job(&case.job).challenge_reveal_deadline().unwrap();
    case.warp_past(deadline);
    case.env
        .prove_fraud(case.job, &case.creator, buffer, args)
        .unwrap();
    assert_eq!(case.env.job(&case.job).state(), JobState::Settled);
    let op = case.env.operator_of(&case.op);
    assert_eq!((op.earned, op.bonded, op.stake), (0, 0, STAKE - BOND));
    let auditor = case.env.operator_of(&case.auditor);
    assert_eq!(
        (auditor.earned, auditor.bonded, auditor.stake),
        (AUDIT_FEE + HONEST_SHARE, 0, STAKE)
    );
    assert_eq!(
        case.env.balance(&case.creator.token),
        case.start - AUDIT_FEE + TO_CREATOR,
        "the reward back, and the compensation"
    );
}

#[test]
fn a_lying_auditor_loses_its_bond_to_the_arbiter() {
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(10_000)), honest);
    case.draw();
    let mut lie = case.true_audit_leaves();
    lie[1] = [9; 32];
    case.env
        .commit_audit(&case.auditor, case.job, &lie)
        .unwrap();
    let all = case.delivered_leaves();
    case.env.post_audit_leaves(case.job, &all).unwrap();
    case.env.reveal_audit(&case.auditor, case.job, lie).unwrap();
    assert_eq!(case.env.job(&case.job).state(), JobState::Disputed);
    let deadline = case.env.job(&case.job).challenge_reveal_deadline().unwrap();
    case.warp_past(deadline);
    case.env.resolve(case.job, &case.creator, 0b1).unwrap();
    assert_eq!(case.env.earned(&case.op), PAY + HONEST_SHARE);
    let auditor = case.env.operator_of(&case.auditor);
    assert_eq!(
        (auditor.earned, auditor.bonded, auditor.stake),
        (0, 0, STAKE - BOND)
    );
    assert_eq!(
        case.env.balance(&case.creator.token),
        case.start - REWARD + TO_CREATOR,
        "the fee back: the audit was wrong"
    );
}

#[test]
fn withheld_leaves_convict_the_operator_as_if_wrong() {
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(10_000)), honest);
    case.draw();
    case.env
        .commit_audit(&case.auditor, case.job, &case.true_audit_leaves())
        .unwrap();
    // One leaf is posted, the others never are.
    let all = case.delivered_leaves();
    let first = case.env.job(&case.job).audit_chunks[0] as usize;
    let ix =
        case.env
            .keys
            .post_audit_leaf(case.job, all[first], tessera_merkle::proof(&all, first));
    let crank = case.env.cranker();
    case.env.send(&[ix], &[&crank]).unwrap();
    assert_tessera_error(
        &case.env.convict_withheld(case.job, &case.creator),
        TesseraError::ChallengeRevealOpen,
    );
    let deadline = case.env.job(&case.job).challenge_reveal_deadline().unwrap();
    case.warp_past(deadline);
    assert_tessera_error(
        &case.env.post_audit_leaves(case.job, &all),
        TesseraError::RevealWindowClosed,
    );
    assert_tessera_error(
        &case.env.finalize(case.job, &case.creator),
        TesseraError::AuditLeavesMissing,
    );
    case.env.convict_withheld(case.job, &case.creator).unwrap();
    assert_eq!(case.env.job(&case.job).state(), JobState::Settled);
    let op = case.env.operator_of(&case.op);
    assert_eq!((op.earned, op.bonded, op.stake), (0, 0, STAKE - BOND));
    let auditor = case.env.operator_of(&case.auditor);
    assert_eq!(
        (auditor.earned, auditor.bonded, auditor.stake),
        (AUDIT_FEE + HONEST_SHARE, 0, STAKE)
    );
    assert_eq!(
        case.env.balance(&case.creator.token),
        case.start - AUDIT_FEE + TO_CREATOR
    );
}

#[test]
fn an_auditor_that_never_reveals_is_slashed_as_a_no_show() {
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(10_000)), honest);
    case.audit_until_reveal();
    let job = case.env.job(&case.job);
    case.warp_past(job.challenge_reveal_deadline().unwrap());
    assert_tessera_error(
        &case.env.finalize(case.job, &case.creator),
        TesseraError::AuditOpen,
    );
    assert_tessera_error(
        &case.env.convict_withheld(case.job, &case.creator),
        TesseraError::AuditLeavesDone,
    );
    case.warp_past(job.audit_reveal_deadline().unwrap());
    assert_tessera_error(&case.reveal(), TesseraError::RevealWindowClosed);
    case.env.finalize(case.job, &case.creator).unwrap();
    assert_eq!(case.env.earned(&case.op), PAY);
    let auditor = case.env.operator_of(&case.auditor);
    let no_show = BOND * tessera_client::presets::SLASH_NO_SHOW_BPS as u64 / 10_000;
    assert_eq!(
        (auditor.earned, auditor.bonded, auditor.stake),
        (0, 0, STAKE - no_show)
    );
    assert_eq!(
        case.env.balance(&case.creator.token),
        case.start - REWARD + no_show / 2,
        "the fee back, and half the no-show slash"
    );
}

#[test]
fn the_draw_waits_for_a_later_slot_and_happens_once() {
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(10_000)), honest);
    assert_tessera_error(&case.env.draw_audit(case.job), TesseraError::AuditNotReady);
    // Another account in the sysvar's place is refused.
    case.env.warp(1);
    let mut ix = case.env.keys.draw_audit(case.job);
    ix.accounts[1].pubkey = case.job;
    let crank = case.env.cranker();
    assert_anchor_error(
        &case.env.send(&[ix], &[&crank]),
        anchor_lang::error::ErrorCode::ConstraintAddress,
    );
    case.draw();
    assert_tessera_error(&case.env.draw_audit(case.job), TesseraError::NoAuditDraw);
    // A market without audits has no draw.
    let mut plain = delivered(Env::new(), honest);
    plain.env.warp(1);
    assert_eq!(plain.env.job(&plain.job).audit_state(), AuditState::None);
    assert_tessera_error(&plain.env.draw_audit(plain.job), TesseraError::NoAuditDraw);
}

#[test]
fn a_draw_whose_slot_left_the_history_audits_the_job() {
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(1)), honest);
    // 600 slots pass: the first slot after the results is no longer in `SlotHashes`.
    case.env.warp(240);
    case.env.draw_audit(case.job).unwrap();
    assert_eq!(case.env.job(&case.job).audit_state(), AuditState::Drawn);
}

#[test]
fn audit_moves_refuse_the_wrong_party_order_and_data() {
    let mut case = delivered(Env::with(anchor_spl::token::ID, params(10_000)), honest);
    case.draw();
    let leaves = case.true_audit_leaves();
    let all = case.delivered_leaves();
    // Nothing to post before an auditor commits.
    let first = case.env.job(&case.job).audit_chunks[0] as usize;
    let ix =
        case.env
            .keys
            .post_audit_leaf(case.job, all[first], tessera_merkle::proof(&all, first));
    let crank = case.env.cranker();
    assert_tessera_error(&case.env.send(&[ix], &[&crank]), TesseraError::NoAudit);
    // The job's own operator cannot audit it.
    let op = case.op.key.insecure_clone();
    let op = User {
        key: op,
        token: case.op.token,
    };
    assert_tessera_error(
        &case.env.commit_audit(&op, case.job, &leaves),
        TesseraError::SelfChallenge,
    );
    case.env
        .commit_audit(&case.auditor, case.job, &leaves)
        .unwrap();
    // One audit per job.
    let second = case.env.operator(STAKE);
    assert_tessera_error(
        &case.env.commit_audit(&second, case.job, &leaves),
        TesseraError::NotAuditable,
    );
    // Revealing before the leaves are posted.
    assert_tessera_error(&case.reveal(), TesseraError::AuditLeavesMissing);
    // A leaf that is not the drawn chunk's.
    let other = (first + 1) % 4;
    let ix =
        case.env
            .keys
            .post_audit_leaf(case.job, all[other], tessera_merkle::proof(&all, other));
    let crank = case.env.cranker();
    assert_tessera_error(
        &case.env.send(&[ix], &[&crank]),
        TesseraError::BadMerkleProof,
    );
    case.env.post_audit_leaves(case.job, &all).unwrap();
    let ix =
        case.env
            .keys
            .post_audit_leaf(case.job, all[first], tessera_merkle::proof(&all, first));
    let crank = case.env.cranker();
    assert_tessera_error(
        &case.env.send(&[ix], &[&crank]),
        TesseraError::AuditLeavesDone,
    );
    // The audit is not a challenge to reveal as one.
    let args = ChallengeArgs {
        chunk: first as u32,
        hash: [1; 32],
        operator_leaf: all[first],
        proof: tessera_merkle::proof(&all, first),
    };
    assert_tessera_error(
        &case.env.reveal_challenge(&case.auditor, case.job, args),
        TesseraError::WrongSlotState,
    );
    // Leaves other than those committed (changed, or one short), another operator's reveal.
    let mut changed = leaves.clone();
    changed[3] = [5; 32];
    assert_tessera_error(
        &case.env.reveal_audit(&case.auditor, case.job, changed),
        TesseraError::AuditMismatch,
    );
    assert_tessera_error(
        &case
            .env
            .reveal_audit(&case.auditor, case.job, leaves[..3].to_vec()),
        TesseraError::AuditMismatch,
    );
    assert_tessera_error(
        &case.env.reveal_audit(&second, case.job, leaves.clone()),
        TesseraError::NoAudit,
    );
    // The leaves posted are the operators', in draw order.
    let all = case.delivered_leaves();
    let job = case.env.job(&case.job);
    for (k, &c) in job.audited_chunks().iter().enumerate() {
        assert_eq!(job.audit_leaves[k], all[c as usize]);
    }
    case.reveal().unwrap();
    assert_tessera_error(&case.reveal(), TesseraError::NoAudit);
}

#[test]
fn bad_audit_parameters_are_refused() {
    for bad in [
        MarketParams {
            audit_fee_bps: 0,
            ..audit_params()
        },
        MarketParams {
            audit_chunks: 5,
            ..audit_params()
        },
        MarketParams {
            audit_chunks: 0,
            ..audit_params()
        },
        MarketParams {
            audit_rate_bps: 10_001,
            ..audit_params()
        },
        MarketParams {
            audit_rate_bps: 0,
            ..audit_params()
        },
    ] {
        let mut env = Env::bare(anchor_spl::token::ID);
        let ix = env
            .keys
            .init_market(env.admin.pubkey(), env.arbiter.pubkey(), bad);
        let admin = env.admin.insecure_clone();
        assert_tessera_error(&env.send(&[ix], &[&admin]), TesseraError::BadAuditParams);
    }
}

#[test]
fn an_audit_played_as_slowly_as_it_may_be_frees_the_job_within_max_job_lifetime() {
    // Two replicas run to the last second of every window; the draw comes at the last second
    // of the challenge window (restarting it), the audit at the last second of the new one, the
    // leaves at the last second of the challenges' reveal window, the auditor's reveal at the
    // last second of its own; the arbiter never rules.
    use tessera::constants::{MAX_JOB_LIFETIME, MAX_WINDOW};
    let mut p = params(10_000);
    p.max_exec_timeout = MAX_WINDOW;
    p.reveal_window = MAX_WINDOW;
    p.challenge_window = MAX_WINDOW;
    p.dispute_window = MAX_WINDOW;
    let mut env = Env::with(anchor_spl::token::ID, p);
    let creator = env.user(10 * REWARD);
    let (a, b, auditor) = (
        env.operator(STAKE),
        env.operator(STAKE),
        env.operator(STAKE),
    );
    let model = model();
    let mut delivered = quant_chunks(&model);
    one_wrong_element(&mut delivered);
    let leaves: Vec<Hash> = delivered.iter().map(|c| leaf_hash(c)).collect();
    let root = root_of_chunks(&delivered);
    let created_at = env.now();
    let mut args = env.job_args(1, 2, REWARD);
    args.kernel = tessera::constants::KERNEL_GEMM_I8;
    args.kernel_params = model.model_root();
    args.chunk_count = model.chunk_count();
    args.claim_deadline = created_at + MAX_WINDOW;
    args.exec_timeout = MAX_WINDOW;
    env.create_job_with(&creator, args).unwrap();
    let job = env.keys.job(&creator.pubkey(), 1);
    env.claim(&b, job).unwrap();
    env.commit(&b, job, root, [2; 32]).unwrap();
    env.warp(MAX_WINDOW);
    env.claim(&a, job).unwrap();
    env.warp(MAX_WINDOW);
    env.commit(&a, job, root, [1; 32]).unwrap();
    env.warp(MAX_WINDOW);
    env.reveal(&a, job, root, [1; 32]).unwrap();
    env.reveal(&b, job, root, [2; 32]).unwrap();
    env.warp(MAX_WINDOW);
    env.draw_audit(job).unwrap();
    env.warp(MAX_WINDOW);
    let truth: Vec<Hash> = {
        let t = quant_chunks(&model);
        env.job(&job)
            .audited_chunks()
            .iter()
            .map(|&c| leaf_hash(&t[c as usize]))
            .collect()
    };
    env.commit_audit(&auditor, job, &truth).unwrap();
    env.warp(MAX_WINDOW);
    env.post_audit_leaves(job, &leaves).unwrap();
    env.warp(MAX_WINDOW);
    env.reveal_audit(&auditor, job, truth).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Disputed);
    assert_eq!(env.now(), created_at + 7 * MAX_WINDOW);
    env.warp(MAX_WINDOW);
    let expire = |env: &mut Env| {
        let j = env.job(&job);
        let ix = env
            .keys
            .expire_dispute(job, creator.pubkey(), creator.token, &env.parties(&j));
        let crank = env.cranker();
        env.send(&[ix], &[&crank])
    };
    assert_tessera_error(&expire(&mut env), TesseraError::DisputeOpen);
    env.warp(1);
    expire(&mut env).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Settled);
    for u in [&a, &b, &auditor] {
        assert_eq!(env.operator_of(u).bonded, 0);
    }
    // Eight windows: a referee game opened at the dispute deadline adds four more.
    assert_eq!(env.now(), created_at + 8 * MAX_WINDOW + 1);
    const { assert!(12 * MAX_WINDOW == MAX_JOB_LIFETIME) };
}
