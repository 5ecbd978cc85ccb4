//! The referee's game for `mlp-i8` jobs whose replicas disagree (`open_game`, `post_chain`,
//! `pick_layer`, `reveal_rows`, `prove_step`, `end_game`, `settle_referee`): the replicas are
//! each other's accusers, the program re-executes one element of the first wrong layer, and no
//! arbiter exists. Every test runs the real SBPF program in LiteSVM.
#![allow(clippy::result_large_err)] // TxResult carries the failed transaction's metadata, as LiteSVM returns it.
use anchor_lang::prelude::Pubkey;
use tessera::constants::{KERNEL_MLP_I8, MAX_REPLICAS};
use tessera::instructions::StepArgs;
use tessera::state::{GamePhase, JobState};
use tessera_client::referee::{
    chain_hashes, open_game_args, pick, read_revealed, revealed_rows, row_chain, step_proof,
};
use tessera_kernels::benchmark::synthetic_mlp;
use tessera_kernels::quant::{ModelCommitment, QuantModel};
use tessera_merkle::leaf_hash;
use tessera_tests::amounts::*;
use tessera_tests::*;

/// Slot `s` as an accuser.
fn slot(s: u8) -> tessera::instructions::Accuser {
    tessera::instructions::Accuser::Slot { slot: s }
}

/// A three-layer model: 8 rows of 32 inputs through 24 and 16 features to 8 outputs, 2 rows
/// per chunk (4 chunks).
fn model() -> QuantModel {
    synthetic_mlp(0x9a3e, 8, &[32, 24, 16, 8], 2)
}

/// One replica's computation: every batch row through every layer (`rows[m][j]` is row `m`
/// after layer `j`, `rows[m][0]` the input row).
use tessera_tests::MlpReplica as Replica;

/// An `mlp-i8` job in a market with no arbiter, whose replicas computed `replicas`, committed
/// and revealed.
struct Play {
    env: Env,
    creator: User,
    ops: Vec<User>,
    job: Pubkey,
    model: QuantModel,
    commitment: ModelCommitment,
    replicas: Vec<Replica>,
    /// Verifiers that challenged the job (accuser ids `MAX_REPLICAS + i`).
    verifiers: Vec<User>,
}

fn play_with(model: QuantModel, replicas: Vec<Replica>) -> Play {
    let mut env = Env::without_arbiter();
    let creator = env.user(10 * REWARD);
    env.create_quant_job(&creator, 1, replicas.len() as u8, KERNEL_MLP_I8, &model)
        .unwrap();
    let job = env.keys.job(&creator.pubkey(), 1);
    let ops: Vec<User> = replicas.iter().map(|_| env.operator(STAKE)).collect();
    for op in &ops {
        env.claim(op, job).unwrap();
    }
    if let [(op, r)] = &ops.iter().zip(&replicas).collect::<Vec<_>>()[..] {
        env.submit(op, job, r.root(&model)).unwrap();
    } else {
        for (op, r) in ops.iter().zip(&replicas) {
            env.commit(op, job, r.root(&model), [4; 32]).unwrap();
        }
        for (op, r) in ops.iter().zip(&replicas) {
            env.reveal(op, job, r.root(&model), [4; 32]).unwrap();
        }
    }
    Play {
        env,
        creator,
        ops,
        job,
        commitment: model.commitment(),
        model,
        replicas,
        verifiers: Vec::new(),
    }
}

fn play(replicas: Vec<Replica>) -> Play {
    play_with(model(), replicas)
}

/// Honest slot 0 against slot 1, which corrupted row 5, feature 3 after layer 2.
fn layer_two_cheat() -> Play {
    let model = model();
    let cheat = Replica::corrupted(&model, 5, 2, 3, 1);
    assert_ne!(
        cheat.root(&model),
        Replica::honest(&model).root(&model),
        "the change reaches the output"
    );
    play_with(model.clone(), vec![Replica::honest(&model), cheat])
}

impl Play {
    fn game_key(&self, defender: u8, accuser: u8) -> Pubkey {
        self.env.keys.pdas().game(&self.job, defender, accuser).0
    }

    fn game(&self, key: Pubkey) -> tessera::state::Game {
        self.env.game(&key).expect("an open game")
    }

    /// The signer of party `id`: a slot's operator, or a verifier (`MAX_REPLICAS` + its
    /// challenge's index).
    fn party(&self, id: u8) -> Keypair {
        match id.checked_sub(MAX_REPLICAS) {
            None => self.ops[id as usize].key.insecure_clone(),
            Some(i) => self.verifiers[i as usize].key.insecure_clone(),
        }
    }

    /// Accuser `accuser` (a slot, or `MAX_REPLICAS` + a challenge's index) accuses slot
    /// `defender`'s row `row`.
    fn open(&mut self, defender: u8, accuser: u8, row: u32) -> (TxResult, Pubkey) {
        let by = match accuser.checked_sub(MAX_REPLICAS) {
            None => slot(accuser),
            Some(index) => tessera::instructions::Accuser::Challenger { index },
        };
        let args = open_game_args(&self.commitment, defender, by, row);
        self.open_with(accuser, defender, args)
    }

    fn open_with(
        &mut self,
        signer: u8,
        defender: u8,
        args: tessera::instructions::OpenGameArgs,
    ) -> (TxResult, Pubkey) {
        let game = self.game_key(args.defender_slot, args.accuser.id());
        let key = self.party(signer);
        // A slot nobody holds: any operator account.
        let defender = self
            .ops
            .get(defender as usize)
            .map_or_else(Pubkey::new_unique, |d| self.env.keys.operator(&d.pubkey()));
        let ix = self
            .env
            .keys
            .open_game(key.pubkey(), self.job, defender, args);
        (self.env.send(&[ix], &[&key]), game)
    }

    /// The defender's rows of the game's row.
    fn defender_rows(&self, key: Pubkey) -> Vec<Vec<i8>> {
        let g = self.game(key);
        self.replicas[g.defender_slot as usize].rows[g.row as usize].clone()
    }

    /// `signer` (a party) posts `chain`.
    fn post(&mut self, key: Pubkey, signer: u8, chain: Vec<[u8; 32]>) -> TxResult {
        let op = self.party(signer);
        let ix = self.env.keys.post_chain(op.pubkey(), key, self.job, chain);
        self.env.send(&[ix], &[&op])
    }

    /// The defender posts the chain of its rows.
    fn post_chain(&mut self, key: Pubkey) -> TxResult {
        let chain = chain_hashes(&self.defender_rows(key));
        let d = self.game(key).defender_slot;
        self.post(key, d, chain)
    }

