//! Compute units of every instruction and of whole job lifecycles, on the real `.so` in
//! LiteSVM, with the accounts each instruction write-locks, and of the referee's proofs and of
//! its game for `mlp-i8` jobs. Prints the tables and writes them to `docs/benchmarks.md`
//! (between the `compute-units` markers).
//!
//! Run: `scripts/build-program.sh && cargo bench --profile dev -p tessera-tests --bench compute_units`
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use std::collections::HashMap;
use std::fmt::Write;
use tessera::constants::{KERNEL_MLP_I8, WHOLE_ROOT};
use tessera::instructions::{Accuser, ChallengeArgs, FraudTarget, UpdateMarketArgs};
use tessera_client::ix::{challenge_commitment, BUFFER_WRITE_BYTES};
use tessera_tests::amounts::*;
use tessera_tests::*;

/// Job ids over which `create_job` is measured.
const CREATE_SAMPLES: u64 = 255;

struct Bench {
    env: Env,
    names: HashMap<Pubkey, &'static str>,
    rows: Vec<(String, u64, String)>,
}

impl Bench {
    fn new() -> Self {
        let env = Env::new();
        let names = HashMap::from([
            (env.keys.market, "market"),
            (env.keys.mint, "mint"),
            (env.keys.treasury, "treasury"),
            (env.keys.stake_vault, "stake_vault"),
            (env.keys.fee_vault, "fee_vault"),
        ]);
        Self {
            env,
            names,
            rows: vec![],
        }
    }

    /// Sends `ix` alone, records its compute units and the shared accounts it write-locks.
    fn run(&mut self, name: &str, ix: Instruction, signers: &[&Keypair]) -> u64 {
        let shared: Vec<&str> = ix
            .accounts
            .iter()
            .filter(|m| m.is_writable)
            .filter_map(|m| self.names.get(&m.pubkey).copied())
            .collect();
        let meta = self
            .env
            .send(&[ix], signers)
            .unwrap_or_else(|e| panic!("{name} failed: {:?}\n{:#?}", e.err, e.meta.logs));
        let cu = meta.compute_units_consumed;
        let shared = if shared.is_empty() {
            "none".to_string()
        } else {
            shared.join(", ")
        };
        self.rows.push((name.to_string(), cu, shared));
        cu
    }
}

