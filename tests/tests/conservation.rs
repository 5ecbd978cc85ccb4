//! Conservation under random use: random sequences of valid and invalid actions (jobs of random
//! size and reward, claims, results that sometimes disagree, challenges, verdicts, timeouts,
//! expiries, disputes left to expire, closed jobs, stake moves, exits, fee collection, clock
//! jumps, tampered settlements, an admin changing the market under running jobs, chunk
//! challenges proven — or refuted, or tampered with — before the on-chain referee, and the
//! referee's game played on `mlp-i8` jobs whose replicas disagree or whose agreed root a
//! verifier challenged: each move by the party that owes it or by the other one, honest or
//! corrupted, games ended when a party is late, jobs settled by the referee or left to expire,
//! and protocol audits: drawn, taken by honest or lazy auditors, answered or withheld, revealed
//! truly or falsely, convicted) against the real program, in a market that audits half its jobs. A job is a `gemm-i8` job
//! of one small model, whose replicas deliver its true output or one with a wrong element, or an
//! `mlp-i8` job of a three-layer model, whose replicas deliver its true output or one of two
//! cheats (one element changed in layer 1 or in layer 2 of one row). After every step:
//! (a) the token accounts hold exactly the supply, and minted − supply (the burn) never shrinks;
//!     fees stay in the fee vault or the treasury (their sum never shrinks);
//! (b) the stake vault holds exactly Σ (stake + unbonding + earned) over the operators;
//! (c) every live job's escrow holds reward × replicas and its audit fee; a settled job's
//!     escrow is closed;
//! (d) every operator's `bonded` is the sum of its bonds in live slots and open challenges, and
//!     its `live_claims` their number;
//! (e) a job's terms are those of the market when it was created, whatever the admin did since;
//! (f) a job's `open_games` is the number of its game accounts; a game's revealed rows are in a
//!     buffer locked to it (until it ends, when both accounts close);
//! and a failed transaction changes no tracked account (games and their rows buffers included).
//! A game ends as its moves say: a late defender is convicted, a late accuser convicts nobody,
//! and the true replica is never proven wrong.
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::Discriminator;
use proptest::prelude::*;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use tessera::constants::{MAX_CHALLENGERS, MAX_REPLICAS};
use tessera::instructions::{Accuser, FraudTarget};
use tessera::state::{GamePhase, Job, JobState, Operator, ProofBuffer, SlotStatus};
use tessera_client::ix::parties;
use tessera_client::pda;
use tessera_client::referee::{chain_hashes, open_game_args, pick, read_revealed, step_proof};
use tessera_kernels::quant::{ModelCommitment, QuantModel};
use tessera_tests::*;

/// The market: the preset's shares and half of the jobs audited on 2 of their chunks.
fn market_params() -> tessera::state::MarketParams {
    tessera::state::MarketParams {
        audit_rate_bps: 5_000,
        audit_chunks: 2,
        ..audit_params()
    }
}

const CREATORS: usize = 2;
const OPERATORS: usize = 4;
const STAKE: u64 = 5_000_000;

