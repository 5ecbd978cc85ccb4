//! The well-known Solana attack classes, each tried against the real program: missing signer,
//! missing owner check, account substitution, wrong PDA / non-canonical bump, reinitialization,
//! duplicate mutable accounts, closed-account revival, type cosplay and integer overflow. Every
//! attempt must fail with the expected error and move no token.
// LiteSVM's failed-transaction type is large; helpers return it as is to keep its logs.
#![allow(clippy::result_large_err)]

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::system_program;
use anchor_spl::token_2022::spl_token_2022 as spl;
use spl::extension::ExtensionType;
use tessera::constants::OPERATOR_SEED;
use tessera::instructions::UpdateMarketArgs;
use tessera::state::{JobState, OperatorStatus};
use tessera_client::ix::MarketKeys;
use tessera_client::pda;
use tessera_tests::amounts::*;
use tessera_tests::*;

/// Replaces every account meta of `ix` whose key is `old` with `new`.
fn swap(ix: &mut Instruction, old: Pubkey, new: Pubkey) {
    let mut n = 0;
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == old) {
        m.pubkey = new;
        n += 1;
    }
    assert!(n > 0, "{old} is not an account of the instruction");
}

/// Clears the signer flag of `key` in `ix`: the instruction names it but it does not sign.
fn unsign(ix: &mut Instruction, key: Pubkey) {
    let mut n = 0;
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == key) {
        m.is_signer = false;
        n += 1;
    }
    assert!(n > 0, "{key} is not an account of the instruction");
}

/// Token balances of `keys`, then the mint supply.
fn balances(env: &Env, keys: &[Pubkey]) -> Vec<u64> {
    keys.iter()
        .map(|k| env.balance(k))
        .chain([env.supply()])
        .collect()
}

fn escrow(job: &Pubkey) -> Pubkey {
    pda::escrow(job).0
}

/// A one-replica job delivered by `op` whose challenge window has closed: ready to finalize.
fn ready_job(env: &mut Env, creator: &User, op: &User, id: u64) -> Pubkey {
    let job = env.create_job(creator, id, 1, REWARD);
    env.claim(op, job).unwrap();
    env.submit(op, job, [1; 32]).unwrap();
    env.warp(env.params.challenge_window + 1);
    job
}

/// The honest `finalize_job` instruction for `job`.
fn finalize_ix(env: &Env, job: Pubkey, creator: &User) -> Instruction {
    let j = env.job(&job);
    env.keys
        .finalize_job(job, creator.pubkey(), creator.token, &env.parties(&j))
}

fn timeout_ix(env: &Env, job: Pubkey, creator: &User) -> Instruction {
    let j = env.job(&job);
    env.keys
        .timeout_job(job, creator.pubkey(), creator.token, &env.parties(&j))
}

/// A second market, over a new mint of the same token program, in the same SVM.
fn second_market(env: &mut Env) -> MarketKeys {
    let mint = Keypair::new();
    let tp = env.keys.token_program;
    env.create_mint(&mint, tp);
    let admin = env.admin.insecure_clone();
    let treasury = env.token_account_of(&admin.pubkey(), mint.pubkey());
    let keys = MarketKeys::new(mint.pubkey(), admin.pubkey(), tp, treasury);
    let ix = keys.init_market(admin.pubkey(), env.arbiter.pubkey(), default_params());
    env.send(&[ix], &[&admin]).unwrap();
    keys
}

/// Runs `f` with the fixture pointed at market `keys` (its helpers use `env.keys`).
fn in_market<R>(env: &mut Env, keys: MarketKeys, f: impl FnOnce(&mut Env) -> R) -> R {
    let saved = env.keys;
    env.keys = keys;
    let r = f(env);
    env.keys = saved;
    r
}

/// Sends `ix` paid by a fresh third party (a crank).
fn crank(env: &mut Env, ix: Instruction) -> TxResult {
    let k = env.cranker();
    env.send(&[ix], &[&k])
}

fn lamports_to(env: &mut Env, from: &Keypair, to: &Pubkey, lamports: u64) {
    let ix = solana_system_interface::instruction::transfer(&from.pubkey(), to, lamports);
    env.send(&[ix], &[from]).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Missing signer check
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_signer_is_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let victim = env.operator(STAKE);
    let mallory = env.user(0);
    let job = env.create_job(&creator, 1, 1, REWARD);
    let watched = [
        creator.token,
        victim.token,
        mallory.token,
        escrow(&job),
        env.keys.stake_vault,
        env.keys.treasury,
        env.keys.fee_vault,
    ];
    let before = balances(&env, &watched);

    // Claim in the victim's name (bonding its stake) without its signature; Mallory pays the fee.
    let mut ix = env
        .keys
        .claim_job(victim.pubkey(), job, env.job(&job).claim_terms());
    unsign(&mut ix, victim.pubkey());
    assert_anchor_error(
        &env.send(&[ix], &[&mallory.key]),
        AnchorError::AccountNotSigner,
    );
    assert_eq!(env.operator_of(&victim).bonded, 0);
    assert_eq!(env.job(&job).state(), JobState::Open);

    // Withdraw the victim's unbonded stake into Mallory's account.
    let ix = env.keys.request_unstake(victim.pubkey(), STAKE);
    env.send(&[ix], &[&victim.key]).unwrap();
    env.warp(env.params.unbonding_period);
    let mut ix = env.keys.withdraw_stake(victim.pubkey(), mallory.token);
    unsign(&mut ix, victim.pubkey());
    assert_anchor_error(
        &env.send(&[ix], &[&mallory.key]),
        AnchorError::AccountNotSigner,
    );
    assert_eq!(env.operator_of(&victim).unbonding, STAKE);

    // Make herself admin and arbiter without the admin's signature.
    let args = UpdateMarketArgs {
        admin: mallory.pubkey(),
        arbiter: mallory.pubkey(),
        params: default_params(),
    };
    let mut ix = env
        .keys
        .update_market(env.admin.pubkey(), args, env.keys.treasury);
    unsign(&mut ix, env.admin.pubkey());
    assert_anchor_error(
        &env.send(&[ix], &[&mallory.key]),
        AnchorError::AccountNotSigner,
    );
    let mut ix = env.keys.set_paused(env.admin.pubkey(), true);
    unsign(&mut ix, env.admin.pubkey());
    assert_anchor_error(
        &env.send(&[ix], &[&mallory.key]),
        AnchorError::AccountNotSigner,
    );
    let m = env.market();
    assert_eq!(
        (m.admin, m.arbiter, m.paused),
        (env.admin.pubkey(), env.arbiter.pubkey(), false)
    );

    // Cancel the creator's job without the creator's signature.
    let mut ix = env.keys.cancel_job(job, creator.pubkey(), creator.token);
    unsign(&mut ix, creator.pubkey());
    assert_anchor_error(
        &env.send(&[ix], &[&mallory.key]),
        AnchorError::AccountNotSigner,
    );

    // Resolve as the arbiter without its signature.
    let mut ix = env.keys.resolve_dispute(
        env.arbiter.pubkey(),
        job,
        creator.pubkey(),
        creator.token,
        &[],
        0,
    );
    unsign(&mut ix, env.arbiter.pubkey());
    assert_anchor_error(
        &env.send(&[ix], &[&mallory.key]),
        AnchorError::AccountNotSigner,
    );

    assert_eq!(env.job(&job).state(), JobState::Open);
    assert_eq!(balances(&env, &watched), before);
}