fn main() {
    let mut b = Bench::new();
    let mut lifecycles: Vec<(String, u64, usize)> = vec![];

    // Admin and operator instructions.
    let admin = b.env.admin.insecure_clone();
    let args = UpdateMarketArgs {
        admin: admin.pubkey(),
        arbiter: b.env.arbiter.pubkey(),
        params: b.env.params,
    };
    let ix = b
        .env
        .keys
        .update_market(admin.pubkey(), args, b.env.keys.treasury);
    b.run("update_market", ix, &[&admin]);
    let ix = b.env.keys.set_paused(admin.pubkey(), false);
    b.run("set_paused", ix, &[&admin]);

    let op = b.env.user(STAKE);
    let ix = b.env.keys.register_operator(op.pubkey(), u32::MAX);
    b.run("register_operator", ix, &[&op.key]);
    let ix = b.env.keys.deposit_stake(op.pubkey(), op.token, STAKE);
    b.run("deposit_stake", ix, &[&op.key]);
    let ix = b.env.keys.update_operator(op.pubkey(), u32::MAX);
    b.run("update_operator", ix, &[&op.key]);

    // create_job's cost depends on the job's address: `init` finds the canonical bump of the
    // job and escrow PDAs, 1 500 CU per bump tried. Measured over many job ids; the jobs below
    // use the client's default kind of id (`pda::cheap_job_id`: both bumps found at once).
    let creator = b.env.user(1_000 * REWARD);
    let (market, creator_key) = (b.env.keys.market, creator.pubkey());
    let cheap = |n: u64| tessera_client::pda::cheap_job_id(&market, &creator_key, n * 1_000);
    let mut creates: Vec<u64> = (100..100 + CREATE_SAMPLES)
        .map(|id| {
            let args = b.env.job_args(id, 1, REWARD);
            b.run(
                "create_job (1 replica, any job id)",
                b.env.keys.create_job(creator.pubkey(), creator.token, args),
                &[&creator.key],
            )
        })
        .collect();
    creates.sort_unstable();
    // The mean is stable from run to run; the median sits on a 1 500 CU step.
    let create_mean = creates.iter().sum::<u64>() / creates.len() as u64;
    let create_spread = (creates[0], create_mean, creates[creates.len() - 1]);

    // 1 replica: create, claim, submit, finalize.
    let id = cheap(1);
    let job = b.env.keys.job(&creator.pubkey(), id);
    let args = b.env.job_args(id, 1, REWARD);
    let c = b.run(
        "create_job (1 replica)",
        b.env.keys.create_job(creator.pubkey(), creator.token, args),
        &[&creator.key],
    );
    let cl = b.run(
        "claim_job",
        b.env
            .keys
            .claim_job(op.pubkey(), job, b.env.job(&job).claim_terms()),
        &[&op.key],
    );
    let s = b.run(
        "submit_result",
        b.env
            .keys
            .submit_result(op.pubkey(), job, [1; 32], "file:///o".into()),
        &[&op.key],
    );
    b.env.warp(301);
    let j = b.env.job(&job);
    let crank = b.env.cranker();
    let ix = b
        .env
        .keys
        .finalize_job(job, creator.pubkey(), creator.token, &b.env.parties(&j));
    let f = b.run("finalize_job (1 replica)", ix, &[&crank]);
    lifecycles.push((
        "1 replica: create + claim + submit + finalize".into(),
        c + cl + s + f,
        4,
    ));
    lifecycles.push((
        format!("1 replica, create's mean over {CREATE_SAMPLES} arbitrary job ids"),
        create_spread.1 + cl + s + f,
        4,
    ));
    lifecycles.push((
        "1 replica, worst job id of that sample".into(),
        create_spread.2 + cl + s + f,
        4,
    ));

    // 2 replicas: commit–reveal.
    let op2 = b.env.operator(STAKE);
    let id = cheap(2);
    let job = b.env.keys.job(&creator.pubkey(), id);
    let args = b.env.job_args(id, 2, REWARD);
    let mut total = b.run(
        "create_job (2 replicas)",
        b.env.keys.create_job(creator.pubkey(), creator.token, args),
        &[&creator.key],
    );
    for (o, salt) in [(&op, [1u8; 32]), (&op2, [2u8; 32])] {
        total += b.run(
            "claim_job",
            b.env
                .keys
                .claim_job(o.pubkey(), job, b.env.job(&job).claim_terms()),
            &[&o.key],
        );
        let opk = b.env.keys.operator(&o.pubkey());
        let cm = tessera_merkle::commitment(&[7; 32], &opk.to_bytes(), &salt);
        total += b.run(
            "commit_result",
            b.env.keys.commit_result(o.pubkey(), job, cm),
            &[&o.key],
        );
    }
    for (o, salt) in [(&op, [1u8; 32]), (&op2, [2u8; 32])] {
        total += b.run(
            "reveal_result",
            b.env
                .keys
                .reveal_result(o.pubkey(), job, [7; 32], salt, "file:///o".into()),
            &[&o.key],
        );
    }
    b.env.warp(301);
    let j = b.env.job(&job);
    let ix = b
        .env
        .keys
        .finalize_job(job, creator.pubkey(), creator.token, &b.env.parties(&j));
    total += b.run("finalize_job (2 replicas)", ix, &[&crank]);
    lifecycles.push((
        "2 replicas: create + 2×(claim, commit, reveal) + finalize".into(),
        total,
        8,
    ));

    // 2 replicas disagree → arbiter.
    let id = cheap(3);
    let job = b.env.keys.job(&creator.pubkey(), id);
    let args = b.env.job_args(id, 2, REWARD);
    let mut total = b.run(
        "create_job (2 replicas)",
        b.env.keys.create_job(creator.pubkey(), creator.token, args),
        &[&creator.key],
    );
    for (o, root) in [(&op, [1u8; 32]), (&op2, [2u8; 32])] {
        total += b.run(
            "claim_job",
            b.env
                .keys
                .claim_job(o.pubkey(), job, b.env.job(&job).claim_terms()),
            &[&o.key],
        );
        let opk = b.env.keys.operator(&o.pubkey());
        let cm = tessera_merkle::commitment(&root, &opk.to_bytes(), &[0; 32]);
        total += b.run(
            "commit_result",
            b.env.keys.commit_result(o.pubkey(), job, cm),
            &[&o.key],
        );
    }
    for (o, root) in [(&op, [1u8; 32]), (&op2, [2u8; 32])] {
        total += b.run(
            "reveal_result",
            b.env
                .keys
                .reveal_result(o.pubkey(), job, root, [0; 32], "file:///o".into()),
            &[&o.key],
        );
    }
    let j = b.env.job(&job);
    let arbiter = b.env.arbiter.insecure_clone();
    let ix = b.env.keys.resolve_dispute(
        arbiter.pubkey(),
        job,
        creator.pubkey(),
        creator.token,
        &b.env.parties(&j),
        0b01,
    );
    total += b.run("resolve_dispute (2 replicas, 1 slashed)", ix, &[&arbiter]);
    lifecycles.push((
        "dispute: create + 2×(claim, commit, reveal) + resolve".into(),
        total,
        8,
    ));

    // Challenge of a 1-replica result, upheld.
    let verifier = b.env.operator(STAKE);
    let id = cheap(4);
    let job = b.env.keys.job(&creator.pubkey(), id);
    let args = b.env.job_args(id, 1, REWARD);
    b.env.create_job_with(&creator, args).unwrap();
    b.env.claim(&op, job).unwrap();
    b.env.submit(&op, job, [1; 32]).unwrap();
    let ch = ChallengeArgs {
        chunk: WHOLE_ROOT,
        hash: [2; 32],
        operator_leaf: [0; 32],
        proof: vec![],
    };
    let salt = challenge_salt(&verifier);
    let commitment = challenge_commitment(&b.env.keys, &verifier.pubkey(), &ch, &salt);
    b.run(
        "commit_challenge",
        b.env
            .keys
            .commit_challenge(verifier.pubkey(), job, commitment),
        &[&verifier.key],
    );
    b.run(
        "reveal_challenge (whole root)",
        b.env
            .keys
            .reveal_challenge(verifier.pubkey(), job, ch, salt),
        &[&verifier.key],
    );
    b.env.warp_past_challenge_reveals(job);
    let j = b.env.job(&job);
    let ix = b.env.keys.resolve_dispute(
        arbiter.pubkey(),
        job,
        creator.pubkey(),
        creator.token,
        &b.env.parties(&j),
        tessera::instructions::CHALLENGER_BIT,
    );
    b.run("resolve_dispute (challenge upheld)", ix, &[&arbiter]);

    // A challenge the arbiter never rules: settled by anyone after the dispute deadline.
    let id = cheap(7);
    let job = b.env.keys.job(&creator.pubkey(), id);
    let args = b.env.job_args(id, 1, REWARD);
    b.env.create_job_with(&creator, args).unwrap();
    b.env.claim(&op, job).unwrap();
    b.env.submit(&op, job, [1; 32]).unwrap();
    let ch = ChallengeArgs {
        chunk: WHOLE_ROOT,
        hash: [2; 32],
        operator_leaf: [0; 32],
        proof: vec![],
    };
    b.env.challenge(&verifier, job, ch).unwrap();
    let deadline = b.env.job(&job).dispute_deadline;
    b.env.warp(deadline - b.env.now() + 1);
    let j = b.env.job(&job);
    let ix = b
        .env
        .keys
        .expire_dispute(job, creator.pubkey(), creator.token, &b.env.parties(&j));
    b.run("expire_dispute (challenged root paid)", ix, &[&crank]);
    b.run("collect_fees", b.env.keys.collect_fees(), &[&crank]);

    // No-show timeout (slot reopens), then expiry.
    let id = cheap(5);
    let job = b.env.keys.job(&creator.pubkey(), id);
    let args = b.env.job_args(id, 1, REWARD);
    b.env.create_job_with(&creator, args).unwrap();
    b.env.claim(&op2, job).unwrap();
    b.env.warp(601);
    let j = b.env.job(&job);
    let ix = b
        .env
        .keys
        .timeout_job(job, creator.pubkey(), creator.token, &b.env.parties(&j));
    b.run("timeout_job (1 slashed, slot reopens)", ix, &[&crank]);
    b.env.warp(3_600);
    let ix = b
        .env
        .keys
        .expire_job(job, creator.pubkey(), creator.token, &[]);
    b.run("expire_job (unclaimed)", ix, &[&crank]);

    let id = cheap(6);
    let job = b.env.keys.job(&creator.pubkey(), id);
    let args = b.env.job_args(id, 1, REWARD);
    b.env.create_job_with(&creator, args).unwrap();
    b.run(
        "cancel_job",
        b.env.keys.cancel_job(job, creator.pubkey(), creator.token),
        &[&creator.key],
    );
    b.run(
        "close_job",
        b.env.keys.close_job(creator.pubkey(), job),
        &[&creator.key],
    );

    // An audited job (the market now audits every job on 4 chunks): the draw, the audit and
    // its settlement; then one whose leaves were withheld.
    let admin = b.env.admin.insecure_clone();
    let audits = UpdateMarketArgs {
        admin: admin.pubkey(),
        arbiter: b.env.arbiter.pubkey(),
        params: tessera::state::MarketParams {
            audit_rate_bps: 10_000,
            ..audit_params()
        },
    };
    let ix = b
        .env
        .keys
        .update_market(admin.pubkey(), audits, b.env.keys.treasury);
    b.env.send(&[ix], &[&admin]).unwrap();
    let auditor = b.env.operator(STAKE);
    let leaves: Vec<[u8; 32]> = (0..64u32)
        .map(|i| tessera_merkle::leaf_hash(&i.to_le_bytes()))
        .collect();
    for (n, withheld) in [(20, false), (30, true)] {
        let id = cheap(n);
        let job = b.env.keys.job(&creator.pubkey(), id);
        let mut args = b.env.job_args(id, 1, REWARD);
        args.chunk_count = 64;
        b.env.create_job_with(&creator, args).unwrap();
        b.env.claim(&op, job).unwrap();
        let root = tessera_merkle::root_from_leaves(&leaves);
        b.env.submit(&op, job, root).unwrap();
        b.env.warp(1);
        let crank = b.env.cranker();
        b.run(
            "draw_audit (drawn, 4 of 64 chunks)",
            b.env.keys.draw_audit(job),
            &[&crank],
        );
        let drawn: Vec<[u8; 32]> = b
            .env
            .job(&job)
            .audited_chunks()
            .iter()
            .map(|&c| leaves[c as usize])
            .collect();
        let salt = challenge_salt(&auditor);
        let auditor_key = b.env.keys.operator(&auditor.pubkey()).to_bytes();
        let commitment = tessera_merkle::audit_commitment(&drawn, &auditor_key, &salt);
        b.run(
            "commit_audit",
            b.env
                .keys
                .commit_audit(auditor.pubkey(), job, commitment, vec![]),
            &[&auditor.key],
        );
        if withheld {
            b.env.warp_past_challenge_reveals(job);
            let j = b.env.job(&job);
            let ix = b.env.keys.convict_withheld(
                job,
                creator.pubkey(),
                creator.token,
                &b.env.parties(&j),
            );
            b.run("convict_withheld (1 replica slashed)", ix, &[&crank]);
            continue;
        }
        for &chunk in b.env.job(&job).audited_chunks().to_vec().iter() {
            let proof = tessera_merkle::proof(&leaves, chunk as usize);
            let ix = b
                .env
                .keys
                .post_audit_leaf(job, leaves[chunk as usize], proof);
            b.run("post_audit_leaf (64 chunks: 6 proof hashes)", ix, &[&crank]);
        }
        b.run(
            "reveal_audit (4 leaves, passed)",
            b.env.keys.reveal_audit(auditor.pubkey(), job, drawn, salt),
            &[&auditor.key],
        );
        b.env.warp_past_challenge_reveals(job);
        let j = b.env.job(&job);
        let ix = b
            .env
            .keys
            .finalize_job(job, creator.pubkey(), creator.token, &b.env.parties(&j));
        b.run("finalize_job (audited: auditor paid)", ix, &[&crank]);
    }

    // Stake exit.
    b.run(
        "request_unstake",
        b.env.keys.request_unstake(verifier.pubkey(), 1_000),
        &[&verifier.key],
    );
    b.run(
        "exit_operator",
        b.env.keys.exit_operator(verifier.pubkey()),
        &[&verifier.key],
    );
    b.env.warp(86_400);
    b.run(
        "withdraw_stake (and close)",
        b.env.keys.withdraw_stake(verifier.pubkey(), verifier.token),
        &[&verifier.key],
    );

    // init_market on a fresh mint.
    let mut fresh = Bench::new();
    let e = Env::bare(anchor_spl::token::ID);
    let ix = e
        .keys
        .init_market(e.admin.pubkey(), e.arbiter.pubkey(), default_params());
    fresh.env = e;
    fresh.names = HashMap::from([
        (fresh.env.keys.market, "market"),
        (fresh.env.keys.mint, "mint"),
        (fresh.env.keys.stake_vault, "stake_vault"),
        (fresh.env.keys.fee_vault, "fee_vault"),
    ]);
    let admin = fresh.env.admin.insecure_clone();
    fresh.run("init_market", ix, &[&admin]);
    b.rows.splice(0..0, fresh.rows);

    // One row per instruction name: the largest figure seen (for create_job at any job id: the
    // worst of the sample; its spread is printed below the table).
    let mut table: Vec<(String, u64, String)> = vec![];
    for (name, cu, shared) in b.rows {
        match table.iter_mut().find(|r| r.0 == name) {
            Some(r) => r.1 = r.1.max(cu),
            None => table.push((name, cu, shared)),
        }
    }
    let referee: Vec<_> = [256usize, 1024, 4096, 16384]
        .into_iter()
        .map(referee_cost)
        .collect();
    let referee_slots: Vec<_> = [256usize, 4096]
        .into_iter()
        .map(referee_slot_cost)
        .collect();
    let games: Vec<_> = GAME_WIDTHS.iter().map(|w| game_cost(w)).collect();

    let mut md = String::new();
    writeln!(
        md,
        "| instruction | compute units | shared accounts write-locked |"
    )
    .unwrap();
    writeln!(md, "|---|---:|---|").unwrap();
    for (name, cu, shared) in &table {
        writeln!(md, "| `{name}` | {cu} | {shared} |").unwrap();
    }
    writeln!(md).unwrap();
    let (lo, mid, hi) = create_spread;
    writeln!(
        md,
        "`create_job` (1 replica) over {CREATE_SAMPLES} arbitrary job ids: min {lo}, mean {mid}, \
         max {hi} (finding the canonical bumps of the job and escrow PDAs costs 1 500 CU per bump \
         tried); at the ids the client picks by default (`pda::cheap_job_id`) it is the minimum."
    )
    .unwrap();
    writeln!(md).unwrap();
    writeln!(md, "| lifecycle | transactions | compute units |").unwrap();
    writeln!(md, "|---|---:|---:|").unwrap();
    for (name, cu, n) in &lifecycles {
        writeln!(md, "| {name} | {n} | {cu} |").unwrap();
    }
    writeln!(md).unwrap();
    writeln!(
        md,
        "The referee (`prove_fraud`, one element of a `gemm-i8` layer of K inputs re-executed on \
         chain: two row hashes, two Merkle proofs, the dot product and the requantization), \
         with the staging it needs (`write_buffer`, {} bytes a transaction):",
        tessera_client::ix::BUFFER_WRITE_BYTES
    )
    .unwrap();
    writeln!(md).unwrap();
    referee_table(&mut md, &referee);
    writeln!(md).unwrap();
    writeln!(
        md,
        "Replicas that disagree (a slot accused: the chunk's leaf proven under the slot's root, \
         2 replicas, 4 rows of one row a chunk; the settlement pays the honest replica):"
    )
    .unwrap();
    writeln!(md).unwrap();
    referee_table(&mut md, &referee_slots);
    writeln!(md).unwrap();
    game_tables(&mut md, &games);
    print!("{md}");

    let over: Vec<_> = table
        .iter()
        .filter(|r| r.1 > 25_000)
        .map(|r| r.0.as_str())
        .collect();
    println!("\ninstructions above 25 000 CU: {over:?}");

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let (begin, end) = ("<!-- compute-units:begin -->", "<!-- compute-units:end -->");
    let section = format!("{begin}\n{md}{end}");
    let doc = match (doc.find(begin), doc.find(end)) {
        (Some(a), Some(z)) => format!("{}{}{}", &doc[..a], section, &doc[z + end.len()..]),
        _ => format!("{doc}\n{section}\n"),
    };
    std::fs::write(&path, doc).unwrap();
    println!("written to docs/benchmarks.md");
}

