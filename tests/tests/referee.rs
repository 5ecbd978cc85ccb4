//! The on-chain referee for `gemm-i8` jobs (`prove_fraud`): a chunk challenge of a result the
//! replicas agreed on is settled by the program itself, which re-executes one element of the
//! model, with no arbiter. Every test runs the real SBPF program in LiteSVM.
#![allow(clippy::result_large_err)] // TxResult carries the failed transaction's metadata, as LiteSVM returns it.
use anchor_lang::prelude::Pubkey;
use tessera::constants::KERNEL_RENDER;
use tessera::instructions::{ChallengeArgs, FraudArgs, FraudTarget};
use tessera::state::JobState;
use tessera_client::ix::parties;
use tessera_client::referee::{gemm_fraud_proof, FraudProof};
use tessera_kernels::benchmark::synthetic_mlp;
use tessera_kernels::quant::QuantModel;
use tessera_merkle::{leaf_hash, root_of_chunks};
use tessera_tests::amounts::*;
use tessera_tests::*;

/// The first challenge in commitment order, as a fraud proof's target.
const CHALLENGE_0: FraudTarget = FraudTarget::Challenge { index: 0 };

/// A one-layer model: 8 rows of 64 inputs to 24 outputs, 2 rows per chunk (4 chunks).
fn model() -> QuantModel {
    synthetic_mlp(0x5eed, 8, &[64, 24], 2)
}

struct Case {
    env: Env,
    creator: User,
    ops: Vec<User>,
    job: Pubkey,
    model: QuantModel,
    /// What the replicas delivered.
    delivered: Vec<Vec<u8>>,
}

/// A `gemm-i8` job of `replicas` replicas that all deliver `delivered` (the model's output
/// changed by `tamper`), revealed and unchallenged.
fn delivered_job(replicas: u8, tamper: impl Fn(&mut [Vec<u8>])) -> Case {
    delivered_job_in(Env::new(), replicas, tamper)
}

/// [`delivered_job`] in the market of `env`.
fn delivered_job_in(mut env: Env, replicas: u8, tamper: impl Fn(&mut [Vec<u8>])) -> Case {
    let creator = env.user(10 * REWARD);
    let model = model();
    let mut delivered = quant_chunks(&model);
    tamper(&mut delivered);
    env.create_gemm_job(&creator, 1, replicas, &model).unwrap();
    let job = env.keys.job(&creator.pubkey(), 1);
    let root = root_of_chunks(&delivered);
    let ops: Vec<User> = (0..replicas).map(|_| env.operator(STAKE)).collect();
    for op in &ops {
        env.claim(op, job).unwrap();
    }
    if replicas == 1 {
        env.submit(&ops[0], job, root).unwrap();
    } else {
        for op in &ops {
            env.commit(op, job, root, [3; 32]).unwrap();
        }
        for op in &ops {
            env.reveal(op, job, root, [3; 32]).unwrap();
        }
    }
    assert_eq!(env.job(&job).state(), JobState::Revealed);
    Case {
        env,
        creator,
        ops,
        job,
        model,
        delivered,
    }
}

impl Case {
    /// A challenge of `chunk`, claiming `hash`, against the delivered leaf.
    fn chunk_challenge(&self, chunk: u32, hash: [u8; 32]) -> ChallengeArgs {
        let leaves: Vec<_> = self.delivered.iter().map(|c| leaf_hash(c)).collect();
        ChallengeArgs {
            chunk,
            hash,
            operator_leaf: leaves[chunk as usize],
            proof: tessera_merkle::proof(&leaves, chunk as usize),
        }
    }

    /// `verifier` challenges `chunk` with the model's true leaf.
    fn challenge(&mut self, verifier: &User, chunk: u32) {
        let truth = leaf_hash(&quant_chunks(&self.model)[chunk as usize]);
        let args = self.chunk_challenge(chunk, truth);
        self.env.challenge(verifier, self.job, args).unwrap();
    }

    /// The proof of the delivered chunk `chunk` (challenge `challenge`), staged by a third party.
    fn proof(&mut self, challenge: u8, chunk: u32) -> (Pubkey, FraudArgs) {
        let FraudProof { staged, args } = gemm_fraud_proof(
            &self.model,
            FraudTarget::Challenge { index: challenge },
            chunk,
            &self.delivered[chunk as usize],
            &[],
        )
        .unwrap()
        .expect("the chunk is wrong");
        let prover = self.env.cranker();
        (self.env.stage(&prover, &staged), args)
    }

    fn prove(&mut self, buffer: Pubkey, args: FraudArgs) -> TxResult {
        self.env.prove_fraud(self.job, &self.creator, buffer, args)
    }
}

/// One element of row 1, feature 5 of chunk 2 is off by one.
fn one_wrong_element(chunks: &mut [Vec<u8>]) {
    chunks[2][24 + 5] = chunks[2][24 + 5].wrapping_add(1);
}

