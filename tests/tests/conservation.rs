//! Conservation under random use: random sequences of valid and invalid actions (jobs of random
//! size and reward, claims, results that sometimes disagree, challenges, verdicts, timeouts,
//! expiries, disputes left to expire, closed jobs, stake moves, exits, fee collection, clock
//! jumps, tampered settlements, an admin changing the market under running jobs, chunk
//! challenges proven — or refuted, or tampered with — before the on-chain referee) against the
//! real program. Every job is a `gemm-i8` job of one small model, whose replicas deliver its
//! true output or one with a wrong element. After every step:
//! (a) the token accounts hold exactly the supply, and minted − supply (the burn) never shrinks;
//!     fees stay in the fee vault or the treasury (their sum never shrinks);
//! (b) the stake vault holds exactly Σ (stake + unbonding + earned) over the operators;
//! (c) every live job's escrow holds reward × replicas; a settled job's escrow is closed;
//! (d) every operator's `bonded` is the sum of its bonds in live slots and open challenges, and
//!     its `live_claims` their number;
//! (e) a job's terms are those of the market when it was created, whatever the admin did since;
//! and a failed transaction changes no tracked account.
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use proptest::prelude::*;
use tessera::instructions::FraudTarget;
use tessera::state::{Job, JobState, Operator, SlotStatus};
use tessera_client::ix::parties;
use tessera_client::pda;
use tessera_tests::*;

const CREATORS: usize = 2;
const OPERATORS: usize = 4;
const STAKE: u64 = 5_000_000;

#[derive(Clone, Debug)]
enum Action {
    Create {
        creator: usize,
        replicas: u8,
        reward: u64,
        reuse_id: bool,
    },
    Cancel {
        job: usize,
    },
    /// Close the job's account, signed by its creator or by Mallory.
    Close {
        job: usize,
        by_creator: bool,
    },
    /// The next step of the job's normal course: claim by an operator not on it yet, submit,
    /// commit (roots agree unless `agree` is false), reveal, finalize after the window, or
    /// resolve with verdict `mask`.
    Progress {
        job: usize,
        agree: bool,
        mask: u8,
    },
    Claim {
        op: usize,
        job: usize,
    },
    /// Submit (one replica) or commit (more), or the other one when `wrong_kind`. `op` picks
    /// the deliverer as [`World::deliverer`] does.
    Deliver {
        op: usize,
        job: usize,
        root: u8,
        wrong_kind: bool,
    },
    Reveal {
        op: usize,
        job: usize,
        honest: bool,
    },
    /// Commit a whole-root challenge claiming root `[hash; 32]`.
    Challenge {
        op: usize,
        job: usize,
        hash: u8,
    },
    /// Reveal `op`'s committed challenge (with another hash than committed unless `honest`).
    RevealChallenge {
        op: usize,
        job: usize,
        honest: bool,
    },
    /// Commit and reveal a challenge of chunk 1 against the agreed root: right when the root
    /// is the wrong output's, wrong when it is the true one's.
    ChunkChallenge {
        op: usize,
        job: usize,
    },
    /// Prove the job's first revealed chunk challenge to the referee (a proof with a byte
    /// flipped in its input row when `tamper`).
    ProveFraud {
        job: usize,
        tamper: bool,
    },
    /// Prove slot `slot`'s chunk 1 wrong to the referee, as a replica that disagreed with it
    /// would (a proof with a byte flipped in its input row when `tamper`).
    ProveSlot {
        job: usize,
        slot: u8,
        tamper: bool,
    },
    Warp {
        seconds: i64,
    },
    Finalize {
        job: usize,
        tamper: bool,
    },
    Timeout {
        job: usize,
        tamper: bool,
    },
    Expire {
        job: usize,
    },
    Resolve {
        job: usize,
        mask: u8,
        tamper: bool,
    },
    Deposit {
        op: usize,
        amount: u64,
    },
    Unstake {
        op: usize,
        amount: u64,
    },
    Withdraw {
        op: usize,
    },
    Exit {
        op: usize,
    },
    Register {
        op: usize,
    },
    /// Settles a dispute whose deadline passed (the arbiter stayed silent).
    ExpireDispute {
        job: usize,
    },
    CollectFees,
    /// The admin rewrites the market under the running jobs: `hostile` sets the fee and burn
    /// to their caps, the slashes to 100 % and names Mallory arbiter; otherwise it restores
    /// the defaults and the real arbiter.
    UpdateMarket {
        hostile: bool,
    },
}

