//! The referee's game, played unattended (`mlp-i8` jobs whose replicas disagree, or whose
//! agreed root this worker challenged on a chunk; the program's
//! `instructions/dispute/game.rs`). Each run of [`Step::Referee`](crate::decide::Step) reads the
//! job's games and makes one move:
//!
//! - a game that no longer matters, or whose party to move is late, is ended (a late defender
//!   is convicted);
//! - as defender: post the chain of its row, then reveal the two rows of the layer picked (and,
//!   for the last layer, its delivered chunk with its leaf proof);
//! - as accuser: pick the first layer where the defender's chain leaves the true rows, then
//!   prove one element of the revealed rows wrong;
//! - once the convictions leave the slots agreeing, settle the job;
//! - else open this worker's next game: a replica's against the first slot with another root,
//!   on the first row where that slot's published output differs from its own; a
//!   challenger's against each replica, on the first wrong row of the chunk it challenged.
//!
//! Every row this worker posts or checks is the CPU reference's, recomputed from the model.
use anchor_lang::prelude::Pubkey;
use solana_signer::Signer;
use tessera_client::ix::{parties, GameKeys};
use tessera_client::referee::{
    chain_hashes, open_game_args, pick, read_revealed, revealed_rows, row_chain, step_proof,
};
use tessera_client::state::{Game, GamePhase, Job, JobState};
use tessera_client::Accuser;
use tessera_kernels::quant::{run_rows_cpu, QuantModel};
use tessera_kernels::Workload;

use crate::db::JobRecord;
use crate::decide::{accused_slot, in_games};
use crate::error::WorkerError;
use crate::input;
use crate::node::Worker;

/// The compute units a game move may use: reveals hash the delivered chunk, proofs a dot
/// product of up to 16 384 terms.
const GAME_CU_LIMIT: u32 = 1_400_000;

impl Worker {
    /// One move in the games of `job` (see the module's doc).
    pub(crate) async fn play_games(
        &self,
        key: Pubkey,
        job: &Job,
        rec: &JobRecord,
    ) -> Result<(), WorkerError> {
        let now = self
            .chain()
            .clock()
            .await
            .map_err(WorkerError::Transaction)?
            .unix_timestamp;
        let ctx = tessera_client::flows::Ctx::new(self.chain()).with_tx(self.tx.clone());
        let games = tessera_client::flows::referee::games(&ctx, self.keys(), &key, job)
            .await
            .map_err(WorkerError::Transaction)?;
        let me = self.key.pubkey();
        for (address, game) in &games {
            let keys = GameKeys::of(*address, game);
            let moot =
                job.state() != JobState::Disputed || job.convicted & (1 << game.defender_slot) != 0;
            if moot || now > game.deadline {
                self.send(&[self.keys().end_game(&keys)]).await?;
                tracing::info!(job = %key, game = %address, moot, "game ended");
                return Ok(());
            }
            let phase = game.phase();
            if game.defender == me && phase.defender_moves() {
                return self.defend(key, job, game, &keys).await;
            }
            if game.accuser == me && !phase.defender_moves() {
                return self.accuse(key, game, &keys, job).await;
            }
        }
        // The moves above are the only ones left for a job that has ended.
        if job.state() != JobState::Disputed {
            return Ok(());
        }
        let Some(me_as) = accuser_of(job, &self.operator) else {
            return Ok(());
        };
        if job.convicted != 0
            && tessera_client::program::instructions::referee_verdict(job).is_some()
        {
            let ix = self.keys().settle_referee(
                key,
                job.creator,
                self.creator_token(job),
                &parties(job),
            );
            let ixs = self.with_creator_token(job, true, ix).await?;
            self.send(&ixs).await?;
            tracing::info!(job = %key, convicted = job.convicted, "settled by the referee");
            return Ok(());
        }
        if rec.fraud_proof.is_some() || now > job.dispute_deadline {
            return Ok(());
        }
        // The next slot to accuse: a replica accuses the first live one with another root, a
        // challenger every live replica (they all delivered the agreed root).
        let accused = match me_as {
            Accuser::Slot { slot } => accused_slot(job, slot as usize),
            Accuser::Challenger { .. } => job
                .settlement_slots()
                .map(|(i, _)| i)
                .find(|&i| job.convicted & (1 << i) == 0),
        };
        let Some(accused) = accused.filter(|&d| !job.game_played(d as u8, me_as.id())) else {
            return Ok(());
        };
        match self.wrong_row(key, job, me_as, accused).await? {
            Err(why) => {
                tracing::warn!(job = %key, accused, %why, "no game opened: the dispute expires at its deadline");
                self.db.update(&key, |r| r.fraud_proof = Some(why))?;
            }
            Ok(row) => {
                let model = self.model(key, job).await?;
                let commitment = quant_model(&model).commitment();
                let args = open_game_args(&commitment, accused as u8, me_as, row);
                let ix = self
                    .keys()
                    .open_game(me, key, job.assignments[accused].operator, args);
                self.send(&[ix]).await?;
                self.metrics.games.inc();
                tracing::info!(job = %key, accused, row, "game opened");
            }
        }
        Ok(())
    }