#[test]
fn a_wrong_element_is_convicted_without_the_arbiter() {
    let mut case = delivered_job(1, one_wrong_element);
    let verifier = case.env.operator(STAKE);
    case.challenge(&verifier, 2);
    assert_eq!(case.env.job(&case.job).state(), JobState::Disputed);
    case.env.warp_past_challenge_reveals(case.job);
    let (buffer, args) = case.proof(0, 2);
    assert_eq!((args.row, args.feature), (1, 5));
    let before = case.env.balance(&case.creator.token);
    case.prove(buffer, args).unwrap();

    let job = case.env.job(&case.job);
    assert_eq!(job.state(), JobState::Settled);
    assert_eq!(job.agreed_root, [0; 32], "no result stands");
    // As an arbiter's verdict for the challenger: the operator loses its bond, the creator
    // gets its reward back and half the slash, the verifier a quarter.
    let slash = BOND;
    assert_eq!(
        case.env.balance(&case.creator.token),
        before + REWARD + slash / 2
    );
    assert_eq!(case.env.earned(&verifier), slash / 4);
    let op = case.env.operator_of(&case.ops[0]);
    assert_eq!((op.stake, op.bonded, op.earned), (STAKE - slash, 0, 0));
    let v = case.env.operator_of(&verifier);
    assert_eq!((v.stake, v.bonded), (STAKE, 0));
    // Settled once (its escrow is closed): neither a second proof nor the arbiter can rule
    // again.
    let (again, args) = case.proof(0, 2);
    let closed = anchor_lang::error::ErrorCode::AccountNotInitialized;
    assert_anchor_error(&case.prove(again, args), closed);
    assert_anchor_error(&case.env.resolve(case.job, &case.creator, 0b1), closed);
}

/// A market with no arbiter at all: its `gemm-i8` disputes are settled by the referee, and no
/// key can rule them (the default key signs nothing).
#[test]
fn a_market_with_no_arbiter_settles_by_the_referee_alone() {
    let env = Env::without_arbiter();
    let mut case = delivered_job_in(env, 1, one_wrong_element);
    assert_eq!(case.env.job(&case.job).terms.arbiter, Pubkey::default());
    let verifier = case.env.operator(STAKE);
    case.challenge(&verifier, 2);
    case.env.warp_past_challenge_reveals(case.job);
    // The key that was to be the arbiter is nobody's here.
    assert_tessera_error(
        &case.env.resolve(case.job, &case.creator, 0b1),
        TesseraError::NotArbiter,
    );
    let (buffer, args) = case.proof(0, 2);
    case.prove(buffer, args).unwrap();
    assert_eq!(case.env.job(&case.job).state(), JobState::Settled);
    assert_eq!(case.env.operator_of(&case.ops[0]).stake, STAKE - BOND);
    assert_eq!(case.env.earned(&verifier), BOND / 4);
}

#[test]
fn agreeing_replicas_are_all_convicted_and_other_challenges_released() {
    let mut case = delivered_job(2, one_wrong_element);
    let (first, second, decoy) = (
        case.env.operator(STAKE),
        case.env.operator(STAKE),
        case.env.operator(STAKE),
    );
    // In commitment order: a decoy on a right chunk (a wrong claim), then two on the wrong one.
    let args = case.chunk_challenge(0, [9; 32]);
    case.env.challenge(&decoy, case.job, args).unwrap();
    case.challenge(&first, 2);
    case.challenge(&second, 2);
    case.env.warp_past_challenge_reveals(case.job);
    let (buffer, args) = case.proof(1, 2);
    case.prove(buffer, args).unwrap();
    assert_eq!(case.env.job(&case.job).state(), JobState::Settled);
    for op in &case.ops {
        let o = case.env.operator_of(op);
        assert_eq!((o.stake, o.bonded, o.earned), (STAKE - BOND, 0, 0));
    }
    // The first challenge of the proven chunk wins the honest share of both slashes; the
    // second gets its bond back; the decoy is neither rewarded nor slashed.
    assert_eq!(case.env.earned(&first), 2 * (BOND / 4));
    for u in [&second, &decoy] {
        let o = case.env.operator_of(u);
        assert_eq!((o.stake, o.bonded, o.earned), (STAKE, 0, 0));
    }
}

#[test]
fn a_chunk_of_the_wrong_size_is_wrong_by_its_size() {
    let mut case = delivered_job(1, |c| c[3].truncate(10));
    let verifier = case.env.operator(STAKE);
    case.challenge(&verifier, 3);
    case.env.warp_past_challenge_reveals(case.job);
    let (buffer, args) = case.proof(0, 3);
    assert_eq!(args.chunk_len, 10);
    case.prove(buffer, args).unwrap();
    assert_eq!(case.env.job(&case.job).state(), JobState::Settled);
    assert_eq!(case.env.operator_of(&case.ops[0]).stake, STAKE - BOND);
}