fn action() -> impl Strategy<Value = Action> {
    let op = 0..OPERATORS;
    // The k-th most recent job: keeps the action on a few jobs so that they get somewhere.
    let job = prop_oneof![6 => Just(0usize), 2 => Just(1), 1 => 2usize..4];
    // A slot of the job (0..3) or an operator (3..), for results.
    let who = prop_oneof![3 => 0usize..3, 1 => 3..3 + OPERATORS];
    let reward = prop_oneof![
        3 => 1_000u64..=2_000_000,
        1 => Just(999u64),                // below the market minimum
        1 => Just(u64::MAX / 2 + 1),      // overflows × replicas, or more than the creator has
    ];
    let replicas = prop_oneof![8 => 1u8..=3, 1 => Just(0u8), 1 => Just(4u8)];
    prop_oneof![
        3 => (0..CREATORS, replicas, reward, prop::bool::weighted(0.1))
            .prop_map(|(creator, replicas, reward, reuse_id)| Action::Create { creator, replicas, reward, reuse_id }),
        1 => job.clone().prop_map(|job| Action::Cancel { job }),
        3 => (job.clone(), prop::bool::weighted(0.8))
            .prop_map(|(job, by_creator)| Action::Close { job, by_creator }),
        20 => (job.clone(), prop::bool::weighted(0.7), 0u8..16)
            .prop_map(|(job, agree, mask)| Action::Progress { job, agree, mask }),
        12 => (op.clone(), job.clone()).prop_map(|(op, job)| Action::Claim { op, job }),
        12 => (who.clone(), job.clone(), 1u8..=2, prop::bool::weighted(0.1))
            .prop_map(|(op, job, root, wrong_kind)| Action::Deliver { op, job, root, wrong_kind }),
        8 => (who, job.clone(), prop::bool::weighted(0.9))
            .prop_map(|(op, job, honest)| Action::Reveal { op, job, honest }),
        3 => (op.clone(), job.clone(), 1u8..=3).prop_map(|(op, job, hash)| Action::Challenge { op, job, hash }),
        3 => (op.clone(), job.clone(), prop::bool::weighted(0.9))
            .prop_map(|(op, job, honest)| Action::RevealChallenge { op, job, honest }),
        3 => (op.clone(), job.clone()).prop_map(|(op, job)| Action::ChunkChallenge { op, job }),
        3 => (job.clone(), prop::bool::weighted(0.2))
            .prop_map(|(job, tamper)| Action::ProveFraud { job, tamper }),
        3 => (job.clone(), 0u8..3, prop::bool::weighted(0.2))
            .prop_map(|(job, slot, tamper)| Action::ProveSlot { job, slot, tamper }),
        6 => prop::sample::select(vec![1i64, 1, 60, 60, 301, 301, 601, 3_601, 86_401, 604_801])
            .prop_map(|seconds| Action::Warp { seconds }),
        6 => (job.clone(), prop::bool::weighted(0.2)).prop_map(|(job, tamper)| Action::Finalize { job, tamper }),
        4 => (job.clone(), prop::bool::weighted(0.2)).prop_map(|(job, tamper)| Action::Timeout { job, tamper }),
        2 => job.clone().prop_map(|job| Action::Expire { job }),
        4 => (job.clone(), 0u8..16, prop::bool::weighted(0.2))
            .prop_map(|(job, mask, tamper)| Action::Resolve { job, mask, tamper }),
        2 => (op.clone(), prop_oneof![1u64..=2_000_000, Just(u64::MAX)])
            .prop_map(|(op, amount)| Action::Deposit { op, amount }),
        2 => (op.clone(), prop_oneof![0u64..=STAKE, Just(u64::MAX)])
            .prop_map(|(op, amount)| Action::Unstake { op, amount }),
        2 => op.clone().prop_map(|op| Action::Withdraw { op }),
        1 => op.clone().prop_map(|op| Action::Exit { op }),
        1 => op.prop_map(|op| Action::Register { op }),
        2 => job.prop_map(|job| Action::ExpireDispute { job }),
        1 => Just(Action::CollectFees),
        1 => prop::bool::ANY.prop_map(|hostile| Action::UpdateMarket { hostile }),
    ]
}

struct JobRef {
    key: Pubkey,
    creator: usize,
    id: u64,
    /// The job's terms as created (they must never change).
    terms: tessera::state::JobTerms,
}

struct World {
    env: Env,
    creators: Vec<User>,
    ops: Vec<User>,
    /// Receives nothing honestly: the target of tampered settlements.
    mallory: User,
    jobs: Vec<JobRef>,
    next_id: u64,
    /// (job, operator) → (root, salt) of a successful commit.
    commits: HashMap<(Pubkey, usize), ([u8; 32], [u8; 32])>,
    /// (job, operator) → the hash of a committed challenge.
    challenges: HashMap<(Pubkey, usize), u8>,
    /// The one model every job runs, its true output chunks and a wrong output (one element
    /// of chunk 1 off by one).
    model: tessera_kernels::quant::QuantModel,
    truth: Vec<Vec<u8>>,
    wrong: Vec<Vec<u8>>,
    /// minted − supply after the previous step.
    burned: u64,
    /// fee vault + treasury after the previous step.
    fees: u64,
}