    /// The job's model (cached from the claim, else fetched and checked again).
    async fn model(&self, key: Pubkey, job: &Job) -> Result<std::sync::Arc<Workload>, WorkerError> {
        let cached = self.inputs.lock().expect("inputs").get(&key).cloned();
        let parsed = match cached {
            Some(p) => p,
            None => {
                let p =
                    std::sync::Arc::new(input::load(&self.store, &self.input_bases, job).await??);
                self.inputs.lock().expect("inputs").insert(key, p.clone());
                p
            }
        };
        match &*parsed {
            Workload::MlpI8(_) | Workload::GemmI8(_) => Ok(parsed),
            _ => Err(WorkerError::Game(
                "the job's input is not an int8 model".into(),
            )),
        }
    }

    /// The first batch row the accused slot's output gets wrong. A replica compares the
    /// accused's published leaves with its own and reads the first chunk that differs; a
    /// challenger reads the chunk it challenged. The error says why there is none (an accused
    /// that published neither leaves nor chunk).
    async fn wrong_row(
        &self,
        key: Pubkey,
        job: &Job,
        me_as: Accuser,
        accused: usize,
    ) -> Result<Result<u32, String>, WorkerError> {
        let (chunk, leaf) = match me_as {
            Accuser::Slot { slot } => {
                let (own, theirs) = match (
                    self.slot_leaves(job, slot as usize).await,
                    self.slot_leaves(job, accused).await,
                ) {
                    (Ok(own), Ok(theirs)) => (own, theirs),
                    (Err(why), _) | (_, Err(why)) => return Ok(Err(why)),
                };
                let Some(chunk) = own.iter().zip(&theirs).position(|(a, b)| a != b) else {
                    return Ok(Err("the roots differ but no leaf does".into()));
                };
                (chunk, theirs[chunk])
            }
            Accuser::Challenger { index } => {
                let c = job.challenges[index as usize];
                (c.chunk as usize, c.operator_leaf)
            }
        };
        let delivered = match self.slot_chunk(job, accused, chunk as u32, leaf).await {
            Ok(c) => c,
            Err(why) => return Ok(Err(why)),
        };
        let model = self.model(key, job).await?;
        let q = quant_model(&model);
        let (start, end) = q.chunk_rows(chunk as u32);
        let n = q.output_features();
        let truth = run_rows_cpu(q, start, end);
        let row = (0..end - start).find(|&r| {
            delivered
                .get(r * n..(r + 1) * n)
                .is_none_or(|d| d.iter().zip(&truth[r * n..]).any(|(&a, &b)| a != b as u8))
        });
        Ok(match row {
            Some(r) => Ok((start + r) as u32),
            // A chunk of the wrong size whose rows all match: its first row past the truth.
            None if delivered.len() != truth.len() => {
                Ok((start + delivered.len() / n.max(1)).min(end - 1) as u32)
            }
            None => Err("the accused chunk is right: nothing to accuse".into()),
        })
    }

    /// The defender's move: its chain, or its rows of the picked layer.
    async fn defend(
        &self,
        key: Pubkey,
        job: &Job,
        game: &Game,
        keys: &GameKeys,
    ) -> Result<(), WorkerError> {
        let mine = game.defender_slot as usize;
        let model = self.model(key, job).await?;
        let q = quant_model(&model);
        let row = game.row as usize;
        let rows = row_chain(q, row);
        if game.phase() == GamePhase::AwaitChain {
            let ix = self
                .keys()
                .post_chain(self.key.pubkey(), keys.game, key, chain_hashes(&rows));
            self.send(&[ix]).await?;
            tracing::info!(job = %key, row, "game: chain posted");
            return Ok(());
        }
        // The last layer's row is read from the delivered chunk, proven under this slot's
        // root.
        let (chunk, proof) = if game.layer == game.layer_count {
            let c = (game.row / q.rows_per_chunk) as usize;
            let leaves = self
                .slot_leaves(job, mine)
                .await
                .map_err(WorkerError::Game)?;
            let chunk = self
                .slot_chunk(job, mine, c as u32, leaves[c])
                .await
                .map_err(WorkerError::Game)?;
            (chunk, tessera_merkle::proof(&leaves, c))
        } else {
            (Vec::new(), Vec::new())
        };
        let bytes = revealed_rows(&rows, game.layer, &chunk, &proof);
        let ctx = tessera_client::flows::Ctx::new(self.chain()).with_tx(self.tx.clone());
        let buffer = tessera_client::flows::referee::stage(&ctx, self.keys(), &self.key, &bytes)
            .await
            .map_err(WorkerError::Transaction)?;
        let ix =
            self.keys()
                .reveal_rows(self.key.pubkey(), keys.game, key, buffer, proof.len() as u8);
        self.send_with_budget(&[ix]).await?;
        tracing::info!(job = %key, row, layer = game.layer, bytes = bytes.len(), "game: rows revealed");
        Ok(())
    }