#[test]
fn a_right_result_cannot_be_convicted() {
    // The operator was right; a challenger claims chunk 1 is wrong and proves any element.
    let mut case = delivered_job(1, |_| {});
    let verifier = case.env.operator(STAKE);
    let args = case.chunk_challenge(1, [9; 32]);
    case.env.challenge(&verifier, case.job, args).unwrap();
    case.env.warp_past_challenge_reveals(case.job);
    // Pretend the delivered chunk were different, to get a well-formed proof of row 0,
    // feature 0; then stage the chunk as delivered.
    let mut other = case.delivered[1].clone();
    other[0] ^= 0x40;
    let FraudProof { mut staged, args } =
        gemm_fraud_proof(&case.model, CHALLENGE_0, 1, &other, &[])
            .unwrap()
            .unwrap();
    staged[..other.len()].copy_from_slice(&case.delivered[1]);
    let prover = case.env.cranker();
    let buffer = case.env.stage(&prover, &staged);
    let before = case.env.balance(&case.creator.token);
    assert_tessera_error(&case.prove(buffer, args), TesseraError::NoFraud);
    assert_eq!(case.env.job(&case.job).state(), JobState::Disputed);
    assert_eq!(case.env.balance(&case.creator.token), before);
    // The arbiter still rules it: the operator was right.
    case.env.resolve(case.job, &case.creator, 0b1).unwrap();
    assert_eq!(case.env.operator_of(&case.ops[0]).stake, STAKE);
}

#[test]
fn every_staged_piece_is_checked() {
    let mut case = delivered_job(1, one_wrong_element);
    let verifier = case.env.operator(STAKE);
    case.challenge(&verifier, 2);
    case.env.warp_past_challenge_reveals(case.job);
    let FraudProof { staged, args } =
        gemm_fraud_proof(&case.model, CHALLENGE_0, 2, &case.delivered[2], &[])
            .unwrap()
            .unwrap();
    let chunk_len = args.chunk_len as usize;
    let k = 64;
    let prover = case.env.cranker();
    let try_staged = |case: &mut Case, staged: Vec<u8>, args: FraudArgs| {
        let buffer = case.env.stage(&prover, &staged);
        case.prove(buffer, args)
    };
    // A byte of the chunk, of the input row, of the weight row, of a proof.
    for at in [0, chunk_len + 3, chunk_len + k + 7, chunk_len + 2 * k + 1] {
        let mut bad = staged.clone();
        bad[at] ^= 1;
        let r = try_staged(&mut case, bad, args.clone());
        assert_tessera_error(&r, TesseraError::BadFraudProof);
    }
    // The feature's parameters, the row named, a proof cut short.
    for change in [
        (|a: &mut FraudArgs| a.bias += 1) as fn(&mut FraudArgs),
        |a| a.shift -= 1,
        |a| a.row = 0,
        |a| a.feature += 1,
        |a| a.input_proof_len -= 1,
    ] {
        let mut bad = args.clone();
        change(&mut bad);
        let r = try_staged(&mut case, staged.clone(), bad);
        let code = |e: TesseraError| Some(e as u32 + anchor_lang::error::ERROR_CODE_OFFSET);
        assert!(
            custom_code(&r) == code(TesseraError::BadFraudProof)
                || custom_code(&r) == code(TesseraError::NoFraud),
            "{r:?}"
        );
    }
    // Another model's header or roots.
    for change in [
        (|a: &mut FraudArgs| a.header[20] ^= 1) as fn(&mut FraudArgs),
        |a| a.input_root[0] ^= 1,
        |a| a.layer_root[0] ^= 1,
        |a| a.header.truncate(10),
    ] {
        let mut bad = args.clone();
        change(&mut bad);
        let r = try_staged(&mut case, staged.clone(), bad);
        assert_tessera_error(&r, TesseraError::BadModelCommitment);
    }
    // A challenge that is not a chunk challenge of this job, or not there.
    let mut bad = args.clone();
    bad.target = FraudTarget::Challenge { index: 2 };
    let r = try_staged(&mut case, staged.clone(), bad);
    assert_tessera_error(&r, TesseraError::NotRefereeable);
    assert_eq!(case.env.job(&case.job).state(), JobState::Disputed);
    // The genuine proof still convicts.
    let r = try_staged(&mut case, staged, args);
    r.unwrap();
}

#[test]
fn the_referee_waits_for_every_challenge_and_stops_at_the_dispute_deadline() {
    let mut case = delivered_job(1, one_wrong_element);
    let verifier = case.env.operator(STAKE);
    case.challenge(&verifier, 2);
    let (buffer, args) = case.proof(0, 2);
    // Another challenger may still reveal.
    assert_tessera_error(
        &case.prove(buffer, args.clone()),
        TesseraError::ChallengeRevealOpen,
    );
    let deadline = case.env.job(&case.job).dispute_deadline;
    let now = case.env.now();
    case.env.warp(deadline - now + 1);
    assert_tessera_error(
        &case.prove(buffer, args),
        TesseraError::DisputeDeadlinePassed,
    );
}

