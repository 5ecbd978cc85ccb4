//! Per-instruction failure cases: wrong signer, wrong accounts, bad parameters, late and early
//! calls, replays. Success paths are in `lifecycle.rs`.
#![allow(clippy::result_large_err)] // TxResult carries the failed transaction's metadata, as LiteSVM returns it.
use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::prelude::Pubkey;
use tessera::instructions::{CreateJobArgs, UpdateMarketArgs};
use tessera_tests::amounts::*;
use tessera_tests::*;

/// An edit of some input, and the error it must cause.
type Case<T> = (fn(&mut T), TesseraError);

#[test]
fn init_market_rejects_bad_parameters() {
    let cases: Vec<Case<tessera::state::MarketParams>> = vec![
        (|p| p.protocol_fee_bps = 10_001, TesseraError::BpsTooLarge),
        (|p| p.slash_fraud_bps = 10_001, TesseraError::BpsTooLarge),
        // A bond is never 0, and at most 5 rewards.
        (|p| p.collateral_bps = 0, TesseraError::BadCollateral),
        (|p| p.collateral_bps = 50_001, TesseraError::BadCollateral),
        // Fee and burn together take at most 20 % of a reward.
        (
            |p| {
                p.protocol_fee_bps = 1_500;
                p.burn_bps = 501
            },
            TesseraError::FeeAndBurnTooLarge,
        ),
        (
            |p| p.protocol_fee_bps = 10_000,
            TesseraError::FeeAndBurnTooLarge,
        ),
        (
            |p| {
                p.creator_compensation_bps = 9_000;
                p.honest_share_bps = 2_000
            },
            TesseraError::SlashSplitTooLarge,
        ),
        (|p| p.max_replicas = 4, TesseraError::BadMaxReplicas),
        (|p| p.max_replicas = 0, TesseraError::BadMaxReplicas),
        (|p| p.challenge_window = 0, TesseraError::BadWindow),
        (|p| p.unbonding_period = -1, TesseraError::BadWindow),
        (|p| p.dispute_window = 0, TesseraError::BadWindow),
        (|p| p.min_exec_timeout = 0, TesseraError::BadWindow),
        (
            |p| p.min_exec_timeout = p.max_exec_timeout + 1,
            TesseraError::BadWindow,
        ),
        (
            |p| p.dispute_window = 30 * 24 * 3600 + 1,
            TesseraError::WindowTooLong,
        ),
    ];
    for (edit, err) in cases {
        let mut env = Env::bare(anchor_spl::token::ID);
        let mut params = default_params();
        edit(&mut params);
        let ix = env
            .keys
            .init_market(env.admin.pubkey(), env.arbiter.pubkey(), params);
        let admin = env.admin.insecure_clone();
        assert_tessera_error(&env.send(&[ix], &[&admin]), err);
    }
}

/// The default key as arbiter is no arbiter: the market takes only the jobs the program
/// referees, and refuses every other kernel's (whose disputes nobody could rule).
#[test]
fn a_market_without_an_arbiter_takes_only_refereed_kernels() {
    let mut env = Env::without_arbiter();
    assert_eq!(env.market().arbiter, Pubkey::default());
    let creator = env.user(10 * REWARD);
    for kernel in [
        tessera::constants::KERNEL_RENDER,
        tessera::constants::KERNEL_BENCHMARK,
    ] {
        let mut args = env.job_args(kernel as u64, 1, REWARD);
        args.kernel = kernel;
        let r = env.create_job_with(&creator, args);
        assert_tessera_error(&r, TesseraError::KernelNeedsArbiter);
    }
    assert_eq!(env.balance(&creator.token), 10 * REWARD);
    for kernel in [
        tessera::constants::KERNEL_GEMM_I8,
        tessera::constants::KERNEL_MLP_I8,
    ] {
        let mut args = env.job_args(9 + kernel as u64, 1, REWARD);
        args.kernel = kernel;
        env.create_job_with(&creator, args).unwrap();
    }
    // A market with an arbiter that names none keeps its arbiter for ARBITER_CHANGE_DELAY:
    // until then it still takes every kernel.
    let mut env = Env::new();
    let ix = env.keys.update_market(
        env.admin.pubkey(),
        tessera::instructions::UpdateMarketArgs {
            admin: env.admin.pubkey(),
            arbiter: Pubkey::default(),
            params: default_params(),
        },
        env.keys.treasury,
    );
    let admin = env.admin.insecure_clone();
    env.send(&[ix], &[&admin]).unwrap();
    let creator = env.user(10 * REWARD);
    env.create_job(&creator, 1, 1, REWARD);
    env.warp(tessera::constants::ARBITER_CHANGE_DELAY + 1);
    let mut args = env.job_args(2, 1, REWARD);
    args.claim_deadline = env.now() + 3_600;
    assert_tessera_error(
        &env.create_job_with(&creator, args),
        TesseraError::KernelNeedsArbiter,
    );
}

