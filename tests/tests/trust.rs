//! Trust inside the market: what the admin, the arbiter, a creator or an operator could do to the
//! others' tokens through the program's own rules, and the bound on how long anything stays
//! locked. Each test reproduces a way in (it fails on a program that lets it through) and checks
//! that it is closed. `docs/security.md` maps each to its row of the trust table.
#![allow(clippy::result_large_err)] // TxResult carries the failed transaction's metadata, as LiteSVM returns it.
use anchor_lang::prelude::Pubkey;
use tessera::constants::{ARBITER_CHANGE_DELAY, MAX_JOB_LIFETIME, MAX_WINDOW, WHOLE_ROOT};
use tessera::events::{DisputeResolved, JobClaimed, JobSettled};
use tessera::instructions::{ChallengeArgs, UpdateMarketArgs, CHALLENGER_BIT};
use tessera::state::{JobState, Market, MarketParams};
use tessera_client::ix::{parties, without_creator_token, MarketKeys};
use tessera_tests::amounts::*;
use tessera_tests::*;

/// The admin rewrites the market: `edit` changes the parameters, `arbiter` names an arbiter,
/// and the fees go to `treasury`.
fn admin_update(
    env: &mut Env,
    arbiter: Pubkey,
    treasury: Pubkey,
    edit: impl Fn(&mut MarketParams),
) {
    let mut params = env.market().params;
    edit(&mut params);
    let args = UpdateMarketArgs {
        admin: env.admin.pubkey(),
        arbiter,
        params,
    };
    let admin = env.admin.insecure_clone();
    let ix = env.keys.update_market(admin.pubkey(), args, treasury);
    env.send(&[ix], &[&admin]).expect("update_market");
}

/// The harshest market an admin may set: the fee at its cap, every slash whole and paid to the
/// honest side, the largest bond and the shortest windows.
fn hostile(p: &mut MarketParams) {
    p.protocol_fee_bps = 2_000;
    p.burn_bps = 0;
    p.collateral_bps = 50_000;
    p.slash_no_show_bps = 10_000;
    p.slash_fraud_bps = 10_000;
    p.creator_compensation_bps = 0;
    p.honest_share_bps = 10_000;
    p.reveal_window = 1;
    p.challenge_window = 1;
    p.dispute_window = 1;
}

fn whole_root_challenge(hash: u8) -> ChallengeArgs {
    ChallengeArgs {
        chunk: WHOLE_ROOT,
        hash: [hash; 32],
        operator_leaf: [0; 32],
        proof: vec![],
    }
}

fn challenge(env: &mut Env, verifier: &User, job: Pubkey) -> TxResult {
    env.challenge(verifier, job, whole_root_challenge(9))
}

fn expire_dispute(env: &mut Env, job: Pubkey, creator: &User) -> TxResult {
    let j = env.job(&job);
    let ix = env
        .keys
        .expire_dispute(job, creator.pubkey(), creator.token, &parties(&j));
    let crank = env.cranker();
    env.send(&[ix], &[&crank])
}

// ---------------------------------------------------------------------------------------------
// Markets: one per founder and mint
// ---------------------------------------------------------------------------------------------

/// Runs `f` with the fixture's helpers pointed at market `keys`.
fn in_market<R>(env: &mut Env, keys: MarketKeys, f: impl FnOnce(&mut Env) -> R) -> R {
    let saved = env.keys;
    env.keys = keys;
    let r = f(env);
    env.keys = saved;
    r
}

/// One job of `creator` in the fixture's market, claimed and delivered by `op`, finalized.
fn run_one_job(env: &mut Env, creator: &User, op: &User) -> Pubkey {
    let job = env.create_job(creator, 1, 1, REWARD);
    env.claim(op, job).unwrap();
    env.submit(op, job, [1; 32]).unwrap();
    env.warp(env.market().params.challenge_window + 1);
    env.finalize(job, creator).unwrap();
    job
}