/// A table of `prove_fraud` costs: (K, staged bytes, transactions, compute units) per row.
fn referee_table(md: &mut String, rows: &[(usize, usize, usize, u64)]) {
    writeln!(
        md,
        "| K | staged bytes | transactions (create + writes + proof) | `prove_fraud` compute units |"
    )
    .unwrap();
    writeln!(md, "|---:|---:|---:|---:|").unwrap();
    for (k, staged, txs, cu) in rows {
        writeln!(md, "| {k} | {staged} | {txs} | {cu} |").unwrap();
    }
}

/// `prove_fraud` on a `gemm-i8` job of one layer of `k` inputs (16 outputs, 4 rows, one row per
/// chunk) whose replica delivered one wrong element: (K, staged bytes, transactions to stage
/// and prove, compute units of the proof).
fn referee_cost(k: usize) -> (usize, usize, usize, u64) {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let op = env.operator(STAKE);
    let verifier = env.operator(STAKE);
    let model = tessera_kernels::benchmark::synthetic_mlp(7, 4, &[k, 16], 1);
    let mut chunks = quant_chunks(&model);
    chunks[1][3] = chunks[1][3].wrapping_add(1);
    env.create_gemm_job(&creator, 1, 1, &model).unwrap();
    let job = env.keys.job(&creator.pubkey(), 1);
    env.claim(&op, job).unwrap();
    env.submit(&op, job, tessera_merkle::root_of_chunks(&chunks))
        .unwrap();
    let leaves: Vec<_> = chunks
        .iter()
        .map(|c| tessera_merkle::leaf_hash(c))
        .collect();
    let challenge = ChallengeArgs {
        chunk: 1,
        hash: [1; 32],
        operator_leaf: leaves[1],
        proof: tessera_merkle::proof(&leaves, 1),
    };
    env.challenge(&verifier, job, challenge).unwrap();
    env.warp_past_challenge_reveals(job);
    let proof = tessera_client::referee::gemm_fraud_proof(
        &model,
        FraudTarget::Challenge { index: 0 },
        1,
        &chunks[1],
        &[],
    )
    .unwrap()
    .unwrap();
    let prover = env.cranker();
    let buffer = env.stage(&prover, &proof.staged);
    let meta = env
        .prove_fraud(job, &creator, buffer, proof.args)
        .unwrap_or_else(|e| panic!("prove_fraud at K = {k}: {:?}\n{:#?}", e.err, e.meta.logs));
    let writes = proof
        .staged
        .len()
        .div_ceil(tessera_client::ix::BUFFER_WRITE_BYTES);
    // The compute-budget instruction the proof is sent with costs 150 units.
    (
        k,
        proof.staged.len(),
        1 + writes + 1,
        meta.compute_units_consumed - 150,
    )
}