#[test]
fn init_market_twice_is_refused() {
    let mut env = Env::new();
    let ix = env
        .keys
        .init_market(env.admin.pubkey(), env.arbiter.pubkey(), default_params());
    let admin = env.admin.insecure_clone();
    assert_fails(&env.send(&[ix], &[&admin]));
    assert_eq!(env.market().admin, env.admin.pubkey());
}

#[test]
fn update_market_needs_the_admin_and_valid_parameters() {
    let mut env = Env::new();
    let mallory = env.user(0);
    let mut params = default_params();
    params.burn_bps = 500;
    let args = UpdateMarketArgs {
        admin: mallory.pubkey(),
        arbiter: mallory.pubkey(),
        params,
    };
    let ix = env
        .keys
        .update_market(mallory.pubkey(), args.clone(), env.keys.treasury);
    assert_tessera_error(&env.send(&[ix], &[&mallory.key]), TesseraError::NotAdmin);

    let admin = env.admin.insecure_clone();
    let mut bad = args.clone();
    bad.params.burn_bps = 10_001;
    let ix = env
        .keys
        .update_market(admin.pubkey(), bad, env.keys.treasury);
    assert_tessera_error(&env.send(&[ix], &[&admin]), TesseraError::BpsTooLarge);

    // A treasury of another mint is refused.
    let other_mint = Keypair::new();
    env.create_mint(&other_mint, anchor_spl::token::ID);
    let foreign = env.token_account_of(&admin.pubkey(), other_mint.pubkey());
    let mut ok_args = args.clone();
    ok_args.admin = admin.pubkey();
    let ix = env.keys.update_market(admin.pubkey(), ok_args, foreign);
    assert_tessera_error(&env.send(&[ix], &[&admin]), TesseraError::WrongMint);

    let mut good = args;
    good.admin = admin.pubkey();
    let ix = env
        .keys
        .update_market(admin.pubkey(), good, env.keys.treasury);
    env.send(&[ix], &[&admin]).unwrap();
    assert_eq!(env.market().params.burn_bps, 500);
}

#[test]
fn set_paused_market_refuses_jobs_and_claims_but_settles() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    let admin = env.admin.insecure_clone();
    let mallory = env.user(0);
    let ix = env.keys.set_paused(mallory.pubkey(), true);
    assert_tessera_error(&env.send(&[ix], &[&mallory.key]), TesseraError::NotAdmin);
    let ix = env.keys.set_paused(admin.pubkey(), true);
    env.send(&[ix], &[&admin]).unwrap();

    let args = env.job_args(2, 1, REWARD);
    assert_tessera_error(
        &env.create_job_with(&creator, args),
        TesseraError::MarketPaused,
    );
    assert_tessera_error(&env.claim(&op, job), TesseraError::MarketPaused);
    // Expiry still works while paused.
    env.warp(3_601);
    env.expire(job, &creator).unwrap();
}