#[test]
fn disputes_the_referee_cannot_decide_stay_with_the_arbiter() {
    // A render job.
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let verifier = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    assert_eq!(env.job(&job).kernel, KERNEL_RENDER);
    let render_chunks: Vec<Vec<u8>> = (0u8..4).map(|i| vec![i; 16]).collect();
    env.claim(&op, job).unwrap();
    env.submit(&op, job, root_of_chunks(&render_chunks))
        .unwrap();
    let leaves: Vec<_> = render_chunks.iter().map(|c| leaf_hash(c)).collect();
    let args = ChallengeArgs {
        chunk: 1,
        hash: [5; 32],
        operator_leaf: leaves[1],
        proof: tessera_merkle::proof(&leaves, 1),
    };
    env.challenge(&verifier, job, args).unwrap();
    env.warp_past_challenge_reveals(job);
    let model = model();
    let FraudProof { staged, args } = gemm_fraud_proof(&model, CHALLENGE_0, 1, &[0; 10], &[])
        .unwrap()
        .unwrap();
    let prover = env.cranker();
    let buffer = env.stage(&prover, &staged);
    assert_tessera_error(
        &env.prove_fraud(job, &creator, buffer, args),
        TesseraError::NotRefereeable,
    );

    // Replicas that disagree (no agreed root): no challenge to uphold (a slot is accused
    // instead, below).
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let model = self::model();
    env.create_gemm_job(&creator, 1, 2, &model).unwrap();
    let job = env.keys.job(&creator.pubkey(), 1);
    let (a, b) = (env.operator(STAKE), env.operator(STAKE));
    let good = quant_chunks(&model);
    let mut bad = good.clone();
    one_wrong_element(&mut bad);
    env.claim(&a, job).unwrap();
    env.claim(&b, job).unwrap();
    env.commit(&a, job, root_of_chunks(&good), [1; 32]).unwrap();
    env.commit(&b, job, root_of_chunks(&bad), [2; 32]).unwrap();
    env.reveal(&a, job, root_of_chunks(&good), [1; 32]).unwrap();
    env.reveal(&b, job, root_of_chunks(&bad), [2; 32]).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Disputed);
    let FraudProof { staged, args } = gemm_fraud_proof(&model, CHALLENGE_0, 2, &bad[2], &[])
        .unwrap()
        .unwrap();
    let prover = env.cranker();
    let buffer = env.stage(&prover, &staged);
    assert_tessera_error(
        &env.prove_fraud(job, &creator, buffer, args),
        TesseraError::NotRefereeable,
    );
}

// ---------------------------------------------------------------------------------------------
// Replicas that disagree: each other's accusers
// ---------------------------------------------------------------------------------------------

/// A `gemm-i8` job in a market with no arbiter, whose replicas deliver `outputs` (one per
/// replica), committed and revealed: disputed when they differ.
struct Disagreement {
    env: Env,
    creator: User,
    ops: Vec<User>,
    job: Pubkey,
    model: QuantModel,
    outputs: Vec<Vec<Vec<u8>>>,
}

fn disagreement(tampers: &[fn(&mut [Vec<u8>])]) -> Disagreement {
    let mut env = Env::without_arbiter();
    let creator = env.user(10 * REWARD);
    let model = model();
    let replicas = tampers.len() as u8;
    env.create_gemm_job(&creator, 1, replicas, &model).unwrap();
    let job = env.keys.job(&creator.pubkey(), 1);
    let outputs: Vec<Vec<Vec<u8>>> = tampers
        .iter()
        .map(|t| {
            let mut c = quant_chunks(&model);
            t(&mut c);
            c
        })
        .collect();
    let ops: Vec<User> = (0..replicas).map(|_| env.operator(STAKE)).collect();
    for op in &ops {
        env.claim(op, job).unwrap();
    }
    for (op, out) in ops.iter().zip(&outputs) {
        env.commit(op, job, root_of_chunks(out), [7; 32]).unwrap();
    }
    for (op, out) in ops.iter().zip(&outputs) {
        env.reveal(op, job, root_of_chunks(out), [7; 32]).unwrap();
    }
    Disagreement {
        env,
        creator,
        ops,
        job,
        model,
        outputs,
    }
}

fn honest(_: &mut [Vec<u8>]) {}

/// Chunk 1, row 0, feature 3 off by one (another wrong output than [`one_wrong_element`]).
fn another_wrong_element(chunks: &mut [Vec<u8>]) {
    chunks[1][3] = chunks[1][3].wrapping_sub(1);
}