/// `prove_fraud` against a slot, on a 2-replica `gemm-i8` job of one layer of `k` inputs (16
/// outputs, 4 rows, one row per chunk) whose second replica delivered one wrong element: (K,
/// staged bytes, transactions to stage and prove, compute units of the proof).
fn referee_slot_cost(k: usize) -> (usize, usize, usize, u64) {
    let mut env = Env::new();
    let creator = env.user(10 * REWARD);
    let (good, bad) = (env.operator(STAKE), env.operator(STAKE));
    let model = tessera_kernels::benchmark::synthetic_mlp(7, 4, &[k, 16], 1);
    let truth = quant_chunks(&model);
    let mut chunks = truth.clone();
    chunks[1][3] = chunks[1][3].wrapping_add(1);
    env.create_gemm_job(&creator, 1, 2, &model).unwrap();
    let job = env.keys.job(&creator.pubkey(), 1);
    for (op, out) in [(&good, &truth), (&bad, &chunks)] {
        env.claim(op, job).unwrap();
        env.commit(op, job, tessera_merkle::root_of_chunks(out), [1; 32])
            .unwrap();
    }
    for (op, out) in [(&good, &truth), (&bad, &chunks)] {
        env.reveal(op, job, tessera_merkle::root_of_chunks(out), [1; 32])
            .unwrap();
    }
    let leaves: Vec<_> = chunks
        .iter()
        .map(|c| tessera_merkle::leaf_hash(c))
        .collect();
    let proof = tessera_client::referee::gemm_fraud_proof(
        &model,
        FraudTarget::Slot { slot: 1, chunk: 1 },
        1,
        &chunks[1],
        &tessera_merkle::proof(&leaves, 1),
    )
    .unwrap()
    .unwrap();
    let prover = env.cranker();
    let buffer = env.stage(&prover, &proof.staged);
    let meta = env
        .prove_fraud(job, &creator, buffer, proof.args)
        .unwrap_or_else(|e| {
            panic!(
                "prove_fraud (slot) at K = {k}: {:?}\n{:#?}",
                e.err, e.meta.logs
            )
        });
    let writes = proof
        .staged
        .len()
        .div_ceil(tessera_client::ix::BUFFER_WRITE_BYTES);
    (
        k,
        proof.staged.len(),
        1 + writes + 1,
        meta.compute_units_consumed - 150,
    )
}