#[test]
fn create_job_rejects_bad_arguments() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let cases: Vec<Case<CreateJobArgs>> = vec![
        (|a| a.replicas = 0, TesseraError::BadReplicas),
        (|a| a.replicas = 4, TesseraError::BadReplicas),
        (|a| a.reward_per_replica = 999, TesseraError::RewardTooLow),
        (|a| a.input_uri = String::new(), TesseraError::BadUri),
        (|a| a.input_uri = "x".repeat(129), TesseraError::BadUri),
        // Stored NUL-padded: a NUL would cut the URI short.
        (
            |a| a.input_uri = "file:///a\0b".into(),
            TesseraError::BadUri,
        ),
        (|a| a.chunk_count = 0, TesseraError::BadChunkCount),
        (
            |a| a.chunk_count = (1 << 20) + 1,
            TesseraError::BadChunkCount,
        ),
        (|a| a.claim_deadline = 0, TesseraError::BadClaimDeadline),
        (|a| a.exec_timeout = 0, TesseraError::BadExecTimeout),
        (|a| a.exec_timeout = 3_601, TesseraError::BadExecTimeout),
        (|a| a.kernel = 32, TesseraError::BadKernel),
        // Ids no kernel has: no worker would ever claim such a job.
        (|a| a.kernel = 0, TesseraError::BadKernel),
        (|a| a.kernel = 5, TesseraError::BadKernel),
        (|a| a.kernel = 31, TesseraError::BadKernel),
    ];
    for (i, (edit, err)) in cases.into_iter().enumerate() {
        let mut args = env.job_args(100 + i as u64, 1, REWARD);
        edit(&mut args);
        assert_tessera_error(&env.create_job_with(&creator, args), err);
    }
    // Nothing was taken from the creator.
    assert_eq!(env.balance(&creator.token), 10 * REWARD);
}

#[test]
fn create_job_without_funds_fails_and_the_id_cannot_be_reused() {
    let mut env = Env::new();
    let poor = env.user(REWARD - 1);
    let args = env.job_args(1, 1, REWARD);
    assert_fails(&env.create_job_with(&poor, args));
    assert_eq!(env.balance(&poor.token), REWARD - 1);

    let creator = env.user(10 * REWARD);
    env.create_job(&creator, 1, 1, REWARD);
    let again = env.job_args(1, 1, REWARD);
    assert_fails(&env.create_job_with(&creator, again));
    assert_eq!(env.balance(&creator.token), 9 * REWARD);
}

#[test]
fn cancel_job_only_by_creator_and_before_claims() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let mallory = env.user(0);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    // Someone else cannot cancel (even naming the creator's accounts).
    let mut ix = env.keys.cancel_job(job, creator.pubkey(), creator.token);
    ix.accounts[0].pubkey = mallory.pubkey();
    assert_tessera_error(&env.send(&[ix], &[&mallory.key]), TesseraError::NotCreator);
    // Nor redirect the refund to their own token account.
    let ix = env.keys.cancel_job(job, creator.pubkey(), mallory.token);
    assert_tessera_error(
        &env.send(&[ix], &[&creator.key]),
        TesseraError::WrongCreatorAccount,
    );

    let job2 = env.create_job(&creator, 2, 2, REWARD);
    env.claim(&op, job2).unwrap();
    let ix = env.keys.cancel_job(job2, creator.pubkey(), creator.token);
    assert_tessera_error(
        &env.send(&[ix], &[&creator.key]),
        TesseraError::JobHasClaims,
    );

    let ix = env.keys.cancel_job(job, creator.pubkey(), creator.token);
    env.send(std::slice::from_ref(&ix), &[&creator.key])
        .unwrap();
    assert_eq!(env.balance(&creator.token), 8 * REWARD);
    assert_eq!(env.job(&job).state(), tessera::state::JobState::Cancelled);
    // Replay: cancelled once only.
    assert_fails(&env.send(&[ix], &[&creator.key]));
    assert_eq!(env.balance(&creator.token), 8 * REWARD);
}