impl World {
    fn new() -> Self {
        let mut env = Env::new();
        let creators = (0..CREATORS).map(|_| env.user(100_000_000)).collect();
        let ops = (0..OPERATORS)
            .map(|_| {
                // Half the tokens staked, half kept for later deposits.
                let u = env.user(2 * STAKE);
                let ixs = [
                    env.keys.register_operator(u.pubkey(), u32::MAX),
                    env.keys.deposit_stake(u.pubkey(), u.token, STAKE),
                ];
                env.send(&ixs, &[&u.key]).expect("register operator");
                u
            })
            .collect();
        let mallory = env.user(0);
        // 8 rows of 16 inputs to 8 outputs, 2 rows per chunk: the 4 chunks of `job_args`.
        let model = tessera_kernels::benchmark::synthetic_mlp(0xc0de, 8, &[16, 8], 2);
        let truth = quant_chunks(&model);
        let mut wrong = truth.clone();
        wrong[1][5] = wrong[1][5].wrapping_add(1);
        let mut w = World {
            env,
            creators,
            ops,
            mallory,
            jobs: vec![],
            next_id: 1,
            commits: HashMap::new(),
            challenges: HashMap::new(),
            model,
            truth,
            wrong,
            burned: 0,
            fees: 0,
        };
        // Two jobs to start with (one and two replicas), so that every case has work to do.
        for (creator, replicas) in [(0, 1), (1, 2)] {
            let a = Action::Create {
                creator,
                replicas,
                reward: 100_000,
                reuse_id: false,
            };
            assert!(w.step(&a).expect("sent").0.is_ok(), "initial job");
        }
        w
    }

    /// `who` < 3: the operator of a slot of `job` (if it has one); otherwise operator `who` − 3.
    fn deliverer(&self, job: &Job, who: usize) -> usize {
        let slot = (who < 3).then(|| job.assignments[who % job.replicas as usize].operator);
        (0..OPERATORS)
            .find(|&i| Some(self.op_key(i)) == slot)
            .unwrap_or(who.saturating_sub(3) % OPERATORS)
    }

    /// The root a replica delivers for choice `n`: 1 the wrong output's, otherwise the true one's.
    fn root_of(&self, n: u8) -> [u8; 32] {
        tessera_merkle::root_of_chunks(if n == 1 { &self.wrong } else { &self.truth })
    }

    /// Proves chunk 1 (`delivered`) wrong to the referee against `target`, staged by a third
    /// party: a right chunk has no proof, so a changed one's is sent with the chunk as it is
    /// (and with a byte of the input row flipped when `tamper`). Returns the result and whether
    /// it must fail.
    fn prove(
        &mut self,
        job: Pubkey,
        creator: usize,
        target: FraudTarget,
        delivered: &[u8],
        leaf_proof: &[[u8; 32]],
        tamper: bool,
    ) -> (TxResult, bool) {
        let build = |chunk: &[u8]| {
            tessera_client::referee::gemm_fraud_proof(&self.model, target, 1, chunk, leaf_proof)
                .expect("a gemm proof")
        };
        let built = build(delivered);
        let right = built.is_none();
        let mut proof = built.unwrap_or_else(|| {
            let mut changed = delivered.to_vec();
            changed[0] ^= 0x40;
            let mut p = build(&changed).expect("a wrong chunk");
            p.staged[..delivered.len()].copy_from_slice(delivered);
            p
        });
        if tamper {
            let at = proof.args.chunk_len as usize + 1;
            proof.staged[at] ^= 1;
        }
        let prover = self.env.cranker();
        let buffer = self.env.stage(&prover, &proof.staged);
        let creator = &self.creators[creator];
        let r = self.env.prove_fraud(job, creator, buffer, proof.args);
        (r, right || tamper)
    }

    /// The chunks whose root is `root`: the wrong output's or else the true one's.
    fn chunks_of(&self, root: &[u8; 32]) -> &[Vec<u8>] {
        if *root == self.root_of(1) {
            &self.wrong
        } else {
            &self.truth
        }
    }

    fn op_key(&self, i: usize) -> Pubkey {
        self.env.keys.operator(&self.ops[i].pubkey())
    }

    /// Every account whose content a failed transaction must leave alone.
    fn tracked(&self) -> Vec<Pubkey> {
        let k = &self.env.keys;
        let mut v = vec![
            k.market,
            k.mint,
            k.stake_vault,
            k.fee_vault,
            k.treasury,
            self.mallory.token,
        ];
        v.extend(self.creators.iter().map(|u| u.token));
        v.extend(self.ops.iter().map(|u| u.token));
        v.extend((0..OPERATORS).map(|i| self.op_key(i)));
        for j in &self.jobs {
            v.push(j.key);
            v.push(pda::escrow(&j.key).0);
        }
        v
    }