#[derive(Clone, Debug)]
enum Action {
    /// A `gemm-i8` job, or an `mlp-i8` one when `mlp`.
    Create {
        creator: usize,
        replicas: u8,
        reward: u64,
        reuse_id: bool,
        mlp: bool,
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
    /// The next move of the referee's game in which slot `defender` of an `mlp-i8` job is
    /// accused by `accuser` ([`World::game_pair`]: another slot, or a challenger; or an open
    /// game of the job, whatever its parties): `open_game` on the first row where their outputs
    /// differ (in the challenged chunk, for a challenger, which computes the true rows), then
    /// `post_chain`, `pick_layer`, `reveal_rows` or `prove_step` as the game's phase asks, from
    /// the parties' own rows. Signed by the party that owes the move, or by the other one when
    /// `wrong_party` (refused; `prove_step` is anyone's: then sent by the defender itself).
    /// With `corrupt`: a layer root changed in
    /// `open_game` (refused); a hash of the chain changed (it lands, and the defender cannot
    /// reveal that link); another layer picked than the first wrong one (it lands, and the
    /// accuser may have nothing to prove); a byte of the revealed rows flipped (refused); a
    /// byte of the proof's weight row flipped (refused). A link that is right is "proven" with
    /// a forged output (refused).
    GameMove {
        job: usize,
        defender: u8,
        accuser: u8,
        wrong_party: bool,
        corrupt: bool,
    },
    /// Ends that game (anyone), after moving the clock past its deadline when `late`.
    EndGame {
        job: usize,
        defender: u8,
        accuser: u8,
        late: bool,
    },
    /// Settles the job once the referee's convictions decide it (anyone), tampered with as
    /// `Finalize` is.
    SettleReferee {
        job: usize,
        tamper: bool,
    },
    /// Draw the job's audit (anyone).
    DrawAudit {
        job: usize,
    },
    /// `op` takes the job's audit, committed to the true leaves of the drawn chunks (of chunks
    /// 1 and 3, a volunteer's audit, when the job was not drawn), or to the delivered ones (a
    /// lazy auditor) unless `honest`.
    CommitAudit {
        op: usize,
        job: usize,
        honest: bool,
    },
    /// Post the delivered leaves of the audit's drawn chunks not posted yet (anyone), or only
    /// the next one when `one`.
    PostAuditLeaves {
        job: usize,
        one: bool,
    },
    /// The auditor reveals what it committed to (other leaves when not `honest`).
    RevealAudit {
        job: usize,
        honest: bool,
    },
    /// Convict the replicas of a job whose audited leaves were withheld (anyone), tampered with
    /// as `Finalize` is.
    ConvictWithheld {
        job: usize,
        tamper: bool,
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
        3 => (0..CREATORS, replicas, reward, prop::bool::weighted(0.1), prop::bool::weighted(0.3))
            .prop_map(|(creator, replicas, reward, reuse_id, mlp)| Action::Create { creator, replicas, reward, reuse_id, mlp }),
        1 => job.clone().prop_map(|job| Action::Cancel { job }),
        3 => (job.clone(), prop::bool::weighted(0.8))
            .prop_map(|(job, by_creator)| Action::Close { job, by_creator }),
        20 => (job.clone(), prop::bool::weighted(0.7), 0u8..16)
            .prop_map(|(job, agree, mask)| Action::Progress { job, agree, mask }),
        12 => (op.clone(), job.clone()).prop_map(|(op, job)| Action::Claim { op, job }),
        12 => (who.clone(), job.clone(), 1u8..=3, prop::bool::weighted(0.1))
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
        1 => op.clone().prop_map(|op| Action::Register { op }),
        2 => job.clone().prop_map(|job| Action::ExpireDispute { job }),
        1 => Just(Action::CollectFees),
        3 => job.clone().prop_map(|job| Action::DrawAudit { job }),
        3 => (op.clone(), job.clone(), prop::bool::weighted(0.8))
            .prop_map(|(op, job, honest)| Action::CommitAudit { op, job, honest }),
        3 => (job.clone(), prop::bool::weighted(0.3))
            .prop_map(|(job, one)| Action::PostAuditLeaves { job, one }),
        3 => (job.clone(), prop::bool::weighted(0.9))
            .prop_map(|(job, honest)| Action::RevealAudit { job, honest }),
        1 => (job.clone(), prop::bool::weighted(0.2))
            .prop_map(|(job, tamper)| Action::ConvictWithheld { job, tamper }),
        1 => prop::bool::ANY.prop_map(|hostile| Action::UpdateMarket { hostile }),
        4 => game_action(job),
    ]
}

/// A move of a referee game, the end of one or the referee's settlement, on a job drawn by
/// `job`.
fn game_action(job: impl Strategy<Value = usize> + Clone) -> impl Strategy<Value = Action> {
    let slot = 0u8..MAX_REPLICAS;
    // Another slot, or a challenger.
    let accuser = prop_oneof![
        3 => 0u8..MAX_REPLICAS,
        2 => Just(MAX_REPLICAS),
        1 => MAX_REPLICAS + 1..MAX_REPLICAS + MAX_CHALLENGERS,
        6 => Just(OPEN_GAME),
    ];
    prop_oneof![
        12 => (job.clone(), slot.clone(), accuser.clone(), prop::bool::weighted(0.1), prop::bool::weighted(0.15))
            .prop_map(|(job, defender, accuser, wrong_party, corrupt)| Action::GameMove { job, defender, accuser, wrong_party, corrupt }),
        2 => (job.clone(), slot, accuser, prop::bool::weighted(0.5))
            .prop_map(|(job, defender, accuser, late)| Action::EndGame { job, defender, accuser, late }),
        1 => (job, prop::bool::weighted(0.2)).prop_map(|(job, tamper)| Action::SettleReferee { job, tamper }),
    ]
}

struct JobRef {
    key: Pubkey,
    creator: usize,
    id: u64,
    /// The job's terms as created (they must never change).
    terms: tessera::state::JobTerms,
}

/// The model of the `mlp-i8` jobs (8 rows of 16 inputs through 12 and 10 features to 8
/// outputs, 2 rows per chunk), its commitment, and the replicas a root choice stands for
/// ([`World::root_of`]): `replicas[0]` the true rows, `[1]` a cheat in layer 2 of row 5, `[2]`
/// a cheat in layer 1 of row 2.
struct Mlp {
    model: QuantModel,
    commitment: ModelCommitment,
    replicas: [MlpReplica; 3],
    chunks: [Vec<Vec<u8>>; 3],
    roots: [[u8; 32]; 3],
}

impl Mlp {
    fn new() -> Self {
        let model = tessera_kernels::benchmark::synthetic_mlp(0x3a1e, 8, &[16, 12, 10, 8], 2);
        let replicas = [
            MlpReplica::honest(&model),
            MlpReplica::cheat(&model, 5, 2, 3),
            MlpReplica::cheat(&model, 2, 1, -5),
        ];
        let chunks = [0, 1, 2].map(|i| replicas[i].chunks(&model));
        let roots = [0, 1, 2].map(|i| tessera_merkle::root_of_chunks(&chunks[i]));
        assert!(roots[0] != roots[1] && roots[0] != roots[2] && roots[1] != roots[2]);
        Self {
            commitment: model.commitment(),
            model,
            replicas,
            chunks,
            roots,
        }
    }