#[test]
fn close_job_returns_the_rent_of_an_ended_job_to_its_creator_once() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let mallory = env.user(0);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    let close = |env: &mut Env, who: &User| {
        let ix = env.keys.close_job(who.pubkey(), job);
        env.send(&[ix], &[&who.key])
    };
    // Not before it has ended: open, claimed, delivered.
    assert_tessera_error(&close(&mut env, &creator), TesseraError::JobNotEnded);
    env.claim(&op, job).unwrap();
    assert_tessera_error(&close(&mut env, &creator), TesseraError::JobNotEnded);
    env.submit(&op, job, [1; 32]).unwrap();
    assert_tessera_error(&close(&mut env, &creator), TesseraError::JobNotEnded);
    env.warp(env.params.challenge_window + 1);
    env.finalize(job, &creator).unwrap();
    // Not by anyone else.
    assert_tessera_error(&close(&mut env, &mallory), TesseraError::NotCreator);

    let settled = env.job(&job);
    let rent = env.svm.get_account(&job).unwrap().lamports;
    let sol_before = env.svm.get_balance(&creator.pubkey()).unwrap();
    let meta = close(&mut env, &creator).unwrap();
    // The rent, less the transaction fee the creator paid.
    assert_eq!(
        env.svm.get_balance(&creator.pubkey()).unwrap(),
        sol_before + rent - 5_000
    );
    assert!(env.svm.get_account(&job).is_none_or(|a| a.lamports == 0));
    let closed = events::<tessera::events::JobAccountClosed>(&meta);
    assert_eq!(closed.len(), 1);
    assert_eq!((closed[0].job, closed[0].rent), (job, rent));
    assert_eq!(closed[0].state, tessera::state::JobState::Settled);
    // Once: a replay, or anything else on the closed job, finds no program account there (the
    // runtime hands a closed account back as an empty system account).
    let gone = [
        u32::from(anchor_lang::error::ErrorCode::AccountNotInitialized),
        u32::from(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram),
    ];
    let parties = env.parties(&settled);
    let finalize = env
        .keys
        .finalize_job(job, creator.pubkey(), creator.token, &parties);
    let crank = env.cranker();
    for result in [
        close(&mut env, &creator),
        env.claim(&op, job),
        env.send(&[finalize], &[&crank]),
    ] {
        let code = custom_code(&result);
        assert!(
            code.is_some_and(|c| gone.contains(&c)),
            "{:?}",
            result.err()
        );
    }
    // The id is free again: a new job starts from nothing, with its own escrow.
    let again = env.create_job(&creator, 1, 1, REWARD);
    assert_eq!(again, job);
    let j = env.job(&job);
    assert_eq!(j.state(), tessera::state::JobState::Open);
    assert_eq!((j.agreed_root, j.assignments[0].root), ([0; 32], [0; 32]));
    assert_eq!(env.balance(&j.escrow), REWARD);
}

#[test]
fn close_job_of_cancelled_and_expired_jobs() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let cancelled = env.create_job(&creator, 1, 1, REWARD);
    let ix = env
        .keys
        .cancel_job(cancelled, creator.pubkey(), creator.token);
    env.send(&[ix], &[&creator.key]).unwrap();
    let expired = env.create_job(&creator, 2, 1, REWARD);
    env.warp(3_601);
    env.expire(expired, &creator).unwrap();
    for job in [cancelled, expired] {
        let ix = env.keys.close_job(creator.pubkey(), job);
        env.send(&[ix], &[&creator.key]).unwrap();
        assert!(env.svm.get_account(&job).is_none_or(|a| a.lamports == 0));
    }
    assert_eq!(env.balance(&creator.token), 10 * REWARD);
}

#[test]
fn claim_job_failures() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 2, REWARD);

    // Double claim by one operator.
    env.claim(&op, job).unwrap();
    assert_tessera_error(&env.claim(&op, job), TesseraError::AlreadyClaimed);

    // Not registered: the operator PDA does not exist.
    let stranger = env.user(STAKE);
    assert_anchor_error(
        &env.claim(&stranger, job),
        AnchorError::AccountNotInitialized,
    );

    // Without the capability.
    let nocap = env.operator(STAKE);
    let ix = env.keys.update_operator(nocap.pubkey(), 0);
    env.send(&[ix], &[&nocap.key]).unwrap();
    assert_tessera_error(&env.claim(&nocap, job), TesseraError::MissingCapability);

    // Stake below the minimum.
    let small = env.operator(1_000);
    assert_tessera_error(&env.claim(&small, job), TesseraError::StakeBelowMinimum);

    // Not enough free stake for the bond (bond = 50 % of a 10x larger reward).
    let big = env.create_job(&creator, 2, 1, 5 * REWARD);
    let thin = env.operator(2_000_000);
    assert_tessera_error(&env.claim(&thin, big), TesseraError::InsufficientFreeStake);

    // After the claim deadline.
    let other = env.operator(STAKE);
    env.warp(3_601);
    assert_tessera_error(&env.claim(&other, job), TesseraError::ClaimDeadlinePassed);
}

#[test]
fn claim_job_on_a_full_job_is_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let a = env.operator(STAKE);
    let b = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&a, job).unwrap();
    assert_tessera_error(&env.claim(&b, job), TesseraError::WrongJobState);
}