    fn pick_layer(&mut self, key: Pubkey, signer: u8, layer: u8) -> TxResult {
        let op = self.party(signer);
        let ix = self.env.keys.pick_layer(op.pubkey(), key, self.job, layer);
        self.env.send(&[ix], &[&op])
    }

    /// The accuser picks the first layer where the defender's chain leaves its own rows.
    fn pick(&mut self, key: Pubkey) -> (TxResult, u8) {
        let g = self.game(key);
        // A verifier knows the model's true rows.
        let own = match self.replicas.get(g.accuser_id as usize) {
            Some(r) if g.accuser_id < MAX_REPLICAS => r.rows[g.row as usize].clone(),
            _ => row_chain(&self.model, g.row as usize),
        };
        let layer = pick(&own, g.chain());
        (self.pick_layer(key, g.accuser_id, layer), layer)
    }

    /// The defender's bytes for `reveal_rows` (its chunk proven under its root for the last
    /// layer) and the leaf proof's length.
    fn defender_reveal(&self, key: Pubkey) -> (Vec<u8>, u8) {
        let g = self.game(key);
        let d = &self.replicas[g.defender_slot as usize];
        let chunks = d.chunks(&self.model);
        let c = (g.row / self.model.rows_per_chunk) as usize;
        let leaves: Vec<_> = chunks.iter().map(|c| leaf_hash(c)).collect();
        let proof = tessera_merkle::proof(&leaves, c);
        let rows = &d.rows[g.row as usize];
        (
            revealed_rows(rows, g.layer, &chunks[c], &proof),
            proof.len() as u8,
        )
    }

    /// `signer` reveals `bytes` (staged in its own buffer).
    fn reveal_with(
        &mut self,
        key: Pubkey,
        signer: u8,
        bytes: &[u8],
        leaf_proof_len: u8,
    ) -> (TxResult, Pubkey) {
        let op = self.party(signer);
        let buffer = self.env.stage(&op, bytes);
        let ix = self
            .env
            .keys
            .reveal_rows(op.pubkey(), key, self.job, buffer, leaf_proof_len);
        (self.env.send(&[ix], &[&op]), buffer)
    }

    /// The defender reveals its rows of the picked layer.
    fn reveal(&mut self, key: Pubkey) -> (TxResult, Pubkey) {
        let (bytes, len) = self.defender_reveal(key);
        let d = self.game(key).defender_slot;
        self.reveal_with(key, d, &bytes, len)
    }

    /// The accuser's proof, from the rows the defender revealed: `None` when they are right.
    fn step(&self, key: Pubkey) -> Option<(Vec<u8>, StepArgs)> {
        let g = self.game(key);
        let data = self.env.svm.get_account(&g.rows_buffer).unwrap().data;
        let (x, y) = read_revealed(&g, &data).unwrap();
        let k0 = self.model.layers[0].k;
        let m = g.row as usize;
        let x = x.unwrap_or_else(|| self.model.input[m * k0..(m + 1) * k0].to_vec());
        step_proof(&self.model, &self.commitment, m, g.layer, &x, &y)
    }

    /// A third party stages `staged` and sends the step proof.
    fn prove_with(&mut self, key: Pubkey, staged: &[u8], args: StepArgs) -> TxResult {
        let prover = self.env.cranker();
        let buffer = self.env.stage(&prover, staged);
        self.env.prove_step(key, buffer, args)
    }

    fn prove(&mut self, key: Pubkey) -> TxResult {
        let (staged, args) = self.step(key).expect("the revealed link is wrong");
        self.prove_with(key, &staged, args)
    }

    /// Every move of the game on `row` between the two slots, each expected to land; returns
    /// the layer picked.
    fn play_out(&mut self, defender: u8, accuser: u8, row: u32) -> u8 {
        let (r, key) = self.open(defender, accuser, row);
        r.unwrap();
        if self.model.layers.len() > 1 {
            self.post_chain(key).unwrap();
            let (r, _) = self.pick(key);
            r.unwrap();
        }
        let layer = self.game(key).layer;
        self.reveal(key).0.unwrap();
        self.prove(key).unwrap();
        assert!(self.env.game(&key).is_none(), "the game is closed");
        layer
    }

    fn lamports(&self, key: &Pubkey) -> u64 {
        self.env.svm.get_balance(key).unwrap_or(0)
    }

    /// Moves the clock past game `key`'s deadline.
    fn warp_past(&mut self, key: Pubkey) {
        let deadline = self.game(key).deadline;
        let now = self.env.now();
        self.env.warp(deadline - now + 1);
    }
}

#[test]
fn a_cheat_in_layer_two_is_found_by_the_game_and_the_job_settled_with_no_arbiter() {
    let mut p = layer_two_cheat();
    assert_eq!(p.env.job(&p.job).state(), JobState::Disputed);
    assert_eq!(p.env.job(&p.job).terms.arbiter, Pubkey::default());
    let before = p.env.balance(&p.creator.token);
    let (r, key) = p.open(1, 0, 5);
    r.unwrap();
    let job = p.env.job(&p.job);
    assert_eq!(job.open_games, 1);
    assert!(job.game_played(1, 0) && !job.game_played(0, 1));
    let g = p.game(key);
    assert_eq!(g.phase(), GamePhase::AwaitChain);
    assert_eq!(
        (g.accuser, g.defender),
        (p.ops[0].pubkey(), p.ops[1].pubkey())
    );
    p.post_chain(key).unwrap();
    assert_eq!(p.game(key).phase(), GamePhase::AwaitPick);
    let (r, layer) = p.pick(key);
    r.unwrap();
    assert_eq!(layer, 2, "the first link the cheater got wrong");
    let (r, rows_buffer) = p.reveal(key);
    r.unwrap();
    let g = p.game(key);
    assert_eq!(
        (g.phase(), g.rows_buffer),
        (GamePhase::AwaitProof, rows_buffer)
    );
    // Locked: the defender can no longer rewrite or close its rows.
    let cheat = p.ops[1].key.insecure_clone();
    let ix = p
        .env
        .keys
        .write_buffer(cheat.pubkey(), rows_buffer, 0, vec![0; 4]);
    assert_tessera_error(
        &p.env.send(&[ix], &[&cheat]),
        TesseraError::NotBufferAuthority,
    );
    let ix = p.env.keys.close_buffer(cheat.pubkey(), rows_buffer);
    assert_tessera_error(
        &p.env.send(&[ix], &[&cheat]),
        TesseraError::NotBufferAuthority,
    );

    let (staged, args) = p.step(key).expect("a wrong element");
    assert_eq!(args.feature, 3, "the corrupted element");
    let (game_rent, rows_rent) = (p.lamports(&key), p.lamports(&rows_buffer));
    let (accuser_before, defender_before) = (
        p.lamports(&p.ops[0].pubkey()),
        p.lamports(&p.ops[1].pubkey()),
    );
    p.prove_with(key, &staged, args).unwrap();
    assert!(p.env.game(&key).is_none());
    assert_eq!(p.lamports(&rows_buffer), 0);
    assert_eq!(p.lamports(&p.ops[0].pubkey()), accuser_before + game_rent);
    assert_eq!(p.lamports(&p.ops[1].pubkey()), defender_before + rows_rent);
    let job = p.env.job(&p.job);
    assert_eq!(
        (job.state(), job.convicted, job.open_games),
        (JobState::Disputed, 0b10, 0)
    );

    p.settle_referee_and_check_the_money(before);
}