// ---------------------------------------------------------------------------------------------
// Missing owner check
// ---------------------------------------------------------------------------------------------

#[test]
fn accounts_owned_by_another_program_are_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let mallory = env.user(REWARD);
    let job = ready_job(&mut env, &creator, &op, 1);
    let open = env.create_job(&creator, 2, 1, REWARD);
    let watched = [
        creator.token,
        op.token,
        mallory.token,
        escrow(&job),
        escrow(&open),
        env.keys.stake_vault,
        env.keys.treasury,
        env.keys.fee_vault,
    ];
    let before = balances(&env, &watched);

    let market = env.svm.get_account(&env.keys.market).unwrap();
    let operator = env
        .svm
        .get_account(&env.keys.operator(&op.pubkey()))
        .unwrap();
    let mint = env.svm.get_account(&env.keys.mint).unwrap();
    let token = env.svm.get_account(&mallory.token).unwrap();
    for owner in [system_program::ID, Pubkey::new_unique()] {
        // A market with the real layout, Mallory as admin and her account as the treasury.
        let fake_market = Pubkey::new_unique();
        let mut acc = market.clone();
        acc.owner = owner;
        acc.data[8..40].copy_from_slice(mallory.pubkey().as_ref()); // admin
        acc.data[104..136].copy_from_slice(mallory.token.as_ref()); // treasury
        env.svm.set_account(fake_market, acc).unwrap();
        let mut ix = env.keys.set_paused(mallory.pubkey(), true);
        swap(&mut ix, env.keys.market, fake_market);
        assert_anchor_error(
            &env.send(&[ix], &[&mallory.key]),
            AnchorError::AccountOwnedByWrongProgram,
        );
        let mut ix = finalize_ix(&env, job, &creator);
        swap(&mut ix, env.keys.market, fake_market);
        swap(&mut ix, env.keys.fee_vault, mallory.token);
        let crank = env.cranker();
        assert_anchor_error(
            &env.send(&[ix], &[&crank]),
            AnchorError::AccountOwnedByWrongProgram,
        );

        // A copy of a real operator account (stake and all) claiming for Mallory.
        let fake_op = Pubkey::new_unique();
        let mut acc = operator.clone();
        acc.owner = owner;
        acc.data[40..72].copy_from_slice(mallory.pubkey().as_ref()); // authority
        env.svm.set_account(fake_op, acc).unwrap();
        let mut ix = env
            .keys
            .claim_job(mallory.pubkey(), open, env.job(&open).claim_terms());
        swap(&mut ix, env.keys.operator(&mallory.pubkey()), fake_op);
        assert_anchor_error(
            &env.send(&[ix], &[&mallory.key]),
            AnchorError::AccountOwnedByWrongProgram,
        );

        // A token account with the layout of Mallory's, holding u64::MAX, funding a job.
        let fake_token = Pubkey::new_unique();
        let mut acc = token.clone();
        acc.owner = owner;
        acc.data[64..72].copy_from_slice(&u64::MAX.to_le_bytes());
        env.svm.set_account(fake_token, acc).unwrap();
        let mut ix =
            env.keys
                .create_job(mallory.pubkey(), mallory.token, env.job_args(9, 1, REWARD));
        swap(&mut ix, mallory.token, fake_token);
        assert_anchor_error(
            &env.send(&[ix], &[&mallory.key]),
            AnchorError::AccountOwnedByWrongProgram,
        );

        // A mint with the real layout: refused by its key (the market names its mint).
        let fake_mint = Pubkey::new_unique();
        let mut acc = mint.clone();
        acc.owner = owner;
        env.svm.set_account(fake_mint, acc).unwrap();
        let mut ix = finalize_ix(&env, job, &creator);
        swap(&mut ix, env.keys.mint, fake_mint);
        let crank = env.cranker();
        assert_tessera_error(&env.send(&[ix], &[&crank]), TesseraError::WrongMint);
    }
    assert!(!env.market().paused);
    assert_eq!(env.job(&job).state(), JobState::Revealed);
    assert_eq!(env.job(&open).state(), JobState::Open);
    assert_eq!(balances(&env, &watched), before);
}

// ---------------------------------------------------------------------------------------------
// Account substitution
// ---------------------------------------------------------------------------------------------