#[test]
fn submit_result_failures() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let other = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    assert_tessera_error(&env.submit(&op, job, [1; 32]), TesseraError::NotAssigned);
    env.claim(&op, job).unwrap();
    assert_tessera_error(&env.submit(&other, job, [1; 32]), TesseraError::NotAssigned);
    // Commit on a one-replica job.
    assert_tessera_error(
        &env.commit(&op, job, [1; 32], [2; 32]),
        TesseraError::UseSubmit,
    );
    // Bad URI.
    let ix = env
        .keys
        .submit_result(op.pubkey(), job, [1; 32], String::new());
    assert_tessera_error(&env.send(&[ix], &[&op.key]), TesseraError::BadUri);
    for bad in ["y".repeat(129), "file:///out\0x".into()] {
        let ix = env.keys.submit_result(op.pubkey(), job, [1; 32], bad);
        assert_tessera_error(&env.send(&[ix], &[&op.key]), TesseraError::BadUri);
    }
    env.submit(&op, job, [1; 32]).unwrap();
    // Twice.
    assert_tessera_error(&env.submit(&op, job, [2; 32]), TesseraError::WrongSlotState);
    assert_eq!(env.job(&job).agreed_root, [1; 32]);
}

#[test]
fn submit_result_uris_at_full_length_and_in_multibyte_utf8_read_back_exactly() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    // 128 bytes fill the stored array (no terminator); multi-byte UTF-8 survives.
    let input = format!("s3://é/{}", "i".repeat(128 - "s3://é/".len()));
    let output = "o".to_string();
    assert_eq!(input.len(), 128);
    let mut args = env.job_args(1, 1, REWARD);
    args.input_uri = input.clone();
    env.create_job_with(&creator, args).unwrap();
    let job = env.keys.job(&creator.pubkey(), 1);
    env.claim(&op, job).unwrap();
    let ix = env
        .keys
        .submit_result(op.pubkey(), job, [1; 32], output.clone());
    env.send(&[ix], &[&op.key]).unwrap();
    let j = env.job(&job);
    assert_eq!(j.input_uri(), input);
    assert_eq!(j.assignments[0].output_uri(), output);
    assert_eq!(j.assignments[1].output_uri(), "");
}

#[test]
fn submit_result_after_exec_timeout_is_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    env.warp(601);
    assert_tessera_error(
        &env.submit(&op, job, [1; 32]),
        TesseraError::ExecTimeoutPassed,
    );
}

#[test]
fn commit_result_and_reveal_result_failures() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let a = env.operator(STAKE);
    let b = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 2, REWARD);
    env.claim(&a, job).unwrap();
    env.claim(&b, job).unwrap();
    assert_tessera_error(&env.submit(&a, job, [1; 32]), TesseraError::UseCommitReveal);
    env.commit(&a, job, [1; 32], [3; 32]).unwrap();
    assert_tessera_error(
        &env.commit(&a, job, [1; 32], [3; 32]),
        TesseraError::WrongSlotState,
    );
    env.commit(&b, job, [1; 32], [4; 32]).unwrap();
    // Wrong salt, wrong root: refused.
    assert_tessera_error(
        &env.reveal(&a, job, [1; 32], [9; 32]),
        TesseraError::CommitmentMismatch,
    );
    assert_tessera_error(
        &env.reveal(&a, job, [2; 32], [3; 32]),
        TesseraError::CommitmentMismatch,
    );
    // Copying b's commitment does not help a: the operator key is inside the commitment.
    env.reveal(&a, job, [1; 32], [3; 32]).unwrap();
    assert_tessera_error(
        &env.reveal(&a, job, [1; 32], [3; 32]),
        TesseraError::WrongSlotState,
    );
    // Late reveal.
    env.warp(601);
    assert_tessera_error(
        &env.reveal(&b, job, [1; 32], [4; 32]),
        TesseraError::RevealWindowClosed,
    );
    // The no-reveal is slashed; the job has one revealed result left and goes to its window.
    env.timeout(job, &creator).unwrap();
    let j = env.job(&job);
    assert_eq!(j.state(), tessera::state::JobState::Revealed);
    assert_eq!(
        j.assignments[1].status(),
        tessera::state::SlotStatus::Failed
    );
    env.warp(301);
    env.finalize(job, &creator).unwrap();
    // a is paid; b's reward goes back to the creator.
    assert_eq!(env.earned(&a), REWARD - 25_000 - 10_000);
}