#[test]
fn a_squatters_market_does_not_block_the_honest_founders_and_both_run_side_by_side() {
    // A squatter creates a market for the mint first, with itself as admin, arbiter and
    // treasury and the fee at its cap.
    let mut env = Env::bare(anchor_spl::token::ID);
    let squatter = env.user(0);
    let loot = env.token_account(&squatter.pubkey());
    let squat = MarketKeys::new(
        env.keys.mint,
        squatter.pubkey(),
        env.keys.token_program,
        loot,
    );
    let mut squat_params = default_params();
    squat_params.protocol_fee_bps = 2_000;
    squat_params.burn_bps = 0;
    let ix = squat.init_market(squatter.pubkey(), squatter.pubkey(), squat_params);
    env.send(&[ix], &[&squatter.key])
        .expect("the squatter's market");
    // The honest founder creates its own market of the same mint afterwards.
    let honest = env.keys;
    assert_ne!(squat.market, honest.market);
    let admin = env.admin.insecure_clone();
    let ix = honest.init_market(admin.pubkey(), env.arbiter.pubkey(), default_params());
    env.send(std::slice::from_ref(&ix), &[&admin])
        .expect("the honest founder's market");
    // A founder has one market per mint, and no one creates a market in another's name.
    env.svm.expire_blockhash();
    assert_fails(&env.send(std::slice::from_ref(&ix), &[&admin]));
    let ix = honest.init_market(squatter.pubkey(), squatter.pubkey(), squat_params);
    assert_fails(&env.send(&[ix], &[&squatter.key]));
    let (h, s) = (env.market(), env.account::<Market>(&squat.market).unwrap());
    assert_eq!(
        (h.mint, h.founder, h.admin),
        (env.keys.mint, admin.pubkey(), admin.pubkey())
    );
    assert_eq!(
        (s.mint, s.founder, s.admin),
        (env.keys.mint, squatter.pubkey(), squatter.pubkey())
    );

    // The same creator and operator use both; the same job id names two jobs.
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    env.mint_to(&op.token, STAKE / 2);
    let ixs = [
        squat.register_operator(op.pubkey(), u32::MAX),
        squat.deposit_stake(op.pubkey(), op.token, STAKE / 2),
    ];
    env.send(&ixs, &[&op.key])
        .expect("the operator joins the second market");
    let honest_job = run_one_job(&mut env, &creator, &op);
    let squat_job = in_market(&mut env, squat, |env| run_one_job(env, &creator, &op));
    assert_ne!(honest_job, squat_job);
    assert_eq!(env.job(&honest_job).market, honest.market);
    assert_eq!(env.job(&squat_job).market, squat.market);

    // Each market settled under its own terms, into its own vaults.
    let squat_fee = REWARD * 2_000 / 10_000;
    assert_eq!(env.earned(&op), PAY);
    assert_eq!(env.balance(&honest.fee_vault), FEE);
    assert_eq!(env.balance(&honest.stake_vault), STAKE + PAY);
    in_market(&mut env, squat, |env| {
        assert_eq!(env.earned(&op), REWARD - squat_fee);
        assert_eq!(env.operator_of(&op).stake, STAKE / 2);
    });
    assert_eq!(env.balance(&squat.fee_vault), squat_fee);
    assert_eq!(
        env.balance(&squat.stake_vault),
        STAKE / 2 + REWARD - squat_fee
    );

    // The honest admin hands the market over; the market still signs with its founder's seeds,
    // so fees and withdrawals still move, each from its own market's vaults.
    let successor = env.user(0);
    let arbiter = env.arbiter.pubkey();
    let args = UpdateMarketArgs {
        admin: successor.pubkey(),
        arbiter,
        params: default_params(),
    };
    let ix = honest.update_market(admin.pubkey(), args, honest.treasury);
    env.send(&[ix], &[&admin]).expect("update_market");
    assert_eq!(
        (env.market().admin, env.market().founder),
        (successor.pubkey(), admin.pubkey())
    );
    let crank = env.cranker();
    env.send(&[honest.collect_fees(), squat.collect_fees()], &[&crank])
        .expect("collect_fees in both markets");
    assert_eq!(env.balance(&honest.treasury), FEE);
    assert_eq!(env.balance(&loot), squat_fee);
    let before = env.balance(&op.token);
    env.send(&[honest.withdraw_stake(op.pubkey(), op.token)], &[&op.key])
        .expect("withdraw earnings after the admin changed");
    assert_eq!(env.balance(&op.token), before + PAY);
    assert_eq!(
        env.balance(&squat.stake_vault),
        STAKE / 2 + REWARD - squat_fee
    );
}

// ---------------------------------------------------------------------------------------------
// The admin
// ---------------------------------------------------------------------------------------------

#[test]
fn admin_cannot_take_a_posted_jobs_reward_by_raising_the_fee() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    env.submit(&op, job, [1; 32]).unwrap();
    // The admin raises the fee as far as it may, burns nothing, and points the treasury at
    // an account of its own, just before the job is finalized.
    let admin_key = env.admin.pubkey();
    let loot = env.token_account(&admin_key);
    let arbiter = env.arbiter.pubkey();
    admin_update(&mut env, arbiter, loot, hostile);
    env.warp(default_params().challenge_window + 1);
    env.finalize(job, &creator).unwrap();
    // Settled under the terms the job was created with.
    assert_eq!(env.earned(&op), PAY);
    assert_eq!(env.balance(&env.keys.fee_vault), FEE);
    assert_eq!(env.balance(&loot), 0);
    assert_eq!(env.operator_of(&op).stake, STAKE);
}

#[test]
fn fee_and_burn_are_capped_at_a_fifth_of_the_reward() {
    let mut env = Env::new();
    let arbiter = env.arbiter.pubkey();
    let treasury = env.keys.treasury;
    for (fee, burn) in [(10_000u16, 0u16), (0, 10_000), (1_001, 1_000)] {
        let mut params = env.market().params;
        params.protocol_fee_bps = fee;
        params.burn_bps = burn;
        let args = UpdateMarketArgs {
            admin: env.admin.pubkey(),
            arbiter,
            params,
        };
        let admin = env.admin.insecure_clone();
        let ix = env.keys.update_market(admin.pubkey(), args, treasury);
        assert_tessera_error(
            &env.send(&[ix], &[&admin]),
            TesseraError::FeeAndBurnTooLarge,
        );
    }
    admin_update(&mut env, arbiter, treasury, |p| {
        p.protocol_fee_bps = 1_000;
        p.burn_bps = 1_000;
    });
    assert_eq!(env.market().params.protocol_fee_bps, 1_000);
}