impl Disagreement {
    /// The proof that slot `slot`'s chunk `chunk` is wrong, staged by a third party: its leaf
    /// proven under the slot's root.
    fn proof(&mut self, slot: u8, chunk: u32) -> (Pubkey, FraudArgs) {
        let out = &self.outputs[slot as usize];
        let leaves: Vec<_> = out.iter().map(|c| leaf_hash(c)).collect();
        let FraudProof { staged, args } = gemm_fraud_proof(
            &self.model,
            FraudTarget::Slot { slot, chunk },
            chunk,
            &out[chunk as usize],
            &tessera_merkle::proof(&leaves, chunk as usize),
        )
        .unwrap()
        .expect("the chunk is wrong");
        let prover = self.env.cranker();
        (self.env.stage(&prover, &staged), args)
    }

    fn prove(&mut self, buffer: Pubkey, args: FraudArgs) -> TxResult {
        self.env.prove_fraud(self.job, &self.creator, buffer, args)
    }
}

#[test]
fn replicas_that_disagree_convict_the_wrong_one_with_no_challenger_and_no_arbiter() {
    let mut d = disagreement(&[honest, one_wrong_element]);
    assert_eq!(d.env.job(&d.job).state(), JobState::Disputed);
    assert_eq!(d.env.job(&d.job).terms.arbiter, Pubkey::default());
    let before = d.env.balance(&d.creator.token);
    let (buffer, args) = d.proof(1, 2);
    assert_eq!((args.row, args.feature), (1, 5));
    d.prove(buffer, args).unwrap();

    let job = d.env.job(&d.job);
    assert_eq!(job.state(), JobState::Settled);
    assert_eq!(job.convicted, 0b10);
    assert_eq!(
        job.agreed_root,
        root_of_chunks(&d.outputs[0]),
        "the honest root stands"
    );
    // The cheater loses its bond: half to the creator (with the cheater's reward back), a
    // quarter to the honest replica (with its pay), the rest burned.
    assert_eq!(d.env.balance(&d.creator.token), before + REWARD + BOND / 2);
    let good = d.env.operator_of(&d.ops[0]);
    assert_eq!(
        (good.stake, good.bonded, good.earned),
        (STAKE, 0, PAY + BOND / 4)
    );
    let bad = d.env.operator_of(&d.ops[1]);
    assert_eq!((bad.stake, bad.bonded, bad.earned), (STAKE - BOND, 0, 0));
    // Settled once: no second proof.
    let (again, args) = d.proof(1, 2);
    let closed = anchor_lang::error::ErrorCode::AccountNotInitialized;
    assert_anchor_error(&d.prove(again, args), closed);
}

#[test]
fn an_honest_replica_cannot_be_convicted_whatever_is_staged() {
    let mut d = disagreement(&[honest, one_wrong_element]);
    let good_leaves: Vec<_> = d.outputs[0].iter().map(|c| leaf_hash(c)).collect();
    let bad_leaves: Vec<_> = d.outputs[1].iter().map(|c| leaf_hash(c)).collect();
    // The honest slot's real chunk 2, its leaf proven under its root, with the bad chunk's
    // element named: the model gives exactly what it delivered.
    let wrong = gemm_fraud_proof(
        &d.model,
        FraudTarget::Slot { slot: 0, chunk: 2 },
        2,
        &d.outputs[1][2],
        &tessera_merkle::proof(&good_leaves, 2),
    )
    .unwrap()
    .unwrap();
    let mut staged = wrong.staged.clone();
    staged[..d.outputs[0][2].len()].copy_from_slice(&d.outputs[0][2]);
    let prover = d.env.cranker();
    let buffer = d.env.stage(&prover, &staged);
    assert_tessera_error(&d.prove(buffer, wrong.args.clone()), TesseraError::NoFraud);
    // The cheater's chunk, its leaf "proven" under the honest root: not the honest slot's.
    let prover = d.env.cranker();
    let buffer = d.env.stage(&prover, &wrong.staged);
    assert_tessera_error(&d.prove(buffer, wrong.args), TesseraError::BadFraudProof);
    // The cheater's chunk and its own leaf proof, against the honest slot.
    let mut args = d.proof(1, 2).1;
    let good_target = FraudTarget::Slot { slot: 0, chunk: 2 };
    args.target = good_target;
    let p = gemm_fraud_proof(
        &d.model,
        good_target,
        2,
        &d.outputs[1][2],
        &tessera_merkle::proof(&bad_leaves, 2),
    )
    .unwrap()
    .unwrap();
    let prover = d.env.cranker();
    let buffer = d.env.stage(&prover, &p.staged);
    assert_tessera_error(&d.prove(buffer, args), TesseraError::BadFraudProof);
    // A slot that is not one, or a chunk out of range.
    for target in [
        FraudTarget::Slot { slot: 2, chunk: 2 },
        FraudTarget::Slot { slot: 7, chunk: 2 },
    ] {
        let (buffer, mut args) = d.proof(1, 2);
        args.target = target;
        assert_tessera_error(&d.prove(buffer, args), TesseraError::NotRefereeable);
    }
    let (buffer, mut args) = d.proof(1, 2);
    args.target = FraudTarget::Slot { slot: 1, chunk: 4 };
    assert_tessera_error(&d.prove(buffer, args), TesseraError::BadFraudProof);
    // Nothing moved.
    let job = d.env.job(&d.job);
    assert_eq!((job.state(), job.convicted), (JobState::Disputed, 0));
}

