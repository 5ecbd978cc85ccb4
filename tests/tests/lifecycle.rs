//! Whole job lifecycles on the real program, with exact balances.
use tessera::state::{JobState, OperatorStatus, SlotStatus};
use tessera_tests::amounts::*;
use tessera_tests::*;

fn root(b: u8) -> [u8; 32] {
    [b; 32]
}

fn salt(b: u8) -> [u8; 32] {
    [b ^ 0x55; 32]
}

#[test]
fn finalize_job_pays_one_replica() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    assert_eq!(env.balance(&creator.token), 9 * REWARD);

    env.claim(&op, job).unwrap();
    assert_eq!(env.operator_of(&op).bonded, BOND);
    assert_eq!(env.job(&job).state(), JobState::Claimed);
    env.submit(&op, job, root(1)).unwrap();
    let j = env.job(&job);
    assert_eq!(j.state(), JobState::Revealed);
    assert_eq!(j.agreed_root, root(1));

    assert_tessera_error(
        &env.finalize(job, &creator),
        TesseraError::ChallengeWindowOpen,
    );
    env.warp(env.params.challenge_window + 1);
    let supply = env.supply();
    env.finalize(job, &creator).unwrap();

    assert_eq!(env.earned(&op), PAY);
    assert_eq!(env.balance(&env.keys.fee_vault), FEE);
    assert_eq!(env.supply(), supply - BURN);
    assert_eq!(env.balance(&creator.token), 9 * REWARD);
    let o = env.operator_of(&op);
    assert_eq!((o.bonded, o.stake, o.jobs_completed), (0, STAKE, 1));
    assert_eq!(env.job(&job).state(), JobState::Settled);
    // The escrow is closed.
    let escrow = tessera_client::pda::escrow(&job).0;
    assert!(env.svm.get_account(&escrow).is_none_or(|a| a.lamports == 0));
    // Finalize twice fails: the escrow is gone, nothing can be paid again.
    assert_anchor_error(
        &env.finalize(job, &creator),
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
    assert_eq!(env.earned(&op), PAY);

    // Earnings leave at once (no unbonding); the stake stays.
    let ix = env.keys.withdraw_stake(op.pubkey(), op.token);
    env.send(std::slice::from_ref(&ix), &[&op.key]).unwrap();
    assert_eq!(env.balance(&op.token), PAY);
    assert_eq!(env.earned(&op), 0);
    assert_eq!(env.balance(&env.keys.stake_vault), STAKE);
    assert_tessera_error(
        &env.send(&[ix], &[&op.key]),
        TesseraError::NothingToWithdraw,
    );
}

#[test]
fn finalize_job_pays_two_replicas_that_agree() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let a = env.operator(STAKE);
    let b = env.operator(STAKE);
    let job = env.create_job(&creator, 2, 2, REWARD);
    env.claim(&a, job).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Open);
    env.claim(&b, job).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Claimed);

    env.commit(&a, job, root(9), salt(1)).unwrap();
    // Reveal before everyone committed is refused.
    assert_tessera_error(
        &env.reveal(&a, job, root(9), salt(1)),
        TesseraError::WrongJobState,
    );
    env.commit(&b, job, root(9), salt(2)).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Committed);
    env.reveal(&a, job, root(9), salt(1)).unwrap();
    env.reveal(&b, job, root(9), salt(2)).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Revealed);

    env.warp(env.params.challenge_window + 1);
    let supply = env.supply();
    env.finalize(job, &creator).unwrap();
    assert_eq!(env.earned(&a), PAY);
    assert_eq!(env.earned(&b), PAY);
    assert_eq!(env.balance(&env.keys.fee_vault), 2 * FEE);
    assert_eq!(env.supply(), supply - 2 * BURN);
    assert_eq!(env.operator_of(&a).bonded, 0);
    assert_eq!(env.operator_of(&b).bonded, 0);
}