/// The models of the game's table: three layers, 2 rows of one row a chunk, picked at layer 2 of
/// K inputs. Square up to K = 4 096; at K = 16 384 a square layer would weigh 256 MiB, so the
/// picked layer maps 16 384 inputs to 16 features (its input row comes from 16 model inputs,
/// its 16 outputs go to 16 model outputs).
const GAME_WIDTHS: [&[usize]; 4] = [
    &[256, 256, 256, 256],
    &[1024, 1024, 1024, 1024],
    &[4096, 4096, 4096, 4096],
    &[16, 16384, 16, 16],
];

/// What one game costs: the compute units of each move, the bytes staged and the transactions
/// of the reveal and of the proof, and the whole game's transactions and compute units.
struct GameCost {
    widths: Vec<usize>,
    /// `open_game`, `post_chain`, `pick_layer`, `reveal_rows`, `prove_step`, `end_game`,
    /// `settle_referee`.
    moves: [u64; 7],
    /// (staged bytes, transactions: create + writes + the move), for the reveal and the proof.
    reveal: (usize, usize),
    proof: (usize, usize),
    /// Every transaction from `open_game` to `settle_referee` of the game that convicts, and
    /// the compute units they spend.
    txs: usize,
    cu: u64,
}

/// A game's environment: a market with no arbiter and a job whose two replicas disagree.
struct Game {
    env: Env,
    job: Pubkey,
    creator: User,
    ops: [User; 2],
    model: tessera_kernels::quant::QuantModel,
    commitment: tessera_kernels::quant::ModelCommitment,
    /// `replicas[0]` computes the true rows, `replicas[1]` changed one element of layer 2 of
    /// row `ROW` (the change reaches its output).
    replicas: [MlpReplica; 2],
    /// (transactions, compute units) sent since the last [`Game::take`].
    sent: (usize, u64),
}