impl Play {
    /// Settles the job with slot 0 honest and slot 1 convicted, and checks every balance.
    fn settle_referee_and_check_the_money(&mut self, creator_before: u64) {
        let job = self.job;
        let creator = self.creator.key.insecure_clone();
        let creator = User {
            key: creator,
            token: self.creator.token,
        };
        self.env.settle_referee(job, &creator).unwrap();
        let settled = self.env.job(&job);
        assert_eq!(settled.state(), JobState::Settled);
        assert_eq!(settled.agreed_root, self.replicas[0].root(&self.model));
        // As an arbiter's verdict: the cheater's reward back to the creator with half its bond;
        // the honest replica paid, with a quarter of the bond.
        assert_eq!(
            self.env.balance(&self.creator.token),
            creator_before + REWARD + BOND / 2
        );
        let good = self.env.operator_of(&self.ops[0]);
        assert_eq!(
            (good.stake, good.bonded, good.earned),
            (STAKE, 0, PAY + BOND / 4)
        );
        let bad = self.env.operator_of(&self.ops[1]);
        assert_eq!((bad.stake, bad.bonded, bad.earned), (STAKE - BOND, 0, 0));
        // Once: the job is settled.
        assert_anchor_error(
            &self.env.settle_referee(job, &creator),
            anchor_lang::error::ErrorCode::AccountNotInitialized,
        );
    }
}

#[test]
fn the_first_and_the_last_layer_are_proven_from_the_input_row_and_the_delivered_chunk() {
    let model = model();
    // Layer 1: the link's input is the model's input row, staged with its proof.
    let mut p = play(vec![
        Replica::honest(&model),
        Replica::cheat(&model, 2, 1, -3),
    ]);
    assert_eq!(p.play_out(1, 0, 2), 1);
    let before = p.env.balance(&p.creator.token);
    p.settle_referee_and_check_the_money(before);
    // Layer 3 (the last): the output row is read from the chunk the defender delivered,
    // proven under its root.
    let mut p = play(vec![
        Replica::honest(&model),
        Replica::cheat(&model, 7, 3, 100),
    ]);
    assert_eq!(p.play_out(1, 0, 7), 3);
    let before = p.env.balance(&p.creator.token);
    p.settle_referee_and_check_the_money(before);
}

#[test]
fn an_honest_defender_is_never_convicted_whatever_layer_or_element_is_named() {
    let model = model();
    for layer in 1..=3u8 {
        // The cheater accuses the honest replica on the row it corrupted.
        let mut p = play(vec![
            Replica::honest(&model),
            Replica::cheat(&model, 4, 2, 9),
        ]);
        let (r, key) = p.open(0, 1, 4);
        r.unwrap();
        p.post_chain(key).unwrap();
        p.pick_layer(key, 1, layer).unwrap();
        p.reveal(key).0.unwrap();
        assert!(p.step(key).is_none(), "nothing is wrong in the honest rows");
        // A well-formed proof of every feature: the program computes each element itself.
        let g = p.game(key);
        let (x, y) =
            read_revealed(&g, &p.env.svm.get_account(&g.rows_buffer).unwrap().data).unwrap();
        let k0 = model.layers[0].k;
        let x = x.unwrap_or_else(|| model.input[4 * k0..5 * k0].to_vec());
        for feature in 0..y.len() {
            let mut forged = y.clone();
            forged[feature] = forged[feature].wrapping_add(1);
            let (staged, args) = step_proof(&model, &p.commitment, 4, layer, &x, &forged).unwrap();
            assert_eq!(args.feature as usize, feature);
            assert_tessera_error(&p.prove_with(key, &staged, args), TesseraError::NoFraud);
        }
        // The accuser's time runs out: the accusation fails, nobody is convicted.
        p.warp_past(key);
        p.env.end_game(key).unwrap();
        let job = p.env.job(&p.job);
        assert_eq!((job.convicted, job.open_games), (0, 0));
    }
}

#[test]
fn every_staged_piece_of_the_proof_is_checked() {
    let mut p = layer_two_cheat();
    let (r, key) = p.open(1, 0, 5);
    r.unwrap();
    p.post_chain(key).unwrap();
    p.pick(key).0.unwrap();
    p.reveal(key).0.unwrap();
    let (staged, args) = p.step(key).unwrap();
    let k = model().layers[1].k;
    // A byte of the weight row, of the weight proof.
    for at in [0, k + 5] {
        let mut bad = staged.clone();
        bad[at] ^= 1;
        assert_tessera_error(
            &p.prove_with(key, &bad, args.clone()),
            TesseraError::BadFraudProof,
        );
    }
    // The feature's parameters, another feature, a proof cut short.
    for change in [
        (|a: &mut StepArgs| a.bias += 1) as fn(&mut StepArgs),
        |a| a.multiplier ^= 1,
        |a| a.shift -= 1,
        |a| a.feature += 1,
        |a| a.weight_proof_len -= 1,
        |a| a.feature = 1000,
    ] {
        let mut bad = args.clone();
        change(&mut bad);
        assert_tessera_error(
            &p.prove_with(key, &staged, bad),
            TesseraError::BadFraudProof,
        );
    }
    assert_eq!(p.env.job(&p.job).convicted, 0);
    p.prove_with(key, &staged, args).unwrap();
    assert_eq!(p.env.job(&p.job).convicted, 0b10);
}