#[test]
fn admin_cannot_make_running_replicas_late_by_shortening_the_reveal_window() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let (a, b) = (env.operator(STAKE), env.operator(STAKE));
    let job = env.create_job(&creator, 1, 2, REWARD);
    env.claim(&a, job).unwrap();
    env.claim(&b, job).unwrap();
    env.commit(&a, job, [1; 32], [1; 32]).unwrap();
    let (arbiter, treasury) = (env.arbiter.pubkey(), env.keys.treasury);
    admin_update(&mut env, arbiter, treasury, hostile);
    env.commit(&b, job, [1; 32], [2; 32]).unwrap();
    env.warp(2);
    // The job's own reveal window (600 s) still runs.
    env.reveal(&a, job, [1; 32], [1; 32]).unwrap();
    env.reveal(&b, job, [1; 32], [2; 32]).unwrap();
    assert_tessera_error(&env.timeout(job, &creator), TesseraError::WrongJobState);
    env.warp(default_params().challenge_window + 1);
    env.finalize(job, &creator).unwrap();
    assert_eq!((env.earned(&a), env.earned(&b)), (PAY, PAY));
}

#[test]
fn a_new_arbiter_rules_no_running_job_and_takes_office_only_after_the_delay() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let verifier = env.operator(STAKE);
    let mallory = Keypair::new();
    env.svm.airdrop(&mallory.pubkey(), SOL).unwrap();
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    env.submit(&op, job, [1; 32]).unwrap();

    // The admin names Mallory arbiter and makes fraud slashes whole, all to the challenger.
    let treasury = env.keys.treasury;
    admin_update(&mut env, mallory.pubkey(), treasury, hostile);
    let m = env.market();
    assert_eq!(
        m.arbiter,
        env.arbiter.pubkey(),
        "the old arbiter stays in office"
    );
    assert_eq!(m.pending_arbiter, mallory.pubkey());
    assert_eq!(m.arbiter_change_at, env.now() + ARBITER_CHANGE_DELAY);

    challenge(&mut env, &verifier, job).unwrap();
    env.warp_past_challenge_reveals(job);
    // Mallory cannot rule the job: it was created under the old arbiter.
    let j = env.job(&job);
    let ix = env.keys.resolve_dispute(
        mallory.pubkey(),
        job,
        creator.pubkey(),
        creator.token,
        &parties(&j),
        CHALLENGER_BIT,
    );
    assert_tessera_error(&env.send(&[ix], &[&mallory]), TesseraError::NotArbiter);
    // The old arbiter upholds the operator, under the job's own rates.
    let result = env.resolve(job, &creator, 0b1).unwrap();
    let resolved: Vec<DisputeResolved> = events(&result);
    let slash = resolved[0].slashes[0];
    assert_eq!(
        slash.slashed, BOND,
        "the challenger loses its bond at the job's 100 %"
    );
    assert_eq!(
        slash.to_honest,
        BOND / 4,
        "a quarter to the honest, as created"
    );
    assert_eq!(env.earned(&op), PAY + BOND / 4);

    // After the delay, jobs created from then on name Mallory.
    env.warp(ARBITER_CHANGE_DELAY);
    let later = env.create_job(&creator, 2, 1, REWARD);
    assert_eq!(env.job(&later).terms.arbiter, mallory.pubkey());
    assert_eq!(env.job(&later).terms.protocol_fee_bps, 2_000);
}

#[test]
fn naming_the_arbiter_in_office_cancels_a_pending_change() {
    let mut env = Env::new();
    let mallory = Pubkey::new_unique();
    let (arbiter, treasury) = (env.arbiter.pubkey(), env.keys.treasury);
    admin_update(&mut env, mallory, treasury, |_| {});
    assert_eq!(env.market().pending_arbiter, mallory);
    // Naming Mallory again does not restart the clock.
    let at = env.market().arbiter_change_at;
    env.warp(100);
    admin_update(&mut env, mallory, treasury, |_| {});
    assert_eq!(env.market().arbiter_change_at, at);
    admin_update(&mut env, arbiter, treasury, |_| {});
    let m = env.market();
    assert_eq!((m.arbiter, m.pending_arbiter), (arbiter, Pubkey::default()));
    env.warp(ARBITER_CHANGE_DELAY);
    assert_eq!(env.market().arbiter_at(env.now()), arbiter);
}

#[test]
fn the_treasury_cannot_be_one_of_the_markets_vaults() {
    let mut env = Env::new();
    let arbiter = env.arbiter.pubkey();
    for vault in [env.keys.stake_vault, env.keys.fee_vault] {
        let args = UpdateMarketArgs {
            admin: env.admin.pubkey(),
            arbiter,
            params: env.market().params,
        };
        let admin = env.admin.insecure_clone();
        let ix = env.keys.update_market(admin.pubkey(), args, vault);
        assert_tessera_error(&env.send(&[ix], &[&admin]), TesseraError::BadTreasury);
    }
}

