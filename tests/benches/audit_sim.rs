//! Audits, simulated on the real program: one-replica jobs of 64 chunks in a market with the
//! `mainnet` preset's audits (70 % of jobs, 4 chunks, a fee of 10 % of a reward), run in
//! LiteSVM by honest and cheating operators and audited by honest or lazy auditors (a lazy one
//! commits to the operator's own leaves instead of recomputing). Every job goes through the
//! program: create, claim, submit, `draw_audit`, then the audit and the settlement (the
//! arbiter rules a disputed chunk as the truth says). The cheats' chunks come from a fixed seed;
//! the draws from the slot hashes and the jobs' addresses, which fresh keys change from run to
//! run, so the figures move a little between runs.
//!
//! Reports, per strategy, the operator's realised profit over an honest operator's (tokens
//! earned and stake lost, less its compute at 0.7 of the reward for the chunks it computed), the
//! share of cheating jobs caught, and the auditors' compute as a share of the operators'. Writes
//! the table to `docs/benchmarks.md` (between the `audit-simulation` markers).
//!
//! Run: `scripts/build-program.sh && cargo bench --profile dev -p tessera-tests --bench audit_sim`
use std::fmt::Write;
use tessera::instructions::challenger_bit;
use tessera::state::{AuditState, ChallengeStatus, JobState};
use tessera_merkle::{leaf_hash, root_from_leaves, Hash};
use tessera_tests::amounts::*;
use tessera_tests::*;

/// Chunks per job.
const N: u32 = 64;
/// The operators' compute cost for a whole job, as a fraction of the reward.
const COST: f64 = 0.7;

/// splitmix64: the cheats' choice of chunks, from a fixed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `k` distinct chunks of `N`.
    fn chunks(&mut self, k: u32) -> Vec<u32> {
        let mut all: Vec<u32> = (0..N).collect();
        for i in 0..k as usize {
            let j = i + (self.next() % (N as u64 - i as u64)) as usize;
            all.swap(i, j);
        }
        all.truncate(k as usize);
        all
    }
}

struct Strategy {
    name: &'static str,
    /// Chunks faked per job.
    faked: u32,
    /// Whether the auditors copy the operator's leaves.
    lazy: bool,
    jobs: u32,
}

#[derive(Default)]
struct Tally {
    jobs: u32,
    drawn: u32,
    caught: u32,
    /// Tokens the operator gained: earnings, less stake slashed.
    net: i64,
    /// Chunks the operator computed, and the auditors recomputed.
    computed: u64,
    audited: u64,
    auditor_earned: u64,
}

struct Sim {
    env: Env,
    creator: User,
    next_id: u64,
}

impl Sim {
    fn new() -> Self {
        let mut params = audit_params();
        params.min_exec_ms_per_chunk = 0;
        let mut env = Env::with(anchor_spl::token::ID, params);
        let creator = env.user(100_000 * REWARD);
        Sim {
            env,
            creator,
            next_id: 1,
        }
    }

    /// One job: `op` delivers the truth with `faked` chunks changed; `auditor` audits it if the
    /// draw says so. Adds the outcome to `t`.
    fn play(&mut self, op: &User, auditor: &User, faked: &[u32], lazy: bool, t: &mut Tally) {
        let env = &mut self.env;
        let id = self.next_id;
        self.next_id += 1;
        let truth: Vec<Hash> = (0..N)
            .map(|i| leaf_hash(&[&id.to_le_bytes()[..], &i.to_le_bytes()[..]].concat()))
            .collect();
        let mut delivered = truth.clone();
        for &c in faked {
            delivered[c as usize] = leaf_hash(b"not computed");
        }
        let mut args = env.job_args(id, 1, REWARD);
        args.chunk_count = N;
        env.create_job_with(&self.creator, args).unwrap();
        let job = env.keys.job(&self.creator.pubkey(), id);
        let before = env.operator_of(op);
        let auditor_before = env.earned(auditor);
        env.claim(op, job).unwrap();
        env.submit(op, job, root_from_leaves(&delivered)).unwrap();
        env.warp(1);
        env.draw_audit(job).unwrap();
        let j = env.job(&job);
        if j.audit_state() == AuditState::Drawn {
            t.drawn += 1;
            let chunks: Vec<u32> = j.audited_chunks().to_vec();
            let source = if lazy { &delivered } else { &truth };
            let leaves: Vec<Hash> = chunks.iter().map(|&c| source[c as usize]).collect();
            env.commit_audit(auditor, job, &leaves).unwrap();
            env.post_audit_leaves(job, &delivered).unwrap();
            env.reveal_audit(auditor, job, leaves).unwrap();
            if !lazy {
                t.audited += chunks.len() as u64;
            }
            let j = env.job(&job);
            let deadline = j.challenge_reveal_deadline().unwrap();
            env.warp(deadline - env.now() + 1);
            if j.state() == JobState::Disputed {
                // The arbiter recomputes the chunk: the auditor is right.
                assert_eq!(j.challenges[0].status(), ChallengeStatus::Revealed);
                t.caught += 1;
                env.resolve(job, &self.creator, challenger_bit(0)).unwrap();
            } else {
                env.finalize(job, &self.creator).unwrap();
            }
        } else {
            let deadline = j.challenge_deadline;
            env.warp(deadline - env.now() + 1);
            env.finalize(job, &self.creator).unwrap();
        }
        assert_eq!(env.job(&job).state(), JobState::Settled);
        // The creator takes its rent back, as a long-running one would.
        let close = env.keys.close_job(self.creator.pubkey(), job);
        let key = self.creator.key.insecure_clone();
        env.send(&[close], &[&key]).unwrap();
        let after = env.operator_of(op);
        t.jobs += 1;
        t.net += (after.earned as i64 - before.earned as i64)
            + (after.stake as i64 - before.stake as i64);
        t.computed += u64::from(N) - faked.len() as u64;
        t.auditor_earned += env.earned(auditor) - auditor_before;
    }
}

