//! Compute units of every instruction and of whole job lifecycles, on the real `.so` in
//! LiteSVM, with the accounts each instruction write-locks. Prints a table and writes it to
//! `docs/benchmarks.md` (between the `compute-units` markers).
//!
//! Run: `scripts/build-program.sh && cargo bench -p tessera-tests --bench compute_units`
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use std::collections::HashMap;
use std::fmt::Write;
use tessera::constants::WHOLE_ROOT;
use tessera::instructions::{ChallengeArgs, FraudTarget, UpdateMarketArgs};
use tessera_client::ix::challenge_commitment;
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