    fn snapshot(&self) -> Vec<Option<(u64, Pubkey, Vec<u8>)>> {
        self.tracked()
            .iter()
            .map(|k| {
                self.env
                    .svm
                    .get_account(k)
                    .filter(|a| a.lamports > 0)
                    .map(|a| (a.lamports, a.owner, a.data))
            })
            .collect()
    }

    fn job(&self, i: usize) -> Option<(Pubkey, usize, Job)> {
        if self.jobs.is_empty() {
            return None;
        }
        let j = &self.jobs[self.jobs.len() - 1 - i % self.jobs.len()];
        Some((j.key, j.creator, self.env.job(&j.key)))
    }

    /// Redirects the operators' pay (the stake vault), the fee (fee vault) or the refund
    /// (creator account) of a settlement to Mallory.
    fn tamper(&self, ix: &mut Instruction, creator_token: Pubkey) {
        let k = &self.env.keys;
        let has = |key: Pubkey| ix.accounts.iter().any(|m| m.pubkey == key);
        let target = if has(k.stake_vault) {
            k.stake_vault
        } else if has(k.fee_vault) {
            k.fee_vault
        } else {
            creator_token
        };
        for m in ix.accounts.iter_mut().filter(|m| m.pubkey == target) {
            m.pubkey = self.mallory.token;
        }
    }