    /// The replica that delivered `root`.
    fn replica(&self, root: &[u8; 32]) -> Option<usize> {
        self.roots.iter().position(|r| r == root)
    }
}

/// An action's `accuser` that names an open game of the job (its parties, whoever they are:
/// the `defender`-th one, counting around).
const OPEN_GAME: u8 = u8::MAX;

/// The parties of the game an action names on `job`: slot `defender` modulo its replicas, and
/// for `accuser` below `MAX_REPLICAS` another slot (modulo its replicas, moved off the
/// defender's; none for a job of one replica), else challenge `accuser − MAX_REPLICAS`.
fn game_pair(job: &Job, defender: u8, accuser: u8) -> Option<(u8, Accuser)> {
    let n = job.replicas.max(1);
    let d = defender % n;
    let Some(index) = accuser.checked_sub(MAX_REPLICAS) else {
        let a = accuser % n;
        return (n > 1).then_some((
            d,
            Accuser::Slot {
                slot: if a == d { (a + 1) % n } else { a },
            },
        ));
    };
    Some((d, Accuser::Challenger { index }))
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
    /// job → the leaves its auditor committed to.
    audits: HashMap<Pubkey, Vec<[u8; 32]>>,
    /// The one model every job runs, its true output chunks and a wrong output (one element
    /// of chunk 1 off by one).
    model: tessera_kernels::quant::QuantModel,
    truth: Vec<Vec<u8>>,
    wrong: Vec<Vec<u8>>,
    /// The `mlp-i8` jobs' model.
    mlp: Mlp,
    /// Jobs whose accounts were closed.
    closed: Vec<Pubkey>,
    /// minted − supply after the previous step.
    burned: u64,
    /// fee vault + treasury after the previous step.
    fees: u64,
}

impl World {
    fn new() -> Self {
        let mut env = Env::with(anchor_spl::token::ID, market_params());
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
        let mlp = Mlp::new();
        let mut w = World {
            env,
            creators,
            ops,
            mallory,
            jobs: vec![],
            next_id: 1,
            commits: HashMap::new(),
            challenges: HashMap::new(),
            audits: HashMap::new(),
            model,
            truth,
            wrong,
            mlp,
            closed: vec![],
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
                mlp: false,
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

    /// The root a replica of `job` delivers for choice `n`: 1 the wrong output's, otherwise the
    /// true one's; for an `mlp-i8` job, 3 the second cheat's.
    fn root_of(&self, job: &Job, n: u8) -> [u8; 32] {
        if job.kernel == tessera::constants::KERNEL_MLP_I8 {
            return self.mlp.roots[match n {
                1 => 1,
                3 => 2,
                _ => 0,
            }];
        }
        tessera_merkle::root_of_chunks(if n == 1 { &self.wrong } else { &self.truth })
    }

    /// [`game_pair`], or for [`OPEN_GAME`] the parties of the `defender`-th open game of `job`
    /// (`key`), counting around.
    fn game_pair(
        &self,
        key: &Pubkey,
        job: &Job,
        defender: u8,
        accuser: u8,
    ) -> Option<(u8, Accuser)> {
        if accuser != OPEN_GAME {
            return game_pair(job, defender, accuser);
        }
        let open: Vec<_> = (self.game_keys(key).iter())
            .filter_map(|g| self.env.game(g))
            .collect();
        let game = open.get(defender as usize % open.len().max(1))?;
        let accuser = match game.accuser_id.checked_sub(MAX_REPLICAS) {
            Some(index) => Accuser::Challenger { index },
            None => Accuser::Slot {
                slot: game.accuser_id,
            },
        };
        Some((game.defender_slot, accuser))
    }

    /// The game slot `defender` of `job` plays against `accuser`.
    fn game_key(&self, job: &Pubkey, defender: u8, accuser: Accuser) -> Pubkey {
        self.env.keys.pdas().game(job, defender, accuser.id()).0
    }

    /// The games `job` may have: one per slot and accuser (another slot, or a challenger).
    fn game_keys(&self, job: &Pubkey) -> Vec<Pubkey> {
        (0..MAX_REPLICAS)
            .flat_map(|d| (0..MAX_REPLICAS + MAX_CHALLENGERS).map(move |a| (d, a)))
            .filter(|(d, a)| d != a)
            .map(|(d, a)| self.env.keys.pdas().game(job, d, a).0)
            .collect()
    }

    /// The operator (index into `ops`) of `accuser` in `job`, and the replica whose rows it
    /// holds (a challenger computes the true ones).
    fn accuser_of(&self, job: &Job, accuser: Accuser) -> Option<(usize, usize)> {
        match accuser {
            Accuser::Slot { slot } => Some((
                self.slot_op(job, slot)?,
                self.mlp.replica(&job.assignments[slot as usize].root)?,
            )),
            Accuser::Challenger { index } => {
                let key = job.challenges.get(index as usize)?.challenger;
                Some(((0..OPERATORS).find(|&i| self.op_key(i) == key)?, 0))
            }
        }
    }

    /// The operator (index into `ops`) holding slot `slot` of `job`.
    fn slot_op(&self, job: &Job, slot: u8) -> Option<usize> {
        let key = job.assignments.get(slot as usize)?.operator;
        (0..OPERATORS).find(|&i| self.op_key(i) == key)
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

    /// The chunks whose root is `root`: an `mlp-i8` replica's, the wrong output's or else the
    /// true one's.
    fn chunks_of(&self, root: &[u8; 32]) -> &[Vec<u8>] {
        if let Some(i) = self.mlp.replica(root) {
            &self.mlp.chunks[i]
        } else if *root == tessera_merkle::root_of_chunks(&self.wrong) {
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
            for game in self.game_keys(&j.key) {
                v.push(game);
                if let Some(g) = self.env.game(&game) {
                    v.extend(Some(g.rows_buffer).filter(|b| *b != Pubkey::default()));
                }
            }
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
                mlp,
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
                if mlp {
                    args.kernel = tessera::constants::KERNEL_MLP_I8;
                    args.kernel_params = self.mlp.commitment.root();
                    args.chunk_count = self.mlp.model.chunk_count();
                } else {
                    args.kernel = tessera::constants::KERNEL_GEMM_I8;
                    args.kernel_params = self.model.model_root();
                }
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
                    self.closed.push(key);
                }
                // Never while a game is open: it would outlive its job
                // (`a_game_never_judges_a_job_created_after_its_own`).
                let allowed = by_creator && j.state().has_ended() && j.open_games == 0;
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
                        let root = self.root_of(&j, if agree || i == 0 { 1 } else { 2 });
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
                let root = self.root_of(&j, root);
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
                let (truth, wrong) = if j.kernel == tessera::constants::KERNEL_MLP_I8 {
                    (&self.mlp.chunks[0][1], &self.mlp.chunks[2][1])
                } else {
                    (&self.truth[1], &self.wrong[1])
                };
                let other = if delivered[1] == *truth { wrong } else { truth };
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
            Action::DrawAudit { job } => {
                let (key, _, _) = self.job(job)?;
                (self.env.draw_audit(key), false)
            }
            Action::CommitAudit { op, job, honest } => {
                let (key, _, j) = self.job(job)?;
                let source: Vec<Vec<u8>> = if !honest {
                    self.chunks_of(&j.agreed_root).to_vec()
                } else if j.kernel == tessera::constants::KERNEL_MLP_I8 {
                    self.mlp.chunks[0].clone()
                } else {
                    self.truth.clone()
                };
                // A drawn job's chunks, or a volunteer's (chunk 1 is the wrong output's).
                let chunks = if j.audit_state() == tessera::state::AuditState::Drawn {
                    j.audited_chunks().to_vec()
                } else {
                    vec![1, 3]
                };
                let leaves: Vec<[u8; 32]> = chunks
                    .iter()
                    .map(|&c| tessera_merkle::leaf_hash(&source[c as usize]))
                    .collect();
                let named = if j.audit_state() == tessera::state::AuditState::Drawn {
                    vec![]
                } else {
                    chunks
                };
                let result = self.env.volunteer_audit(&self.ops[op], key, &leaves, named);
                if result.is_ok() {
                    self.audits.insert(key, leaves);
                }
                (result, false)
            }
            Action::PostAuditLeaves { job, one } => {
                let (key, _, j) = self.job(job)?;
                let leaves: Vec<[u8; 32]> = self
                    .chunks_of(&j.agreed_root)
                    .iter()
                    .map(|c| tessera_merkle::leaf_hash(c))
                    .collect();
                let k = j.audit_index()?;
                let n = j.challenges[k].leaves_posted as usize;
                let chunk = *j.audited_chunks().get(n)? as usize;
                if one {
                    let ix = self.env.keys.post_audit_leaf(
                        key,
                        leaves[chunk],
                        tessera_merkle::proof(&leaves, chunk),
                    );
                    let crank = self.env.cranker();
                    (self.env.send(&[ix], &[&crank]), false)
                } else {
                    (self.env.post_audit_leaves(key, &leaves), false)
                }
            }
            Action::RevealAudit { job, honest } => {
                let (key, _, j) = self.job(job)?;
                let k = j.audit_index()?;
                let auditor = j.challenges[k].challenger;
                let op = (0..OPERATORS).find(|&i| self.op_key(i) == auditor)?;
                let mut leaves = self.audits.get(&key)?.clone();
                if !honest {
                    leaves[0][0] ^= 1;
                }
                let op = &self.ops[op];
                (self.env.reveal_audit(op, key, leaves), !honest)
            }
            Action::ConvictWithheld { job, tamper } => {
                let (key, c, j) = self.job(job)?;
                let u = &self.creators[c];
                let mut ix = self
                    .env
                    .keys
                    .convict_withheld(key, u.pubkey(), u.token, &parties(&j));
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
            Action::GameMove {
                job,
                defender,
                accuser,
                wrong_party,
                corrupt,
            } => {
                let (key, _, j) = self.job(job)?;
                let (d, acc) = self.game_pair(&key, &j, defender, accuser)?;
                let dr = self.mlp.replica(&j.assignments[d as usize].root)?;
                let dop = self.slot_op(&j, d)?;
                let (aop, ar) = self.accuser_of(&j, acc)?;
                let game = self.game_key(&key, d, acc);
                let Some(g) = self.env.game(&game) else {
                    // The first row where the two outputs differ (none: the first), of the
                    // challenged chunk for a challenger.
                    let model = &self.mlp.model;
                    let rows = match acc {
                        Accuser::Challenger { index }
                            if j.challenges[index as usize].chunk < model.chunk_count() =>
                        {
                            let (s, e) = model.chunk_rows(j.challenges[index as usize].chunk);
                            s..e
                        }
                        _ => 0..model.rows,
                    };
                    let last = |r: usize, m: usize| self.mlp.replicas[r].rows[m].last().cloned();
                    let row = (rows.clone())
                        .find(|&m| last(dr, m) != last(ar, m))
                        .unwrap_or(rows.start);
                    let mut args = open_game_args(&self.mlp.commitment, d, acc, row as u32);
                    if corrupt {
                        args.layer_roots[1][0] ^= 1;
                    }
                    let signer = &self.ops[if wrong_party { dop } else { aop }];
                    let ix = self
                        .env
                        .keys
                        .open_game(signer.pubkey(), key, self.op_key(dop), args);
                    let signer = signer.key.insecure_clone();
                    return Some((self.env.send(&[ix], &[&signer]), corrupt || wrong_party));
                };
                let m = g.row as usize;
                let (defender_rows, accuser_rows) = (
                    &self.mlp.replicas[dr].rows[m],
                    &self.mlp.replicas[ar].rows[m],
                );
                let (mover, other) = if g.phase().defender_moves() {
                    (dop, aop)
                } else {
                    (aop, dop)
                };
                let signer = self.ops[if wrong_party { other } else { mover }]
                    .key
                    .insecure_clone();
                match g.phase() {
                    GamePhase::AwaitChain => {
                        let mut chain = chain_hashes(defender_rows);
                        if corrupt {
                            chain[0][0] ^= 1;
                        }
                        let ix = self.env.keys.post_chain(signer.pubkey(), game, key, chain);
                        (self.env.send(&[ix], &[&signer]), wrong_party)
                    }
                    GamePhase::AwaitPick => {
                        let mut layer = pick(accuser_rows, g.chain());
                        if corrupt {
                            layer = layer % g.layer_count + 1;
                        }
                        let ix = self.env.keys.pick_layer(signer.pubkey(), game, key, layer);
                        (self.env.send(&[ix], &[&signer]), wrong_party)
                    }
                    GamePhase::AwaitRows => {
                        let (mut bytes, leaf_proof_len) =
                            self.mlp.replicas[dr].revealed(&self.mlp.model, m, g.layer);
                        if corrupt {
                            bytes[0] ^= 1;
                        }
                        let buffer = self.env.stage(&signer, &bytes);
                        let ix = self.env.keys.reveal_rows(
                            signer.pubkey(),
                            game,
                            key,
                            buffer,
                            leaf_proof_len,
                        );
                        (self.env.send(&[ix], &[&signer]), wrong_party || corrupt)
                    }
                    GamePhase::AwaitProof => {
                        let data = self.env.svm.get_account(&g.rows_buffer)?.data;
                        let (x, y) = read_revealed(&g, &data).expect("revealed rows");
                        let k0 = self.mlp.model.layers[0].k;
                        let x = x
                            .unwrap_or_else(|| self.mlp.model.input[m * k0..(m + 1) * k0].to_vec());
                        let (model, commitment) = (&self.mlp.model, &self.mlp.commitment);
                        let built = step_proof(model, commitment, m, g.layer, &x, &y);
                        let right = built.is_none();
                        let (mut staged, args) = built.unwrap_or_else(|| {
                            let mut forged = y.clone();
                            forged[0] = forged[0].wrapping_add(1);
                            step_proof(model, commitment, m, g.layer, &x, &forged)
                                .expect("a forged output is wrong")
                        });
                        if corrupt {
                            // The weight row follows the input row, staged for layer 1 only.
                            let at = if g.layer == 1 { x.len() } else { 0 };
                            staged[at] ^= 1;
                        }
                        // Anyone's move: a third party's, or the defender's own.
                        let prover = if wrong_party {
                            self.ops[dop].key.insecure_clone()
                        } else {
                            self.env.cranker()
                        };
                        let buffer = self.env.stage(&prover, &staged);
                        let ix = self
                            .env
                            .keys
                            .prove_step(&self.env.game_keys(game), buffer, args);
                        let budget = ComputeBudgetInstruction::set_compute_unit_limit(1_400_000);
                        let r = self.env.send(&[budget, ix], &[&prover]);
                        assert!(r.is_err() || dr != 0, "the true rows proven wrong: {a:?}");
                        (r, right || corrupt)
                    }
                }
            }
            Action::EndGame {
                job,
                defender,
                accuser,
                late,
            } => {
                let (key, _, j) = self.job(job)?;
                let (d, acc) = self.game_pair(&key, &j, defender, accuser)?;
                let game = self.game_key(&key, d, acc);
                let g = self.env.game(&game)?;
                let now = self.env.now();
                if late && now <= g.deadline {
                    self.env.warp(g.deadline - now + 1);
                }
                let live = j.state() == JobState::Disputed && j.convicted & (1 << d) == 0;
                let over = self.env.now() > g.deadline;
                let r = self.env.end_game(game);
                if r.is_ok() {
                    assert!(self.env.game(&game).is_none(), "{a:?} left the game open");
                    assert!(
                        g.rows_buffer == Pubkey::default()
                            || (self.env.svm.get_account(&g.rows_buffer))
                                .is_none_or(|b| b.lamports == 0),
                        "{a:?} left the revealed rows' buffer open"
                    );
                    // A late defender is convicted, a late accuser convicts nobody; a game that
                    // no longer matters changes nothing.
                    let after = self.env.job(&key);
                    let lost = u8::from(live && g.phase().defender_moves());
                    let won = match acc {
                        Accuser::Challenger { index } => lost << index,
                        Accuser::Slot { .. } => 0,
                    };
                    assert_eq!(
                        (after.convicted, after.challenge_wins),
                        (j.convicted | lost << d, j.challenge_wins | won),
                        "{a:?} in {:?}",
                        g.phase()
                    );
                }
                (r, live && !over)
            }
            Action::SettleReferee { job, tamper } => {
                let (key, c, j) = self.job(job)?;
                let u = &self.creators[c];
                let mut ix = self
                    .env
                    .keys
                    .settle_referee(key, u.pubkey(), u.token, &parties(&j));
                if tamper {
                    self.tamper(&mut ix, u.token);
                }
                let crank = self.env.cranker();
                (self.env.send(&[ix], &[&crank]), tamper)
            }
            Action::CollectFees => {
                let ix = env.keys.collect_fees();
                let crank = env.cranker();
                (env.send(&[ix], &[&crank]), false)
            }
            Action::UpdateMarket { hostile } => {
                let mut params = market_params();
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
                    params.audit_rate_bps = 10_000;
                    params.audit_fee_bps = 10_000;
                    params.audit_chunks = 4;
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
                let expected =
                    job.reward_per_replica as u128 * job.replicas as u128 + job.audit_fee as u128;
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

        // (f) Games: a job counts its open games; revealed rows stay locked to their game; no
        // game outlives its job's account.
        for jr in &self.jobs {
            let mut open = 0;
            for key in self.game_keys(&jr.key) {
                let Some(g) = env.game(&key) else {
                    continue;
                };
                open += 1;
                assert_eq!(g.job, jr.key, "(f) a game of another job after {what:?}");
                if g.rows_buffer != Pubkey::default() {
                    // The buffer's authority follows its discriminator.
                    let rows = env.svm.get_account(&g.rows_buffer).filter(|b| {
                        b.lamports > 0 && b.data.starts_with(ProofBuffer::DISCRIMINATOR)
                    });
                    assert_eq!(
                        rows.map(|b| Pubkey::try_from(&b.data[8..40]).expect("a key")),
                        Some(key),
                        "(f) revealed rows not locked to their game after {what:?}"
                    );
                }
            }
            assert_eq!(
                env.job(&jr.key).open_games as usize,
                open,
                "(f) open games of a job after {what:?}"
            );
        }
        for job in self
            .closed
            .iter()
            .filter(|k| self.jobs.iter().all(|j| j.key != **k))
        {
            for key in self.game_keys(job) {
                assert!(
                    env.game(&key).is_none(),
                    "(f) a game outlived its job's account after {what:?}"
                );
            }
        }
    }
}

impl World {
    /// Runs `a` and checks the invariants after it: a failed transaction changed no tracked
    /// account, one that must fail did. Whether its transaction landed (none when there was
    /// nothing to send).
    fn act(&mut self, a: &Action) -> Option<bool> {
        let before = self.snapshot();
        let landed = self.step(a).map(|(result, must_fail)| {
            if result.is_err() {
                assert!(self.snapshot() == before, "failed {a:?} changed an account");
            } else {
                assert!(!must_fail, "{a:?} should have failed");
            }
            result.is_ok()
        });
        self.check_invariants(a);
        landed
    }

    /// [`World::act`] on each action of `script`: whether each transaction sent landed.
    fn run(&mut self, script: &[Action]) -> Vec<bool> {
        script.iter().filter_map(|a| self.act(a)).collect()
    }

    /// The most recent job.
    fn last_job(&self) -> Job {
        self.env.job(&self.jobs.last().expect("a job").key)
    }
}

/// A new `mlp-i8` job whose slot `i` is claimed by operator `i` and delivers root choice
/// `kinds[i]` ([`World::root_of`]: 1 and 3 the cheats, 2 the true output), committed and
/// revealed.
fn mlp_dispute(kinds: &[u8]) -> Vec<Action> {
    let n = kinds.len();
    let mut script = vec![Action::Create {
        creator: 0,
        replicas: n as u8,
        reward: 100_000,
        reuse_id: false,
        mlp: true,
    }];
    script.extend((0..n).map(|op| Action::Claim { op, job: 0 }));
    script.extend(kinds.iter().enumerate().map(|(op, &root)| Action::Deliver {
        op,
        job: 0,
        root,
        wrong_kind: false,
    }));
    script.extend((0..n).map(|op| Action::Reveal {
        op,
        job: 0,
        honest: true,
    }));
    script
}

/// Operator 3 challenges chunk 1 of the most recent job's agreed root, and the challenges'
/// reveal window passes (games may then open).
fn challenged() -> [Action; 2] {
    [
        Action::ChunkChallenge { op: 3, job: 0 },
        Action::Warp { seconds: 3_601 },
    ]
}

/// The next move of the game in which slot `defender` of the most recent job is accused by
/// `accuser` (a slot, or `MAX_REPLICAS` + a challenge's index), made by the party that owes it.
fn play(defender: u8, accuser: u8) -> Action {
    Action::GameMove {
        job: 0,
        defender,
        accuser,
        wrong_party: false,
        corrupt: false,
    }
}

fn end(defender: u8, accuser: u8, late: bool) -> Action {
    Action::EndGame {
        job: 0,
        defender,
        accuser,
        late,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn tokens_are_conserved_under_random_use(actions in prop::collection::vec(action(), 10..=40)) {
        let mut w = World::new();
        w.check_invariants(&Action::Warp { seconds: 0 });
        for a in &actions {
            w.act(a);
        }
    }
}

/// Cases of the random games (each runs up to 40 actions after its job's dispute).
const GAME_CASES: u32 = 128;

proptest! {
    #![proptest_config(ProptestConfig { cases: GAME_CASES, ..ProptestConfig::default() })]

    /// Referee games on an `mlp-i8` job of 2 or 3 replicas (each delivers the true output or
    /// one of the two cheats), moved at random among the other random actions: between
    /// replicas that disagree, or, when they agree, between each replica and a verifier that
    /// challenged chunk 1 of their root (rightly when chunk 1 is wrong).
    #[test]
    fn tokens_are_conserved_under_random_games(
        kinds in prop::collection::vec(1u8..=3, 2..=3),
        actions in prop::collection::vec(
            prop_oneof![
                1 => action(),
                4 => game_action(prop_oneof![4 => Just(0usize), 1 => 1usize..3]),
            ],
            10..=40,
        ),
    ) {
        let mut w = World::new();
        let mut script = mlp_dispute(&kinds);
        if kinds.iter().all(|&k| k == kinds[0]) {
            script.extend(challenged());
        }
        let landed = w.run(&script);
        prop_assert!(landed.iter().all(|&ok| ok), "{:?}", landed);
        prop_assert_eq!(w.last_job().state(), JobState::Disputed);
        for a in &actions {
            w.act(a);
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
                mlp: false,
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
        let outcomes = w.run(&script);
        // Every step up to the proofs landed; the tampered proof never does; the genuine one
        // only against the wrong root.
        let n = outcomes.len();
        assert!(outcomes[..n - 2].iter().all(|&ok| ok), "{outcomes:?}");
        assert_eq!(&outcomes[n - 2..], &[false, convicted]);
        let job = w.last_job();
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
            mlp: false,
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
    let outcomes = w.run(&script);
    let n = outcomes.len();
    assert!(outcomes[..n - 3].iter().all(|&ok| ok), "{outcomes:?}");
    assert_eq!(&outcomes[n - 3..], &[false, false, true]);
    let job = w.last_job();
    assert_eq!((job.state(), job.convicted), (JobState::Settled, 0b01));
}

/// The referee's game, scripted through the same steps and invariants: the cheater (slot 0)
/// accuses the true replica and cannot prove it wrong; the true replica accuses the cheater,
/// which is convicted; the job is settled with the true replica paid;
/// moves by the wrong party, corrupted rows and tampered proofs or settlements never land.
#[test]
fn referee_game_settlements_conserve_tokens() {
    let mut w = World::new();
    assert!(w.run(&mlp_dispute(&[1, 2])).iter().all(|&ok| ok));
    let job = w.last_job();
    let bond = job.assignments[0].bond;
    let (cheat, honest) = (w.env.operator_of(&w.ops[0]), w.env.operator_of(&w.ops[1]));
    let script = [
        // The cheater accuses the true replica (on row 5, its own changed row).
        play(1, 0),
        Action::GameMove {
            job: 0,
            defender: 1,
            accuser: 0,
            wrong_party: true,
            corrupt: false,
        },
        play(1, 0),
        play(1, 0),
        Action::GameMove {
            job: 0,
            defender: 1,
            accuser: 0,
            wrong_party: false,
            corrupt: true,
        },
        play(1, 0),
        // The true link it revealed cannot be proven wrong.
        play(1, 0),
        // The true replica accuses the cheater.
        play(0, 1),
        play(0, 1),
        play(0, 1),
        play(0, 1),
        Action::GameMove {
            job: 0,
            defender: 0,
            accuser: 1,
            wrong_party: false,
            corrupt: true,
        },
        Action::SettleReferee {
            job: 0,
            tamper: false,
        },
        play(0, 1),
        // The other game is not over; the job is settled without it.
        end(1, 0, false),
        Action::SettleReferee {
            job: 0,
            tamper: true,
        },
        Action::SettleReferee {
            job: 0,
            tamper: false,
        },
        // Then it ends at once, convicting nobody.
        end(1, 0, false),
    ];
    let outcomes = w.run(&script);
    let (t, f) = (true, false);
    assert_eq!(
        outcomes,
        [t, f, t, t, f, t, f, t, t, t, t, f, f, t, f, f, t, t]
    );
    let job = w.last_job();
    assert_eq!((job.state(), job.convicted), (JobState::Settled, 0b01));
    assert_eq!(job.agreed_root, w.mlp.roots[0]);
    let games = w.game_keys(&w.jobs.last().unwrap().key);
    assert!(games.iter().all(|g| w.env.game(g).is_none()));
    // The cheater's bond slashed, the true replica paid and its bond released.
    let (cheat_after, honest_after) = (w.env.operator_of(&w.ops[0]), w.env.operator_of(&w.ops[1]));
    assert_eq!(cheat_after.stake, cheat.stake - bond);
    assert_eq!((cheat_after.bonded, cheat_after.earned), (0, cheat.earned));
    assert_eq!(honest_after.stake, honest.stake);
    assert_eq!(honest_after.bonded, 0);
    assert!(honest_after.earned > honest.earned);
}

/// A cheating defender that does not reveal its rows in time loses its game: of three replicas,
/// the two true ones are paid and the cheater slashed.
#[test]
fn referee_game_defender_timeout_conserves_tokens() {
    let mut w = World::new();
    assert!(w.run(&mlp_dispute(&[2, 2, 3])).iter().all(|&ok| ok));
    let cheat = w.env.operator_of(&w.ops[2]);
    let bond = w.last_job().assignments[2].bond;
    let script = [
        play(2, 0),
        play(2, 0),
        play(2, 0),
        // It never reveals: not over before the deadline, lost after it.
        end(2, 0, false),
        end(2, 0, true),
        Action::SettleReferee {
            job: 0,
            tamper: false,
        },
    ];
    let outcomes = w.run(&script);
    assert_eq!(outcomes, [true, true, true, false, true, true]);
    let job = w.last_job();
    assert_eq!((job.state(), job.convicted), (JobState::Settled, 0b100));
    assert_eq!(job.agreed_root, w.mlp.roots[0]);
    assert_eq!(w.env.operator_of(&w.ops[2]).stake, cheat.stake - bond);
    for op in &w.ops[..2] {
        assert!(w.env.operator_of(op).earned > 0);
    }
}

/// An accuser that does not pick a layer in time convicts nobody; the dispute cannot expire
/// while the game is open, and expires once it has ended.
#[test]
fn referee_game_accuser_timeout_then_expired_dispute_conserves_tokens() {
    let mut w = World::new();
    assert!(w.run(&mlp_dispute(&[1, 2])).iter().all(|&ok| ok));
    let deadline = w.last_job().dispute_deadline;
    let script = [
        // The cheater accuses the true replica, which posts its chain.
        play(1, 0),
        play(1, 0),
        Action::Warp {
            seconds: deadline - w.env.now() + 1,
        },
        Action::ExpireDispute { job: 0 },
        // Too late for a new game, and no conviction to settle on.
        play(0, 1),
        Action::SettleReferee {
            job: 0,
            tamper: false,
        },
        end(1, 0, false),
        Action::ExpireDispute { job: 0 },
    ];
    let outcomes = w.run(&script);
    assert_eq!(outcomes, [true, true, false, false, false, true, true]);
    let job = w.last_job();
    assert!(job.state().has_ended(), "{:?}", job.state());
    assert_eq!((job.convicted, job.open_games), (0, 0));
}

/// A game must not outlive its job: the arbiter settles a job while a game on it is open, and
/// its creator tries to close the job's account at once. Were it closed, the game could no
/// longer end, and a job created with the same id, at the same address, would be judged by it:
/// its defender's slot index, past its deadline, would convict whichever operator holds that
/// slot now. `close_job` refuses while games are open; the new job's slots are never convicted
/// by the old game.
#[test]
fn a_game_never_judges_a_job_created_after_its_own() {
    let mut w = World::new();
    assert!(w.run(&mlp_dispute(&[1, 2])).iter().all(|&ok| ok));
    let (old, id) = w.jobs.last().map(|j| (j.key, j.id)).unwrap();
    // Operator 0 accuses operator 1, which does not answer; the arbiter settles the job.
    let settle = Action::Resolve {
        job: 0,
        mask: 0b11,
        tamper: false,
    };
    assert_eq!(w.run(&[play(1, 0), settle]), [true, true]);
    let game = w.game_key(&old, 1, Accuser::Slot { slot: 0 });
    let close = w.env.keys.close_job(w.creators[0].pubkey(), old);
    let creator = w.creators[0].key.insecure_clone();
    let r = w.env.send(std::slice::from_ref(&close), &[&creator]);
    assert_tessera_error(&r, TesseraError::GamesOpen);
    assert!(w.env.game(&game).is_some());
    // The job has ended: anyone ends its game at once, then the account closes.
    w.env.end_game(game).unwrap();
    assert!(w.env.game(&game).is_none());
    w.env.send(&[close], &[&creator]).unwrap();
    // The same id again: operators 2 (a cheat) and 3 (the true output) take its slots.
    let mut args = w.env.job_args(id, 2, 100_000);
    args.kernel = tessera::constants::KERNEL_MLP_I8;
    args.kernel_params = w.mlp.commitment.root();
    args.chunk_count = w.mlp.model.chunk_count();
    let u = User {
        key: creator,
        token: w.creators[0].token,
    };
    w.env.create_job_with(&u, args).unwrap();
    assert_eq!(w.env.keys.job(&u.pubkey(), id), old);
    let salt = [9; 32];
    for (op, root) in [(2, w.mlp.roots[1]), (3, w.mlp.roots[0])] {
        w.env.claim(&w.ops[op], old).unwrap();
        w.env.commit(&w.ops[op], old, root, salt).unwrap();
    }
    for (op, root) in [(2, w.mlp.roots[1]), (3, w.mlp.roots[0])] {
        w.env.reveal(&w.ops[op], old, root, salt).unwrap();
    }
    assert_eq!(w.env.job(&old).state(), JobState::Disputed);
    if let Some(g) = w.env.game(&game) {
        let now = w.env.now();
        w.env.warp((g.deadline - now + 1).max(0));
        let _ = w.env.end_game(game);
    }
    let job = w.env.job(&old);
    assert_eq!(
        job.convicted, 0,
        "a slot of the new job convicted by the old game"
    );
    let _ = w.env.settle_referee(old, &u);
    assert_eq!(w.env.operator_of(&w.ops[3]).stake, STAKE);
}

/// A verifier's games against a wrong root every replica delivered, scripted through the same
/// steps and invariants: its chunk challenge names the wrong chunk, it convicts each replica in
/// its own game (the job cannot settle while one stands), and the job settles with the
/// verifier paid and both replicas slashed.
#[test]
fn referee_challenger_games_conserve_tokens() {
    let mut w = World::new();
    let mut script = mlp_dispute(&[3, 3]);
    script.extend(challenged());
    assert!(w.run(&script).iter().all(|&ok| ok));
    let job = w.last_job();
    assert_eq!(job.state(), JobState::Disputed);
    let bonds = [0, 1].map(|i| job.assignments[i].bond);
    let stakes = [0, 1].map(|i| w.env.operator_of(&w.ops[i]).stake);
    let verifier = w.env.operator_of(&w.ops[3]);
    let challenger = MAX_REPLICAS;
    let mut script = vec![play(0, challenger); 5];
    script.push(Action::SettleReferee {
        job: 0,
        tamper: false,
    });
    script.extend(vec![play(1, challenger); 5]);
    script.push(Action::SettleReferee {
        job: 0,
        tamper: false,
    });
    let outcomes = w.run(&script);
    let (t, f) = (true, false);
    assert_eq!(outcomes, [t, t, t, t, t, f, t, t, t, t, t, t]);
    let job = w.last_job();
    assert_eq!(
        (job.state(), job.convicted, job.challenge_wins),
        (JobState::Settled, 0b11, 0b1)
    );
    for i in 0..2 {
        let o = w.env.operator_of(&w.ops[i]);
        assert_eq!((o.stake, o.bonded), (stakes[i] - bonds[i], 0));
    }
    let paid = w.env.operator_of(&w.ops[3]);
    assert_eq!((paid.stake, paid.bonded), (verifier.stake, 0));
    assert!(paid.earned > verifier.earned);
}

/// Audits, scripted in a market that now audits every job on all its chunks: one that passes
/// and pays its auditor, one that finds the wrong chunk and is proven to the referee, one whose
/// leaves are withheld and convicted; every invariant holds after every step.
#[test]
fn audit_settlements_conserve_tokens() {
    use tessera::state::{AuditState, ChallengeStatus};
    for case in ["passes", "finds the wrong chunk", "leaves withheld"] {
        let mut w = World::new();
        let admin = w.env.admin.insecure_clone();
        let args = tessera::instructions::UpdateMarketArgs {
            admin: admin.pubkey(),
            arbiter: w.env.arbiter.pubkey(),
            params: tessera::state::MarketParams {
                audit_rate_bps: 10_000,
                audit_chunks: 4,
                ..market_params()
            },
        };
        let ix = w
            .env
            .keys
            .update_market(admin.pubkey(), args, w.env.keys.treasury);
        w.env.send(&[ix], &[&admin]).unwrap();
        let (root, honest_auditor) = match case {
            "finds the wrong chunk" => (1, true),
            "leaves withheld" => (2, false),
            _ => (2, true),
        };
        let mut script = vec![
            Action::Create {
                creator: 0,
                replicas: 1,
                reward: 100_000,
                reuse_id: false,
                mlp: false,
            },
            Action::Claim { op: 0, job: 0 },
            Action::Deliver {
                op: 0,
                job: 0,
                root,
                wrong_kind: false,
            },
            Action::Warp { seconds: 1 },
            Action::DrawAudit { job: 0 },
            Action::CommitAudit {
                op: 1,
                job: 0,
                honest: honest_auditor,
            },
        ];
        let tail: Vec<Action> = match case {
            "leaves withheld" => vec![
                Action::PostAuditLeaves { job: 0, one: true },
                Action::Warp { seconds: 3_601 },
                Action::Finalize {
                    job: 0,
                    tamper: false,
                },
                Action::ConvictWithheld {
                    job: 0,
                    tamper: true,
                },
                Action::ConvictWithheld {
                    job: 0,
                    tamper: false,
                },
            ],
            "finds the wrong chunk" => vec![
                Action::PostAuditLeaves { job: 0, one: false },
                Action::RevealAudit {
                    job: 0,
                    honest: true,
                },
                Action::Warp { seconds: 3_601 },
                Action::ProveFraud {
                    job: 0,
                    tamper: false,
                },
            ],
            _ => vec![
                Action::PostAuditLeaves { job: 0, one: false },
                Action::RevealAudit {
                    job: 0,
                    honest: false,
                },
                Action::RevealAudit {
                    job: 0,
                    honest: true,
                },
                Action::Warp { seconds: 3_601 },
                Action::Finalize {
                    job: 0,
                    tamper: true,
                },
                Action::Finalize {
                    job: 0,
                    tamper: false,
                },
            ],
        };
        script.extend(tail);
        let outcomes = w.run(&script);
        let want: &[bool] = match case {
            "leaves withheld" => &[true, true, true, true, true, true, false, false, true],
            "finds the wrong chunk" => &[true, true, true, true, true, true, true, true],
            _ => &[true, true, true, true, true, true, false, true, false, true],
        };
        assert_eq!(outcomes, want, "{case}");
        let job = w.last_job();
        assert_eq!(job.state(), JobState::Settled, "{case}");
        assert_eq!(job.audit_state(), AuditState::Drawn);
        let auditor = w.env.operator_at(&w.op_key(1));
        let fee = job.audit_fee;
        match case {
            "passes" => {
                assert_eq!(job.challenges[0].status(), ChallengeStatus::Audited);
                assert_eq!(auditor.earned, fee);
            }
            _ => assert!(auditor.earned > fee, "{case}: the fee and the honest share"),
        }
    }
}