#[test]
fn a_closed_treasury_blocks_no_settlement_and_fees_wait_in_the_fee_vault() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    // The treasury's owner closes it (it is empty).
    let admin = env.admin.insecure_clone();
    let close = anchor_spl::token_2022::spl_token_2022::instruction::close_account(
        &env.keys.token_program,
        &env.keys.treasury,
        &admin.pubkey(),
        &admin.pubkey(),
        &[],
    )
    .unwrap();
    env.send(&[close], &[&admin]).unwrap();
    for id in 1..=2 {
        let job = env.create_job(&creator, id, 1, REWARD);
        env.claim(&op, job).unwrap();
        env.submit(&op, job, [1; 32]).unwrap();
        env.warp(default_params().challenge_window + 1);
        env.finalize(job, &creator).unwrap();
    }
    assert_eq!(env.balance(&env.keys.fee_vault), 2 * FEE);
    // Collecting waits for a treasury; nothing is lost meanwhile.
    let crank = env.cranker();
    assert_fails(&env.send(&[env.keys.collect_fees()], &[&crank]));
    assert_eq!(env.balance(&env.keys.fee_vault), 2 * FEE);
    let admin_key = admin.pubkey();
    let treasury = env.token_account(&admin_key);
    let arbiter = env.arbiter.pubkey();
    admin_update(&mut env, arbiter, treasury, |_| {});
    env.keys.treasury = treasury;
    let result = env.send(&[env.keys.collect_fees()], &[&crank]).unwrap();
    assert_eq!(env.balance(&treasury), 2 * FEE);
    assert_eq!(env.balance(&env.keys.fee_vault), 0);
    let collected: Vec<tessera::events::FeesCollected> = events(&result);
    assert_eq!(collected[0].amount, 2 * FEE);
    assert_eq!(collected[0].market, env.keys.market);
    // Nothing left: a second collection is refused.
    assert_tessera_error(
        &env.send(&[env.keys.collect_fees()], &[&crank]),
        TesseraError::NoFees,
    );
}

// ---------------------------------------------------------------------------------------------
// Creators
// ---------------------------------------------------------------------------------------------

#[test]
fn an_execution_timeout_below_the_market_minimum_is_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let p = default_params();
    let mut args = env.job_args(1, 1, REWARD);
    args.exec_timeout = 1;
    assert_tessera_error(
        &env.create_job_with(&creator, args.clone()),
        TesseraError::ExecTimeoutTooShort,
    );
    // The minimum grows with the work: 60 s + 50 ms per chunk.
    args.chunk_count = 20_000;
    let needed = p.min_exec_timeout + 1_000;
    assert_eq!(p.min_exec_timeout_for(20_000), needed);
    args.exec_timeout = needed - 1;
    assert_tessera_error(
        &env.create_job_with(&creator, args.clone()),
        TesseraError::ExecTimeoutTooShort,
    );
    args.exec_timeout = needed;
    env.create_job_with(&creator, args).unwrap();
}

#[test]
fn a_claim_on_a_job_recreated_with_other_terms_is_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    let vetted = env.job(&job).claim_terms();
    // While the claim is in flight, the creator cancels, closes and re-creates the job at the
    // same address with a poisoned input, a shorter timeout, a larger reward (a larger bond).
    let edits: [fn(&mut tessera::instructions::CreateJobArgs); 3] = [
        |a| a.input_hash = [0xBA; 32],
        |a| a.exec_timeout = 61,
        |a| a.reward_per_replica = 2 * REWARD,
    ];
    for edit in edits {
        let cancel = env.keys.cancel_job(job, creator.pubkey(), creator.token);
        let close = env.keys.close_job(creator.pubkey(), job);
        let mut args = env.job_args(1, 1, REWARD);
        edit(&mut args);
        let create = env.keys.create_job(creator.pubkey(), creator.token, args);
        env.send(&[cancel, close, create], &[&creator.key]).unwrap();
        assert_tessera_error(
            &env.claim_vetted(&op, job, vetted),
            TesseraError::TermsChanged,
        );
        assert_eq!(env.operator_of(&op).bonded, 0);
    }
    // Re-created with the same terms: the claim is what was vetted, and lands.
    let cancel = env.keys.cancel_job(job, creator.pubkey(), creator.token);
    let close = env.keys.close_job(creator.pubkey(), job);
    let create = env
        .keys
        .create_job(creator.pubkey(), creator.token, env.job_args(1, 1, REWARD));
    env.send(&[cancel, close, create], &[&creator.key]).unwrap();
    env.claim_vetted(&op, job, vetted).unwrap();
}

#[test]
fn a_creator_who_closed_its_token_account_blocks_no_payment() {
    let mut env = Env::new();
    let creator = env.user(REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    env.submit(&op, job, [1; 32]).unwrap();
    let close = anchor_spl::token_2022::spl_token_2022::instruction::close_account(
        &env.keys.token_program,
        &creator.token,
        &creator.pubkey(),
        &creator.pubkey(),
        &[],
    )
    .unwrap();
    env.send(&[close], &[&creator.key]).unwrap();
    env.warp(default_params().challenge_window + 1);
    // Naming the closed account fails; leaving it out settles (the creator is owed nothing).
    assert_fails(&env.finalize(job, &creator));
    let j = env.job(&job);
    let ix = env
        .keys
        .finalize_job(job, creator.pubkey(), creator.token, &parties(&j));
    let ix = without_creator_token(ix, &creator.token);
    let crank = env.cranker();
    env.send(&[ix], &[&crank]).unwrap();
    assert_eq!(env.earned(&op), PAY);
    assert_eq!(env.job(&job).state(), JobState::Settled);
}

#[test]
fn a_settlement_that_owes_the_creator_needs_its_token_account() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 2, REWARD);
    env.claim(&op, job).unwrap();
    env.warp(601);
    let j = env.job(&job);
    let ix = env
        .keys
        .timeout_job(job, creator.pubkey(), creator.token, &parties(&j));
    let ix = without_creator_token(ix, &creator.token);
    let crank = env.cranker();
    assert_tessera_error(
        &env.send(&[ix], &[&crank]),
        TesseraError::CreatorTokenAccountRequired,
    );
    env.timeout(job, &creator).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Operators