#[test]
fn deposit_stake_request_unstake_and_withdraw_stake_failures() {
    let mut env = Env::new();
    let op = env.operator(STAKE);
    let ix = env.keys.deposit_stake(op.pubkey(), op.token, 0);
    assert_tessera_error(&env.send(&[ix], &[&op.key]), TesseraError::ZeroAmount);
    let ix = env.keys.deposit_stake(op.pubkey(), op.token, 1);
    assert_fails(&env.send(&[ix], &[&op.key])); // no tokens left
    let ix = env.keys.request_unstake(op.pubkey(), STAKE + 1);
    assert_tessera_error(
        &env.send(&[ix], &[&op.key]),
        TesseraError::InsufficientFreeStake,
    );
    let ix = env.keys.withdraw_stake(op.pubkey(), op.token);
    assert_tessera_error(
        &env.send(&[ix], &[&op.key]),
        TesseraError::NothingToWithdraw,
    );

    // Bonded stake cannot be unstaked, and an operator with bonds cannot exit.
    let creator = env.user(10 * REWARD);
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    let ix = env.keys.request_unstake(op.pubkey(), STAKE);
    assert_tessera_error(
        &env.send(&[ix], &[&op.key]),
        TesseraError::InsufficientFreeStake,
    );
    let ix = env.keys.exit_operator(op.pubkey());
    assert_tessera_error(&env.send(&[ix], &[&op.key]), TesseraError::OperatorHasBonds);
}

#[test]
fn exit_operator_then_claim_job_and_deposit_stake_are_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let ix = env.keys.exit_operator(op.pubkey());
    env.send(std::slice::from_ref(&ix), &[&op.key]).unwrap();
    assert_tessera_error(
        &env.send(&[ix], &[&op.key]),
        TesseraError::OperatorNotActive,
    );
    let job = env.create_job(&creator, 1, 1, REWARD);
    assert_tessera_error(&env.claim(&op, job), TesseraError::OperatorNotActive);
    env.mint_to(&op.token, 10);
    let ix = env.keys.deposit_stake(op.pubkey(), op.token, 10);
    assert_tessera_error(
        &env.send(&[ix], &[&op.key]),
        TesseraError::OperatorNotActive,
    );
}

#[test]
fn commit_and_reveal_challenge_failures() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    let whole = |hash| tessera::instructions::ChallengeArgs {
        chunk: tessera::constants::WHOLE_ROOT,
        hash,
        operator_leaf: [0; 32],
        proof: vec![],
    };
    // Not revealed yet.
    let v1 = env.operator(STAKE);
    assert_tessera_error(
        &env.commit_challenge(&v1, job, &whole([2; 32])),
        TesseraError::WrongJobState,
    );
    env.submit(&op, job, [1; 32]).unwrap();
    // The operator itself cannot challenge.
    assert_tessera_error(
        &env.commit_challenge(&op, job, &whole([2; 32])),
        TesseraError::SelfChallenge,
    );
    // Revealing what was never committed.
    assert_tessera_error(
        &env.reveal_challenge(&v1, job, whole([2; 32])),
        TesseraError::NotAssigned,
    );
    // A challenge that agrees is refused when revealed; so is one with a bad proof, and one
    // that is not what was committed.
    env.commit_challenge(&v1, job, &whole([1; 32])).unwrap();
    assert_tessera_error(
        &env.reveal_challenge(&v1, job, whole([1; 32])),
        TesseraError::ChallengeAgrees,
    );
    let bad = tessera::instructions::ChallengeArgs {
        chunk: 1,
        hash: [3; 32],
        operator_leaf: [4; 32],
        proof: vec![[5; 32]; 2],
    };
    let v2 = env.operator(STAKE);
    env.commit_challenge(&v2, job, &bad).unwrap();
    assert_tessera_error(
        &env.reveal_challenge(&v2, job, bad),
        TesseraError::BadMerkleProof,
    );
    let v3 = env.operator(STAKE);
    env.commit_challenge(&v3, job, &whole([2; 32])).unwrap();
    assert_tessera_error(
        &env.reveal_challenge(&v3, job, whole([9; 32])),
        TesseraError::CommitmentMismatch,
    );
    // One challenge per operator, three per job.
    assert_tessera_error(
        &env.commit_challenge(&v3, job, &whole([2; 32])),
        TesseraError::AlreadyChallenged,
    );
    let v4 = env.operator(STAKE);
    assert_tessera_error(
        &env.commit_challenge(&v4, job, &whole([2; 32])),
        TesseraError::TooManyChallenges,
    );
    // Nothing settles while a committed challenge may still be revealed.
    env.warp(301);
    assert_tessera_error(
        &env.commit_challenge(&v4, job, &whole([2; 32])),
        TesseraError::ChallengeWindowClosed,
    );
    assert_tessera_error(
        &env.finalize(job, &creator),
        TesseraError::ChallengeRevealOpen,
    );
    // After the reveal deadline the challenges that stayed silent are slashed as no-shows
    // and the result stands.
    env.warp(default_params().reveal_window);
    assert_tessera_error(
        &env.reveal_challenge(&v3, job, whole([2; 32])),
        TesseraError::RevealWindowClosed,
    );
    env.finalize(job, &creator).unwrap();
    assert_eq!(env.earned(&op), PAY);
    let no_show = BOND * default_params().slash_no_show_bps as u64 / 10_000;
    for v in [&v1, &v2, &v3] {
        let o = env.operator_of(v);
        assert_eq!((o.stake, o.bonded, o.live_claims), (STAKE - no_show, 0, 0));
    }
}