#[test]
fn substituted_accounts_are_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let other = env.operator(STAKE);
    let ghost = env.operator(STAKE);
    let mallory = env.user(REWARD);
    let m2 = second_market(&mut env);
    let m2_op = in_market(&mut env, m2, |e| e.operator(STAKE));
    let m2_creator = in_market(&mut env, m2, |e| e.user(10 * REWARD));
    let m2_job = in_market(&mut env, m2, |e| e.create_job(&m2_creator, 1, 1, REWARD));

    let job = env.create_job(&creator, 1, 1, REWARD);
    env.claim(&op, job).unwrap();
    env.submit(&op, job, [1; 32]).unwrap();
    let late = env.create_job(&creator, 2, 1, REWARD);
    env.claim(&ghost, late).unwrap();
    let open = env.create_job(&creator, 3, 1, REWARD);
    env.warp(601); // `job`'s challenge window and `late`'s execution timeout have passed.

    let watched = [
        creator.token,
        op.token,
        other.token,
        ghost.token,
        mallory.token,
        escrow(&job),
        escrow(&late),
        escrow(&open),
        env.keys.stake_vault,
        env.keys.treasury,
        env.keys.fee_vault,
        m2.stake_vault,
        m2.treasury,
        m2.fee_vault,
        escrow(&m2_job),
    ];
    let before = balances(&env, &watched);
    let foreign_treasury = env.token_account_of(&mallory.pubkey(), m2.mint);

    // Finalize with another job's escrow.
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, escrow(&job), escrow(&open));
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongEscrow);
    // With another mint (the market names its own).
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, env.keys.mint, m2.mint);
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongMint);
    // With another market.
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, env.keys.market, m2.market);
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongMarket);
    // Fees to an account of another mint, another market's fee vault or treasury, or Mallory.
    for t in [foreign_treasury, m2.fee_vault, m2.treasury, mallory.token] {
        let mut ix = finalize_ix(&env, job, &creator);
        swap(&mut ix, env.keys.fee_vault, t);
        assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongFeeVault);
    }
    // The operators' pay to Mallory, or to another market's vault, in place of the stake vault.
    for v in [mallory.token, m2.stake_vault] {
        let mut ix = finalize_ix(&env, job, &creator);
        swap(&mut ix, env.keys.stake_vault, v);
        assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongStakeVault);
    }
    // Another operator in place of the job's.
    let mut ix = finalize_ix(&env, job, &creator);
    swap(
        &mut ix,
        env.keys.operator(&op.pubkey()),
        env.keys.operator(&other.pubkey()),
    );
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongOperatorAccounts);
    // No operator accounts at all, or one too many.
    let mut ix = finalize_ix(&env, job, &creator);
    ix.accounts.truncate(ix.accounts.len() - 1);
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongOperatorAccounts);
    let mut ix = finalize_ix(&env, job, &creator);
    ix.accounts.push(anchor_lang::prelude::AccountMeta::new(
        env.keys.operator(&other.pubkey()),
        false,
    ));
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongOperatorAccounts);
    // The refund to Mallory's token account, or the escrow rent to Mallory.
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, creator.token, mallory.token);
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongCreatorAccount);
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, creator.pubkey(), mallory.pubkey());
    assert_tessera_error(&crank(&mut env, ix), TesseraError::NotCreator);

    // Timeout slashing into another market's stake vault.
    let mut ix = timeout_ix(&env, late, &creator);
    swap(&mut ix, env.keys.stake_vault, m2.stake_vault);
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongStakeVault);

    // Claiming another market's job.
    assert_tessera_error(&env.claim(&op, m2_job), TesseraError::WrongMarket);

    // Deposit credited in this market but paid into the other market's vault, and withdraw
    // from the other market's vault with this market's operator record.
    env.mint_to(&op.token, 1_000);
    let mut ix = env.keys.deposit_stake(op.pubkey(), op.token, 1_000);
    swap(&mut ix, env.keys.stake_vault, m2.stake_vault);
    assert_tessera_error(&env.send(&[ix], &[&op.key]), TesseraError::WrongStakeVault);
    let mut ix = env.keys.withdraw_stake(op.pubkey(), op.token);
    swap(&mut ix, env.keys.stake_vault, m2.stake_vault);
    assert_tessera_error(&env.send(&[ix], &[&op.key]), TesseraError::WrongStakeVault);
    let mut ix = env.keys.withdraw_stake(op.pubkey(), op.token);
    swap(&mut ix, env.keys.stake_vault, m2.stake_vault);
    swap(&mut ix, env.keys.mint, m2.mint);
    assert_tessera_error(&env.send(&[ix], &[&op.key]), TesseraError::WrongMint);
    // ... and naming the other market too: the operator account is not that market's.
    let mut ix = env.keys.withdraw_stake(op.pubkey(), op.token);
    swap(&mut ix, env.keys.stake_vault, m2.stake_vault);
    swap(&mut ix, env.keys.mint, m2.mint);
    swap(&mut ix, env.keys.market, m2.market);
    assert_tessera_error(&env.send(&[ix], &[&op.key]), TesseraError::WrongMarket);
    // Withdraw to a token account of another mint.
    let foreign = env.token_account_of(&op.pubkey(), m2.mint);
    let ix = env.keys.withdraw_stake(op.pubkey(), foreign);
    assert_anchor_error(
        &env.send(&[ix], &[&op.key]),
        AnchorError::ConstraintTokenMint,
    );

    let mut expected = before.clone();
    expected[1] += 1_000; // the tokens minted to `op` for the deposit attempt
    *expected.last_mut().unwrap() += 1_000;
    assert_eq!(balances(&env, &watched), expected);
    assert_eq!(
        in_market(&mut env, m2, |e| e.operator_of(&m2_op).stake),
        STAKE
    );

    // The honest accounts still work.
    let ix = finalize_ix(&env, job, &creator);
    crank(&mut env, ix).unwrap();
    assert_eq!(env.balance(&op.token), 1_000);
    assert_eq!(env.earned(&op), PAY);
    assert_eq!(env.balance(&env.keys.fee_vault), FEE);
    let ix = timeout_ix(&env, late, &creator);
    crank(&mut env, ix).unwrap();
    assert_eq!(env.balance(&m2.stake_vault), STAKE);
}

// ---------------------------------------------------------------------------------------------
// Wrong PDA / non-canonical bump
// ---------------------------------------------------------------------------------------------