// ---------------------------------------------------------------------------------------------

/// A market asking `collateral_bps` of each reward as bond, and an operator of it.
fn market_with_collateral(collateral_bps: u16) -> (Env, User, User) {
    let mut params = default_params();
    params.collateral_bps = collateral_bps;
    params.min_reward_per_replica = 1;
    let mut env = Env::with(anchor_spl::token::ID, params);
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    (env, creator, op)
}

#[test]
fn bonds_round_up_so_no_claim_is_free() {
    let (mut env, creator, op) = market_with_collateral(1);
    // 1 bps of a 1 000-unit reward is 0.1: the bond is 1, not 0.
    let job = env.create_job(&creator, 1, 2, 1_000);
    env.claim(&op, job).unwrap();
    env.commit(&op, job, [1; 32], [1; 32]).unwrap();
    assert_eq!(env.job(&job).terms.bond, 1);
    let o = env.operator_of(&op);
    assert_eq!((o.bonded, o.live_claims), (1, 1));
    // With a live claim, the operator can neither exit nor, therefore, close its account.
    let ix = env.keys.request_unstake(op.pubkey(), STAKE - 1);
    env.send(&[ix], &[&op.key]).unwrap();
    let ix = env.keys.exit_operator(op.pubkey());
    assert_tessera_error(&env.send(&[ix], &[&op.key]), TesseraError::OperatorHasBonds);
    // The job stays settleable: it expires and releases the bond.
    env.warp(3_601);
    env.expire(job, &creator).unwrap();
    let o = env.operator_of(&op);
    assert_eq!((o.bonded, o.live_claims), (0, 0));
    env.send(&[env.keys.exit_operator(op.pubkey())], &[&op.key])
        .unwrap();
}

#[test]
fn a_market_may_ask_a_bond_of_several_rewards() {
    let (mut env, creator, op) = market_with_collateral(30_000);
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    assert_eq!(env.operator_of(&op).bonded, 3 * REWARD);
    // An operator whose free stake covers less than three rewards cannot claim.
    let job = env.create_job(&creator, 2, 1, REWARD);
    let small = env.operator(3 * REWARD - 1);
    assert_tessera_error(&env.claim(&small, job), TesseraError::InsufficientFreeStake);
}

#[test]
fn a_late_no_show_cannot_escape_its_slash_through_expire() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let late = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 2, REWARD);
    env.claim(&late, job).unwrap();
    // Past both its execution timeout and the claim deadline; the late operator expires the
    // job itself before anyone times it out.
    env.warp(3_601);
    let j = env.job(&job);
    let ix = env
        .keys
        .expire_job(job, creator.pubkey(), creator.token, &parties(&j));
    env.send(&[ix], &[&late.key]).unwrap();
    let slash = BOND * default_params().slash_no_show_bps as u64 / 10_000;
    let o = env.operator_of(&late);
    assert_eq!((o.stake, o.bonded, o.jobs_failed), (STAKE - slash, 0, 1));
    assert_eq!(env.balance(&creator.token), 10 * REWARD + slash / 2);
    assert_eq!(env.job(&job).state(), JobState::Expired);
}

#[test]
fn an_exited_operator_with_nothing_left_is_closed_and_may_register_again() {
    let mut env = Env::new();
    let u = env.user(0);
    let ix = env.keys.register_operator(u.pubkey(), u32::MAX);
    env.send(&[ix], &[&u.key]).unwrap();
    env.send(&[env.keys.exit_operator(u.pubkey())], &[&u.key])
        .unwrap();
    let ix = env.keys.withdraw_stake(u.pubkey(), u.token);
    env.send(&[ix], &[&u.key]).unwrap();
    assert!(env
        .account::<tessera::state::Operator>(&env.keys.operator(&u.pubkey()))
        .is_none());
    let ix = env.keys.register_operator(u.pubkey(), u32::MAX);
    env.send(&[ix], &[&u.key]).unwrap();
    // An active operator with nothing is still refused (there is nothing to withdraw).
    let ix = env.keys.withdraw_stake(u.pubkey(), u.token);
    assert_tessera_error(&env.send(&[ix], &[&u.key]), TesseraError::NothingToWithdraw);
}