/// The accused row of the game's model.
const ROW: usize = 1;

impl Game {
    fn new(widths: &[usize]) -> Self {
        let model = tessera_kernels::benchmark::synthetic_mlp(11, 2, widths, 1);
        let replicas = [
            MlpReplica::honest(&model),
            MlpReplica::cheat(&model, ROW, 2, 5),
        ];
        let mut env = Env::without_arbiter();
        let creator = env.user(10 * REWARD);
        // A job id at which the job's, the escrow's and the measured game's PDA bump searches
        // all end at their first try (each bump more costs 1 500 CU).
        let (market, creator_key) = (env.keys.market, creator.pubkey());
        let mut id = 0;
        let job = loop {
            id = tessera_client::pda::cheap_job_id(&market, &creator_key, id + 1);
            let job = env.keys.job(&creator_key, id);
            if env.keys.pdas().game(&job, 1, 0).1 == u8::MAX {
                break job;
            }
        };
        env.create_quant_job(&creator, id, 2, KERNEL_MLP_I8, &model)
            .unwrap();
        let ops = [env.operator(STAKE), env.operator(STAKE)];
        for op in &ops {
            env.claim(op, job).unwrap();
        }
        for (op, r) in ops.iter().zip(&replicas) {
            env.commit(op, job, r.root(&model), [4; 32]).unwrap();
        }
        for (op, r) in ops.iter().zip(&replicas) {
            env.reveal(op, job, r.root(&model), [4; 32]).unwrap();
        }
        Game {
            env,
            job,
            creator,
            ops,
            commitment: model.commitment(),
            model,
            replicas,
            sent: (0, 0),
        }
    }