#[test]
fn wrong_pdas_and_non_canonical_bumps_are_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let victim = env.operator(STAKE);
    let mallory = env.operator(STAKE);
    let stranger = env.user(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    let watched = [
        creator.token,
        stranger.token,
        escrow(&job),
        env.keys.stake_vault,
    ];
    let before = balances(&env, &watched);

    // The operator PDA at a non-canonical bump.
    let market = env.keys.market;
    let (canonical, bump) = pda::operator(&market, &stranger.pubkey());
    let off_bump = (0..bump)
        .rev()
        .find_map(|b| {
            Pubkey::create_program_address(
                &[
                    OPERATOR_SEED,
                    market.as_ref(),
                    stranger.pubkey().as_ref(),
                    &[b],
                ],
                &tessera::ID,
            )
            .ok()
        })
        .expect("a non-canonical bump");
    let mut ix = env.keys.register_operator(stranger.pubkey(), u32::MAX);
    swap(&mut ix, canonical, off_bump);
    assert_anchor_error(
        &env.send(&[ix], &[&stranger.key]),
        AnchorError::ConstraintSeeds,
    );
    assert!(env.svm.get_account(&off_bump).is_none());

    // A job at the address of another id, or in another creator's namespace.
    let args = env.job_args(5, 1, REWARD);
    let mut ix = env
        .keys
        .create_job(creator.pubkey(), creator.token, args.clone());
    let (real, fake) = (
        env.keys.job(&creator.pubkey(), 5),
        env.keys.job(&creator.pubkey(), 6),
    );
    swap(&mut ix, real, fake);
    swap(&mut ix, escrow(&real), escrow(&fake));
    assert_anchor_error(
        &env.send(&[ix], &[&creator.key]),
        AnchorError::ConstraintSeeds,
    );
    let mut ix = env.keys.create_job(stranger.pubkey(), stranger.token, args);
    let (real, squatted) = (
        env.keys.job(&stranger.pubkey(), 5),
        env.keys.job(&creator.pubkey(), 5),
    );
    swap(&mut ix, real, squatted);
    swap(&mut ix, escrow(&real), escrow(&squatted));
    assert_anchor_error(
        &env.send(&[ix], &[&stranger.key]),
        AnchorError::ConstraintSeeds,
    );

    // Mallory signs but names the victim's operator account (bonding the victim's stake).
    let mut ix = env
        .keys
        .claim_job(mallory.pubkey(), job, env.job(&job).claim_terms());
    swap(
        &mut ix,
        env.keys.operator(&mallory.pubkey()),
        env.keys.operator(&victim.pubkey()),
    );
    assert_tessera_error(
        &env.send(&[ix], &[&mallory.key]),
        TesseraError::NotOperatorAuthority,
    );
    // ... or to request an unstake of the victim's stake.
    let mut ix = env.keys.request_unstake(mallory.pubkey(), STAKE);
    swap(
        &mut ix,
        env.keys.operator(&mallory.pubkey()),
        env.keys.operator(&victim.pubkey()),
    );
    assert_tessera_error(
        &env.send(&[ix], &[&mallory.key]),
        TesseraError::NotOperatorAuthority,
    );

    // Mallory's operator account of another market, used in this one.
    let m2 = second_market(&mut env);
    in_market(&mut env, m2, |e| {
        let ix = e.keys.register_operator(mallory.pubkey(), u32::MAX);
        e.send(&[ix], &[&mallory.key]).unwrap();
    });
    let mut ix = env
        .keys
        .claim_job(mallory.pubkey(), job, env.job(&job).claim_terms());
    swap(
        &mut ix,
        env.keys.operator(&mallory.pubkey()),
        m2.operator(&mallory.pubkey()),
    );
    assert_tessera_error(&env.send(&[ix], &[&mallory.key]), TesseraError::WrongMarket);

    let v = env.operator_of(&victim);
    assert_eq!((v.stake, v.bonded, v.unbonding), (STAKE, 0, 0));
    assert_eq!(env.job(&job).state(), JobState::Open);
    assert_eq!(balances(&env, &watched), before);
}

// ---------------------------------------------------------------------------------------------
// Reinitialization
// ---------------------------------------------------------------------------------------------

#[test]
fn reinitialization_is_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let mallory = env.user(0);
    let job = ready_job(&mut env, &creator, &op, 1);
    let watched = [
        creator.token,
        op.token,
        escrow(&job),
        env.keys.stake_vault,
        env.keys.treasury,
        env.keys.fee_vault,
    ];
    let before = balances(&env, &watched);

    // The market, by its admin or by Mallory naming herself admin and arbiter.
    let mut params = default_params();
    params.protocol_fee_bps = 10_000;
    params.burn_bps = 0;
    let ix = env
        .keys
        .init_market(env.admin.pubkey(), env.arbiter.pubkey(), params);
    let admin = env.admin.insecure_clone();
    assert_fails(&env.send(&[ix], &[&admin]));
    let ix = env
        .keys
        .init_market(mallory.pubkey(), mallory.pubkey(), params);
    assert_fails(&env.send(&[ix], &[&mallory.key]));
    let m = env.market();
    assert_eq!(
        (m.admin, m.arbiter, m.params),
        (env.admin.pubkey(), env.arbiter.pubkey(), default_params())
    );

    // The operator: a second registration would reset its stake and bonds.
    let ix = env.keys.register_operator(op.pubkey(), 0);
    assert_fails(&env.send(&[ix], &[&op.key]));
    let o = env.operator_of(&op);
    assert_eq!((o.stake, o.bonded, o.capabilities), (STAKE, BOND, u32::MAX));

    // The job: the same id again (would reset its slots), before and after settlement.
    let again = env.job_args(1, 1, REWARD);
    assert_fails(&env.create_job_with(&creator, again.clone()));
    assert_eq!(env.job(&job).state(), JobState::Revealed);
    assert_eq!(balances(&env, &watched), before);
    env.finalize(job, &creator).unwrap();
    let after = balances(&env, &watched);
    assert_fails(&env.create_job_with(&creator, again));
    assert_eq!(env.job(&job).state(), JobState::Settled);
    assert!(env
        .svm
        .get_account(&escrow(&job))
        .is_none_or(|a| a.lamports == 0));
    assert_eq!(balances(&env, &watched), after);
}

// ---------------------------------------------------------------------------------------------
// Duplicate mutable accounts
// ---------------------------------------------------------------------------------------------