#[test]
fn one_honest_replica_convicts_two_that_colluded_on_one_wrong_root() {
    let mut d = disagreement(&[one_wrong_element, honest, one_wrong_element]);
    let before = d.env.balance(&d.creator.token);
    // One proof against either colluder convicts both: they delivered the same root.
    let (buffer, args) = d.proof(2, 2);
    d.prove(buffer, args).unwrap();
    let job = d.env.job(&d.job);
    assert_eq!((job.state(), job.convicted), (JobState::Settled, 0b101));
    assert_eq!(job.agreed_root, root_of_chunks(&d.outputs[1]));
    for cheat in [&d.ops[0], &d.ops[2]] {
        let op = d.env.operator_of(cheat);
        assert_eq!((op.stake, op.bonded, op.earned), (STAKE - BOND, 0, 0));
    }
    // The honest replica: its pay and the honest quarter of both slashes.
    let good = d.env.operator_of(&d.ops[1]);
    assert_eq!((good.stake, good.earned), (STAKE, PAY + 2 * (BOND / 4)));
    assert_eq!(
        d.env.balance(&d.creator.token),
        before + 2 * REWARD + 2 * (BOND / 2)
    );
}

#[test]
fn three_roots_take_two_proofs_or_the_deadline_slashes_the_proven_one() {
    // Two proofs: the job settles at the second, with the honest replica alone.
    let mut d = disagreement(&[honest, one_wrong_element, another_wrong_element]);
    let (buffer, args) = d.proof(1, 2);
    d.prove(buffer, args).unwrap();
    let job = d.env.job(&d.job);
    assert_eq!((job.state(), job.convicted), (JobState::Disputed, 0b010));
    // A convicted slot cannot be accused again.
    let (buffer, args) = d.proof(1, 2);
    assert_tessera_error(&d.prove(buffer, args), TesseraError::NotRefereeable);
    let (buffer, args) = d.proof(2, 1);
    d.prove(buffer, args).unwrap();
    let job = d.env.job(&d.job);
    assert_eq!((job.state(), job.convicted), (JobState::Settled, 0b110));
    assert_eq!(job.agreed_root, root_of_chunks(&d.outputs[0]));
    let good = d.env.operator_of(&d.ops[0]);
    assert_eq!(good.earned, PAY + 2 * (BOND / 4));

    // One proof, then nobody: at the dispute deadline the convicted slot is slashed, the two
    // others released, the creator refunded and compensated.
    let mut d = disagreement(&[honest, one_wrong_element, another_wrong_element]);
    let before = d.env.balance(&d.creator.token);
    let (buffer, args) = d.proof(1, 2);
    d.prove(buffer, args).unwrap();
    let deadline = d.env.job(&d.job).dispute_deadline;
    let now = d
        .env
        .svm
        .get_sysvar::<anchor_lang::prelude::Clock>()
        .unix_timestamp;
    d.env.warp(deadline + 1 - now);
    let (buffer, args) = d.proof(2, 1);
    assert_tessera_error(&d.prove(buffer, args), TesseraError::DisputeDeadlinePassed);
    let j = d.env.job(&d.job);
    let ix = d
        .env
        .keys
        .expire_dispute(d.job, d.creator.pubkey(), d.creator.token, &parties(&j));
    let crank = d.env.cranker();
    d.env.send(&[ix], &[&crank]).unwrap();
    let job = d.env.job(&d.job);
    assert_eq!(job.state(), JobState::Settled);
    assert_eq!(job.agreed_root, [0; 32], "no result stands");
    let bad = d.env.operator_of(&d.ops[1]);
    assert_eq!((bad.stake, bad.bonded), (STAKE - BOND, 0));
    for op in [&d.ops[0], &d.ops[2]] {
        let o = d.env.operator_of(op);
        assert_eq!((o.stake, o.bonded, o.earned), (STAKE, 0, 0));
    }
    // The whole escrow back, and the creator's half of the slash (no honest party: the
    // honest quarter is burned).
    assert_eq!(
        d.env.balance(&d.creator.token),
        before + 3 * REWARD + BOND / 2
    );
}

#[test]
fn a_slot_is_accused_only_when_replicas_disagree() {
    // Replicas that agree, challenged: the challenge is the target, not a slot.
    let mut case = delivered_job(2, one_wrong_element);
    let verifier = case.env.operator(STAKE);
    case.challenge(&verifier, 2);
    case.env.warp_past_challenge_reveals(case.job);
    let leaves: Vec<_> = case.delivered.iter().map(|c| leaf_hash(c)).collect();
    let p = gemm_fraud_proof(
        &case.model,
        FraudTarget::Slot { slot: 0, chunk: 2 },
        2,
        &case.delivered[2],
        &tessera_merkle::proof(&leaves, 2),
    )
    .unwrap()
    .unwrap();
    let prover = case.env.cranker();
    let buffer = case.env.stage(&prover, &p.staged);
    assert_tessera_error(&case.prove(buffer, p.args), TesseraError::NotRefereeable);
}