#[test]
fn resolve_dispute_slashes_the_wrong_one_of_two_replicas_that_disagree() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let honest = env.operator(STAKE);
    let cheat = env.operator(STAKE);
    let job = env.create_job(&creator, 3, 2, REWARD);
    env.claim(&honest, job).unwrap();
    env.claim(&cheat, job).unwrap();
    env.commit(&honest, job, root(1), salt(1)).unwrap();
    env.commit(&cheat, job, root(2), salt(2)).unwrap();
    env.reveal(&honest, job, root(1), salt(1)).unwrap();
    env.reveal(&cheat, job, root(2), salt(2)).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Disputed);
    // Finalize cannot bypass the dispute.
    assert_tessera_error(&env.finalize(job, &creator), TesseraError::WrongJobState);

    // Only the arbiter may resolve.
    let j = env.job(&job);
    let mallory = env.user(0);
    let ix = env.keys.resolve_dispute(
        mallory.pubkey(),
        job,
        creator.pubkey(),
        creator.token,
        &env.parties(&j),
        0b01,
    );
    assert_tessera_error(&env.send(&[ix], &[&mallory.key]), TesseraError::NotArbiter);

    let supply = env.supply();
    let creator_before = env.balance(&creator.token);
    env.resolve(job, &creator, 0b01).unwrap(); // slot 0 (honest) was right

    // Fraud slash: 100 % of the bond; 50 % to the creator, 25 % to the honest, 25 % burned.
    let slash = BOND;
    let to_creator = slash / 2;
    let to_honest = slash / 4;
    let burned = slash - to_creator - to_honest;
    assert_eq!(env.earned(&honest), PAY + to_honest);
    assert_eq!(env.earned(&cheat), 0);
    // Creator: compensation plus the cheat's reward back.
    assert_eq!(
        env.balance(&creator.token),
        creator_before + to_creator + REWARD
    );
    assert_eq!(env.supply(), supply - BURN - burned);
    let c = env.operator_of(&cheat);
    assert_eq!(
        (c.stake, c.bonded, c.slashed_total, c.jobs_failed),
        (STAKE - slash, 0, slash, 1)
    );
    let h = env.operator_of(&honest);
    assert_eq!((h.stake, h.bonded, h.jobs_completed), (STAKE, 0, 1));
    let j = env.job(&job);
    assert_eq!(j.state(), JobState::Settled);
    assert_eq!(j.agreed_root, root(1));
}

#[test]
fn timeout_job_slashes_a_no_show_and_its_slot_is_taken_by_another() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let ghost = env.operator(STAKE);
    let good = env.operator(STAKE);
    let job = env.create_job(&creator, 4, 1, REWARD);
    env.claim(&ghost, job).unwrap();
    assert_tessera_error(&env.timeout(job, &creator), TesseraError::NotLate);

    env.warp(601);
    let supply = env.supply();
    let before = env.balance(&creator.token);
    env.timeout(job, &creator).unwrap();
    // No-show slash: 20 % of the bond; half to the creator, half burned.
    let slash = BOND / 5;
    assert_eq!(env.balance(&creator.token), before + slash / 2);
    assert_eq!(env.supply(), supply - (slash - slash / 2));
    let g = env.operator_of(&ghost);
    assert_eq!((g.stake, g.bonded, g.jobs_failed), (STAKE - slash, 0, 1));
    let j = env.job(&job);
    assert_eq!(j.state(), JobState::Open);
    assert_eq!(j.assignments[0].status(), SlotStatus::Empty);

    // The late operator can no longer deliver; another takes the slot and is paid.
    assert_tessera_error(&env.submit(&ghost, job, root(1)), TesseraError::NotAssigned);
    env.claim(&good, job).unwrap();
    env.submit(&good, job, root(1)).unwrap();
    env.warp(env.params.challenge_window + 1);
    env.finalize(job, &creator).unwrap();
    assert_eq!(env.earned(&good), PAY);
}