    /// Runs one action. Returns the result of its transaction (None when there was nothing to
    /// send) and whether it must have failed.
    fn step(&mut self, a: &Action) -> Option<(TxResult, bool)> {
        let env = &mut self.env;
        Some(match *a {
            Action::Create {
                creator,
                replicas,
                reward,
                reuse_id,
            } => {
                // Reuse: the id of this creator's last job (fresh when it has none).
                let previous = self
                    .jobs
                    .iter()
                    .rev()
                    .find(|j| j.creator == creator)
                    .map(|j| j.id);
                let id = previous.filter(|_| reuse_id).unwrap_or(self.next_id);
                let mut args = env.job_args(id, replicas, reward);
                args.kernel = tessera::constants::KERNEL_GEMM_I8;
                args.kernel_params = self.model.model_root();
                let r = env.create_job_with(&self.creators[creator], args);
                if r.is_ok() {
                    assert!(id == self.next_id, "job id {id} was reused");
                    let key = env.keys.job(&self.creators[creator].pubkey(), id);
                    let market = env.market();
                    let expected = tessera::state::JobTerms::snapshot(
                        &market.params,
                        market.arbiter_at(env.now()),
                        reward,
                    )
                    .expect("terms");
                    let terms = env.job(&key).terms;
                    assert_eq!(terms, expected, "(e) the terms of a new job");
                    self.jobs.push(JobRef {
                        key,
                        creator,
                        id,
                        terms,
                    });
                    self.next_id += 1;
                }
                (r, false)
            }
            Action::Cancel { job } => {
                let (key, c, _) = self.job(job)?;
                let u = &self.creators[c];
                let ix = self.env.keys.cancel_job(key, u.pubkey(), u.token);
                (self.env.send(&[ix], &[&u.key]), false)
            }
            Action::Close { job, by_creator } => {
                let (key, c, j) = self.job(job)?;
                let u = if by_creator {
                    &self.creators[c]
                } else {
                    &self.mallory
                };
                let ix = self.env.keys.close_job(u.pubkey(), key);
                let r = self.env.send(&[ix], &[&u.key]);
                if r.is_ok() {
                    // Gone for good: later actions pick among the other jobs.
                    assert!(self
                        .env
                        .svm
                        .get_account(&key)
                        .is_none_or(|a| a.lamports == 0));
                    self.jobs.retain(|x| x.key != key);
                }
                let allowed = by_creator && j.state().has_ended();
                assert_eq!(r.is_ok(), allowed, "{a:?} on a {:?} job", j.state());
                (r, !allowed)
            }
            Action::Claim { op, job } => {
                let (key, _, _) = self.job(job)?;
                (self.env.claim(&self.ops[op], key), false)
            }
            Action::Progress { job, agree, mask } => {
                let (key, c, j) = self.job(job)?;
                let slot = |s: SlotStatus| j.slots().iter().position(|a| a.status() == s);
                let now = self.env.now();
                let late = (0..j.replicas as usize)
                    .any(|i| j.slot_deadline(i).ok().flatten().is_some_and(|d| now > d));
                let u = &self.creators[c];
                if late {
                    let ix = self
                        .env
                        .keys
                        .timeout_job(key, u.pubkey(), u.token, &parties(&j));
                    let crank = self.env.cranker();
                    return Some((self.env.send(&[ix], &[&crank]), false));
                }
                if j.state() == JobState::Open && now > j.claim_deadline {
                    let ix = self
                        .env
                        .keys
                        .expire_job(key, u.pubkey(), u.token, &parties(&j));
                    let crank = self.env.cranker();
                    return Some((self.env.send(&[ix], &[&crank]), false));
                }
                match j.state() {
                    JobState::Open => {
                        let op = (0..OPERATORS).find(|&i| j.slot_of(&self.op_key(i)).is_none())?;
                        (self.env.claim(&self.ops[op], key), false)
                    }
                    JobState::Claimed => {
                        let i = slot(SlotStatus::Claimed)?;
                        let op = self.deliverer(&j, i);
                        let root = self.root_of(if agree || i == 0 { 1 } else { 2 });
                        let salt = [op as u8 + 100; 32];
                        if j.replicas == 1 {
                            (self.env.submit(&self.ops[op], key, root), false)
                        } else {
                            let r = self.env.commit(&self.ops[op], key, root, salt);
                            if r.is_ok() {
                                self.commits.insert((key, op), (root, salt));
                            }
                            (r, false)
                        }
                    }
                    JobState::Committed => {
                        let op = self.deliverer(&j, slot(SlotStatus::Committed)?);
                        let (root, salt) =
                            *self.commits.get(&(key, op)).expect("a recorded commit");
                        (self.env.reveal(&self.ops[op], key, root, salt), false)
                    }
                    JobState::Revealed => {
                        let until = if j.has_challenge() {
                            j.challenge_reveal_deadline().expect("deadline")
                        } else {
                            j.challenge_deadline
                        };
                        if self.env.now() <= until {
                            self.env.warp(until - self.env.now() + 1);
                        }
                        let ix = self
                            .env
                            .keys
                            .finalize_job(key, u.pubkey(), u.token, &parties(&j));
                        let crank = self.env.cranker();
                        (self.env.send(&[ix], &[&crank]), false)
                    }
                    JobState::Disputed if now > j.dispute_deadline => {
                        let ix =
                            self.env
                                .keys
                                .expire_dispute(key, u.pubkey(), u.token, &parties(&j));
                        let crank = self.env.cranker();
                        (self.env.send(&[ix], &[&crank]), false)
                    }
                    JobState::Disputed => {
                        if j.has_challenge() {
                            let until = j.challenge_reveal_deadline().expect("deadline");
                            if self.env.now() <= until {
                                self.env.warp(until - self.env.now() + 1);
                            }
                        }
                        let arbiter = self.env.arbiter.insecure_clone();
                        let parties = parties(&j);
                        let ix = self.env.keys.resolve_dispute(
                            arbiter.pubkey(),
                            key,
                            u.pubkey(),
                            u.token,
                            &parties,
                            mask,
                        );
                        (self.env.send(&[ix], &[&arbiter]), false)
                    }
                    _ => return None,
                }
            }
            Action::Deliver {
                op,
                job,
                root,
                wrong_kind,
            } => {
                let (key, _, j) = self.job(job)?;
                let op = self.deliverer(&j, op);
                let salt = [op as u8 + 100; 32];
                let root = self.root_of(root);
                let r = if (j.replicas == 1) != wrong_kind {
                    self.env.submit(&self.ops[op], key, root)
                } else {
                    self.env.commit(&self.ops[op], key, root, salt)
                };
                if r.is_ok() && j.replicas > 1 {
                    self.commits.insert((key, op), (root, salt));
                }
                (r, wrong_kind)
            }
            Action::Reveal { op, job, honest } => {
                let (key, _, j) = self.job(job)?;
                let op = self.deliverer(&j, op);
                let (root, salt) = self
                    .commits
                    .get(&(key, op))
                    .copied()
                    .unwrap_or(([1; 32], [0; 32]));
                let salt = if honest { salt } else { [0xEE; 32] };
                let r = self.env.reveal(&self.ops[op], key, root, salt);
                (r, !honest)
            }
            Action::Challenge { op, job, hash } => {
                let (key, _, _) = self.job(job)?;
                let args = tessera::instructions::ChallengeArgs {
                    chunk: tessera::constants::WHOLE_ROOT,
                    hash: [hash; 32],
                    operator_leaf: [0; 32],
                    proof: vec![],
                };
                let r = self.env.commit_challenge(&self.ops[op], key, &args);
                if r.is_ok() {
                    self.challenges.insert((key, op), hash);
                }
                (r, false)
            }
            Action::RevealChallenge { op, job, honest } => {
                let (key, _, _) = self.job(job)?;
                let committed = self.challenges.get(&(key, op)).copied().unwrap_or(1);
                let hash = if honest { committed } else { committed ^ 0x40 };
                let args = tessera::instructions::ChallengeArgs {
                    chunk: tessera::constants::WHOLE_ROOT,
                    hash: [hash; 32],
                    operator_leaf: [0; 32],
                    proof: vec![],
                };
                let r = self.env.reveal_challenge(&self.ops[op], key, args);
                (r, !honest)
            }
            Action::ChunkChallenge { op, job } => {
                let (key, _, j) = self.job(job)?;
                let delivered = self.chunks_of(&j.agreed_root);
                let leaves: Vec<_> = delivered
                    .iter()
                    .map(|c| tessera_merkle::leaf_hash(c))
                    .collect();
                // The other output's leaf: the truth against a wrong root, a lie against a
                // true one.
                let other = if delivered[1] == self.truth[1] {
                    &self.wrong[1]
                } else {
                    &self.truth[1]
                };
                let args = tessera::instructions::ChallengeArgs {
                    chunk: 1,
                    hash: tessera_merkle::leaf_hash(other),
                    operator_leaf: leaves[1],
                    proof: tessera_merkle::proof(&leaves, 1),
                };
                let op = &self.ops[op];
                (self.env.challenge(op, key, args), false)
            }
            Action::ProveFraud { job, tamper } => {
                let (key, c, j) = self.job(job)?;
                let (k, challenge) = j
                    .challengers()
                    .find(|(_, ch)| ch.is_revealed() && ch.chunk == 1)?;
                let delivered = self.chunks_of(&j.agreed_root)[challenge.chunk as usize].clone();
                let target = FraudTarget::Challenge { index: k as u8 };
                self.prove(key, c, target, &delivered, &[], tamper)
            }
            Action::ProveSlot { job, slot, tamper } => {
                let (key, c, j) = self.job(job)?;
                let accused = j.assignments.get(slot as usize)?;
                let chunks = self.chunks_of(&accused.root).to_vec();
                let leaves: Vec<_> = chunks
                    .iter()
                    .map(|c| tessera_merkle::leaf_hash(c))
                    .collect();
                let target = FraudTarget::Slot { slot, chunk: 1 };
                let leaf_proof = tessera_merkle::proof(&leaves, 1);
                self.prove(key, c, target, &chunks[1], &leaf_proof, tamper)
            }
            Action::Warp { seconds } => {
                env.warp(seconds);
                return None;
            }
            Action::Finalize { job, tamper } | Action::Timeout { job, tamper } => {
                let (key, c, j) = self.job(job)?;
                let u = &self.creators[c];
                let parties = parties(&j);
                let mut ix = if matches!(a, Action::Finalize { .. }) {
                    self.env
                        .keys
                        .finalize_job(key, u.pubkey(), u.token, &parties)
                } else {
                    self.env
                        .keys
                        .timeout_job(key, u.pubkey(), u.token, &parties)
                };
                if tamper {
                    self.tamper(&mut ix, u.token);
                }
                let crank = self.env.cranker();
                (self.env.send(&[ix], &[&crank]), tamper)
            }
            Action::Expire { job } => {
                let (key, c, j) = self.job(job)?;
                let u = &self.creators[c];
                let ix = self
                    .env
                    .keys
                    .expire_job(key, u.pubkey(), u.token, &parties(&j));
                let crank = self.env.cranker();
                (self.env.send(&[ix], &[&crank]), false)
            }
            Action::Resolve { job, mask, tamper } => {
                let (key, c, j) = self.job(job)?;
                let u = &self.creators[c];
                let parties = parties(&j);
                let arbiter = self.env.arbiter.insecure_clone();
                let mut ix = self.env.keys.resolve_dispute(
                    arbiter.pubkey(),
                    key,
                    u.pubkey(),
                    u.token,
                    &parties,
                    mask,
                );
                if tamper {
                    self.tamper(&mut ix, u.token);
                }
                (self.env.send(&[ix], &[&arbiter]), tamper)
            }
            Action::Deposit { op, amount } => {
                let u = &self.ops[op];
                let ix = env.keys.deposit_stake(u.pubkey(), u.token, amount);
                (env.send(&[ix], &[&u.key]), false)
            }
            Action::Unstake { op, amount } => {
                let u = &self.ops[op];
                let ix = env.keys.request_unstake(u.pubkey(), amount);
                (env.send(&[ix], &[&u.key]), amount == 0)
            }
            Action::Withdraw { op } => {
                let u = &self.ops[op];
                let ix = env.keys.withdraw_stake(u.pubkey(), u.token);
                (env.send(&[ix], &[&u.key]), false)
            }
            Action::Exit { op } => {
                let u = &self.ops[op];
                let ix = env.keys.exit_operator(u.pubkey());
                (env.send(&[ix], &[&u.key]), false)
            }
            Action::Register { op } => {
                let u = &self.ops[op];
                let exists = env
                    .account::<Operator>(&env.keys.operator(&u.pubkey()))
                    .is_some();
                let ix = env.keys.register_operator(u.pubkey(), u32::MAX);
                (env.send(&[ix], &[&u.key]), exists)
            }
            Action::ExpireDispute { job } => {
                let (key, c, j) = self.job(job)?;
                let u = &self.creators[c];
                let ix = self
                    .env
                    .keys
                    .expire_dispute(key, u.pubkey(), u.token, &parties(&j));
                let crank = self.env.cranker();
                (self.env.send(&[ix], &[&crank]), false)
            }
            Action::CollectFees => {
                let ix = env.keys.collect_fees();
                let crank = env.cranker();
                (env.send(&[ix], &[&crank]), false)
            }
            Action::UpdateMarket { hostile } => {
                let mut params = default_params();
                let mut arbiter = env.arbiter.pubkey();
                if hostile {
                    params.protocol_fee_bps = 2_000;
                    params.burn_bps = 0;
                    params.slash_no_show_bps = 10_000;
                    params.slash_fraud_bps = 10_000;
                    params.creator_compensation_bps = 0;
                    params.honest_share_bps = 10_000;
                    params.collateral_bps = 50_000;
                    params.reveal_window = 1;
                    params.challenge_window = 1;
                    arbiter = self.mallory.pubkey();
                }
                let args = tessera::instructions::UpdateMarketArgs {
                    admin: env.admin.pubkey(),
                    arbiter,
                    params,
                };
                let admin = env.admin.insecure_clone();
                let ix = env
                    .keys
                    .update_market(admin.pubkey(), args, env.keys.treasury);
                (env.send(&[ix], &[&admin]), false)
            }
        })
    }