#[test]
fn only_its_authority_writes_or_closes_a_buffer_and_nothing_writes_past_its_end() {
    let mut env = Env::new();
    let owner = env.cranker();
    let stranger = env.cranker();
    let buffer = env.stage(&owner, &[7; 100]);
    let write = |env: &Env, who: &Keypair, offset: u32, len: usize| {
        env.keys
            .write_buffer(who.pubkey(), buffer, offset, vec![1; len])
    };
    let ix = write(&env, &stranger, 0, 4);
    assert_tessera_error(
        &env.send(&[ix], &[&stranger]),
        TesseraError::NotBufferAuthority,
    );
    let ix = write(&env, &owner, 97, 4);
    assert_tessera_error(&env.send(&[ix], &[&owner]), TesseraError::BufferOverflow);
    let ix = write(&env, &owner, u32::MAX, 4);
    assert_tessera_error(&env.send(&[ix], &[&owner]), TesseraError::BufferOverflow);
    let ix = write(&env, &owner, 96, 4);
    env.send(&[ix], &[&owner]).unwrap();
    let data = env.svm.get_account(&buffer).unwrap().data;
    let staged = &data[tessera::state::BUFFER_DATA_OFFSET..];
    assert_eq!(&staged[94..], &[7, 7, 1, 1, 1, 1]);

    let ix = env.keys.close_buffer(stranger.pubkey(), buffer);
    assert_tessera_error(
        &env.send(&[ix], &[&stranger]),
        TesseraError::NotBufferAuthority,
    );
    let rent = env.svm.get_account(&buffer).unwrap().lamports;
    let before = env.svm.get_balance(&owner.pubkey()).unwrap();
    let ix = env.keys.close_buffer(owner.pubkey(), buffer);
    env.send(&[ix], &[&owner]).unwrap();
    assert!(env.svm.get_account(&buffer).is_none_or(|a| a.lamports == 0));
    // Back to its authority, less the fee of the closing transaction.
    assert_eq!(
        env.svm.get_balance(&owner.pubkey()).unwrap(),
        before + rent - 5_000
    );
}

#[test]
fn every_referee_transaction_fits_in_one_packet() {
    use solana_message::Message;
    use solana_transaction::Transaction;
    let env = Env::new();
    let (payer, buffer) = (Keypair::new(), Keypair::new());
    let size = |ixs: &[anchor_lang::solana_program::instruction::Instruction],
                signers: &[&Keypair]| {
        let msg = Message::new(ixs, Some(&signers[0].pubkey()));
        let tx = Transaction::new(signers, msg, env.svm.latest_blockhash());
        // The wire format: a compact-u16 count (1 byte here) of 64-byte signatures, then the
        // message.
        1 + 64 * tx.signatures.len() + tx.message.serialize().len()
    };
    let budget =
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(1);
    let write = env.keys.write_buffer(
        payer.pubkey(),
        buffer.pubkey(),
        u32::MAX,
        vec![0xff; tessera_client::ix::BUFFER_WRITE_BYTES],
    );
    let n = size(&[budget.clone(), write], &[&payer]);
    assert!(n <= 1232, "write_buffer: {n} bytes");
    let create = tessera_client::ix::create_buffer_account(
        &env.keys.program_id,
        &payer.pubkey(),
        &buffer.pubkey(),
        1 << 20,
        u64::MAX,
    );
    let init = env.keys.init_buffer(payer.pubkey(), buffer.pubkey());
    let n = size(&[budget.clone(), create, init], &[&payer, &buffer]);
    assert!(n <= 1232, "create + init: {n} bytes");
    // prove_fraud at its largest: a one-layer header, the longest proofs, three challengers
    // and three replicas as parties.
    let args = FraudArgs {
        target: FraudTarget::Slot {
            slot: u8::MAX,
            chunk: u32::MAX,
        },
        row: u32::MAX,
        feature: u32::MAX,
        chunk_len: u32::MAX,
        header: vec![0xff; model().header().to_bytes().len()],
        input_root: [0xff; 32],
        layer_root: [0xff; 32],
        bias: i32::MIN,
        multiplier: i32::MIN,
        shift: i32::MIN,
        input_proof_len: u8::MAX,
        weight_proof_len: u8::MAX,
        leaf_proof_len: u8::MAX,
    };
    let parties: Vec<Pubkey> = (0..6).map(|_| Pubkey::new_unique()).collect();
    let prove = env.keys.prove_fraud(
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        buffer.pubkey(),
        &parties,
        args,
    );
    let limit =
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(1);
    let n = size(&[limit, budget, prove], &[&payer]);
    assert!(n <= 1232, "prove_fraud: {n} bytes");
}