#[test]
fn moves_out_of_turn_by_the_wrong_party_or_late_are_refused() {
    let mut p = layer_two_cheat();
    let (r, key) = p.open(1, 0, 5);
    r.unwrap();
    // Out of turn: a pick before the chain, a reveal before the pick.
    assert_tessera_error(&p.pick_layer(key, 0, 2), TesseraError::WrongGamePhase);
    let (bytes, len) = (vec![0u8; 64], 0);
    assert_tessera_error(
        &p.reveal_with(key, 1, &bytes, len).0,
        TesseraError::WrongGamePhase,
    );
    // The accuser (or anyone) cannot post the defender's chain; a chain of the wrong length.
    let chain = chain_hashes(&p.defender_rows(key));
    assert_tessera_error(&p.post(key, 0, chain.clone()), TesseraError::NotGameParty);
    assert_tessera_error(&p.post(key, 1, chain[..1].to_vec()), TesseraError::BadChain);
    p.post(key, 1, chain.clone()).unwrap();
    assert_tessera_error(&p.post(key, 1, chain), TesseraError::WrongGamePhase);
    // The defender cannot pick; no layer 0 or 4 in a 3-layer model.
    assert_tessera_error(&p.pick_layer(key, 1, 2), TesseraError::NotGameParty);
    for layer in [0, 4] {
        assert_tessera_error(&p.pick_layer(key, 0, layer), TesseraError::BadLayer);
    }
    p.pick_layer(key, 0, 2).unwrap();
    // Rows that are not the chain's, a buffer that is not the defender's.
    let (good, len) = p.defender_reveal(key);
    let mut bad = good.clone();
    bad[3] ^= 1;
    assert_tessera_error(&p.reveal_with(key, 1, &bad, len).0, TesseraError::BadChain);
    assert_tessera_error(
        &p.reveal_with(key, 1, &good[..10], len).0,
        TesseraError::BadFraudProof,
    );
    assert_tessera_error(
        &p.reveal_with(key, 0, &good, len).0,
        TesseraError::NotGameParty,
    );
    let stranger = p.env.cranker();
    let foreign = p.env.stage(&stranger, &good);
    let cheat = p.ops[1].key.insecure_clone();
    let ix = p
        .env
        .keys
        .reveal_rows(cheat.pubkey(), key, p.job, foreign, len);
    assert_tessera_error(
        &p.env.send(&[ix], &[&cheat]),
        TesseraError::NotBufferAuthority,
    );
    // Too late: the move's deadline passed.
    p.warp_past(key);
    assert_tessera_error(
        &p.reveal_with(key, 1, &good, len).0,
        TesseraError::GameMoveLate,
    );
}

#[test]
fn a_silent_defender_is_convicted_and_a_silent_accuser_fails() {
    // The defender never posts its chain.
    let mut p = layer_two_cheat();
    let (r, key) = p.open(1, 0, 5);
    r.unwrap();
    assert_tessera_error(&p.env.end_game(key), TesseraError::GameNotOver);
    p.warp_past(key);
    let game_rent = p.lamports(&key);
    let accuser_before = p.lamports(&p.ops[0].pubkey());
    p.env.end_game(key).unwrap();
    assert_eq!(p.lamports(&p.ops[0].pubkey()), accuser_before + game_rent);
    let job = p.env.job(&p.job);
    assert_eq!((job.convicted, job.open_games), (0b10, 0));
    // The pair has played: no second game.
    let (r, _) = p.open(1, 0, 5);
    assert_tessera_error(&r, TesseraError::NotRefereeable);

    // The defender reveals nothing after the pick.
    let mut p = layer_two_cheat();
    let (r, key) = p.open(1, 0, 5);
    r.unwrap();
    p.post_chain(key).unwrap();
    p.pick(key).0.unwrap();
    p.warp_past(key);
    p.env.end_game(key).unwrap();
    assert_eq!(p.env.job(&p.job).convicted, 0b10);

    // The accuser never picks, or never proves: the defender stands, and gets its rows'
    // buffer back.
    for after_reveal in [false, true] {
        let mut p = layer_two_cheat();
        let (r, key) = p.open(1, 0, 5);
        r.unwrap();
        p.post_chain(key).unwrap();
        let mut rows = None;
        if after_reveal {
            p.pick(key).0.unwrap();
            rows = Some(p.reveal(key).1);
        }
        p.warp_past(key);
        // The proof comes too late.
        if after_reveal {
            let (staged, args) = p.step(key).unwrap();
            assert_tessera_error(
                &p.prove_with(key, &staged, args),
                TesseraError::GameMoveLate,
            );
        }
        let defender_before = p.lamports(&p.ops[1].pubkey());
        let rows_rent = rows.map_or(0, |b| p.lamports(&b));
        // The rows buffer must come with the game that holds it.
        if let Some(buffer) = rows {
            let mut keys = p.env.game_keys(key);
            keys.rows_buffer = None;
            let ix = p.env.keys.end_game(&keys);
            let crank = p.env.cranker();
            assert_tessera_error(&p.env.send(&[ix], &[&crank]), TesseraError::WrongGame);
            keys.rows_buffer = Some(p.env.stage(&crank, &[1; 8]));
            let ix = p.env.keys.end_game(&keys);
            assert_tessera_error(&p.env.send(&[ix], &[&crank]), TesseraError::WrongGame);
            assert!(p.lamports(&buffer) > 0);
        }
        p.env.end_game(key).unwrap();
        assert_eq!(p.lamports(&p.ops[1].pubkey()), defender_before + rows_rent);
        let job = p.env.job(&p.job);
        assert_eq!((job.convicted, job.open_games), (0, 0));
        assert_eq!(job.state(), JobState::Disputed);
        // The pair has played its game.
        let (r, _) = p.open(1, 0, 5);
        assert_tessera_error(&r, TesseraError::GamePlayed);
    }
}