    /// The accuser's move: the pick of the first wrong layer, or the proof of its wrong
    /// element.
    async fn accuse(
        &self,
        key: Pubkey,
        game: &Game,
        keys: &GameKeys,
        job: &Job,
    ) -> Result<(), WorkerError> {
        let model = self.model(key, job).await?;
        let q = quant_model(&model);
        let row = game.row as usize;
        if game.phase() == GamePhase::AwaitPick {
            let layer = pick(&row_chain(q, row), game.chain());
            let ix = self
                .keys()
                .pick_layer(self.key.pubkey(), keys.game, key, layer);
            self.send(&[ix]).await?;
            tracing::info!(job = %key, row, layer, "game: layer picked");
            return Ok(());
        }
        let data = self
            .chain()
            .get_account(&game.rows_buffer)
            .await
            .map_err(WorkerError::Transaction)?
            .ok_or_else(|| WorkerError::Game("the revealed rows' buffer is gone".into()))?
            .data;
        let (x, y) = read_revealed(game, &data).map_err(|e| WorkerError::Game(e.to_string()))?;
        let k0 = q.layers[0].k;
        let x = x.unwrap_or_else(|| q.input[row * k0..(row + 1) * k0].to_vec());
        let commitment = q.commitment();
        let Some((staged, args)) = step_proof(q, &commitment, row, game.layer, &x, &y) else {
            return Err(WorkerError::Game(format!(
                "the revealed rows of layer {} are right: nothing to prove",
                game.layer
            )));
        };
        let ctx = tessera_client::flows::Ctx::new(self.chain()).with_tx(self.tx.clone());
        let buffer = tessera_client::flows::referee::stage(&ctx, self.keys(), &self.key, &staged)
            .await
            .map_err(WorkerError::Transaction)?;
        let sent = self
            .send_with_budget(&[self.keys().prove_step(keys, buffer, args.clone())])
            .await;
        // The buffer's rent comes back whatever the proof's fate.
        if let Err(e) =
            tessera_client::flows::referee::close(&ctx, self.keys(), &self.key, &buffer).await
        {
            tracing::warn!(job = %key, error = %e, "cannot close the proof's buffer");
        }
        sent?;
        self.metrics.fraud_proofs.inc();
        tracing::info!(job = %key, row, layer = game.layer, feature = args.feature, "game: fraud proven to the referee");
        Ok(())
    }

    /// [`Worker::send`] with the compute-unit limit a game move may need.
    async fn send_with_budget(
        &self,
        ixs: &[anchor_lang::solana_program::instruction::Instruction],
    ) -> Result<(), WorkerError> {
        let opts = tessera_client::TxOptions {
            compute_unit_limit: Some(GAME_CU_LIMIT),
            ..self.tx.clone()
        };
        self.metrics.tx_sent.inc();
        self.chain()
            .send_transaction(ixs, &[&self.key], &opts)
            .await
            .map(|_| ())
            .map_err(|e| {
                self.metrics.tx_failed.inc();
                WorkerError::Transaction(e)
            })
    }
}

fn quant_model(w: &Workload) -> &QuantModel {
    match w {
        Workload::MlpI8(q) | Workload::GemmI8(q) => &q.model,
        _ => unreachable!("checked by Worker::model"),
    }
}

/// How this worker (operator account `operator`) accuses in `job`'s games: by its live slot, or
/// by its revealed chunk challenge; `None` when it takes no part.
pub fn accuser_of(job: &Job, operator: &Pubkey) -> Option<Accuser> {
    if let Some(slot) = job.slot_of(operator) {
        return in_games(job, slot).then_some(Accuser::Slot { slot: slot as u8 });
    }
    let index = job.challenge_of(operator)?;
    let c = &job.challenges[index];
    (c.is_revealed() && c.chunk != tessera_client::constants::WHOLE_ROOT)
        .then_some(Accuser::Challenger { index: index as u8 })
}