#[test]
fn timeout_job_after_the_claim_deadline_refunds_the_creator() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let ghost = env.operator(STAKE);
    let mut args = env.job_args(5, 1, REWARD);
    args.claim_deadline = env.now() + 100;
    env.create_job_with(&creator, args).unwrap();
    let job = env.keys.job(&creator.pubkey(), 5);
    env.claim(&ghost, job).unwrap();
    env.warp(601);
    env.timeout(job, &creator).unwrap();
    let slash = BOND / 5;
    assert_eq!(env.balance(&creator.token), 10 * REWARD + slash / 2);
    assert_eq!(env.job(&job).state(), JobState::Expired);
}

#[test]
fn expire_job_refunds_an_unclaimed_job() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let job = env.create_job(&creator, 6, 2, REWARD);
    assert_eq!(env.balance(&creator.token), 8 * REWARD);
    assert_tessera_error(&env.expire(job, &creator), TesseraError::NotExpired);
    env.warp(3_601);
    env.expire(job, &creator).unwrap();
    assert_eq!(env.balance(&creator.token), 10 * REWARD);
    assert_eq!(env.job(&job).state(), JobState::Expired);
    assert_anchor_error(
        &env.expire(job, &creator),
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
    assert_eq!(env.balance(&creator.token), 10 * REWARD);
}

#[test]
fn expire_job_of_a_partly_claimed_job_releases_the_bond_of_a_slot_in_time() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 7, 2, REWARD);
    env.claim(&op, job).unwrap();
    // Committed in time: it waits on the other replica, which never came.
    env.commit(&op, job, [1; 32], [2; 32]).unwrap();
    env.warp(3_601);
    env.expire(job, &creator).unwrap();
    assert_eq!(env.balance(&creator.token), 10 * REWARD);
    let o = env.operator_of(&op);
    assert_eq!((o.stake, o.bonded), (STAKE, 0));
}

fn revealed_one_replica_job(
    env: &mut Env,
    creator: &User,
    op: &User,
    id: u64,
) -> anchor_lang::prelude::Pubkey {
    let job = env.create_job(creator, id, 1, REWARD);
    env.claim(op, job).unwrap();
    // A tree of 4 chunks: the operator's result.
    let chunks: Vec<Vec<u8>> = (0u8..4).map(|i| vec![i; 16]).collect();
    let r = tessera_merkle::root_of_chunks(&chunks);
    env.submit(op, job, r).unwrap();
    job
}

/// A challenge of one chunk of the job built by `revealed_one_replica_job`.
fn chunk_challenge(chunk: u32, hash: [u8; 32]) -> tessera::instructions::ChallengeArgs {
    let chunks: Vec<Vec<u8>> = (0u8..4).map(|i| vec![i; 16]).collect();
    let leaves: Vec<[u8; 32]> = chunks
        .iter()
        .map(|c| tessera_merkle::leaf_hash(c))
        .collect();
    tessera::instructions::ChallengeArgs {
        chunk,
        hash,
        operator_leaf: leaves[chunk as usize],
        proof: tessera_merkle::proof(&leaves, chunk as usize),
    }
}

#[test]
fn reveal_challenge_upheld_slashes_the_operator() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let verifier = env.operator(STAKE);
    let job = revealed_one_replica_job(&mut env, &creator, &op, 8);
    let args = chunk_challenge(2, tessera_merkle::leaf_hash(b"the real chunk 2"));
    env.challenge(&verifier, job, args).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Disputed);
    assert_eq!(env.operator_of(&verifier).bonded, BOND);
    env.warp_past_challenge_reveals(job);

    let before = env.balance(&creator.token);
    env.resolve(job, &creator, tessera::instructions::CHALLENGER_BIT)
        .unwrap();
    let slash = BOND;
    assert_eq!(env.balance(&creator.token), before + REWARD + slash / 2);
    assert_eq!(env.earned(&verifier), slash / 4);
    assert_eq!(env.earned(&op), 0);
    assert_eq!(env.operator_of(&op).stake, STAKE - slash);
    let v = env.operator_of(&verifier);
    assert_eq!((v.stake, v.bonded), (STAKE, 0));
}