#[test]
fn a_game_is_opened_only_by_a_replica_against_another_root_of_a_refereed_dispute() {
    let mut p = layer_two_cheat();
    // A slot against itself; a slot that does not exist.
    let (r, _) = p.open(0, 0, 5);
    assert_tessera_error(&r, TesseraError::NotRefereeable);
    let outsider = p.env.operator(STAKE);
    let ix = p.env.keys.open_game(
        p.ops[0].pubkey(),
        p.job,
        p.env.keys.operator(&outsider.pubkey()),
        open_game_args(&p.commitment, 2, slot(0), 5),
    );
    let accuser = p.ops[0].key.insecure_clone();
    assert_tessera_error(
        &p.env.send(&[ix], &[&accuser]),
        TesseraError::NotRefereeable,
    );
    // Signed by another operator than the accusing slot's.
    let args = open_game_args(&p.commitment, 1, slot(0), 5);
    let (r, _) = p.open_with(1, 1, args);
    assert_tessera_error(&r, TesseraError::NotAssigned);
    // The defender's slot held by another operator account than the one passed.
    let args = open_game_args(&p.commitment, 1, slot(0), 5);
    let (r, _) = p.open_with(0, 0, args);
    assert_tessera_error(&r, TesseraError::WrongOperatorAccounts);
    // Another model, or a row it does not have.
    for change in [
        (|a: &mut tessera::instructions::OpenGameArgs| a.header[20] ^= 1)
            as fn(&mut tessera::instructions::OpenGameArgs),
        |a| a.input_root[0] ^= 1,
        |a| a.layer_roots[2][0] ^= 1,
        |a| {
            a.layer_roots.pop();
        },
        |a| a.header.truncate(10),
    ] {
        let mut args = open_game_args(&p.commitment, 1, slot(0), 5);
        change(&mut args);
        let (r, _) = p.open_with(0, 1, args);
        assert_tessera_error(&r, TesseraError::BadModelCommitment);
    }
    let (r, _) = p.open(1, 0, 8);
    assert_tessera_error(&r, TesseraError::BadFraudProof);
    // Past the dispute deadline.
    let deadline = p.env.job(&p.job).dispute_deadline;
    let now = p.env.now();
    p.env.warp(deadline - now + 1);
    let (r, _) = p.open(1, 0, 5);
    assert_tessera_error(&r, TesseraError::DisputeDeadlinePassed);

    // Replicas that agree have nothing to play.
    let model = model();
    let mut p = play(vec![Replica::honest(&model), Replica::honest(&model)]);
    assert_eq!(p.env.job(&p.job).state(), JobState::Revealed);
    let (r, _) = p.open(1, 0, 5);
    assert_tessera_error(&r, TesseraError::WrongJobState);
}

#[test]
fn the_dispute_does_not_expire_while_a_game_is_played() {
    let mut p = layer_two_cheat();
    // Opened at the last second of the dispute.
    let deadline = p.env.job(&p.job).dispute_deadline;
    let now = p.env.now();
    p.env.warp(deadline - now);
    let (r, key) = p.open(1, 0, 5);
    r.unwrap();
    p.env.warp(1);
    p.post_chain(key).unwrap();
    let job = p.env.job(&p.job);
    let creator = User {
        key: p.creator.key.insecure_clone(),
        token: p.creator.token,
    };
    let expire =
        p.env
            .keys
            .expire_dispute(p.job, creator.pubkey(), creator.token, &p.env.parties(&job));
    let crank = p.env.cranker();
    assert_tessera_error(
        &p.env.send(std::slice::from_ref(&expire), &[&crank]),
        TesseraError::GamesOpen,
    );
    // The game goes on past the dispute deadline, to its end.
    p.pick(key).0.unwrap();
    p.reveal(key).0.unwrap();
    p.prove(key).unwrap();
    let before = p.env.balance(&p.creator.token);
    p.settle_referee_and_check_the_money(before);
}

#[test]
fn an_honest_minority_of_one_convicts_two_replicas_that_colluded_on_one_wrong_root() {
    let model = model();
    let cheat = Replica::cheat(&model, 0, 2, 5);
    let mut p = play(vec![cheat.clone(), Replica::honest(&model), cheat]);
    let before = p.env.balance(&p.creator.token);
    p.play_out(0, 1, 0);
    // One convicted, one wrong root left: the slots still disagree.
    assert_eq!(p.env.job(&p.job).convicted, 0b001);
    let creator = User {
        key: p.creator.key.insecure_clone(),
        token: p.creator.token,
    };
    assert_tessera_error(
        &p.env.settle_referee(p.job, &creator),
        TesseraError::SlotsStillDisagree,
    );
    // A game against an already convicted slot is refused; the other colluder is played.
    let (r, _) = p.open(0, 1, 0);
    assert_tessera_error(&r, TesseraError::NotRefereeable);
    p.play_out(2, 1, 0);
    assert_eq!(p.env.job(&p.job).convicted, 0b101);
    p.env.settle_referee(p.job, &creator).unwrap();
    let job = p.env.job(&p.job);
    assert_eq!(job.state(), JobState::Settled);
    assert_eq!(job.agreed_root, Replica::honest(&model).root(&model));
    assert_eq!(
        p.env.balance(&p.creator.token),
        before + 2 * REWARD + 2 * (BOND / 2)
    );
    let good = p.env.operator_of(&p.ops[1]);
    assert_eq!((good.stake, good.earned), (STAKE, PAY + 2 * (BOND / 4)));
    for bad in [&p.ops[0], &p.ops[2]] {
        let o = p.env.operator_of(bad);
        assert_eq!((o.stake, o.bonded, o.earned), (STAKE - BOND, 0, 0));
    }
}

#[test]
fn a_game_left_open_when_the_job_settles_ends_without_effect() {
    let model = model();
    let mut p = play(vec![
        Replica::honest(&model),
        Replica::cheat(&model, 3, 1, 7),
    ]);
    // The cheater accuses the honest replica too; its game is still open at settlement.
    let (r, theirs) = p.open(0, 1, 3);
    r.unwrap();
    p.post_chain(theirs).unwrap();
    p.play_out(1, 0, 3);
    let creator = User {
        key: p.creator.key.insecure_clone(),
        token: p.creator.token,
    };
    p.env.settle_referee(p.job, &creator).unwrap();
    assert_eq!(p.env.job(&p.job).state(), JobState::Settled);
    // Ended at once by anyone, before its deadline, convicting nobody.
    let rent = p.lamports(&theirs);
    let before = p.lamports(&p.ops[1].pubkey());
    p.env.end_game(theirs).unwrap();
    assert_eq!(p.lamports(&p.ops[1].pubkey()), before + rent);
    assert_eq!(p.env.job(&p.job).convicted, 0b10);
}

/// The creator's close of a settled job ends the games still open on it first: the program
/// refuses to close a job whose games are open (a game must not outlive its job), and anyone
/// may end them once the job has ended.
#[test]
fn closing_a_settled_job_ends_its_open_games_first() {
    use tessera_client::flows::{creator, Ctx};
    let model = model();
    let mut p = play(vec![
        Replica::honest(&model),
        Replica::cheat(&model, 3, 1, 7),
    ]);
    let (r, theirs) = p.open(0, 1, 3);
    r.unwrap();
    p.post_chain(theirs).unwrap();
    p.play_out(1, 0, 3);
    let creator = p.creator();
    p.env.settle_referee(p.job, &creator).unwrap();
    let ix = p.env.keys.close_job(creator.pubkey(), p.job);
    assert_tessera_error(&p.env.send(&[ix], &[&creator.key]), TesseraError::GamesOpen);
    let rent = p.lamports(&theirs);
    let accuser_before = p.lamports(&p.ops[1].pubkey());
    let (job, market) = (p.job, p.env.keys.market);
    let chain = tessera_tests::chain::LiteChain::new(&mut p.env.svm);
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(async {
            let ctx = Ctx::new(&chain);
            let m = ctx.market(&market).await.unwrap();
            creator::close_job(&ctx, &m, &creator.key, &job).await
        })
        .unwrap();
    assert_eq!(p.lamports(&theirs), 0);
    assert_eq!(p.lamports(&job), 0);
    assert_eq!(p.lamports(&p.ops[1].pubkey()), accuser_before + rent);
}