// ---------------------------------------------------------------------------------------------
// Properties, over random models
// ---------------------------------------------------------------------------------------------

/// A random one-layer model: its shape, rows per chunk, zero points and relu drawn.
fn random_model(
    seed: u32,
    rows: usize,
    (k, n): (usize, usize),
    per_chunk: u32,
    (zp_in, zp_out, relu): (i8, i8, bool),
) -> QuantModel {
    let mut m = synthetic_mlp(seed, rows, &[k, n], per_chunk);
    m.input_zero_point = zp_in as i32;
    m.layers[0].output_zero_point = zp_out as i32;
    m.layers[0].relu = relu;
    m
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any single-element corruption of a random model's output, delivered by one of two
        /// replicas, is convicted by the honest one's proof; and the honest replica is never
        /// convicted, whichever element of its chunk the proof names.
        #[test]
        fn any_corrupted_element_is_convicted_and_the_honest_replica_never_is(
            seed in any::<u32>(),
            rows in 1usize..=12,
            k in 1usize..=80,
            n in 1usize..=20,
            per_chunk in 1u32..=4,
            zp in (any::<i8>(), any::<i8>(), any::<bool>()),
            at in any::<prop::sample::Index>(),
            delta in 1u8..=255,
        ) {
            let model = random_model(seed, rows, (k, n), per_chunk, zp);
            let truth = quant_chunks(&model);
            let element = at.index(rows * n);
            let (row, feature) = (element / n, element % n);
            let chunk = row / per_chunk as usize;
            let in_chunk = (row % per_chunk as usize) * n + feature;
            let mut wrong = truth.clone();
            wrong[chunk][in_chunk] = wrong[chunk][in_chunk].wrapping_add(delta);

            let mut env = Env::without_arbiter();
            let creator = env.user(10 * REWARD);
            env.create_gemm_job(&creator, 1, 2, &model).unwrap();
            let job = env.keys.job(&creator.pubkey(), 1);
            let (good, bad) = (env.operator(STAKE), env.operator(STAKE));
            for (op, out) in [(&good, &truth), (&bad, &wrong)] {
                env.claim(op, job).unwrap();
                env.commit(op, job, root_of_chunks(out), [5; 32]).unwrap();
            }
            for (op, out) in [(&good, &truth), (&bad, &wrong)] {
                env.reveal(op, job, root_of_chunks(out), [5; 32]).unwrap();
            }
            prop_assert_eq!(env.job(&job).state(), JobState::Disputed);

            // The honest replica's chunk, its leaf under its root, accused at the corrupted
            // element (and the proof builder finds nothing wrong in it).
            let good_leaves: Vec<_> = truth.iter().map(|c| leaf_hash(c)).collect();
            let good_proof = tessera_merkle::proof(&good_leaves, chunk);
            let honest_target = FraudTarget::Slot { slot: 0, chunk: chunk as u32 };
            prop_assert!(gemm_fraud_proof(&model, honest_target, chunk as u32, &truth[chunk], &good_proof)
                .unwrap()
                .is_none());
            let forged = gemm_fraud_proof(&model, honest_target, chunk as u32, &wrong[chunk], &good_proof)
                .unwrap()
                .unwrap();
            let mut staged = forged.staged.clone();
            staged[..truth[chunk].len()].copy_from_slice(&truth[chunk]);
            let prover = env.cranker();
            let buffer = env.stage(&prover, &staged);
            let r = env.prove_fraud(job, &creator, buffer, forged.args);
            prop_assert!(r.is_err());
            assert_tessera_error(&r, TesseraError::NoFraud);

            // The corrupted replica: convicted at exactly that element.
            let bad_leaves: Vec<_> = wrong.iter().map(|c| leaf_hash(c)).collect();
            let FraudProof { staged, args } = gemm_fraud_proof(
                &model,
                FraudTarget::Slot { slot: 1, chunk: chunk as u32 },
                chunk as u32,
                &wrong[chunk],
                &tessera_merkle::proof(&bad_leaves, chunk),
            )
            .unwrap()
            .expect("the corrupted chunk is wrong");
            prop_assert_eq!(
                (args.row as usize, args.feature as usize),
                (row % per_chunk as usize, feature)
            );
            let prover = env.cranker();
            let buffer = env.stage(&prover, &staged);
            env.prove_fraud(job, &creator, buffer, args).unwrap();
            let settled = env.job(&job);
            prop_assert_eq!((settled.state(), settled.convicted), (JobState::Settled, 0b10));
            prop_assert_eq!(settled.agreed_root, root_of_chunks(&truth));
            prop_assert_eq!(env.operator_of(&bad).stake, STAKE - BOND);
            prop_assert_eq!(env.operator_of(&good).earned, PAY + BOND / 4);
        }
    }
}