#[test]
fn reveal_challenge_rejected_slashes_the_challenger() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let verifier = env.operator(STAKE);
    let job = revealed_one_replica_job(&mut env, &creator, &op, 9);
    let args = tessera::instructions::ChallengeArgs {
        chunk: tessera::constants::WHOLE_ROOT,
        hash: [0xAB; 32],
        operator_leaf: [0; 32],
        proof: vec![],
    };
    env.challenge(&verifier, job, args).unwrap();
    env.warp_past_challenge_reveals(job);
    let before = env.balance(&creator.token);
    env.resolve(job, &creator, 0b001).unwrap();
    let slash = BOND;
    assert_eq!(env.earned(&op), PAY + slash / 4);
    assert_eq!(env.balance(&creator.token), before + slash / 2);
    assert_eq!(env.operator_of(&verifier).stake, STAKE - slash);
    assert_eq!(env.operator_of(&op).bonded, 0);
}

#[test]
fn exit_operator_after_unstaking_closes_the_operator() {
    let mut env = Env::new();
    let op = env.operator(STAKE);
    let ix = env.keys.request_unstake(op.pubkey(), STAKE / 2);
    env.send(&[ix], &[&op.key]).unwrap();
    let ix = env.keys.withdraw_stake(op.pubkey(), op.token);
    assert_tessera_error(
        &env.send(std::slice::from_ref(&ix), &[&op.key]),
        TesseraError::UnbondingNotReady,
    );
    env.warp(env.params.unbonding_period);
    env.send(std::slice::from_ref(&ix), &[&op.key]).unwrap();
    assert_eq!(env.balance(&op.token), STAKE / 2);
    assert_tessera_error(
        &env.send(std::slice::from_ref(&ix), &[&op.key]),
        TesseraError::NothingToWithdraw,
    );

    let exit = env.keys.exit_operator(op.pubkey());
    env.send(&[exit], &[&op.key]).unwrap();
    let o = env.operator_of(&op);
    assert_eq!(
        (o.status, o.stake, o.unbonding),
        (OperatorStatus::Exiting, 0, STAKE / 2)
    );
    env.warp(env.params.unbonding_period);
    env.send(&[ix], &[&op.key]).unwrap();
    assert_eq!(env.balance(&op.token), STAKE);
    assert!(env
        .account::<tessera::state::Operator>(&env.keys.operator(&op.pubkey()))
        .is_none());
}

#[test]
fn withdraw_stake_pays_earnings_before_unbonded_stake() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    env.submit(&op, job, root(1)).unwrap();
    env.warp(env.params.challenge_window + 1);
    env.finalize(job, &creator).unwrap();
    let ix = env.keys.request_unstake(op.pubkey(), STAKE / 2);
    env.send(&[ix], &[&op.key]).unwrap();

    // The earnings leave now; the unbonding stake stays until its period has passed.
    let withdraw = env.keys.withdraw_stake(op.pubkey(), op.token);
    env.send(std::slice::from_ref(&withdraw), &[&op.key])
        .unwrap();
    assert_eq!(env.balance(&op.token), PAY);
    let o = env.operator_of(&op);
    assert_eq!((o.earned, o.unbonding, o.stake), (0, STAKE / 2, STAKE / 2));
    assert_tessera_error(
        &env.send(std::slice::from_ref(&withdraw), &[&op.key]),
        TesseraError::UnbondingNotReady,
    );
    env.warp(env.params.unbonding_period);
    env.send(&[withdraw], &[&op.key]).unwrap();
    assert_eq!(env.balance(&op.token), PAY + STAKE / 2);
    assert_eq!(env.balance(&env.keys.stake_vault), STAKE / 2);
}