// ---------------------------------------------------------------------------------------------
// Challengers of a root the replicas agreed on
// ---------------------------------------------------------------------------------------------

impl Play {
    /// `verifier` challenges chunk `chunk` of the agreed root (with the model's true leaf),
    /// committed and revealed; it becomes accuser `MAX_REPLICAS + its index`.
    fn challenge(&mut self, verifier: User, chunk: u32, hash: Option<[u8; 32]>) {
        let delivered = self.replicas[0].chunks(&self.model);
        let leaves: Vec<_> = delivered.iter().map(|c| leaf_hash(c)).collect();
        let truth = Replica::honest(&self.model).chunks(&self.model);
        let args = tessera::instructions::ChallengeArgs {
            chunk,
            hash: hash.unwrap_or_else(|| leaf_hash(&truth[chunk as usize])),
            operator_leaf: leaves[chunk as usize],
            proof: tessera_merkle::proof(&leaves, chunk as usize),
        };
        self.env.challenge(&verifier, self.job, args).unwrap();
        self.verifiers.push(verifier);
    }

    fn creator(&self) -> User {
        User {
            key: self.creator.key.insecure_clone(),
            token: self.creator.token,
        }
    }
}

/// Accuser id of challenge `i`.
fn challenger(i: u8) -> u8 {
    MAX_REPLICAS + i
}

/// Two replicas that colluded on one wrong root (row 5 changed after layer 2), revealed.
fn colluding_pair() -> Play {
    let model = model();
    let cheat = Replica::cheat(&model, 5, 2, 1);
    play_with(model, vec![cheat.clone(), cheat])
}

#[test]
fn a_challenger_convicts_every_replica_of_a_wrong_agreed_root_with_no_arbiter() {
    let mut p = colluding_pair();
    assert_eq!(p.env.job(&p.job).state(), JobState::Revealed);
    let verifier = p.env.operator(STAKE);
    p.challenge(verifier, 2, None);
    // Not before every challenge is revealed (another may still come).
    let (r, _) = p.open(0, challenger(0), 5);
    assert_tessera_error(&r, TesseraError::ChallengeRevealOpen);
    p.env.warp_past_challenge_reveals(p.job);
    assert_eq!(p.env.job(&p.job).state(), JobState::Disputed);
    let before = p.env.balance(&p.creator.token);
    assert_eq!(p.play_out(0, challenger(0), 5), 2);
    // One replica convicted: the other still stands for the root.
    let creator = p.creator();
    assert_tessera_error(
        &p.env.settle_referee(p.job, &creator),
        TesseraError::SlotsStillDisagree,
    );
    assert_eq!(p.play_out(1, challenger(0), 5), 2);
    let job = p.env.job(&p.job);
    assert_eq!((job.convicted, job.challenge_wins), (0b11, 0b1));
    p.env.settle_referee(p.job, &creator).unwrap();
    let job = p.env.job(&p.job);
    assert_eq!(job.state(), JobState::Settled);
    assert_eq!(job.agreed_root, [0; 32], "no result stands");
    // As the arbiter's verdict for the challenger: both bonds slashed, half to the creator
    // with both rewards back, a quarter of each to the challenger.
    assert_eq!(
        p.env.balance(&p.creator.token),
        before + 2 * REWARD + 2 * (BOND / 2)
    );
    let v = p.env.operator_of(&p.verifiers[0]);
    assert_eq!((v.stake, v.bonded, v.earned), (STAKE, 0, 2 * (BOND / 4)));
    for op in &p.ops {
        let o = p.env.operator_of(op);
        assert_eq!((o.stake, o.bonded, o.earned), (STAKE - BOND, 0, 0));
    }
}

#[test]
fn a_challenger_that_loses_on_purpose_shields_nobody() {
    let model = model();
    let mut p = play_with(model.clone(), vec![Replica::cheat(&model, 5, 2, 1)]);
    // The cheat's accomplice challenges first, then an honest verifier; both name chunk 2.
    let (decoy, honest) = (p.env.operator(STAKE), p.env.operator(STAKE));
    p.challenge(decoy, 2, None);
    p.challenge(honest, 2, None);
    p.env.warp_past_challenge_reveals(p.job);
    // The accomplice opens its game first and never moves again.
    let (r, decoy_game) = p.open(0, challenger(0), 5);
    r.unwrap();
    p.post_chain(decoy_game).unwrap();
    // The honest verifier's game goes on beside it, and convicts.
    p.play_out(0, challenger(1), 5);
    p.warp_past(decoy_game);
    p.env.end_game(decoy_game).unwrap();
    let job = p.env.job(&p.job);
    assert_eq!((job.convicted, job.challenge_wins), (0b1, 0b10));
    let creator = p.creator();
    p.env.settle_referee(p.job, &creator).unwrap();
    // The honest verifier wins the honest share; the accomplice only gets its bond back.
    assert_eq!(p.env.operator_of(&p.verifiers[1]).earned, BOND / 4);
    let d = p.env.operator_of(&p.verifiers[0]);
    assert_eq!((d.stake, d.bonded, d.earned), (STAKE, 0, 0));
    assert_eq!(p.env.operator_of(&p.ops[0]).stake, STAKE - BOND);
}