    /// Sends `ixs`, which must land; its compute units.
    fn send(&mut self, name: &str, ixs: &[Instruction], signers: &[&Keypair]) -> u64 {
        let meta = self
            .env
            .send(ixs, signers)
            .unwrap_or_else(|e| panic!("{name} failed: {:?}\n{:#?}", e.err, e.meta.logs));
        self.sent.0 += 1;
        self.sent.1 += meta.compute_units_consumed;
        meta.compute_units_consumed
    }

    /// [`Env::stage`], counted: creates a buffer of `authority`'s holding `bytes`.
    fn stage(&mut self, authority: &Keypair, bytes: &[u8]) -> Pubkey {
        let buffer = Keypair::new();
        let space = tessera_client::ix::buffer_space(bytes.len());
        let lamports = self.env.svm.minimum_balance_for_rent_exemption(space);
        let create = tessera_client::ix::create_buffer_account(
            &self.env.keys.program_id,
            &authority.pubkey(),
            &buffer.pubkey(),
            bytes.len(),
            lamports,
        );
        let init = self
            .env
            .keys
            .init_buffer(authority.pubkey(), buffer.pubkey());
        self.send("create the buffer", &[create, init], &[authority, &buffer]);
        for (i, piece) in bytes.chunks(BUFFER_WRITE_BYTES).enumerate() {
            let offset = (i * BUFFER_WRITE_BYTES) as u32;
            let ix = self.env.keys.write_buffer(
                authority.pubkey(),
                buffer.pubkey(),
                offset,
                piece.to_vec(),
            );
            self.send("write the buffer", &[ix], &[authority]);
        }
        buffer.pubkey()
    }

    /// The transactions and compute units sent since the last call.
    fn take(&mut self) -> (usize, u64) {
        std::mem::take(&mut self.sent)
    }

    /// Slot `accuser` opens its game against slot `defender` on row `ROW`; the defender posts
    /// its chain, the accuser picks the first layer where it leaves its own rows, the defender
    /// reveals that link. The game and the compute units of the four moves, with the revealed
    /// bytes.
    fn play_to_reveal(&mut self, defender: u8, accuser: u8) -> (Pubkey, [u64; 4], usize) {
        let (d, a) = (defender as usize, accuser as usize);
        let args = tessera_client::referee::open_game_args(
            &self.commitment,
            defender,
            Accuser::Slot { slot: accuser },
            ROW as u32,
        );
        let game = self.env.keys.pdas().game(&self.job, defender, accuser).0;
        let (dk, ak) = (
            self.ops[d].key.insecure_clone(),
            self.ops[a].key.insecure_clone(),
        );
        let ix = self.env.keys.open_game(
            ak.pubkey(),
            self.job,
            self.env.keys.operator(&dk.pubkey()),
            args,
        );
        let open = self.send("open_game", &[ix], &[&ak]);
        let chain = tessera_client::referee::chain_hashes(&self.replicas[d].rows[ROW]);
        let ix = self.env.keys.post_chain(dk.pubkey(), game, self.job, chain);
        let post = self.send("post_chain", &[ix], &[&dk]);
        let g = self.env.game(&game).unwrap();
        let layer = tessera_client::referee::pick(&self.replicas[a].rows[ROW], g.chain());
        assert_eq!(layer, 2, "the middle layer, where the replicas part");
        let ix = self.env.keys.pick_layer(ak.pubkey(), game, self.job, layer);
        let pick = self.send("pick_layer", &[ix], &[&ak]);
        let (bytes, leaf_proof_len) = self.replicas[d].revealed(&self.model, ROW, layer);
        let buffer = self.stage(&dk, &bytes);
        let ix = self
            .env
            .keys
            .reveal_rows(dk.pubkey(), game, self.job, buffer, leaf_proof_len);
        let reveal = self.send("reveal_rows", &[ix], &[&dk]);
        (game, [open, post, pick, reveal], bytes.len())
    }
}