#[test]
fn duplicate_mutable_accounts_are_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let a = env.operator(STAKE);
    let b = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 2, REWARD);
    env.claim(&a, job).unwrap();
    env.claim(&b, job).unwrap();
    env.commit(&a, job, [1; 32], [1; 32]).unwrap();
    env.commit(&b, job, [1; 32], [2; 32]).unwrap();
    env.reveal(&a, job, [1; 32], [1; 32]).unwrap();
    env.reveal(&b, job, [1; 32], [2; 32]).unwrap();
    env.warp(env.params.challenge_window + 1);
    let watched = [
        creator.token,
        a.token,
        b.token,
        escrow(&job),
        env.keys.stake_vault,
        env.keys.treasury,
        env.keys.fee_vault,
    ];
    let before = balances(&env, &watched);
    let (op_a, op_b) = (
        env.keys.operator(&a.pubkey()),
        env.keys.operator(&b.pubkey()),
    );

    // The same operator twice in the remaining accounts (paid twice, saved twice).
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, op_b, op_a);
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongOperatorAccounts);
    // The escrow as the creator's token account (refund to itself, then close).
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, creator.token, escrow(&job));
    assert_anchor_error(
        &crank(&mut env, ix),
        AnchorError::ConstraintDuplicateMutableAccount,
    );
    // The escrow as the fee vault.
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, env.keys.fee_vault, escrow(&job));
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongFeeVault);
    // The escrow as the stake vault (the operators' pay moved back into the escrow).
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, env.keys.stake_vault, escrow(&job));
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongStakeVault);
    // The stake vault as the creator's account in a timeout (refused by owner before the
    // duplicate check of the outer accounts runs).
    let mut ix = env
        .keys
        .timeout_job(job, creator.pubkey(), creator.token, &[]);
    swap(&mut ix, creator.token, env.keys.stake_vault);
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongCreatorAccount);
    // Stake "deposited" from the vault itself.
    let ix = env.keys.deposit_stake(a.pubkey(), env.keys.stake_vault, 1);
    assert_fails(&env.send(&[ix], &[&a.key]));
    // A job funded from its own escrow.
    let args = env.job_args(2, 1, REWARD);
    let mut ix = env.keys.create_job(creator.pubkey(), creator.token, args);
    let job2 = env.keys.job(&creator.pubkey(), 2);
    swap(&mut ix, creator.token, escrow(&job2));
    assert_fails(&env.send(&[ix], &[&creator.key]));
    assert!(env.account::<tessera::state::Job>(&job2).is_none());

    assert_eq!(env.job(&job).state(), JobState::Revealed);
    assert_eq!(balances(&env, &watched), before);
    env.finalize(job, &creator).unwrap();
    assert_eq!((env.earned(&a), env.earned(&b)), (PAY, PAY));
}

#[test]
fn withdraw_stake_earnings_leave_only_to_their_operator() {
    // Settlements credit each operator inside the stake vault; only its authority can take the
    // earnings out, and only once.
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let a = env.operator(STAKE);
    let b = env.operator(STAKE);
    let mallory = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 2, REWARD);
    for (u, s) in [(&a, 1u8), (&b, 2)] {
        env.claim(u, job).unwrap();
        env.commit(u, job, [1; 32], [s; 32]).unwrap();
    }
    env.reveal(&a, job, [1; 32], [1; 32]).unwrap();
    env.reveal(&b, job, [1; 32], [2; 32]).unwrap();
    env.warp(env.params.challenge_window + 1);
    env.finalize(job, &creator).unwrap();
    assert_eq!((env.earned(&a), env.earned(&b)), (PAY, PAY));
    assert_eq!(env.balance(&env.keys.stake_vault), 3 * STAKE + 2 * PAY);

    // Mallory names `a`'s operator account, signing herself, to her own token account.
    let mut ix = env.keys.withdraw_stake(mallory.pubkey(), mallory.token);
    swap(
        &mut ix,
        env.keys.operator(&mallory.pubkey()),
        env.keys.operator(&a.pubkey()),
    );
    assert_tessera_error(
        &env.send(&[ix], &[&mallory.key]),
        TesseraError::NotOperatorAuthority,
    );
    // Mallory has no earnings of her own.
    let ix = env.keys.withdraw_stake(mallory.pubkey(), mallory.token);
    assert_tessera_error(
        &env.send(&[ix], &[&mallory.key]),
        TesseraError::NothingToWithdraw,
    );
    assert_eq!(env.balance(&mallory.token), 0);

    // `a` withdraws once; `b`'s credit is untouched.
    let ix = env.keys.withdraw_stake(a.pubkey(), a.token);
    env.send(std::slice::from_ref(&ix), &[&a.key]).unwrap();
    assert_tessera_error(&env.send(&[ix], &[&a.key]), TesseraError::NothingToWithdraw);
    assert_eq!((env.balance(&a.token), env.earned(&a)), (PAY, 0));
    assert_eq!(env.earned(&b), PAY);
    assert_eq!(env.balance(&env.keys.stake_vault), 3 * STAKE + PAY);
}

// ---------------------------------------------------------------------------------------------
// Closed-account revival
// ---------------------------------------------------------------------------------------------

#[test]
fn closed_escrow_cannot_be_revived() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = ready_job(&mut env, &creator, &op, 1);
    let esc = escrow(&job);
    let watched = [
        creator.token,
        op.token,
        esc,
        env.keys.stake_vault,
        env.keys.treasury,
        env.keys.fee_vault,
    ];
    let before = balances(&env, &watched);
    let crank = env.cranker();
    let rent = env.svm.minimum_balance_for_rent_exemption(165);
    let refund = solana_system_interface::instruction::transfer(&crank.pubkey(), &esc, rent);

    // In one transaction: settle (closes the escrow), refund its rent, settle again.
    let fin = finalize_ix(&env, job, &creator);
    assert_fails(&env.send(&[fin.clone(), refund.clone(), fin.clone()], &[&crank]));
    assert_eq!(env.job(&job).state(), JobState::Revealed);
    assert_eq!(balances(&env, &watched), before);
    // Settle, then revive it and cancel / expire / settle again.
    env.send(std::slice::from_ref(&fin), &[&crank]).unwrap();
    let settled = balances(&env, &watched);
    assert_eq!(env.earned(&op), PAY);
    assert!(env.svm.get_account(&esc).is_none_or(|a| a.lamports == 0));
    assert_fails(&env.send(&[refund.clone(), fin.clone()], &[&crank]));
    lamports_to(&mut env, &crank, &esc, rent);
    assert_anchor_error(
        &env.send(&[fin], &[&crank]),
        AnchorError::AccountOwnedByWrongProgram,
    );
    let ix = env.keys.cancel_job(job, creator.pubkey(), creator.token);
    assert_fails(&env.send(&[ix], &[&creator.key]));
    env.warp(3_601);
    assert_fails(&env.expire(job, &creator));
    assert_eq!(env.job(&job).state(), JobState::Settled);
    assert_eq!(balances(&env, &watched), settled);
}