fn main() {
    let strategies = [
        Strategy {
            name: "honest",
            faked: 0,
            lazy: false,
            jobs: 200,
        },
        Strategy {
            name: "fakes 1 chunk",
            faked: 1,
            lazy: false,
            jobs: 800,
        },
        Strategy {
            name: "fakes 8 chunks",
            faked: 8,
            lazy: false,
            jobs: 200,
        },
        Strategy {
            name: "fakes all 64",
            faked: 64,
            lazy: false,
            jobs: 200,
        },
        Strategy {
            name: "fakes 1 chunk, lazy auditors",
            faked: 1,
            lazy: true,
            jobs: 200,
        },
    ];
    let mut sim = Sim::new();
    let mut rng = Rng(0x7e55_e7a5);
    let auditor = sim.env.operator(1_000 * REWARD);
    let mut rows = Vec::new();
    let started = std::time::Instant::now();
    for s in &strategies {
        let op = sim.env.operator(1_000 * REWARD);
        let mut t = Tally::default();
        for _ in 0..s.jobs {
            let faked = rng.chunks(s.faked);
            sim.play(&op, &auditor, &faked, s.lazy, &mut t);
        }
        rows.push((s, t));
    }
    let elapsed = started.elapsed();
    let reward = REWARD as f64;
    let profit = |t: &Tally| {
        (t.net as f64 - COST * reward * t.computed as f64 / f64::from(N))
            / (reward * f64::from(t.jobs))
    };
    let honest = profit(&rows[0].1);
    let mut md = String::new();
    writeln!(
        md,
        "| operator | jobs | drawn | caught | profit per job | over honest | audit compute |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for (s, t) in &rows {
        let cheats = if s.faked > 0 {
            format!(
                "{} ({:.1} %)",
                t.caught,
                100.0 * f64::from(t.caught) / f64::from(t.jobs)
            )
        } else {
            "–".to_string()
        };
        writeln!(
            md,
            "| {} | {} | {} ({:.0} %) | {} | {:+.3} R | {:+.3} R | {:.2} % |",
            s.name,
            t.jobs,
            t.drawn,
            100.0 * f64::from(t.drawn) / f64::from(t.jobs),
            cheats,
            profit(t),
            profit(t) - honest,
            100.0 * t.audited as f64 / (f64::from(t.jobs) * f64::from(N)),
        )
        .unwrap();
    }
    let all: Tally = rows.iter().fold(Tally::default(), |mut a, (_, t)| {
        a.jobs += t.jobs;
        a.drawn += t.drawn;
        a.audited += t.audited;
        a.auditor_earned += t.auditor_earned;
        a
    });
    writeln!(
        md,
        "\n{} jobs, {:.1} s on LiteSVM. Audit compute: the chunks auditors recomputed over the \
         chunks a job has (64 per job); the auditor earned {:.3} R per audit it completed.",
        all.jobs,
        elapsed.as_secs_f64(),
        all.auditor_earned as f64 / reward / f64::from(all.drawn.max(1)),
    )
    .unwrap();
    print!("{md}");
    let fakes_one = &rows[1].1;
    assert!(
        profit(fakes_one) < honest,
        "a cheat on one chunk of 64 must lose money against honesty"
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let (begin, end) = (
        "<!-- audit-simulation:begin -->",
        "<!-- audit-simulation:end -->",
    );
    let section = format!("{begin}\n{md}{end}");
    let doc = match (doc.find(begin), doc.find(end)) {
        (Some(a), Some(z)) => format!("{}{}{}", &doc[..a], section, &doc[z + end.len()..]),
        _ => format!("{doc}\n{section}\n"),
    };
    std::fs::write(&path, doc).unwrap();
    println!("written to docs/benchmarks.md");
}