#[test]
fn closing_and_registering_again_does_not_clear_an_operators_record() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    // One job paid, one slot lost to a timeout (slashed).
    let paid = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, paid).unwrap();
    env.submit(&op, paid, [1; 32]).unwrap();
    env.warp(default_params().challenge_window + 1);
    env.finalize(paid, &creator).unwrap();
    let late = env.create_job(&creator, 2, 2, REWARD);
    env.claim(&op, late).unwrap();
    env.warp(601);
    env.timeout(late, &creator).unwrap();
    let before = env.operator_of(&op);
    assert_eq!((before.jobs_completed, before.jobs_failed), (1, 1));
    assert!(before.slashed_total > 0);
    // Exit, withdraw everything (the account closes), register again.
    env.send(&[env.keys.exit_operator(op.pubkey())], &[&op.key])
        .unwrap();
    env.warp(default_params().unbonding_period);
    let ix = env.keys.withdraw_stake(op.pubkey(), op.token);
    env.send(&[ix], &[&op.key]).unwrap();
    assert!(env
        .account::<tessera::state::Operator>(&env.keys.operator(&op.pubkey()))
        .is_none());
    let ix = env.keys.register_operator(op.pubkey(), u32::MAX);
    env.send(&[ix], &[&op.key]).unwrap();
    let again = env.operator_of(&op);
    assert_eq!(
        (again.jobs_completed, again.jobs_failed, again.slashed_total),
        (1, 1, before.slashed_total),
        "the record carries over"
    );
    assert_eq!((again.stake, again.earned), (0, 0));
    let record: tessera::state::OperatorRecord = env
        .account(&env.keys.record(&op.pubkey()))
        .expect("the record outlives the operator account");
    assert_eq!(record.registrations, 2);
}

// ---------------------------------------------------------------------------------------------
// Challengers
// ---------------------------------------------------------------------------------------------

#[test]
fn neither_a_decoy_nor_a_copy_takes_a_real_verifiers_share() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let cheat = env.operator(STAKE);
    let (decoy, verifier, copier) = (
        env.operator(STAKE),
        env.operator(STAKE),
        env.operator(STAKE),
    );
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&cheat, job).unwrap();
    env.submit(&cheat, job, [1; 32]).unwrap();
    // The cheat's own Sybil commits a decoy first; the real verifier commits the true root.
    let true_root = whole_root_challenge(7);
    env.commit_challenge(&decoy, job, &whole_root_challenge(8))
        .unwrap();
    env.commit_challenge(&verifier, job, &true_root).unwrap();
    env.reveal_challenge(&decoy, job, whole_root_challenge(8))
        .unwrap();
    env.reveal_challenge(&verifier, job, true_root.clone())
        .unwrap();
    // A watcher copies the revealed challenge: it can still join, but behind the verifier.
    env.commit_challenge(&copier, job, &true_root).unwrap();
    env.reveal_challenge(&copier, job, true_root).unwrap();
    let j = env.job(&job);
    let order: Vec<Pubkey> = j.challengers().map(|(_, c)| c.challenger).collect();
    assert_eq!(
        order,
        [&decoy, &verifier, &copier].map(|u| env.keys.operator(&u.pubkey()))
    );
    env.warp_past_challenge_reveals(job);
    // The arbiter finds the verifier and the copier right, the cheat and the decoy wrong.
    let mask = tessera::instructions::challenger_bit(1) | tessera::instructions::challenger_bit(2);
    env.resolve(job, &creator, mask).unwrap();
    // Two fraud slashes of a whole bond; the honest quarter of each goes to the verifier alone.
    assert_eq!(env.earned(&verifier), 2 * (BOND / 4));
    assert_eq!(env.earned(&copier), 0);
    for u in [&verifier, &copier] {
        let o = env.operator_of(u);
        assert_eq!((o.stake, o.bonded, o.live_claims), (STAKE, 0, 0));
    }
    for u in [&cheat, &decoy] {
        assert_eq!(env.operator_of(u).stake, STAKE - BOND);
    }
    assert_eq!(env.job(&job).agreed_root, [7; 32]);
}

#[test]
fn a_copied_commitment_is_worth_nothing_to_the_copier() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let (verifier, copier) = (env.operator(STAKE), env.operator(STAKE));
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    env.submit(&op, job, [1; 32]).unwrap();
    let args = whole_root_challenge(7);
    let salt = challenge_salt(&verifier);
    let commitment =
        tessera_client::ix::challenge_commitment(&env.keys, &verifier.pubkey(), &args, &salt);
    // The copier posts the verifier's commitment as its own, and later its revealed challenge.
    let ix = env.keys.commit_challenge(copier.pubkey(), job, commitment);
    env.send(&[ix], &[&copier.key]).unwrap();
    let ix = env.keys.reveal_challenge(copier.pubkey(), job, args, salt);
    assert_tessera_error(
        &env.send(&[ix], &[&copier.key]),
        TesseraError::CommitmentMismatch,
    );
}

// ---------------------------------------------------------------------------------------------
// The arbiter, and the bound on locks
// ---------------------------------------------------------------------------------------------

#[test]
fn a_challenged_job_the_arbiter_never_rules_pays_the_agreed_root_after_the_deadline() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let verifier = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    env.submit(&op, job, [1; 32]).unwrap();
    challenge(&mut env, &verifier, job).unwrap();
    let j = env.job(&job);
    let deadline = j.dispute_deadline;
    assert_eq!(
        deadline,
        j.challenge_reveal_deadline().unwrap() + default_params().dispute_window
    );
    assert_tessera_error(
        &expire_dispute(&mut env, job, &creator),
        TesseraError::DisputeOpen,
    );
    env.warp(deadline - env.now() + 1);
    // Too late for the arbiter now; anyone settles.
    assert_tessera_error(
        &env.resolve(job, &creator, 0b1),
        TesseraError::DisputeDeadlinePassed,
    );
    expire_dispute(&mut env, job, &creator).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Settled);
    assert_eq!(env.earned(&op), PAY);
    for u in [&op, &verifier] {
        let o = env.operator_of(u);
        assert_eq!((o.stake, o.bonded, o.live_claims), (STAKE, 0, 0));
    }
    assert_eq!(env.balance(&creator.token), 9 * REWARD);
    assert_eq!(env.balance(&env.keys.fee_vault), FEE);
}