#[test]
fn closed_operator_cannot_be_revived() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let other = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    for u in [&op, &other] {
        let ix = env.keys.exit_operator(u.pubkey());
        env.send(&[ix], &[&u.key]).unwrap();
    }
    env.warp(env.params.unbonding_period);
    let key = env.keys.operator(&op.pubkey());
    let rent = env.svm.get_account(&key).unwrap().lamports;

    // In one transaction: withdraw (closes the account), refund its rent, use it again.
    let ixs = [
        env.keys.withdraw_stake(op.pubkey(), op.token),
        solana_system_interface::instruction::transfer(&op.pubkey(), &key, rent),
        env.keys.withdraw_stake(op.pubkey(), op.token),
    ];
    assert_fails(&env.send(&ixs, &[&op.key]));
    let o = env.operator_of(&op);
    assert_eq!((o.status, o.unbonding), (OperatorStatus::Exiting, STAKE));
    assert_eq!(env.balance(&env.keys.stake_vault), 2 * STAKE);

    // Withdraw and close, then try to use the account.
    let ix = env.keys.withdraw_stake(op.pubkey(), op.token);
    env.send(std::slice::from_ref(&ix), &[&op.key]).unwrap();
    assert_eq!(env.balance(&op.token), STAKE);
    assert!(env.account::<tessera::state::Operator>(&key).is_none());
    assert_anchor_error(
        &env.send(std::slice::from_ref(&ix), &[&op.key]),
        AnchorError::AccountNotInitialized,
    );
    assert_anchor_error(&env.claim(&op, job), AnchorError::AccountNotInitialized);
    // With lamports sent back it is a system account, not an operator.
    lamports_to(&mut env, &op.key, &key, rent);
    assert_anchor_error(
        &env.send(&[ix], &[&op.key]),
        AnchorError::AccountOwnedByWrongProgram,
    );
    assert_anchor_error(
        &env.claim(&op, job),
        AnchorError::AccountOwnedByWrongProgram,
    );
    assert_eq!(env.balance(&op.token), STAKE);
    assert_eq!(env.balance(&env.keys.stake_vault), STAKE);
    assert_eq!(env.job(&job).state(), JobState::Open);
}

// ---------------------------------------------------------------------------------------------
// Type cosplay
// ---------------------------------------------------------------------------------------------

#[test]
fn accounts_of_another_type_are_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let job = ready_job(&mut env, &creator, &op, 1);
    let open = env.create_job(&creator, 2, 1, REWARD);
    let op_key = env.keys.operator(&op.pubkey());
    let watched = [
        creator.token,
        op.token,
        escrow(&job),
        env.keys.stake_vault,
        env.keys.treasury,
        env.keys.fee_vault,
    ];
    let before = balances(&env, &watched);

    // A job as the operator (both are program accounts).
    let mut ix = env
        .keys
        .claim_job(op.pubkey(), open, env.job(&open).claim_terms());
    swap(&mut ix, op_key, job);
    assert_anchor_error(
        &env.send(&[ix], &[&op.key]),
        AnchorError::AccountDiscriminatorMismatch,
    );
    // The market as the job.
    let mut ix = env
        .keys
        .claim_job(op.pubkey(), open, env.job(&open).claim_terms());
    swap(&mut ix, open, env.keys.market);
    assert_anchor_error(
        &env.send(&[ix], &[&op.key]),
        AnchorError::AccountDiscriminatorMismatch,
    );
    // An operator (its first field is a pubkey, like the market's admin) as the market.
    let mut ix = env.keys.set_paused(op.pubkey(), true);
    swap(&mut ix, env.keys.market, op_key);
    assert_anchor_error(
        &env.send(&[ix], &[&op.key]),
        AnchorError::AccountDiscriminatorMismatch,
    );
    // A job as the settlement's market; an operator as the job.
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, env.keys.market, open);
    assert_anchor_error(
        &crank(&mut env, ix),
        AnchorError::AccountDiscriminatorMismatch,
    );
    let mut ix = finalize_ix(&env, job, &creator);
    ix.accounts[0].pubkey = op_key; // settlement.job
    assert_anchor_error(
        &crank(&mut env, ix),
        AnchorError::AccountDiscriminatorMismatch,
    );
    // A job in the remaining accounts where an operator is expected: refused by key already.
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, op_key, open);
    assert_tessera_error(&crank(&mut env, ix), TesseraError::WrongOperatorAccounts);
    // A token account as the mint, and the mint as a token account.
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, env.keys.mint, env.keys.treasury);
    assert_fails(&crank(&mut env, ix));
    let mut ix = finalize_ix(&env, job, &creator);
    swap(&mut ix, creator.token, env.keys.mint);
    assert_fails(&crank(&mut env, ix));

    assert_eq!(env.job(&job).state(), JobState::Revealed);
    assert_eq!(balances(&env, &watched), before);
}

// ---------------------------------------------------------------------------------------------
// Integer overflow
// ---------------------------------------------------------------------------------------------

#[test]
fn create_job_reward_times_replicas_overflow_is_refused() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let before = balances(&env, &[creator.token]);
    for (replicas, reward) in [(2, u64::MAX / 2 + 1), (3, u64::MAX / 3 + 1), (3, u64::MAX)] {
        let args = env.job_args(replicas as u64, replicas, reward);
        assert_tessera_error(
            &env.create_job_with(&creator, args),
            TesseraError::MathOverflow,
        );
        assert!(env
            .account::<tessera::state::Job>(&env.keys.job(&creator.pubkey(), replicas as u64))
            .is_none());
    }
    assert_eq!(balances(&env, &[creator.token]), before);
}