#[test]
fn at_the_deadline_a_replica_that_stood_is_paid_and_one_convicted_is_slashed() {
    // Honest replicas; a verifier challenges a right chunk (a wrong claim).
    let model = model();
    let mut p = play(vec![Replica::honest(&model), Replica::honest(&model)]);
    let verifier = p.env.operator(STAKE);
    p.challenge(verifier, 1, Some([9; 32]));
    p.env.warp_past_challenge_reveals(p.job);
    // Slot 0 never answers its game: convicted. Slot 1 defends every layer; the challenger
    // has nothing to prove and runs out of time.
    let (r, silent) = p.open(0, challenger(0), 2);
    r.unwrap();
    let (r, stood) = p.open(1, challenger(0), 2);
    r.unwrap();
    p.post_chain(stood).unwrap();
    p.pick_layer(stood, challenger(0), 3).unwrap();
    p.reveal(stood).0.unwrap();
    assert!(p.step(stood).is_none());
    p.warp_past(stood);
    p.env.end_game(silent).unwrap();
    p.env.end_game(stood).unwrap();
    let job = p.env.job(&p.job);
    assert_eq!(
        (job.convicted, job.challenge_wins, job.open_games),
        (0b01, 0b1, 0)
    );
    // Not every replica convicted: the referee cannot settle; the dispute expires.
    let creator = p.creator();
    assert_tessera_error(
        &p.env.settle_referee(p.job, &creator),
        TesseraError::SlotsStillDisagree,
    );
    let deadline = job.dispute_deadline;
    let now = p.env.now();
    p.env.warp(deadline - now + 1);
    let before = p.env.balance(&p.creator.token);
    let ix =
        p.env
            .keys
            .expire_dispute(p.job, creator.pubkey(), creator.token, &p.env.parties(&job));
    let crank = p.env.cranker();
    p.env.send(&[ix], &[&crank]).unwrap();
    let job = p.env.job(&p.job);
    assert_eq!(job.state(), JobState::Settled);
    assert_eq!(job.agreed_root, Replica::honest(&model).root(&model));
    // The replica that stood is paid (with the silent one's honest share); the silent one is
    // slashed; the challenger gets its bond back; the creator its reward for the silent slot
    // and half the slash.
    let stood = p.env.operator_of(&p.ops[1]);
    assert_eq!((stood.stake, stood.earned), (STAKE, PAY + BOND / 4));
    let silent = p.env.operator_of(&p.ops[0]);
    assert_eq!((silent.stake, silent.earned), (STAKE - BOND, 0));
    let v = p.env.operator_of(&p.verifiers[0]);
    assert_eq!((v.stake, v.bonded, v.earned), (STAKE, 0, 0));
    assert_eq!(p.env.balance(&p.creator.token), before + REWARD + BOND / 2);
}

#[test]
fn a_challenger_opens_games_only_on_its_own_chunk_and_as_itself() {
    let mut p = colluding_pair();
    let verifier = p.env.operator(STAKE);
    p.challenge(verifier, 2, None);
    p.env.warp_past_challenge_reveals(p.job);
    // Row 7 is in chunk 3, not the challenged chunk 2.
    let (r, _) = p.open(0, challenger(0), 7);
    assert_tessera_error(&r, TesseraError::BadFraudProof);
    // Another operator signing as the challenger; a challenge that does not exist.
    let args = open_game_args(
        &p.commitment,
        0,
        tessera::instructions::Accuser::Challenger { index: 0 },
        5,
    );
    let (r, _) = p.open_with(1, 0, args);
    assert_tessera_error(&r, TesseraError::NotAssigned);
    let args = open_game_args(
        &p.commitment,
        0,
        tessera::instructions::Accuser::Challenger { index: 1 },
        5,
    );
    let (r, _) = p.open_with(challenger(0), 0, args);
    assert_tessera_error(&r, TesseraError::NotRefereeable);
    // Replicas that agreed do not accuse each other.
    let (r, _) = p.open(0, 1, 5);
    assert_tessera_error(&r, TesseraError::NotRefereeable);
    p.open(0, challenger(0), 5).0.unwrap();
}

#[test]
fn a_market_without_an_arbiter_takes_mlp_jobs() {
    let mut env = Env::without_arbiter();
    let creator = env.user(10 * REWARD);
    let model = model();
    env.create_quant_job(&creator, 1, 1, KERNEL_MLP_I8, &model)
        .unwrap();
    let mut render = env.job_args(2, 1, REWARD);
    render.kernel = tessera::constants::KERNEL_RENDER;
    assert_tessera_error(
        &env.create_job_with(&creator, render),
        TesseraError::KernelNeedsArbiter,
    );
}

#[test]
fn every_game_transaction_fits_in_one_packet() {
    use solana_message::Message;
    use solana_transaction::Transaction;
    let env = Env::new();
    let payer = Keypair::new();
    let size = |ixs: &[anchor_lang::solana_program::instruction::Instruction]| {
        let msg = Message::new(ixs, Some(&payer.pubkey()));
        let tx = Transaction::new(&[&payer], msg, env.svm.latest_blockhash());
        1 + 64 * tx.signatures.len() + tx.message.serialize().len()
    };
    let price =
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(1);
    let limit =
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(1);
    let max = tessera_int8::model::MAX_LAYERS;
    let header = tessera_int8::model::Header {
        rows: u32::MAX,
        rows_per_chunk: u32::MAX,
        input_zero_point: -1,
        layers: vec![
            tessera_int8::model::LayerShape {
                k: u32::MAX,
                n: u32::MAX,
                output_zero_point: -1,
                relu: true,
            };
            max
        ],
    };
    let (job, game, buffer) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let open = env.keys.open_game(
        payer.pubkey(),
        job,
        Pubkey::new_unique(),
        tessera::instructions::OpenGameArgs {
            defender_slot: u8::MAX,
            accuser: tessera::instructions::Accuser::Challenger { index: u8::MAX },
            row: u32::MAX,
            header: header.to_bytes(),
            input_root: [0xff; 32],
            layer_roots: vec![[0xff; 32]; max],
        },
    );
    let keys = tessera_client::ix::GameKeys {
        game,
        job,
        accuser: Pubkey::new_unique(),
        defender: Pubkey::new_unique(),
        rows_buffer: Some(Pubkey::new_unique()),
    };
    let step = StepArgs {
        feature: u32::MAX,
        bias: i32::MIN,
        multiplier: i32::MIN,
        shift: i32::MIN,
        input_proof_len: u8::MAX,
        weight_proof_len: u8::MAX,
    };
    let parties: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
    for (name, ix) in [
        ("open_game", open),
        (
            "post_chain",
            env.keys
                .post_chain(payer.pubkey(), game, job, vec![[0xff; 32]; max - 1]),
        ),
        (
            "pick_layer",
            env.keys.pick_layer(payer.pubkey(), game, job, u8::MAX),
        ),
        (
            "reveal_rows",
            env.keys
                .reveal_rows(payer.pubkey(), game, job, buffer, u8::MAX),
        ),
        ("prove_step", env.keys.prove_step(&keys, buffer, step)),
        ("end_game", env.keys.end_game(&keys)),
        (
            "settle_referee",
            env.keys
                .settle_referee(job, Pubkey::new_unique(), Pubkey::new_unique(), &parties),
        ),
    ] {
        let n = size(&[limit.clone(), price.clone(), ix]);
        assert!(n <= 1232, "{name}: {n} bytes");
    }
}

