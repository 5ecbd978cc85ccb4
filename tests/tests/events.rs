//! The program's events (`emit_cpi!`), read back from the transactions' inner instructions as
//! an indexer would: one per state change, with the amounts that moved.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::Event;
use tessera::events::{
    DisputeResolved, JobClaimed, JobCreated, JobSettled, ResultDelivered, SlashReason,
};
use tessera::state::JobState;
use tessera_tests::amounts::*;
use tessera_tests::*;

/// The one event of type `E` in `meta`.
fn one<E: Event + anchor_lang::AnchorDeserialize>(meta: &TxResult) -> E {
    let meta = meta.as_ref().expect("the transaction succeeded");
    let mut all = events::<E>(meta);
    assert_eq!(all.len(), 1, "one event per instruction");
    all.pop().unwrap()
}

#[test]
fn a_paid_job_emits_created_claimed_delivered_settled() {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let op_account = env.keys.operator(&op.pubkey());
    let job = env.keys.job(&creator.pubkey(), 7);

    let args = env.job_args(7, 1, REWARD);
    let deadline = args.claim_deadline;
    let e: JobCreated = one(&env.create_job_with(&creator, args));
    assert_eq!(
        (e.job, e.market, e.creator),
        (job, env.keys.market, creator.pubkey())
    );
    assert_eq!((e.job_id, e.kernel, e.replicas), (7, KERNEL, 1));
    assert_eq!((e.reward_per_replica, e.escrowed), (REWARD, REWARD));
    assert_eq!(e.claim_deadline, deadline);

    let e: JobClaimed = one(&env.claim(&op, job));
    assert_eq!((e.job, e.operator, e.slot), (job, op_account, 0));
    assert_eq!((e.bond, e.state), (BOND, JobState::Claimed));

    let e: ResultDelivered = one(&env.submit(&op, job, [9; 32]));
    assert_eq!((e.job, e.operator, e.slot), (job, op_account, 0));
    assert_eq!((e.root, e.state), ([9; 32], JobState::Revealed));

    env.warp(env.params.challenge_window + 1);
    let e: JobSettled = one(&env.finalize(job, &creator));
    assert_eq!((e.job, e.root), (job, [9; 32]));
    assert_eq!((e.paid, e.fee, e.burned, e.refunded), (PAY, FEE, BURN, 0));
}

/// Two replicas that disagree, resolved with `honest_mask`: the event and the balances.
fn dispute(honest_mask: u8) -> (Env, User, [User; 2], TxResult) {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let ops = [env.operator(STAKE), env.operator(STAKE)];
    let job = env.create_job(&creator, 3, 2, REWARD);
    for (i, op) in ops.iter().enumerate() {
        env.claim(op, job).unwrap();
        let c = [i as u8 + 1; 32];
        env.commit(op, job, c, c).unwrap();
    }
    for (i, op) in ops.iter().enumerate() {
        let c = [i as u8 + 1; 32];
        env.reveal(op, job, c, c).unwrap();
    }
    let result = env.resolve(job, &creator, honest_mask);
    (env, creator, ops, result)
}

#[test]
fn a_resolved_dispute_reports_the_slash_and_the_split() {
    let (env, creator, [honest, cheat], result) = dispute(0b01);
    let e: DisputeResolved = one(&result);
    // Fraud slash: 100 % of the bond; 50 % to the creator, 25 % to the honest, 25 % burned.
    let (to_creator, to_honest) = (BOND / 2, BOND / 4);
    let slash_burn = BOND - to_creator - to_honest;
    assert_eq!((e.honest_mask, e.root), (0b01, [1; 32]));
    assert_eq!((e.paid, e.fee, e.burned), (PAY, FEE, BURN));
    assert_eq!(e.honest_share, to_honest);
    // The cheat's reward goes back; the compensation is reported in the slash, not as refund.
    assert_eq!(e.refunded, REWARD);
    assert_eq!(e.slashes.len(), 1);
    let s = &e.slashes[0];
    assert_eq!(
        (s.operator, s.slot),
        (env.keys.operator(&cheat.pubkey()), 1)
    );
    assert!(matches!(s.reason, SlashReason::Fraud));
    assert_eq!((s.bond, s.slashed), (BOND, BOND));
    assert_eq!(
        (s.to_creator, s.to_honest, s.burned),
        (to_creator, to_honest, slash_burn)
    );
    // The amounts match what moved.
    assert_eq!(
        env.balance(&creator.token),
        8 * REWARD + REWARD + to_creator
    );
    assert_eq!(env.earned(&honest), PAY + to_honest);
    let vault = env.keys.stake_vault;
    assert_eq!(env.balance(&vault), 2 * STAKE - BOND + PAY + to_honest);
}

#[test]
fn a_dispute_nobody_won_refunds_everything_and_burns_from_the_vault() {
    let (env, creator, [a, b], result) = dispute(0);
    let e: DisputeResolved = one(&result);
    // Both slashed; nobody honest, so the honest share is burned too.
    let to_creator = BOND / 2;
    assert_eq!((e.paid, e.fee, e.burned, e.honest_share), (0, 0, 0, 0));
    assert_eq!(e.refunded, 2 * REWARD);
    assert_eq!(e.slashes.len(), 2);
    let burned: u64 = e.slashes.iter().map(|s| s.burned).sum();
    assert!(e.slashes.iter().all(|s| s.to_creator == to_creator));
    assert_eq!(burned, 2 * (BOND - to_creator));
    assert_eq!(
        env.balance(&creator.token),
        8 * REWARD + 2 * REWARD + 2 * to_creator
    );
    assert_eq!(env.balance(&env.keys.stake_vault), 2 * STAKE - 2 * BOND);
    assert_eq!((env.earned(&a), env.earned(&b)), (0, 0));
}

#[test]
fn an_event_not_signed_by_the_event_authority_is_refused() {
    let mut env = Env::new();
    let mallory = env.user(0);
    let forged = JobSettled {
        market: Pubkey::new_unique(),
        job: Pubkey::new_unique(),
        root: [0; 32],
        paid: u64::MAX,
        fee: 0,
        burned: 0,
        refunded: 0,
        slashes: vec![],
        audit_fee: 0,
    };
    // What `emit_cpi!` sends: Anchor's event tag, then the event (discriminator and fields).
    let data = [anchor_lang::event::EVENT_IX_TAG_LE, &forged.data()].concat();
    let event_authority = tessera_client::pda::event_authority();
    let ix = Instruction {
        program_id: tessera::ID,
        accounts: vec![AccountMeta::new_readonly(event_authority, false)],
        data: data.clone(),
    };
    assert_anchor_error(
        &env.send(&[ix], &[&mallory.key]),
        anchor_lang::error::ErrorCode::ConstraintSigner,
    );
    // Signed by the forger instead: refused too.
    let ix = Instruction {
        program_id: tessera::ID,
        accounts: vec![AccountMeta::new_readonly(mallory.pubkey(), true)],
        data,
    };
    assert_anchor_error(
        &env.send(&[ix], &[&mallory.key]),
        anchor_lang::error::ErrorCode::ConstraintSeeds,
    );
}