#[test]
fn finalize_job_amounts_near_u64_max_settle_exactly() {
    let mut env = Env::new();
    let op = env.operator(u64::MAX / 2);
    // The creator gets every token left: the supply is now u64::MAX.
    let reward = u64::MAX - env.supply();
    let creator = env.user(reward);
    assert_eq!(env.supply(), u64::MAX);
    assert_eq!(env.minted, u64::MAX);
    // Depositing more than one has is a token error, and changes nothing.
    let ix = env.keys.deposit_stake(op.pubkey(), op.token, u64::MAX);
    assert_fails(&env.send(&[ix], &[&op.key]));
    assert_eq!(env.operator_of(&op).stake, u64::MAX / 2);

    let job = env.create_job(&creator, 1, 1, reward);
    env.claim(&op, job).unwrap();
    let bond = reward / 2; // collateral 50 %, computed in u128
    assert_eq!(env.operator_of(&op).bonded, bond);
    env.submit(&op, job, [1; 32]).unwrap();
    env.warp(env.params.challenge_window + 1);
    env.finalize(job, &creator).unwrap();
    let fee = (reward as u128 * 250 / 10_000) as u64;
    let burn = (reward as u128 * 100 / 10_000) as u64;
    assert_eq!(env.earned(&op), reward - fee - burn);
    assert_eq!(env.balance(&env.keys.fee_vault), fee);
    assert_eq!(env.supply(), u64::MAX - burn);
    assert_eq!(env.balance(&creator.token), 0);
    assert_eq!(env.operator_of(&op).bonded, 0);
    assert_eq!(
        env.balance(&env.keys.stake_vault),
        u64::MAX / 2 + (reward - fee - burn)
    );
}

#[test]
fn update_market_time_overflow_is_refused() {
    // Windows are bounded (30 days), so no deadline can be pushed past i64::MAX by a parameter.
    let mut env = Env::new();
    let a = env.operator(STAKE);
    let creator = env.user(10 * REWARD);
    let admin = env.admin.insecure_clone();
    for long in [i64::MAX, tessera::constants::MAX_WINDOW + 1] {
        for field in 0..4 {
            let mut p = default_params();
            *[
                &mut p.reveal_window,
                &mut p.challenge_window,
                &mut p.unbonding_period,
                &mut p.max_exec_timeout,
            ][field] = long;
            let args = UpdateMarketArgs {
                admin: admin.pubkey(),
                arbiter: env.arbiter.pubkey(),
                params: p,
            };
            let ix = env
                .keys
                .update_market(admin.pubkey(), args, env.keys.treasury);
            assert_tessera_error(&env.send(&[ix], &[&admin]), TesseraError::WindowTooLong);
        }
    }
    assert_eq!(env.market().params, default_params());
    // A claim deadline at the end of time (or just past the horizon) is refused.
    for deadline in [i64::MAX, env.now() + tessera::constants::MAX_WINDOW + 1] {
        let mut args = env.job_args(1, 1, REWARD);
        args.claim_deadline = deadline;
        assert_tessera_error(
            &env.create_job_with(&creator, args),
            TesseraError::BadClaimDeadline,
        );
    }
    // A clock near i64::MAX: starting an unbonding period fails loudly instead of wrapping to
    // a ready time in the past.
    env.warp(i64::MAX - env.now() - 10);
    let ix = env.keys.request_unstake(a.pubkey(), 1);
    assert_tessera_error(&env.send(&[ix], &[&a.key]), TesseraError::MathOverflow);
    assert_eq!(env.operator_of(&a).unbonding, 0);
    assert_eq!(env.balance(&creator.token), 10 * REWARD);
}

// ---------------------------------------------------------------------------------------------
// Token-2022
// ---------------------------------------------------------------------------------------------

#[test]
fn finalize_job_on_a_token_2022_market_pays_one_replica() {
    let mut env = Env::with(anchor_spl::token_2022::ID, default_params());
    let mint = env.svm.get_account(&env.keys.mint).unwrap();
    assert_eq!(mint.owner, anchor_spl::token_2022::ID);
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    assert_eq!(env.balance(&env.keys.stake_vault), STAKE);
    let job = env.create_job(&creator, 1, 1, REWARD);
    let esc = env.svm.get_account(&escrow(&job)).unwrap();
    assert_eq!(esc.owner, anchor_spl::token_2022::ID);
    assert_eq!(env.balance(&escrow(&job)), REWARD);
    assert_eq!(env.balance(&creator.token), 9 * REWARD);

    env.claim(&op, job).unwrap();
    assert_eq!(env.operator_of(&op).bonded, BOND);
    env.submit(&op, job, [1; 32]).unwrap();
    assert_tessera_error(
        &env.finalize(job, &creator),
        TesseraError::ChallengeWindowOpen,
    );
    env.warp(env.params.challenge_window + 1);
    let supply = env.supply();
    env.finalize(job, &creator).unwrap();

    assert_eq!(env.earned(&op), PAY);
    assert_eq!(env.balance(&env.keys.fee_vault), FEE);
    assert_eq!(env.balance(&creator.token), 9 * REWARD);
    assert_eq!(env.supply(), supply - BURN);
    assert_eq!(env.minted - env.supply(), BURN);
    assert_eq!(env.balance(&env.keys.stake_vault), STAKE + PAY);
    let o = env.operator_of(&op);
    assert_eq!((o.stake, o.bonded, o.jobs_completed), (STAKE, 0, 1));
    assert_eq!(env.job(&job).state(), JobState::Settled);
    assert!(env
        .svm
        .get_account(&escrow(&job))
        .is_none_or(|a| a.lamports == 0));
    // Unstake and withdraw through Token-2022 too.
    let ix = env.keys.request_unstake(op.pubkey(), STAKE);
    env.send(&[ix], &[&op.key]).unwrap();
    env.warp(env.params.unbonding_period);
    let ix = env.keys.withdraw_stake(op.pubkey(), op.token);
    env.send(&[ix], &[&op.key]).unwrap();
    assert_eq!(env.balance(&op.token), PAY + STAKE);
    assert_eq!(env.balance(&env.keys.stake_vault), 0);
}

// ---------------------------------------------------------------------------------------------
// Known issue: a replica can block its job's settlement
// ---------------------------------------------------------------------------------------------