/// The element function the real `.so` runs equals the CPU reference's on 10 000 fuzzed
/// elements: four games whose picked layer has 2 500 features each, every feature with its own
/// bias, multiplier and shift drawn over the whole valid range (multiplier 0 included, shifts
/// -31 to 7, bias up to ±2^30), each game with its own zero points and relu. The honest
/// defender's output row is the CPU's; a proof of each of its elements is sent, and the program
/// refuses every one (`NoFraud`: it computed the same byte). (That a changed element is
/// convicted is the property test's below.)
#[test]
fn the_on_chain_element_function_equals_the_cpu_reference_on_10_000_fuzzed_elements() {
    use tessera_int8::{MAX_SHIFT, MIN_MULTIPLIER, MIN_SHIFT};
    const FEATURES: usize = 2_500;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut checked = 0;
    for game in 0..4u32 {
        // One row of 48 inputs, through 32 features, to the fuzzed layer of 2 500.
        let mut model = synthetic_mlp(0xf022 + game, 1, &[48, 32, FEATURES], 1);
        model.input_zero_point = next() as i8 as i32;
        model.layers[0].output_zero_point = next() as i8 as i32;
        let l = &mut model.layers[1];
        l.output_zero_point = next() as i8 as i32;
        l.relu = game % 2 == 1;
        for n in 0..FEATURES {
            l.bias[n] = (next() % (1 << 31)) as i32 - (1 << 30);
            l.multiplier[n] = match next() % 8 {
                0 => 0,
                1 => MIN_MULTIPLIER,
                2 => i32::MAX,
                _ => MIN_MULTIPLIER + (next() % (1 << 30)) as i32,
            };
            l.shift[n] = MIN_SHIFT + (next() % (MAX_SHIFT - MIN_SHIFT + 1) as u64) as i32;
        }
        let honest = Replica::honest(&model);
        let mut cheat = honest.clone();
        let out = cheat.rows[0][2].clone();
        cheat.rows[0][2][0] = out[0].wrapping_add(1);
        let mut p = play_with(model.clone(), vec![honest, cheat]);
        // The cheat accuses the honest replica at the fuzzed layer.
        let (r, key) = p.open(0, 1, 0);
        r.unwrap();
        p.post_chain(key).unwrap();
        p.pick_layer(key, 1, 2).unwrap();
        p.reveal(key).0.unwrap();
        let g = p.game(key);
        let (x, y) =
            read_revealed(&g, &p.env.svm.get_account(&g.rows_buffer).unwrap().data).unwrap();
        let x = x.unwrap();
        // One buffer, rewritten for each proof: a weight row and its proof (at most 20 hashes).
        let prover = p.env.cranker();
        let buffer = p.env.stage(&prover, &[0; 32 + 32 * 20]);
        for n in 0..FEATURES {
            // A proof of element n, as if the defender's value were one more.
            let mut forged = y.clone();
            forged[n] = forged[n].wrapping_add(1);
            let (staged, args) = step_proof(&model, &p.commitment, 0, 2, &x, &forged).unwrap();
            assert_eq!(args.feature as usize, n);
            let ix = p.env.keys.write_buffer(prover.pubkey(), buffer, 0, staged);
            p.env.send(&[ix], &[&prover]).unwrap();
            assert_tessera_error(&p.env.prove_step(key, buffer, args), TesseraError::NoFraud);
            checked += 1;
        }
    }
    assert_eq!(checked, 10_000);
}

// ---------------------------------------------------------------------------------------------
// Properties, over random models
// ---------------------------------------------------------------------------------------------

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A random model of 2 to 4 layers: its widths, rows per chunk, zero points and relu
    /// drawn.
    fn random_model(
        seed: u32,
        rows: usize,
        widths: &[usize],
        per_chunk: u32,
        zps: &[i8],
        relu: &[bool],
    ) -> QuantModel {
        let mut m = synthetic_mlp(seed, rows, widths, per_chunk);
        m.input_zero_point = zps[0] as i32;
        for (i, l) in m.layers.iter_mut().enumerate() {
            l.output_zero_point = zps[i + 1] as i32;
            l.relu = relu[i];
        }
        m
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Any single-element corruption at a random layer, row and element of a random model
        /// is convicted by the honest replica playing the game; and the honest replica,
        /// accused by the corrupted one at any layer it picks, is never convicted.
        #[test]
        fn any_corrupted_element_is_convicted_and_the_honest_defender_never_is(
            seed in any::<u32>(),
            rows in 1usize..=6,
            widths in prop::collection::vec(1usize..=40, 3..=5),
            per_chunk in 1u32..=3,
            zps in prop::collection::vec(any::<i8>(), 5),
            relu in prop::collection::vec(any::<bool>(), 4),
            at in (any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            delta in 1u8..=255,
            accuser_pick in any::<prop::sample::Index>(),
        ) {
            let model = random_model(seed, rows, &widths, per_chunk, &zps, &relu);
            let layers = model.layers.len();
            let (m, layer) = (at.0.index(rows), 1 + at.1.index(layers));
            let feature = at.2.index(model.layers[layer - 1].n);
            let cheat = Replica::corrupted(&model, m, layer, feature, delta as i8);
            let honest = Replica::honest(&model);
            // A corruption later layers wash out (relu, saturation) delivers the true output:
            // nothing to dispute.
            prop_assume!(cheat.root(&model) != honest.root(&model));
            let mut p = play_with(model.clone(), vec![honest, cheat]);

            // The cheater accuses the honest replica at any layer: it stands.
            let (r, key) = p.open(0, 1, m as u32);
            r.unwrap();
            p.post_chain(key).unwrap();
            let pick = 1 + accuser_pick.index(layers) as u8;
            p.pick_layer(key, 1, pick).unwrap();
            p.reveal(key).0.unwrap();
            prop_assert!(p.step(key).is_none());
            let g = p.game(key);
            let (x, y) = read_revealed(&g, &p.env.svm.get_account(&g.rows_buffer).unwrap().data).unwrap();
            let k0 = model.layers[0].k;
            let x = x.unwrap_or_else(|| model.input[m * k0..(m + 1) * k0].to_vec());
            let mut forged = y.clone();
            forged[0] = forged[0].wrapping_add(1);
            let (staged, args) = step_proof(&model, &p.commitment, m, pick, &x, &forged).unwrap();
            assert_tessera_error(&p.prove_with(key, &staged, args), TesseraError::NoFraud);

            // The honest replica accuses the cheater on the corrupted row and convicts it at
            // the layer it corrupted or a later one it carried the change into.
            let picked = p.play_out(1, 0, m as u32);
            prop_assert_eq!(picked as usize, layer, "the first layer the cheater changed");
            let job = p.env.job(&p.job);
            prop_assert_eq!(job.convicted, 0b10);
            let before = p.env.balance(&p.creator.token);
            p.settle_referee_and_check_the_money(before);
        }
    }
}