    fn check_invariants(&mut self, what: &Action) {
        let env = &self.env;
        let k = env.keys;
        let balance = |key: &Pubkey| -> u128 {
            match env.svm.get_account(key) {
                Some(a) if a.lamports > 0 => env.balance(key) as u128,
                _ => 0,
            }
        };

        // (a) Every token of the mint is in a tracked account; the burn only grows.
        let mut accounts = vec![k.stake_vault, k.fee_vault, k.treasury, self.mallory.token];
        accounts.extend(self.creators.iter().map(|u| u.token));
        accounts.extend(self.ops.iter().map(|u| u.token));
        accounts.extend(self.jobs.iter().map(|j| pda::escrow(&j.key).0));
        let held: u128 = accounts.iter().map(balance).sum();
        let supply = env.supply();
        assert_eq!(
            held, supply as u128,
            "(a) balances != supply after {what:?}"
        );
        let burned = env
            .minted
            .checked_sub(supply)
            .expect("(a) supply above minted");
        assert!(burned >= self.burned, "(a) burned shrank after {what:?}");
        self.burned = burned;
        let fees = env.balance(&k.fee_vault) + env.balance(&k.treasury);
        assert!(
            fees >= self.fees,
            "(a) fees left the fee vault and treasury after {what:?}"
        );
        self.fees = fees;

        // (b) The vault holds every operator's stake and unbonding, nothing more or less.
        let ops: Vec<(Pubkey, Option<Operator>)> = (0..OPERATORS)
            .map(|i| {
                let key = self.op_key(i);
                (key, env.account::<Operator>(&key))
            })
            .collect();
        let staked: u128 = ops
            .iter()
            .flat_map(|(_, o)| o)
            .map(|o| o.stake as u128 + o.unbonding as u128 + o.earned as u128)
            .sum();
        assert_eq!(
            balance(&k.stake_vault),
            staked,
            "(b) vault != Σ stake + unbonding + earned after {what:?}"
        );

        // (c) Live escrows hold reward × replicas; settled ones are closed.
        let mut bonds: HashMap<Pubkey, (u64, u32)> = HashMap::new();
        for jr in &self.jobs {
            let job = env.job(&jr.key);
            assert_eq!(
                job.terms, jr.terms,
                "(e) a job's terms changed after {what:?}"
            );
            let escrow = pda::escrow(&jr.key).0;
            let live = matches!(
                job.state(),
                JobState::Open
                    | JobState::Claimed
                    | JobState::Committed
                    | JobState::Revealed
                    | JobState::Disputed
            );
            if live {
                let expected = job.reward_per_replica as u128 * job.replicas as u128;
                assert_eq!(
                    balance(&escrow),
                    expected,
                    "(c) escrow of a {:?} job after {what:?}",
                    job.state()
                );
                for (_, a) in job.settlement_slots() {
                    let b = bonds.entry(a.operator).or_default();
                    b.0 += a.bond;
                    b.1 += 1;
                }
                for (_, c) in job.challengers() {
                    let b = bonds.entry(c.challenger).or_default();
                    b.0 += c.bond;
                    b.1 += 1;
                }
            } else {
                assert!(
                    env.svm.get_account(&escrow).is_none_or(|a| a.lamports == 0),
                    "(c) escrow of a {:?} job still open after {what:?}",
                    job.state()
                );
            }
        }

        // (d) Bonds: what the operator has locked is what live jobs hold of it.
        for (key, o) in &ops {
            let (expected, claims) = bonds.get(key).copied().unwrap_or((0, 0));
            match o {
                Some(o) => {
                    assert_eq!(o.bonded, expected, "(d) bonded of {key} after {what:?}");
                    assert_eq!(
                        o.live_claims, claims,
                        "(d) live claims of {key} after {what:?}"
                    );
                    assert!(o.bonded <= o.stake, "(d) bonded above stake after {what:?}");
                }
                None => assert_eq!(
                    expected, 0,
                    "(d) a closed operator holds bonds after {what:?}"
                ),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn tokens_are_conserved_under_random_use(actions in prop::collection::vec(action(), 10..=40)) {
        let mut w = World::new();
        w.check_invariants(&Action::Warp { seconds: 0 });
        for a in &actions {
            let before = w.snapshot();
            if let Some((result, must_fail)) = w.step(a) {
                if result.is_err() {
                    prop_assert!(w.snapshot() == before, "failed {:?} changed an account", a);
                } else {
                    prop_assert!(!must_fail, "{:?} should have failed", a);
                }
            }
            w.check_invariants(a);
        }
    }
}

/// The referee's paths, scripted through the same steps and invariants as the random runs: a
/// wrong agreed root convicted, a true one not (nor with a tampered proof).
#[test]
fn referee_settlements_conserve_tokens() {
    for (agreed, convicted) in [(1u8, true), (2, false)] {
        let mut w = World::new();
        let script = [
            Action::Create {
                creator: 0,
                replicas: 2,
                reward: 100_000,
                reuse_id: false,
            },
            Action::Claim { op: 0, job: 0 },
            Action::Claim { op: 1, job: 0 },
            Action::Deliver {
                op: 0,
                job: 0,
                root: agreed,
                wrong_kind: false,
            },
            Action::Deliver {
                op: 1,
                job: 0,
                root: agreed,
                wrong_kind: false,
            },
            Action::Reveal {
                op: 0,
                job: 0,
                honest: true,
            },
            Action::Reveal {
                op: 1,
                job: 0,
                honest: true,
            },
            Action::ChunkChallenge { op: 2, job: 0 },
            // Past the challenge window and the reveal window after it.
            Action::Warp { seconds: 3_601 },
            Action::ProveFraud {
                job: 0,
                tamper: true,
            },
            Action::ProveFraud {
                job: 0,
                tamper: false,
            },
        ];
        let mut outcomes = vec![];
        for a in &script {
            let before = w.snapshot();
            if let Some((result, must_fail)) = w.step(a) {
                if result.is_err() {
                    assert!(w.snapshot() == before, "failed {a:?} changed an account");
                } else {
                    assert!(!must_fail, "{a:?} should have failed");
                }
                outcomes.push(result.is_ok());
            }
            w.check_invariants(a);
        }
        // Every step up to the proofs landed; the tampered proof never does; the genuine one
        // only against the wrong root.
        let n = outcomes.len();
        assert!(outcomes[..n - 2].iter().all(|&ok| ok), "{outcomes:?}");
        assert_eq!(&outcomes[n - 2..], &[false, convicted]);
        let job = w.env.job(&w.jobs.last().unwrap().key);
        let want = if convicted {
            JobState::Settled
        } else {
            JobState::Disputed
        };
        assert_eq!(job.state(), want);
    }
}

/// The referee's path for replicas that disagree, scripted through the same steps and
/// invariants: the true replica cannot be convicted, a tampered proof never lands, and the wrong
/// replica is convicted and the job settled.
#[test]
fn referee_slot_settlements_conserve_tokens() {
    let mut w = World::new();
    let script = [
        Action::Create {
            creator: 0,
            replicas: 2,
            reward: 100_000,
            reuse_id: false,
        },
        Action::Claim { op: 0, job: 0 },
        Action::Claim { op: 1, job: 0 },
        // Slot 0 delivers the wrong output, slot 1 the true one.
        Action::Deliver {
            op: 0,
            job: 0,
            root: 1,
            wrong_kind: false,
        },
        Action::Deliver {
            op: 1,
            job: 0,
            root: 2,
            wrong_kind: false,
        },
        Action::Reveal {
            op: 0,
            job: 0,
            honest: true,
        },
        Action::Reveal {
            op: 1,
            job: 0,
            honest: true,
        },
        Action::ProveSlot {
            job: 0,
            slot: 1,
            tamper: false,
        },
        Action::ProveSlot {
            job: 0,
            slot: 0,
            tamper: true,
        },
        Action::ProveSlot {
            job: 0,
            slot: 0,
            tamper: false,
        },
    ];
    let mut outcomes = vec![];
    for a in &script {
        let before = w.snapshot();
        if let Some((result, must_fail)) = w.step(a) {
            if result.is_err() {
                assert!(w.snapshot() == before, "failed {a:?} changed an account");
            } else {
                assert!(!must_fail, "{a:?} should have failed");
            }
            outcomes.push(result.is_ok());
        }
        w.check_invariants(a);
    }
    let n = outcomes.len();
    assert!(outcomes[..n - 3].iter().all(|&ok| ok), "{outcomes:?}");
    assert_eq!(&outcomes[n - 3..], &[false, false, true]);
    let job = w.env.job(&w.jobs.last().unwrap().key);
    assert_eq!((job.state(), job.convicted), (JobState::Settled, 0b01));
}