#[test]
fn replicas_that_disagree_and_are_never_ruled_are_refunded_without_a_slash() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let (a, b) = (env.operator(STAKE), env.operator(STAKE));
    let job = env.create_job(&creator, 1, 2, REWARD);
    for (u, r) in [(&a, 1u8), (&b, 2)] {
        env.claim(u, job).unwrap();
        env.commit(u, job, [r; 32], [r; 32]).unwrap();
    }
    for (u, r) in [(&a, 1u8), (&b, 2)] {
        env.reveal(u, job, [r; 32], [r; 32]).unwrap();
    }
    assert_eq!(env.job(&job).state(), JobState::Disputed);
    env.warp(default_params().dispute_window + 1);
    expire_dispute(&mut env, job, &creator).unwrap();
    assert_eq!(env.balance(&creator.token), 10 * REWARD);
    for u in [&a, &b] {
        let o = env.operator_of(u);
        assert_eq!((o.stake, o.bonded, o.earned), (STAKE, 0, 0));
    }
}

/// A 2-replica job in a market with every window at its longest, run as slowly as it may be up
/// to its last commit: replica `a` claims and commits at once, `b` claims at the claim deadline
/// and commits at the last second of its execution timeout.
struct SlowJob {
    env: Env,
    creator: User,
    a: User,
    b: User,
    verifier: User,
    job: Pubkey,
    created_at: i64,
}

fn slowest_job() -> SlowJob {
    let mut params = default_params();
    params.max_exec_timeout = MAX_WINDOW;
    params.reveal_window = MAX_WINDOW;
    params.challenge_window = MAX_WINDOW;
    params.dispute_window = MAX_WINDOW;
    let mut env = Env::with(anchor_spl::token::ID, params);
    let creator = env.user(10 * REWARD);
    let (a, b, verifier) = (
        env.operator(STAKE),
        env.operator(STAKE),
        env.operator(STAKE),
    );
    let created_at = env.now();
    let mut args = env.job_args(1, 2, REWARD);
    args.claim_deadline = created_at + MAX_WINDOW;
    args.exec_timeout = MAX_WINDOW;
    env.create_job_with(&creator, args).unwrap();
    let job = env.keys.job(&creator.pubkey(), 1);
    env.claim(&a, job).unwrap();
    env.commit(&a, job, [1; 32], [1; 32]).unwrap();
    env.warp(MAX_WINDOW);
    env.claim(&b, job).unwrap();
    env.warp(MAX_WINDOW);
    env.commit(&b, job, [1; 32], [2; 32]).unwrap();
    SlowJob {
        env,
        creator,
        a,
        b,
        verifier,
        job,
        created_at,
    }
}

#[test]
fn no_job_locks_tokens_longer_than_max_job_lifetime() {
    // The slowest path: the last slot claimed at the claim deadline, each phase run to its
    // last second, a challenge committed and revealed at the last second of each window, and
    // an arbiter that never rules.
    let SlowJob {
        mut env,
        creator,
        a,
        b,
        verifier,
        job,
        created_at,
    } = slowest_job();
    env.warp(MAX_WINDOW);
    env.reveal(&a, job, [1; 32], [1; 32]).unwrap();
    env.reveal(&b, job, [1; 32], [2; 32]).unwrap();
    env.warp(MAX_WINDOW);
    let args = whole_root_challenge(9);
    env.commit_challenge(&verifier, job, &args).unwrap();
    env.warp(MAX_WINDOW);
    env.reveal_challenge(&verifier, job, args).unwrap();
    env.warp(MAX_WINDOW);
    // Six windows; a referee game adds four more (the next test), within MAX_JOB_LIFETIME.
    assert_eq!(env.now(), created_at + 6 * MAX_WINDOW);
    const { assert!(6 * MAX_WINDOW < MAX_JOB_LIFETIME) };
    assert_tessera_error(
        &expire_dispute(&mut env, job, &creator),
        TesseraError::DisputeOpen,
    );
    env.warp(1);
    expire_dispute(&mut env, job, &creator).unwrap();
    assert!(env
        .svm
        .get_account(&tessera_client::pda::escrow(&job).0)
        .is_none_or(|a| a.lamports == 0));
    for u in [&a, &b, &verifier] {
        assert_eq!(env.operator_of(u).bonded, 0);
    }
}

#[test]
fn a_job_whose_last_replica_timed_out_is_also_freed_within_max_job_lifetime() {
    // The other slow path: a replica that never reveals is timed out at the first second it
    // may be; the challenge window starts then.
    let SlowJob {
        mut env,
        creator,
        a,
        b,
        verifier,
        job,
        created_at,
    } = slowest_job();
    env.reveal(&a, job, [1; 32], [1; 32]).unwrap();
    env.warp(MAX_WINDOW + 1);
    env.timeout(job, &creator).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Revealed);
    assert_eq!(
        env.operator_of(&b).jobs_failed,
        1,
        "the silent replica was slashed"
    );
    env.warp(MAX_WINDOW);
    let args = whole_root_challenge(9);
    env.commit_challenge(&verifier, job, &args).unwrap();
    env.warp(MAX_WINDOW);
    env.reveal_challenge(&verifier, job, args).unwrap();
    env.warp(MAX_WINDOW + 1);
    expire_dispute(&mut env, job, &creator).unwrap();
    assert!(env.now() - created_at <= MAX_JOB_LIFETIME + 2);
}