/// The referee's game on a three-layer `mlp-i8` model of `widths` (2 rows of one row a chunk),
/// in a market with no arbiter, between a replica that computed the true rows (slot 0) and one
/// that changed an element of layer 2 (slot 1). The cheater accuses the true replica first: it
/// plays to the reveal and has nothing to prove, so that game ends at its deadline
/// (`end_game`). The true replica accuses the cheater: every move, `prove_step` at layer 2 (one
/// dot product of K), then `settle_referee`.
fn game_cost(widths: &[usize]) -> GameCost {
    let mut g = Game::new(widths);
    // The cheater's accusation, up to the reveal.
    let (lost, _, _) = g.play_to_reveal(0, 1);
    g.take();
    // The true replica's, to the proof.
    let (game, moves, revealed) = g.play_to_reveal(1, 0);
    let reveal_txs = g.sent.0 - 3;
    let state = g.env.game(&game).unwrap();
    let rows = g.env.svm.get_account(&state.rows_buffer).unwrap().data;
    let (x, y) = tessera_client::referee::read_revealed(&state, &rows).unwrap();
    let x = x.expect("layer 2 has a revealed input row");
    let (staged, args) =
        tessera_client::referee::step_proof(&g.model, &g.commitment, ROW, state.layer, &x, &y)
            .expect("the cheater's link is wrong");
    let before = g.sent.0;
    let prover = g.env.cranker();
    let buffer = g.stage(&prover, &staged);
    let keys = g.env.game_keys(game);
    let ix = g.env.keys.prove_step(&keys, buffer, args);
    let budget = solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
        1_400_000,
    );
    // The compute-budget instruction the proof is sent with costs 150 units.
    let prove = g.send("prove_step", &[budget, ix], &[&prover]) - 150;
    let proof_txs = g.sent.0 - before;
    assert!(
        prove < 1_400_000 / 2,
        "prove_step at K = {}: {prove} compute units, not well under the 1.4 M limit",
        widths[1]
    );
    assert_eq!(g.env.job(&g.job).convicted, 0b10);
    // The cheater's own game ends when its deadline passes: it never proved anything.
    let deadline = g.env.game(&lost).unwrap().deadline;
    let now = g.env.now();
    g.env.warp(deadline - now + 1);
    let (convicting, convicting_cu) = g.take();
    let keys = g.env.game_keys(lost);
    let crank = g.env.cranker();
    let end = g.send("end_game", &[g.env.keys.end_game(&keys)], &[&crank]);
    assert_eq!(g.env.job(&g.job).convicted, 0b10, "the true replica stands");
    g.take();
    let job = g.env.job(&g.job);
    let ix = g.env.keys.settle_referee(
        g.job,
        g.creator.pubkey(),
        g.creator.token,
        &g.env.parties(&job),
    );
    let settle = g.send("settle_referee", &[ix], &[&crank]);
    assert_eq!(g.env.job(&g.job).state(), tessera::state::JobState::Settled);
    let [open, post, pick, reveal] = moves;
    GameCost {
        widths: widths.to_vec(),
        moves: [open, post, pick, reveal, prove, end, settle],
        reveal: (revealed, reveal_txs),
        proof: (staged.len(), proof_txs),
        txs: convicting + 1,
        cu: convicting_cu + settle,
    }
}

/// The game's tables: compute units per move, then the staging and the whole game.
fn game_tables(md: &mut String, games: &[GameCost]) {
    writeln!(
        md,
        "The referee's game (`mlp-i8` jobs whose replicas disagree, or challenged; no arbiter): \
         a three-layer model of 2 rows, one row a chunk, two replicas of which one changed an \
         element of layer 2. The true replica accuses the cheater, which posts its chain; the \
         accuser picks layer 2 (K inputs), the defender reveals its input and output rows there \
         (K + N bytes), and the accuser proves one element wrong (`prove_step`: one dot product \
         of K, the weight row's Merkle proof); `settle_referee` pays the true replica. \
         `end_game` is the cheater's own accusation, ended at its deadline after the reveal \
         (the rows buffer goes back to the defender). Layers are K × K up to 4 096; at 16 384 \
         the model is 16 → 16 384 → 16 → 16 (a square layer would weigh 256 MiB), so the \
         picked layer is 16 384 → 16. The job's id is one at which the measured game's PDA \
         bump search ends at its first try (`open_game` costs 1 500 CU more per bump tried). \
         Reproduce with `scripts/build-program.sh && cargo bench \
         --profile dev -p tessera-tests --bench compute_units` (it rewrites every table of this \
         section). Compute units:"
    )
    .unwrap();
    writeln!(md).unwrap();
    writeln!(
        md,
        "| K | model widths | `open_game` | `post_chain` | `pick_layer` | `reveal_rows` | \
         `prove_step` | `end_game` | `settle_referee` |"
    )
    .unwrap();
    writeln!(md, "|---:|---|---:|---:|---:|---:|---:|---:|---:|").unwrap();
    for g in games {
        let widths: Vec<String> = g.widths.iter().map(|w| w.to_string()).collect();
        write!(md, "| {} | {} |", g.widths[1], widths.join(" → ")).unwrap();
        for cu in g.moves {
            write!(md, " {cu} |").unwrap();
        }
        writeln!(md).unwrap();
    }
    writeln!(md).unwrap();
    writeln!(
        md,
        "Staged bytes and transactions (`write_buffer`, {BUFFER_WRITE_BYTES} bytes a \
         transaction), and the whole game that convicts, from `open_game` to `settle_referee` \
         (buffer creations and writes included):"
    )
    .unwrap();
    writeln!(md).unwrap();
    writeln!(
        md,
        "| K | reveal: staged bytes | reveal: transactions (create + writes + `reveal_rows`) | \
         proof: staged bytes | proof: transactions (create + writes + `prove_step`) | game: \
         transactions | game: compute units |"
    )
    .unwrap();
    writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|").unwrap();
    for g in games {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            g.widths[1], g.reveal.0, g.reveal.1, g.proof.0, g.proof.1, g.txs, g.cu
        )
        .unwrap();
    }
}
