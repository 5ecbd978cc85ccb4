//! Shared client fixtures: the Rust builders' instructions and encoded sample accounts for fixed
//! inputs, written to `client/fixtures/fixtures.json`. The TypeScript client's tests
//! (`client/ts/test/`) rebuild every instruction and decode every account from the same inputs
//! and must agree byte for byte, so both clients are checked against one source of truth.
//!
//! Fails if the committed file is stale; `TESSERA_BLESS=1 cargo test -p tessera-client --test
//! fixtures` rewrites it.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountSerialize, Discriminator};
use std::fmt::Write as _;
use std::path::PathBuf;
use tessera::state::{
    pack_uri, Assignment, AuditState, Challenge, ChallengeKind, ChallengeStatus, ClaimTerms, Game,
    GamePhase, Job, JobState, JobTerms, Market, MarketParams, Operator, OperatorRecord,
    OperatorStatus, SlotStatus,
};
use tessera_client::ix::{without_creator_token, MarketKeys};
use tessera_client::{pda, ChallengeArgs, CreateJobArgs, UpdateMarketArgs, PROGRAM_ID};

/// A JSON value, written deterministically (keys in insertion order). 64-bit integers are
/// strings (JavaScript numbers cannot hold them), byte arrays hex strings.
enum J {
    Null,
    Str(String),
    Num(i64),
    Bool(bool),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

impl J {
    fn write(&self, out: &mut String, indent: usize) {
        let pad = |n: usize| "  ".repeat(n);
        match self {
            J::Null => out.push_str("null"),
            J::Str(s) => write_str(out, s),
            J::Num(n) => write!(out, "{n}").unwrap(),
            J::Bool(b) => write!(out, "{b}").unwrap(),
            J::Arr(items) if items.is_empty() => out.push_str("[]"),
            J::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            J::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    item.write(out, indent + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push(']');
            }
            J::Obj(fields) => {
                out.push_str("{\n");
                for (i, (key, value)) in fields.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    write_str(out, key);
                    out.push_str(": ");
                    value.write(out, indent + 1);
                    out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push('}');
            }
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn s(v: impl ToString) -> J {
    J::Str(v.to_string())
}

fn n(v: impl Into<i64>) -> J {
    J::Num(v.into())
}

fn hex(bytes: &[u8]) -> J {
    J::Str(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn obj(fields: Vec<(&'static str, J)>) -> J {
    J::Obj(fields)
}

/// Enum variants by their Rust (and IDL) names.
fn variant(v: impl std::fmt::Debug) -> J {
    s(format!("{v:?}"))
}

// ---- fixed inputs ----

fn key(seed: u8) -> Pubkey {
    Pubkey::new_from_array([seed; 32])
}

fn bytes32(seed: u8) -> [u8; 32] {
    std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
}

/// Token-2022 (not the classic token program, which generated clients tend to default to).
const TOKEN_2022: Pubkey = Pubkey::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

const MINT: u8 = 1;
const TREASURY: u8 = 2;
const ADMIN: u8 = 3;
const ARBITER: u8 = 4;
const AUTHORITY: u8 = 5;
const STAKE_TOKEN: u8 = 7;
const CREATOR: u8 = 8;
const CREATOR_TOKEN: u8 = 9;
const AUTHORITY_2: u8 = 10;
const VERIFIER: u8 = 12;
const VERIFIER_2: u8 = 13;
const NEW_ADMIN: u8 = 14;
const NEW_ARBITER: u8 = 15;
const NEW_TREASURY: u8 = 16;
const CUSTOM_PROGRAM: u8 = 17;
const BUFFER: u8 = 18;
const JOB_ID: u64 = 0x0102_0304_0506_0708;

fn market_keys() -> MarketKeys {
    MarketKeys::new(key(MINT), key(ADMIN), TOKEN_2022, key(TREASURY))
}

fn params() -> MarketParams {
    MarketParams {
        protocol_fee_bps: 250,
        burn_bps: 100,
        collateral_bps: 15_000,
        slash_no_show_bps: 5_000,
        slash_fraud_bps: 10_000,
        creator_compensation_bps: 4_000,
        honest_share_bps: 3_000,
        max_replicas: 3,
        min_operator_stake: 1_000_000_000,
        min_reward_per_replica: 10_000,
        max_exec_timeout: 86_400,
        min_exec_timeout: 90,
        min_exec_ms_per_chunk: 250,
        reveal_window: 600,
        challenge_window: 3_600,
        unbonding_period: 604_800,
        dispute_window: 1_209_600,
        audit_rate_bps: 2_500,
        audit_fee_bps: 1_500,
        audit_chunks: 3,
    }
}

fn params_json(p: &MarketParams) -> J {
    let MarketParams {
        protocol_fee_bps,
        burn_bps,
        collateral_bps,
        slash_no_show_bps,
        slash_fraud_bps,
        creator_compensation_bps,
        honest_share_bps,
        max_replicas,
        min_operator_stake,
        min_reward_per_replica,
        max_exec_timeout,
        min_exec_timeout,
        min_exec_ms_per_chunk,
        reveal_window,
        challenge_window,
        unbonding_period,
        dispute_window,
        audit_rate_bps,
        audit_fee_bps,
        audit_chunks,
    } = *p;
    obj(vec![
        ("protocol_fee_bps", n(protocol_fee_bps)),
        ("burn_bps", n(burn_bps)),
        ("collateral_bps", n(collateral_bps)),
        ("slash_no_show_bps", n(slash_no_show_bps)),
        ("slash_fraud_bps", n(slash_fraud_bps)),
        ("creator_compensation_bps", n(creator_compensation_bps)),
        ("honest_share_bps", n(honest_share_bps)),
        ("max_replicas", n(max_replicas)),
        ("min_operator_stake", s(min_operator_stake)),
        ("min_reward_per_replica", s(min_reward_per_replica)),
        ("max_exec_timeout", s(max_exec_timeout)),
        ("min_exec_timeout", s(min_exec_timeout)),
        ("min_exec_ms_per_chunk", n(min_exec_ms_per_chunk)),
        ("reveal_window", s(reveal_window)),
        ("challenge_window", s(challenge_window)),
        ("unbonding_period", s(unbonding_period)),
        ("dispute_window", s(dispute_window)),
        ("audit_rate_bps", n(audit_rate_bps)),
        ("audit_fee_bps", n(audit_fee_bps)),
        ("audit_chunks", n(audit_chunks)),
    ])
}

fn parties_json(parties: &[Pubkey]) -> J {
    J::Arr(parties.iter().map(s).collect())
}

fn claim_terms_json(t: &ClaimTerms) -> J {
    let ClaimTerms {
        input_hash,
        reward_per_replica,
        exec_timeout,
        chunk_count,
        max_bond,
    } = t;
    obj(vec![
        ("input_hash", hex(input_hash)),
        ("reward_per_replica", s(reward_per_replica)),
        ("exec_timeout", s(exec_timeout)),
        ("chunk_count", n(*chunk_count)),
        ("max_bond", s(max_bond)),
    ])
}

struct Fixture {
    name: &'static str,
    inputs: J,
    ix: Instruction,
}

fn instructions() -> Vec<Fixture> {
    let m = market_keys();
    let (admin, arbiter, authority) = (key(ADMIN), key(ARBITER), key(AUTHORITY));
    let (creator, creator_token) = (key(CREATOR), key(CREATOR_TOKEN));
    let job = m.job(&creator, JOB_ID);
    let parties = [m.operator(&authority), m.operator(&key(AUTHORITY_2))];
    let with_challenger = [parties[0], parties[1], m.operator(&key(VERIFIER))];
    let settle = |parties: &[Pubkey]| {
        let mut f = vec![
            ("job", s(job)),
            ("creator", s(creator)),
            ("creator_token", s(creator_token)),
        ];
        if !parties.is_empty() {
            f.push(("parties", parties_json(parties)));
        }
        obj(f)
    };
    let create = CreateJobArgs {
        job_id: JOB_ID,
        kernel: 2,
        kernel_params: bytes32(1),
        input_uri: "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/input.bin"
            .into(),
        input_hash: bytes32(2),
        chunk_count: 64,
        replicas: 2,
        reward_per_replica: 5_000_000,
        claim_deadline: 1_700_000_000,
        exec_timeout: 3_600,
    };
    let create_json = {
        let CreateJobArgs {
            job_id,
            kernel,
            kernel_params,
            input_uri,
            input_hash,
            chunk_count,
            replicas,
            reward_per_replica,
            claim_deadline,
            exec_timeout,
        } = &create;
        obj(vec![
            ("job_id", s(job_id)),
            ("kernel", n(*kernel)),
            ("kernel_params", hex(kernel_params)),
            ("input_uri", s(input_uri)),
            ("input_hash", hex(input_hash)),
            ("chunk_count", n(*chunk_count)),
            ("replicas", n(*replicas)),
            ("reward_per_replica", s(reward_per_replica)),
            ("claim_deadline", s(claim_deadline)),
            ("exec_timeout", s(exec_timeout)),
        ])
    };
    let challenge = ChallengeArgs {
        chunk: 17,
        hash: bytes32(3),
        operator_leaf: bytes32(4),
        proof: vec![bytes32(5), bytes32(6), bytes32(7)],
    };
    // What the verifier commits to (the program's hashing), salted with bytes32(11).
    let challenge_commitment_bytes =
        tessera_client::ix::challenge_commitment(&m, &key(VERIFIER), &challenge, &bytes32(11));
    let challenge_json = {
        let ChallengeArgs {
            chunk,
            hash,
            operator_leaf,
            proof,
        } = &challenge;
        obj(vec![
            ("chunk", n(*chunk)),
            ("hash", hex(hash)),
            ("operator_leaf", hex(operator_leaf)),
            ("proof", J::Arr(proof.iter().map(|p| hex(p)).collect())),
        ])
    };
    let fraud = tessera::instructions::FraudArgs {
        target: tessera::instructions::FraudTarget::Slot {
            slot: 2,
            chunk: 0x0506_0708,
        },
        row: 0x0102_0304,
        feature: 0x0a0b_0c0d,
        chunk_len: 4096,
        header: b"tessera.qmlp.v1\x01\x02".to_vec(),
        input_root: bytes32(20),
        layer_root: bytes32(21),
        bias: -(1 << 30),
        multiplier: (1 << 30) + 7,
        shift: -31,
        input_proof_len: 20,
        weight_proof_len: 14,
        leaf_proof_len: 19,
    };
    let open = tessera::instructions::OpenGameArgs {
        defender_slot: 1,
        accuser: tessera::instructions::Accuser::Challenger { index: 2 },
        row: 0x0001_0203,
        header: b"tessera.qmlp.v1\x03\x04".to_vec(),
        input_root: bytes32(22),
        layer_roots: vec![bytes32(23), bytes32(24), bytes32(25)],
    };
    let open_json = obj(vec![
        ("defender_slot", n(open.defender_slot)),
        (
            "accuser",
            obj(vec![
                ("kind", J::Str("Challenger".into())),
                ("index", n(2u8)),
            ]),
        ),
        ("row", n(open.row)),
        ("header", hex(&open.header)),
        ("input_root", hex(&open.input_root)),
        (
            "layer_roots",
            J::Arr(open.layer_roots.iter().map(|r| hex(r)).collect()),
        ),
    ]);
    let game = tessera_client::ix::GameKeys {
        game: m.pdas().game(&job, 1, 0).0,
        job,
        accuser: authority,
        defender: key(AUTHORITY_2),
        rows_buffer: Some(key(BUFFER)),
    };
    let no_rows = tessera_client::ix::GameKeys {
        rows_buffer: None,
        ..game
    };
    let game_json = |g: &tessera_client::ix::GameKeys| {
        obj(vec![
            ("game", s(g.game)),
            ("job", s(g.job)),
            ("accuser", s(g.accuser)),
            ("defender", s(g.defender)),
            ("rows_buffer", g.rows_buffer.map_or(J::Null, s)),
        ])
    };
    let step = tessera::instructions::StepArgs {
        feature: 0x0102_0304,
        bias: -(1 << 30) + 3,
        multiplier: (1 << 30) + 9,
        shift: 7,
        input_proof_len: 20,
        weight_proof_len: 14,
    };
    let step_json = obj(vec![
        ("feature", n(step.feature)),
        ("bias", n(step.bias)),
        ("multiplier", n(step.multiplier)),
        ("shift", n(step.shift)),
        ("input_proof_len", n(step.input_proof_len)),
        ("weight_proof_len", n(step.weight_proof_len)),
    ]);
    let fraud_json = obj(vec![
        (
            "target",
            obj(vec![
                ("kind", J::Str("Slot".into())),
                ("slot", n(2)),
                ("chunk", n(0x0506_0708u32)),
            ]),
        ),
        ("row", n(fraud.row)),
        ("feature", n(fraud.feature)),
        ("chunk_len", n(fraud.chunk_len)),
        ("header", hex(&fraud.header)),
        ("input_root", hex(&fraud.input_root)),
        ("layer_root", hex(&fraud.layer_root)),
        ("bias", n(fraud.bias)),
        ("multiplier", n(fraud.multiplier)),
        ("shift", n(fraud.shift)),
        ("input_proof_len", n(fraud.input_proof_len)),
        ("weight_proof_len", n(fraud.weight_proof_len)),
        ("leaf_proof_len", n(fraud.leaf_proof_len)),
    ]);
    let update = UpdateMarketArgs {
        admin: key(NEW_ADMIN),
        arbiter: key(NEW_ARBITER),
        params: MarketParams {
            protocol_fee_bps: 300,
            ..params()
        },
    };
    let update_json = obj(vec![
        ("admin", s(update.admin)),
        ("arbiter", s(update.arbiter)),
        ("params", params_json(&update.params)),
    ]);
    let uri = "s3://tessera-results/job-0102030405060708/slot-0/".to_string();
    // What an operator reads from the job before claiming it (the sample Job account below).
    let vetted = self::job().claim_terms();
    // A settlement that sends the creator no tokens, without its token account: the input is
    // null and the account's place holds the program id (Anchor's "none").
    let without_creator = {
        let J::Obj(mut f) = settle(&parties) else {
            unreachable!()
        };
        for (name, value) in &mut f {
            if *name == "creator_token" {
                *value = J::Null;
            }
        }
        obj(f)
    };

    vec![
        Fixture {
            name: "init_market",
            inputs: obj(vec![
                ("admin", s(admin)),
                ("arbiter", s(arbiter)),
                ("params", params_json(&params())),
            ]),
            ix: m.init_market(admin, arbiter, params()),
        },
        Fixture {
            name: "update_market",
            inputs: obj(vec![
                ("admin", s(admin)),
                ("args", update_json),
                ("treasury", s(key(NEW_TREASURY))),
            ]),
            ix: m.update_market(admin, update, key(NEW_TREASURY)),
        },
        Fixture {
            name: "set_paused",
            inputs: obj(vec![("admin", s(admin)), ("paused", J::Bool(true))]),
            ix: m.set_paused(admin, true),
        },
        Fixture {
            name: "register_operator",
            inputs: obj(vec![
                ("authority", s(authority)),
                ("capabilities", n(0b1011_u32)),
            ]),
            ix: m.register_operator(authority, 0b1011),
        },
        Fixture {
            name: "deposit_stake",
            inputs: obj(vec![
                ("authority", s(authority)),
                ("from", s(key(STAKE_TOKEN))),
                ("amount", s(u64::MAX - 1)),
            ]),
            ix: m.deposit_stake(authority, key(STAKE_TOKEN), u64::MAX - 1),
        },
        Fixture {
            name: "request_unstake",
            inputs: obj(vec![
                ("authority", s(authority)),
                ("amount", s(2_500_000u64)),
            ]),
            ix: m.request_unstake(authority, 2_500_000),
        },
        Fixture {
            name: "withdraw_stake",
            inputs: obj(vec![
                ("authority", s(authority)),
                ("to", s(key(STAKE_TOKEN))),
            ]),
            ix: m.withdraw_stake(authority, key(STAKE_TOKEN)),
        },
        Fixture {
            name: "update_operator",
            inputs: obj(vec![
                ("authority", s(authority)),
                ("capabilities", n(u32::MAX)),
            ]),
            ix: m.update_operator(authority, u32::MAX),
        },
        Fixture {
            name: "exit_operator",
            inputs: obj(vec![("authority", s(authority))]),
            ix: m.exit_operator(authority),
        },
        Fixture {
            name: "create_job",
            inputs: obj(vec![
                ("creator", s(creator)),
                ("creator_token", s(creator_token)),
                ("args", create_json),
            ]),
            ix: m.create_job(creator, creator_token, create),
        },
        Fixture {
            name: "cancel_job",
            inputs: settle(&[]),
            ix: m.cancel_job(job, creator, creator_token),
        },
        Fixture {
            name: "close_job",
            inputs: obj(vec![("creator", s(creator)), ("job", s(job))]),
            ix: m.close_job(creator, job),
        },
        Fixture {
            name: "claim_job",
            inputs: obj(vec![
                ("authority", s(authority)),
                ("job", s(job)),
                ("vetted", claim_terms_json(&vetted)),
            ]),
            ix: m.claim_job(authority, job, vetted),
        },
        Fixture {
            name: "submit_result",
            inputs: obj(vec![
                ("authority", s(authority)),
                ("job", s(job)),
                ("root", hex(&bytes32(8))),
                ("output_uri", s(&uri)),
            ]),
            ix: m.submit_result(authority, job, bytes32(8), uri.clone()),
        },
        Fixture {
            name: "commit_result",
            inputs: obj(vec![
                ("authority", s(authority)),
                ("job", s(job)),
                ("commitment", hex(&bytes32(9))),
            ]),
            ix: m.commit_result(authority, job, bytes32(9)),
        },
        Fixture {
            name: "reveal_result",
            inputs: obj(vec![
                ("authority", s(authority)),
                ("job", s(job)),
                ("root", hex(&bytes32(8))),
                ("salt", hex(&bytes32(10))),
                ("output_uri", s("")),
            ]),
            ix: m.reveal_result(authority, job, bytes32(8), bytes32(10), String::new()),
        },
        Fixture {
            name: "finalize_job",
            inputs: without_creator,
            ix: without_creator_token(
                m.finalize_job(job, creator, creator_token, &parties),
                &creator_token,
            ),
        },
        Fixture {
            name: "timeout_job",
            inputs: settle(&parties),
            ix: m.timeout_job(job, creator, creator_token, &parties),
        },
        Fixture {
            name: "expire_job",
            inputs: settle(&parties[..1]),
            ix: m.expire_job(job, creator, creator_token, &parties[..1]),
        },
        Fixture {
            name: "commit_challenge",
            inputs: obj(vec![
                ("authority", s(key(VERIFIER))),
                ("job", s(job)),
                ("commitment", hex(&challenge_commitment_bytes)),
            ]),
            ix: m.commit_challenge(key(VERIFIER), job, challenge_commitment_bytes),
        },
        Fixture {
            name: "reveal_challenge",
            inputs: obj(vec![
                ("authority", s(key(VERIFIER))),
                ("job", s(job)),
                ("args", challenge_json),
                ("salt", hex(&bytes32(11))),
            ]),
            ix: m.reveal_challenge(key(VERIFIER), job, challenge, bytes32(11)),
        },
        Fixture {
            name: "resolve_dispute",
            inputs: {
                let J::Obj(mut f) = settle(&with_challenger) else {
                    unreachable!()
                };
                f.insert(0, ("arbiter", s(arbiter)));
                f.push(("honest_mask", n(0b101u8)));
                obj(f)
            },
            ix: m.resolve_dispute(
                arbiter,
                job,
                creator,
                creator_token,
                &with_challenger,
                0b101,
            ),
        },
        Fixture {
            name: "expire_dispute",
            inputs: settle(&with_challenger),
            ix: m.expire_dispute(job, creator, creator_token, &with_challenger),
        },
        Fixture {
            name: "draw_audit",
            inputs: obj(vec![("job", s(job))]),
            ix: m.draw_audit(job),
        },
        Fixture {
            name: "commit_audit",
            inputs: obj(vec![
                ("authority", s(key(VERIFIER))),
                ("job", s(job)),
                ("commitment", hex(&bytes32(15))),
                ("chunks", J::Arr(vec![n(7u32), n(2u32)])),
            ]),
            ix: m.commit_audit(key(VERIFIER), job, bytes32(15), vec![7, 2]),
        },
        Fixture {
            name: "post_audit_leaf",
            inputs: obj(vec![
                ("job", s(job)),
                ("leaf", hex(&bytes32(16))),
                ("proof", J::Arr(vec![hex(&bytes32(17)), hex(&bytes32(18))])),
            ]),
            ix: m.post_audit_leaf(job, bytes32(16), vec![bytes32(17), bytes32(18)]),
        },
        Fixture {
            name: "reveal_audit",
            inputs: obj(vec![
                ("authority", s(key(VERIFIER))),
                ("job", s(job)),
                ("leaves", J::Arr(vec![hex(&bytes32(19)), hex(&bytes32(20))])),
                ("salt", hex(&bytes32(22))),
            ]),
            ix: m.reveal_audit(
                key(VERIFIER),
                job,
                vec![bytes32(19), bytes32(20)],
                bytes32(22),
            ),
        },
        Fixture {
            name: "convict_withheld",
            inputs: settle(&with_challenger),
            ix: m.convict_withheld(job, creator, creator_token, &with_challenger),
        },
        Fixture {
            name: "collect_fees",
            inputs: obj(vec![]),
            ix: m.collect_fees(),
        },
        Fixture {
            name: "init_buffer",
            inputs: obj(vec![
                ("authority", s(key(VERIFIER))),
                ("buffer", s(key(BUFFER))),
            ]),
            ix: m.init_buffer(key(VERIFIER), key(BUFFER)),
        },
        Fixture {
            name: "write_buffer",
            inputs: obj(vec![
                ("authority", s(key(VERIFIER))),
                ("buffer", s(key(BUFFER))),
                ("offset", n(0x0102_0304u32)),
                ("bytes", hex(&[0xde, 0xad, 0xbe, 0xef, 0x80])),
            ]),
            ix: m.write_buffer(
                key(VERIFIER),
                key(BUFFER),
                0x0102_0304,
                vec![0xde, 0xad, 0xbe, 0xef, 0x80],
            ),
        },
        Fixture {
            name: "close_buffer",
            inputs: obj(vec![
                ("authority", s(key(VERIFIER))),
                ("buffer", s(key(BUFFER))),
            ]),
            ix: m.close_buffer(key(VERIFIER), key(BUFFER)),
        },
        Fixture {
            name: "prove_fraud",
            inputs: {
                let J::Obj(mut f) = settle(&with_challenger) else {
                    unreachable!()
                };
                f.push(("buffer", s(key(BUFFER))));
                f.push(("args", fraud_json));
                obj(f)
            },
            ix: m.prove_fraud(
                job,
                creator,
                creator_token,
                key(BUFFER),
                &with_challenger,
                fraud,
            ),
        },
        Fixture {
            name: "open_game",
            inputs: obj(vec![
                ("authority", s(authority)),
                ("job", s(job)),
                ("defender", s(parties[1])),
                ("args", open_json),
            ]),
            ix: m.open_game(authority, job, parties[1], open),
        },
        Fixture {
            name: "post_chain",
            inputs: obj(vec![
                ("defender", s(key(AUTHORITY_2))),
                ("game", s(game.game)),
                ("job", s(job)),
                ("chain", J::Arr(vec![hex(&bytes32(30)), hex(&bytes32(31))])),
            ]),
            ix: m.post_chain(
                key(AUTHORITY_2),
                game.game,
                job,
                vec![bytes32(30), bytes32(31)],
            ),
        },
        Fixture {
            name: "pick_layer",
            inputs: obj(vec![
                ("accuser", s(authority)),
                ("game", s(game.game)),
                ("job", s(job)),
                ("layer", n(2u8)),
            ]),
            ix: m.pick_layer(authority, game.game, job, 2),
        },
        Fixture {
            name: "reveal_rows",
            inputs: obj(vec![
                ("defender", s(key(AUTHORITY_2))),
                ("game", s(game.game)),
                ("job", s(job)),
                ("buffer", s(key(BUFFER))),
                ("leaf_proof_len", n(17u8)),
            ]),
            ix: m.reveal_rows(key(AUTHORITY_2), game.game, job, key(BUFFER), 17),
        },
        Fixture {
            name: "prove_step",
            inputs: {
                let J::Obj(mut f) = game_json(&game) else {
                    unreachable!()
                };
                f.push(("proof_buffer", s(key(VERIFIER_2))));
                f.push(("args", step_json));
                obj(f)
            },
            ix: m.prove_step(&game, key(VERIFIER_2), step),
        },
        Fixture {
            name: "end_game",
            inputs: game_json(&no_rows),
            ix: m.end_game(&no_rows),
        },
        Fixture {
            name: "settle_referee",
            inputs: settle(&parties),
            ix: m.settle_referee(job, creator, creator_token, &parties),
        },
    ]
}

fn instruction_json(f: Fixture) -> J {
    obj(vec![
        ("name", s(f.name)),
        ("inputs", f.inputs),
        ("programId", s(f.ix.program_id)),
        (
            "accounts",
            J::Arr(
                f.ix.accounts
                    .iter()
                    .map(|a| {
                        obj(vec![
                            ("pubkey", s(a.pubkey)),
                            ("isSigner", J::Bool(a.is_signer)),
                            ("isWritable", J::Bool(a.is_writable)),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("data", hex(&f.ix.data)),
    ])
}

// ---- sample accounts ----

fn market() -> Market {
    let m = market_keys();
    Market {
        admin: key(ADMIN),
        arbiter: key(ARBITER),
        mint: m.mint,
        treasury: m.treasury,
        stake_vault: m.stake_vault,
        params: params(),
        paused: true,
        decimals: 6,
        bump: pda::market(&m.mint, &m.founder).1,
        stake_vault_bump: pda::stake_vault(&m.market).1,
        fee_vault: m.fee_vault,
        fee_vault_bump: pda::fee_vault(&m.market).1,
        pending_arbiter: key(NEW_ARBITER),
        arbiter_change_at: 1_713_000_000,
        founder: m.founder,
        reserved: [0; 32],
    }
}

fn market_json(a: &Market) -> J {
    let Market {
        admin,
        arbiter,
        mint,
        treasury,
        stake_vault,
        params,
        paused,
        decimals,
        bump,
        stake_vault_bump,
        fee_vault,
        fee_vault_bump,
        pending_arbiter,
        arbiter_change_at,
        founder,
        reserved,
    } = a;
    obj(vec![
        ("admin", s(admin)),
        ("arbiter", s(arbiter)),
        ("mint", s(mint)),
        ("treasury", s(treasury)),
        ("stake_vault", s(stake_vault)),
        ("params", params_json(params)),
        ("paused", J::Bool(*paused)),
        ("decimals", n(*decimals)),
        ("bump", n(*bump)),
        ("stake_vault_bump", n(*stake_vault_bump)),
        ("fee_vault", s(fee_vault)),
        ("fee_vault_bump", n(*fee_vault_bump)),
        ("pending_arbiter", s(pending_arbiter)),
        ("arbiter_change_at", s(arbiter_change_at)),
        ("founder", s(founder)),
        ("reserved", hex(reserved)),
    ])
}

fn operator() -> Operator {
    let m = market_keys();
    Operator {
        market: m.market,
        authority: key(AUTHORITY),
        stake: 7_000_000_000,
        bonded: 1_500_000_000,
        unbonding: 250_000_000,
        unbonding_ready_at: 1_700_604_800,
        earned: 12_345_678,
        capabilities: 0b1011,
        benchmark_score: 123_456,
        jobs_completed: 42,
        jobs_failed: 3,
        slashed_total: 75_000_000,
        live_claims: 2,
        status: OperatorStatus::Exiting,
        bump: pda::operator(&m.market, &key(AUTHORITY)).1,
        reserved: [0; 64],
    }
}

fn operator_json(a: &Operator) -> J {
    let Operator {
        market,
        authority,
        stake,
        bonded,
        unbonding,
        unbonding_ready_at,
        earned,
        capabilities,
        benchmark_score,
        jobs_completed,
        jobs_failed,
        slashed_total,
        live_claims,
        status,
        bump,
        reserved,
    } = a;
    obj(vec![
        ("market", s(market)),
        ("authority", s(authority)),
        ("stake", s(stake)),
        ("bonded", s(bonded)),
        ("unbonding", s(unbonding)),
        ("unbonding_ready_at", s(unbonding_ready_at)),
        ("earned", s(earned)),
        ("capabilities", n(*capabilities)),
        ("benchmark_score", n(*benchmark_score)),
        ("jobs_completed", s(jobs_completed)),
        ("jobs_failed", s(jobs_failed)),
        ("slashed_total", s(slashed_total)),
        ("live_claims", n(*live_claims)),
        ("status", variant(status)),
        ("bump", n(*bump)),
        ("reserved", hex(reserved)),
    ])
}

fn record() -> OperatorRecord {
    let m = market_keys();
    OperatorRecord {
        market: m.market,
        authority: key(AUTHORITY),
        jobs_completed: 41,
        jobs_failed: 2,
        slashed_total: 1_500_000,
        registrations: 3,
        bump: pda::record(&m.market, &key(AUTHORITY)).1,
    }
}

fn record_json(a: &OperatorRecord) -> J {
    let OperatorRecord {
        market,
        authority,
        jobs_completed,
        jobs_failed,
        slashed_total,
        registrations,
        bump,
    } = a;
    obj(vec![
        ("market", s(market)),
        ("authority", s(authority)),
        ("jobs_completed", s(jobs_completed)),
        ("jobs_failed", s(jobs_failed)),
        ("slashed_total", s(slashed_total)),
        ("registrations", n(*registrations)),
        ("bump", n(*bump)),
    ])
}

fn job() -> Job {
    let m = market_keys();
    let creator = key(CREATOR);
    let job = m.job(&creator, JOB_ID);
    let slot = |authority: u8, status: SlotStatus, root: u8, uri: &str| Assignment {
        operator: m.operator(&key(authority)),
        claimed_at: 1_699_990_000 + authority as i64,
        bond: 7_500_000,
        commitment: bytes32(20 + authority),
        root: bytes32(root),
        output_uri: pack_uri(uri),
        status: status as u8,
        padding: [0; 7],
    };
    Job {
        market: m.market,
        creator,
        job_id: JOB_ID,
        kernel: 2,
        kernel_params: bytes32(1),
        input_uri: pack_uri(
            "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/input.bin",
        ),
        input_hash: bytes32(2),
        chunk_count: 64,
        replicas: 3,
        reward_per_replica: 5_000_000,
        created_at: 1_699_980_000,
        claim_deadline: 1_700_000_000,
        exec_timeout: 3_600,
        state: JobState::Disputed as u8,
        assignments: [
            slot(
                AUTHORITY,
                SlotStatus::Revealed,
                8,
                "s3://tessera-results/a/",
            ),
            slot(AUTHORITY_2, SlotStatus::Committed, 0, ""),
            Assignment::empty(),
        ],
        reveal_deadline: 1_700_001_000,
        challenge_deadline: -1,
        dispute_deadline: 1_701_209_600,
        agreed_root: bytes32(8),
        challenges: [
            Challenge {
                challenger: m.operator(&key(VERIFIER)),
                bond: 9_000_000,
                chunk: u32::MAX,
                status: ChallengeStatus::Revealed as u8,
                kind: ChallengeKind::Challenge as u8,
                leaves_posted: 0,
                padding: [0; 1],
                commitment: bytes32(12),
                hash: bytes32(3),
                operator_leaf: [0; 32],
            },
            Challenge {
                challenger: m.operator(&key(VERIFIER_2)),
                bond: 9_000_000,
                status: ChallengeStatus::Committed as u8,
                kind: ChallengeKind::Audit as u8,
                leaves_posted: 2,
                commitment: bytes32(13),
                ..Challenge::none()
            },
            Challenge::none(),
        ],
        bump: pda::job(&m.market, &creator, JOB_ID).1,
        escrow: pda::escrow(&job).0,
        terms: JobTerms {
            arbiter: key(ARBITER),
            reveal_window: 600,
            challenge_window: 3_600,
            dispute_window: 1_209_600,
            bond: 7_500_000,
            protocol_fee_bps: 250,
            burn_bps: 100,
            slash_no_show_bps: 5_000,
            slash_fraud_bps: 10_000,
            creator_compensation_bps: 4_000,
            honest_share_bps: 3_000,
            audit_rate_bps: 2_500,
            audit_chunks: 3,
            padding: [0; 1],
        },
        convicted: 0b101,
        open_games: 2,
        games_played: [0x24, 0x01, 0x02, 0x00],
        challenge_wins: 0b101,
        audit_state: AuditState::Drawn as u8,
        audit_fee: 1_500_000,
        revealed_slot: 0x0102_0304_0506,
        audit_chunks: [7, 2, 5, 0],
        audit_chunk_count: 3,
        audit_leaves: [bytes32(23), bytes32(24), [0; 32], [0; 32]],
        reserved: [0xa5; 23],
    }
}

fn assignment_json(a: &Assignment) -> J {
    let Assignment {
        operator,
        claimed_at,
        bond,
        commitment,
        root,
        output_uri,
        status,
        padding,
    } = a;
    obj(vec![
        ("operator", s(operator)),
        ("claimed_at", s(claimed_at)),
        ("bond", s(bond)),
        ("commitment", hex(commitment)),
        ("root", hex(root)),
        ("output_uri", hex(output_uri)),
        ("status", n(*status)),
        ("padding", hex(padding)),
    ])
}

fn challenge_json(c: &Challenge) -> J {
    let Challenge {
        challenger,
        bond,
        chunk,
        status,
        kind,
        leaves_posted,
        padding,
        commitment,
        hash,
        operator_leaf,
    } = c;
    obj(vec![
        ("challenger", s(challenger)),
        ("bond", s(bond)),
        ("chunk", n(*chunk)),
        ("status", n(*status)),
        ("kind", n(*kind)),
        ("leaves_posted", n(*leaves_posted)),
        ("padding", hex(padding)),
        ("commitment", hex(commitment)),
        ("hash", hex(hash)),
        ("operator_leaf", hex(operator_leaf)),
    ])
}

fn terms_json(t: &JobTerms) -> J {
    let JobTerms {
        arbiter,
        reveal_window,
        challenge_window,
        dispute_window,
        bond,
        protocol_fee_bps,
        burn_bps,
        slash_no_show_bps,
        slash_fraud_bps,
        creator_compensation_bps,
        honest_share_bps,
        audit_rate_bps,
        audit_chunks,
        padding,
    } = t;
    obj(vec![
        ("arbiter", s(arbiter)),
        ("reveal_window", s(reveal_window)),
        ("challenge_window", s(challenge_window)),
        ("dispute_window", s(dispute_window)),
        ("bond", s(bond)),
        ("protocol_fee_bps", n(*protocol_fee_bps)),
        ("burn_bps", n(*burn_bps)),
        ("slash_no_show_bps", n(*slash_no_show_bps)),
        ("slash_fraud_bps", n(*slash_fraud_bps)),
        ("creator_compensation_bps", n(*creator_compensation_bps)),
        ("honest_share_bps", n(*honest_share_bps)),
        ("audit_rate_bps", n(*audit_rate_bps)),
        ("audit_chunks", n(*audit_chunks)),
        ("padding", hex(padding)),
    ])
}

fn job_json(a: &Job) -> J {
    let Job {
        market,
        creator,
        job_id,
        kernel,
        kernel_params,
        input_uri,
        input_hash,
        chunk_count,
        replicas,
        reward_per_replica,
        created_at,
        claim_deadline,
        exec_timeout,
        state,
        assignments,
        reveal_deadline,
        challenge_deadline,
        dispute_deadline,
        agreed_root,
        challenges,
        bump,
        escrow,
        terms,
        convicted,
        open_games,
        games_played,
        challenge_wins,
        audit_state,
        audit_fee,
        revealed_slot,
        audit_chunks,
        audit_chunk_count,
        audit_leaves,
        reserved,
    } = a;
    obj(vec![
        ("market", s(market)),
        ("creator", s(creator)),
        ("job_id", s(job_id)),
        ("kernel", n(*kernel)),
        ("kernel_params", hex(kernel_params)),
        ("input_uri", hex(input_uri)),
        ("input_hash", hex(input_hash)),
        ("chunk_count", n(*chunk_count)),
        ("replicas", n(*replicas)),
        ("reward_per_replica", s(reward_per_replica)),
        ("created_at", s(created_at)),
        ("claim_deadline", s(claim_deadline)),
        ("exec_timeout", s(exec_timeout)),
        ("state", n(*state)),
        (
            "assignments",
            J::Arr(assignments.iter().map(assignment_json).collect()),
        ),
        ("reveal_deadline", s(reveal_deadline)),
        ("challenge_deadline", s(challenge_deadline)),
        ("dispute_deadline", s(dispute_deadline)),
        ("agreed_root", hex(agreed_root)),
        (
            "challenges",
            J::Arr(challenges.iter().map(challenge_json).collect()),
        ),
        ("bump", n(*bump)),
        ("escrow", s(escrow)),
        ("terms", terms_json(terms)),
        ("convicted", n(*convicted)),
        ("open_games", n(*open_games)),
        ("games_played", hex(games_played)),
        ("challenge_wins", n(*challenge_wins)),
        ("audit_state", n(*audit_state)),
        ("audit_fee", s(audit_fee)),
        ("revealed_slot", s(revealed_slot)),
        (
            "audit_chunks",
            J::Arr(audit_chunks.iter().map(|c| n(*c)).collect()),
        ),
        ("audit_chunk_count", n(*audit_chunk_count)),
        (
            "audit_leaves",
            J::Arr(audit_leaves.iter().map(|l| hex(l)).collect()),
        ),
        ("reserved", hex(reserved)),
    ])
}

fn game() -> Game {
    let layer_roots = std::array::from_fn(|i| {
        if i < 3 {
            bytes32(40 + i as u8)
        } else {
            [0; 32]
        }
    });
    let chain = std::array::from_fn(|i| {
        if i < 2 {
            bytes32(50 + i as u8)
        } else {
            [0; 32]
        }
    });
    let mut header = [0; tessera::state::MAX_HEADER_BYTES];
    header[..17].copy_from_slice(b"tessera.qmlp.v1\x05\x06");
    Game {
        job: key(CREATOR),
        accuser: key(AUTHORITY),
        defender: key(AUTHORITY_2),
        rows_buffer: key(BUFFER),
        input_root: bytes32(39),
        layer_roots,
        chain,
        deadline: 1_700_000_123,
        row: 0x0102_0304,
        header,
        header_len: 17,
        layer_count: 3,
        defender_slot: 1,
        accuser_id: 0,
        phase: GamePhase::AwaitProof as u8,
        layer: 2,
        bump: 254,
        leaf_proof_len: 19,
        padding: [0; 3],
    }
}

fn game_account_json(g: &Game) -> J {
    let Game {
        job,
        accuser,
        defender,
        rows_buffer,
        input_root,
        layer_roots,
        chain,
        deadline,
        row,
        header,
        header_len,
        layer_count,
        defender_slot,
        accuser_id,
        phase,
        layer,
        bump,
        leaf_proof_len,
        padding,
    } = g;
    obj(vec![
        ("job", s(job)),
        ("accuser", s(accuser)),
        ("defender", s(defender)),
        ("rows_buffer", s(rows_buffer)),
        ("input_root", hex(input_root)),
        (
            "layer_roots",
            J::Arr(layer_roots.iter().map(|r| hex(r)).collect()),
        ),
        ("chain", J::Arr(chain.iter().map(|r| hex(r)).collect())),
        ("deadline", s(deadline)),
        ("row", n(*row)),
        ("header", hex(header)),
        ("header_len", n(*header_len)),
        ("layer_count", n(*layer_count)),
        ("defender_slot", n(*defender_slot)),
        ("accuser_id", n(*accuser_id)),
        ("phase", n(*phase)),
        ("layer", n(*layer)),
        ("bump", n(*bump)),
        ("leaf_proof_len", n(*leaf_proof_len)),
        ("padding", hex(padding)),
    ])
}

/// A Borsh account's data (discriminator included).
fn borsh_data(account: &impl AccountSerialize) -> Vec<u8> {
    let mut data = Vec::new();
    account.try_serialize(&mut data).unwrap();
    data
}

/// A zero-copy account's data: the discriminator, then the `repr(C)` bytes.
fn zero_copy_data<T: Discriminator + bytemuck::Pod>(account: &T) -> Vec<u8> {
    [T::DISCRIMINATOR, bytemuck::bytes_of(account)].concat()
}

fn account_json(ty: &'static str, fields: J, data: Vec<u8>) -> J {
    obj(vec![
        ("type", s(ty)),
        ("fields", fields),
        ("data", hex(&data)),
    ])
}

fn pdas() -> J {
    let m = market_keys();
    let (authority, creator) = (key(AUTHORITY), key(CREATOR));
    let job = pda::job(&m.market, &creator, JOB_ID);
    let entry =
        |name: &'static str, seeds: Vec<(&'static str, J)>, (address, bump): (Pubkey, u8)| {
            obj(vec![
                ("name", s(name)),
                ("seeds", obj(seeds)),
                ("address", s(address)),
                ("bump", n(bump)),
            ])
        };
    J::Arr(vec![
        entry(
            "market",
            vec![("mint", s(m.mint)), ("founder", s(m.founder))],
            pda::market(&m.mint, &m.founder),
        ),
        entry(
            "stake_vault",
            vec![("market", s(m.market))],
            pda::stake_vault(&m.market),
        ),
        entry(
            "fee_vault",
            vec![("market", s(m.market))],
            pda::fee_vault(&m.market),
        ),
        entry(
            "operator",
            vec![("market", s(m.market)), ("authority", s(authority))],
            pda::operator(&m.market, &authority),
        ),
        entry(
            "record",
            vec![("market", s(m.market)), ("authority", s(authority))],
            pda::record(&m.market, &authority),
        ),
        entry(
            "job",
            vec![
                ("market", s(m.market)),
                ("creator", s(creator)),
                ("job_id", s(JOB_ID)),
            ],
            job,
        ),
        entry("escrow", vec![("job", s(job.0))], pda::escrow(&job.0)),
        entry(
            "game",
            vec![("job", s(job.0)), ("defender", n(1u8)), ("accuser", n(0u8))],
            m.pdas().game(&job.0, 1, 0),
        ),
        entry(
            "event_authority",
            vec![],
            Pubkey::find_program_address(&[b"__event_authority"], &PROGRAM_ID),
        ),
    ])
}

/// The bytes of `SlotStatus` (stored as a byte in the zero-copy `Job`, so not an IDL type), for
/// the TypeScript client's hand-written `SlotStatus`.
fn slot_status() -> J {
    let all = [
        ("Empty", SlotStatus::Empty),
        ("Claimed", SlotStatus::Claimed),
        ("Committed", SlotStatus::Committed),
        ("Revealed", SlotStatus::Revealed),
        ("Failed", SlotStatus::Failed),
    ];
    for (name, s) in all {
        assert_eq!(format!("{s:?}"), name);
    }
    obj(all
        .into_iter()
        .map(|(name, s)| (name, n(s as u8)))
        .collect())
}

/// The same market in a deployment at another program id: every address and the instruction's
/// program follow the id (`MarketKeys::for_program`, the TypeScript client's `programId`).
fn custom_program() -> J {
    let program_id = key(CUSTOM_PROGRAM);
    let base = market_keys();
    let m = MarketKeys::for_program(
        program_id,
        base.mint,
        base.founder,
        base.token_program,
        base.treasury,
    );
    assert_ne!(m.market, base.market);
    obj(vec![
        ("programId", s(program_id)),
        ("market", s(m.market)),
        ("stake_vault", s(m.stake_vault)),
        ("fee_vault", s(m.fee_vault)),
        ("event_authority", s(m.event_authority)),
        (
            "collect_fees",
            instruction_json(Fixture {
                name: "collect_fees",
                inputs: obj(vec![]),
                ix: m.collect_fees(),
            }),
        ),
    ])
}

/// `pda::cheap_job_id` from a few starting ids, for the TypeScript client's `cheapJobId`.
fn cheap_job_ids() -> J {
    let m = market_keys();
    let creator = key(CREATOR);
    J::Arr(
        [0, JOB_ID, 1_700_000_000_000]
            .into_iter()
            .map(|start| {
                obj(vec![
                    ("market", s(m.market)),
                    ("creator", s(creator)),
                    ("start", s(start)),
                    ("id", s(pda::cheap_job_id(&m.market, &creator, start))),
                ])
            })
            .collect(),
    )
}

fn fixtures() -> String {
    let m = market_keys();
    let doc = obj(vec![
        (
            "comment",
            s("Generated by client/tests/fixtures.rs (TESSERA_BLESS=1 cargo test -p tessera-client --test fixtures); do not edit."),
        ),
        ("programId", s(PROGRAM_ID)),
        (
            "marketKeys",
            obj(vec![
                ("mint", s(m.mint)),
                ("founder", s(m.founder)),
                ("token_program", s(m.token_program)),
                ("treasury", s(m.treasury)),
                ("market", s(m.market)),
                ("stake_vault", s(m.stake_vault)),
                ("fee_vault", s(m.fee_vault)),
            ]),
        ),
        ("pdas", pdas()),
        ("customProgram", custom_program()),
        ("cheapJobIds", cheap_job_ids()),
        ("slotStatus", slot_status()),
        // The operator accounts a settlement of the sample job takes: live slots, then the
        // challengers in commitment order.
        ("jobParties", parties_json(&tessera_client::ix::parties(&job()))),
        (
            "instructions",
            J::Arr(instructions().into_iter().map(instruction_json).collect()),
        ),
        (
            "accounts",
            J::Arr(vec![
                account_json("Market", market_json(&market()), borsh_data(&market())),
                account_json("Operator", operator_json(&operator()), borsh_data(&operator())),
                account_json("OperatorRecord", record_json(&record()), borsh_data(&record())),
                account_json("Job", job_json(&job()), zero_copy_data(&job())),
                account_json("Game", game_account_json(&game()), zero_copy_data(&game())),
                account_json(
                    "ProofBuffer",
                    obj(vec![("authority", s(key(VERIFIER)))]),
                    zero_copy_data(&tessera::state::ProofBuffer {
                        authority: key(VERIFIER),
                    }),
                ),
            ]),
        ),
    ]);
    let mut out = String::new();
    doc.write(&mut out, 0);
    out.push('\n');
    out
}

#[test]
fn fixtures_are_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/fixtures.json");
    let fresh = fixtures();
    if std::env::var_os("TESSERA_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale (or missing): run `TESSERA_BLESS=1 cargo test -p tessera-client --test \
         fixtures` and commit the result (then `cd client/ts && npm test`)",
        path.display()
    );
}

/// Every instruction of the IDL has a fixture, and the fixture names are the IDL's.
#[test]
fn fixtures_cover_every_idl_instruction() {
    let idl =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("idl/tessera.json"))
            .unwrap();
    let names: Vec<&str> = instructions().iter().map(|f| f.name).collect();
    // The IDL is pretty-printed JSON (scripts/idl.sh): its instructions' names are the
    // `"name"` keys at depth 3 of its "instructions" array. A scan, not a JSON dependency.
    let section = idl
        .split("\"instructions\": [")
        .nth(1)
        .and_then(|rest| rest.split("\n  \"accounts\": [").next())
        .expect("IDL has an instructions array");
    let idl_names: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("      \"name\": \""))
        .map(|l| {
            l.trim()
                .trim_start_matches("\"name\": \"")
                .trim_end_matches("\",")
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    let mut idl_sorted = idl_names.clone();
    idl_sorted.sort_unstable();
    assert_eq!(
        sorted, idl_sorted,
        "the fixtures must cover exactly the IDL's instructions"
    );
}