#[test]
fn resolve_dispute_rejects_a_verdict_naming_absent_parties() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let a = env.operator(STAKE);
    let b = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 2, REWARD);
    env.claim(&a, job).unwrap();
    env.claim(&b, job).unwrap();
    env.commit(&a, job, [1; 32], [1; 32]).unwrap();
    env.commit(&b, job, [2; 32], [2; 32]).unwrap();
    env.reveal(&a, job, [1; 32], [1; 32]).unwrap();
    env.reveal(&b, job, [2; 32], [2; 32]).unwrap();
    // Bit 2 (no third slot) and bit 3 (no challenger) are not parties.
    assert_tessera_error(&env.resolve(job, &creator, 0b100), TesseraError::BadVerdict);
    assert_tessera_error(
        &env.resolve(job, &creator, 0b1000),
        TesseraError::BadVerdict,
    );
    // Nobody right: both slashed, the creator refunded in full plus compensation.
    let before = env.balance(&creator.token);
    env.resolve(job, &creator, 0).unwrap();
    assert_eq!(
        env.balance(&creator.token),
        before + 2 * REWARD + 2 * (REWARD / 2 / 2)
    );
    // Replay: the escrow is closed, so a second settlement cannot even load.
    assert_anchor_error(
        &env.resolve(job, &creator, 0),
        AnchorError::AccountNotInitialized,
    );
}

/// The deployed program carries a `security.txt` block (`security_txt!`) that explorers and
/// `query-security-txt` find between its markers: NUL-separated key/value pairs.
#[test]
fn deployed_program_carries_a_security_txt() {
    const BEGIN: &[u8] = b"=======BEGIN SECURITY.TXT V1=======\0";
    const END: &[u8] = b"=======END SECURITY.TXT V1=======\0";
    let so = std::fs::read(program_path()).expect("run scripts/build-program.sh");
    let find = |needle: &[u8]| so.windows(needle.len()).position(|w| w == needle);
    let start = find(BEGIN).expect("no security.txt in the program") + BEGIN.len();
    let end = find(END).expect("security.txt is not terminated");
    assert!(start < end);
    let fields: Vec<&str> = so[start..end]
        .split(|&b| b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| std::str::from_utf8(f).unwrap())
        .collect();
    let pairs: std::collections::HashMap<&str, &str> =
        fields.chunks(2).map(|kv| (kv[0], kv[1])).collect();
    assert_eq!(pairs.get("name"), Some(&"Tessera"));
    for key in ["project_url", "contacts", "policy", "source_code"] {
        let value = pairs.get(key).unwrap_or_else(|| panic!("{key} missing"));
        assert!(value.contains("https://"), "{key} = {value}");
    }
}