#[test]
fn a_referee_game_played_as_slowly_as_it_may_be_frees_the_job_within_max_job_lifetime() {
    // An mlp-i8 job run to the last second of every window, a chunk challenge revealed at the
    // last second of its own, then a game opened at the last second of the dispute window and
    // each of its moves made at the last second of its window; the accuser never proves.
    let model = tessera_kernels::benchmark::synthetic_mlp(0x51, 4, &[8, 6, 4], 2);
    let chunks = quant_chunks(&model);
    let root = tessera_merkle::root_of_chunks(&chunks);
    let mut params = default_params();
    params.max_exec_timeout = MAX_WINDOW;
    params.reveal_window = MAX_WINDOW;
    params.challenge_window = MAX_WINDOW;
    params.dispute_window = MAX_WINDOW;
    let mut env = Env::with(anchor_spl::token::ID, params);
    let creator = env.user(10 * REWARD);
    let (a, b, verifier) = (
        env.operator(STAKE),
        env.operator(STAKE),
        env.operator(STAKE),
    );
    let created_at = env.now();
    let mut args = env.job_args(1, 2, REWARD);
    args.kernel = tessera::constants::KERNEL_MLP_I8;
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
    let leaves: Vec<_> = chunks
        .iter()
        .map(|c| tessera_merkle::leaf_hash(c))
        .collect();
    let challenge = ChallengeArgs {
        chunk: 1,
        hash: [9; 32],
        operator_leaf: leaves[1],
        proof: tessera_merkle::proof(&leaves, 1),
    };
    env.warp(MAX_WINDOW);
    env.commit_challenge(&verifier, job, &challenge).unwrap();
    env.warp(MAX_WINDOW);
    env.reveal_challenge(&verifier, job, challenge).unwrap();
    let j = env.job(&job);
    env.warp(j.dispute_deadline - env.now());
    let commitment = model.commitment();
    let accuser = tessera::instructions::Accuser::Challenger { index: 0 };
    let open = env.keys.open_game(
        verifier.pubkey(),
        job,
        env.keys.operator(&a.pubkey()),
        tessera_client::referee::open_game_args(&commitment, 1, accuser, 3),
    );
    env.send(&[open], &[&verifier.key]).unwrap();
    // `a` holds slot 1 (`b` claimed first).
    let game = env.keys.pdas().game(&job, 1, accuser.id()).0;
    let rows = tessera_client::referee::row_chain(&model, 3);
    env.warp(MAX_WINDOW);
    let ix = env.keys.post_chain(
        a.pubkey(),
        game,
        job,
        tessera_client::referee::chain_hashes(&rows),
    );
    env.send(&[ix], &[&a.key]).unwrap();
    env.warp(MAX_WINDOW);
    let ix = env.keys.pick_layer(verifier.pubkey(), game, job, 2);
    env.send(&[ix], &[&verifier.key]).unwrap();
    env.warp(MAX_WINDOW);
    let proof = tessera_merkle::proof(&leaves, 1);
    let bytes = tessera_client::referee::revealed_rows(&rows, 2, &chunks[1], &proof);
    let buffer = env.stage(&a.key, &bytes);
    let ix = env
        .keys
        .reveal_rows(a.pubkey(), game, job, buffer, proof.len() as u8);
    env.send(&[ix], &[&a.key]).unwrap();
    env.warp(MAX_WINDOW);
    // Ten windows: an audit adds two more (`MAX_JOB_LIFETIME`).
    assert_eq!(env.now(), created_at + 10 * MAX_WINDOW);
    const { assert!(10 * MAX_WINDOW < MAX_JOB_LIFETIME) };
    assert_tessera_error(&env.end_game(game), TesseraError::GameNotOver);
    assert_tessera_error(
        &expire_dispute(&mut env, job, &creator),
        TesseraError::GamesOpen,
    );
    env.warp(1);
    env.end_game(game).unwrap();
    expire_dispute(&mut env, job, &creator).unwrap();
    assert_eq!(env.job(&job).state(), JobState::Settled);
    for u in [&a, &b, &verifier] {
        assert_eq!(env.operator_of(u).bonded, 0);
    }
    assert_eq!(env.now(), created_at + 10 * MAX_WINDOW + 1);
}

// ---------------------------------------------------------------------------------------------
// Indexers
// ---------------------------------------------------------------------------------------------

#[test]
fn settlement_events_name_their_market() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    let claimed: Vec<JobClaimed> = events(&env.claim(&op, job).unwrap());
    assert_eq!(claimed[0].market, env.keys.market);
    env.submit(&op, job, [1; 32]).unwrap();
    env.warp(default_params().challenge_window + 1);
    let settled: Vec<JobSettled> = events(&env.finalize(job, &creator).unwrap());
    assert_eq!(settled[0].market, env.keys.market);
}