/// A replica that closes its token account (or, on Token-2022, freezes it) cannot block the
/// settlement of its job: rewards are credited inside the stake vault, and withdrawn later to
/// any account of the operator's choosing.
#[test]
fn finalize_job_with_a_closed_operator_token_account_still_settles() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let a = env.operator(STAKE);
    let griefer = env.operator(STAKE);
    let job = env.create_job(&creator, 1, 2, REWARD);
    for (u, s) in [(&a, 1u8), (&griefer, 2)] {
        env.claim(u, job).unwrap();
        env.commit(u, job, [1; 32], [s; 32]).unwrap();
    }
    env.reveal(&a, job, [1; 32], [1; 32]).unwrap();
    env.reveal(&griefer, job, [1; 32], [2; 32]).unwrap();
    let close = anchor_spl::token_2022::spl_token_2022::instruction::close_account(
        &env.keys.token_program,
        &griefer.token,
        &griefer.pubkey(),
        &griefer.pubkey(),
        &[],
    )
    .unwrap();
    env.send(&[close], &[&griefer.key]).unwrap();
    env.warp(env.params.challenge_window + 1);
    env.finalize(job, &creator).unwrap();
    assert_eq!((env.earned(&a), env.earned(&griefer)), (PAY, PAY));
    assert_eq!(
        env.operator_of(&a).bonded + env.operator_of(&griefer).bonded,
        0
    );
    // The griefer's earnings wait for it, and leave to a new account.
    let fresh = env.token_account(&griefer.pubkey());
    let ix = env.keys.withdraw_stake(griefer.pubkey(), fresh);
    env.send(&[ix], &[&griefer.key]).unwrap();
    assert_eq!(env.balance(&fresh), PAY);
}

/// A Token-2022 mint with `ext` (initialised by `init_ext`), a treasury of it, and the
/// `init_market` of that mint.
fn market_of_extended_mint(
    env: &mut Env,
    ext: ExtensionType,
    init_ext: impl Fn(&Pubkey, &Pubkey) -> Instruction,
) -> (MarketKeys, Instruction) {
    let tp = anchor_spl::token_2022::ID;
    let payer = env.admin.insecure_clone();
    let mint = Keypair::new();
    let len = ExtensionType::try_calculate_account_len::<spl::state::Mint>(&[ext]).unwrap();
    let ixs = [
        solana_system_interface::instruction::create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            env.svm.minimum_balance_for_rent_exemption(len),
            len as u64,
            &tp,
        ),
        init_ext(&tp, &mint.pubkey()),
        spl::instruction::initialize_mint2(&tp, &mint.pubkey(), &payer.pubkey(), None, DECIMALS)
            .unwrap(),
    ];
    env.send(&ixs, &[&payer, &mint]).expect("create the mint");
    let treasury = Keypair::new();
    let account_exts = ExtensionType::get_required_init_account_extensions(&[ext]);
    let len =
        ExtensionType::try_calculate_account_len::<spl::state::Account>(&account_exts).unwrap();
    let ixs = [
        solana_system_interface::instruction::create_account(
            &payer.pubkey(),
            &treasury.pubkey(),
            env.svm.minimum_balance_for_rent_exemption(len),
            len as u64,
            &tp,
        ),
        spl::instruction::initialize_account3(
            &tp,
            &treasury.pubkey(),
            &mint.pubkey(),
            &payer.pubkey(),
        )
        .unwrap(),
    ];
    env.send(&ixs, &[&payer, &treasury])
        .expect("create the treasury");
    let keys = MarketKeys::new(mint.pubkey(), payer.pubkey(), tp, treasury.pubkey());
    let ix = keys.init_market(payer.pubkey(), env.arbiter.pubkey(), default_params());
    (keys, ix)
}

#[test]
fn init_market_refuses_token_2022_mints_with_unsafe_extensions() {
    use spl::extension::{metadata_pointer, transfer_fee};
    let mut env = Env::new();
    let admin = env.admin.insecure_clone();
    let authority = admin.pubkey();
    type Init = Box<dyn Fn(&Pubkey, &Pubkey) -> Instruction>;
    // A transfer fee would make every escrow receive less than the job's reward; a permanent
    // delegate could empty any escrow or the stake vault; non-transferable tokens could never
    // be paid out; a mint with a close authority could be closed once its supply is 0 and
    // re-created at the same address with any of those, after the market checked it.
    let refused: [(ExtensionType, Init); 4] = [
        (
            ExtensionType::MintCloseAuthority,
            Box::new(move |tp, m| {
                spl::instruction::initialize_mint_close_authority(tp, m, Some(&authority)).unwrap()
            }),
        ),
        (
            ExtensionType::TransferFeeConfig,
            Box::new(move |tp, m| {
                transfer_fee::instruction::initialize_transfer_fee_config(
                    tp,
                    m,
                    Some(&authority),
                    Some(&authority),
                    100,
                    1_000,
                )
                .unwrap()
            }),
        ),
        (
            ExtensionType::PermanentDelegate,
            Box::new(move |tp, m| {
                spl::instruction::initialize_permanent_delegate(tp, m, &authority).unwrap()
            }),
        ),
        (
            ExtensionType::NonTransferable,
            Box::new(|tp, m| spl::instruction::initialize_non_transferable_mint(tp, m).unwrap()),
        ),
    ];
    for (ext, init) in refused {
        let (keys, ix) = market_of_extended_mint(&mut env, ext, init);
        assert_tessera_error(
            &env.send(&[ix], &[&admin]),
            TesseraError::UnsupportedMintExtension,
        );
        assert!(env.svm.get_account(&keys.market).is_none(), "{ext:?}");
        assert!(env.svm.get_account(&keys.stake_vault).is_none(), "{ext:?}");
    }
    // Metadata changes nothing about amounts: accepted.
    let allowed: [(ExtensionType, Init); 1] = [(
        ExtensionType::MetadataPointer,
        Box::new(move |tp, m| {
            metadata_pointer::instruction::initialize(tp, m, Some(authority), Some(*m)).unwrap()
        }),
    )];
    for (ext, init) in allowed {
        let (keys, ix) = market_of_extended_mint(&mut env, ext, init);
        env.send(&[ix], &[&admin]).unwrap();
        let market: tessera::state::Market = env.account(&keys.market).expect("market");
        assert_eq!(market.mint, keys.mint, "{ext:?}");
    }
}
