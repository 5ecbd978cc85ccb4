//! The steps [`crate::decide`] chooses, carried out: check and claim, compute and store,
//! deliver (submit, or commit then reveal), crank (finalize, timeout, expire), verify another
//! operator's result, rule a dispute. Each returns once its transaction is confirmed or has
//! failed; what a later transaction depends on is in the state database before it is sent.
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_signer::Signer;
use tessera_client::ix::{
    challenge_commitment, parties, without_creator_token, CrankBuilder, MarketKeys,
};
use tessera_client::state::{ChallengeStatus, Job, SlotStatus};
use tessera_client::store::{self, Capped};
use tessera_client::token::{associated_token_address, create_associated_token_account_idempotent};
use tessera_client::FraudTarget;
use tessera_kernels::Backend;

use crate::db::{AuditRecord, ChallengeRecord, JobRecord};
use crate::decide::{self, Step};
use crate::error::WorkerError;
use crate::input;
use crate::node::Worker;
use crate::verify;

/// The largest delivered chunk a fraud proof stages: what a buffer account holds (10 MiB)
/// less the rows and proofs staged after it.
const MAX_STAGED_CHUNK: u64 = 9 << 20;
/// The largest leaves file read: a job's most chunks (2²⁰) of 32 bytes.
const MAX_LEAVES_FILE: u64 = 32 << 20;

impl Worker {
    /// Runs `step` for `job` (its record `rec` read just before).
    pub(crate) async fn step(
        &self,
        key: Pubkey,
        job: &Job,
        rec: JobRecord,
        step: Step,
    ) -> Result<(), WorkerError> {
        tracing::debug!(job = %key, ?step, "step");
        match step {
            Step::Claim => self.claim(key, job).await,
            Step::Compute => self.compute(key, job).await,
            Step::Submit => {
                let (root, uri) = (rec.root.expect("decided"), rec.output_uri.expect("decided"));
                let ix = self.keys().submit_result(self.key.pubkey(), key, root, uri);
                self.send(&[ix]).await?;
                tracing::info!(job = %key, root = %store::hex(&root), "result submitted");
                Ok(())
            }
            Step::Commit => {
                let root = rec.root.expect("decided");
                // The salt is on disk before the commitment leaves: a restart reveals it.
                let salt = match rec.salt {
                    Some(s) => s,
                    None => {
                        let salt: [u8; 32] = rand::random();
                        self.db.update(&key, |r| r.salt = Some(salt))?;
                        salt
                    }
                };
                let commitment =
                    tessera_merkle::commitment(&root, &self.operator.to_bytes(), &salt);
                let ix = self
                    .keys()
                    .commit_result(self.key.pubkey(), key, commitment);
                self.send(&[ix]).await?;
                tracing::info!(job = %key, "result committed");
                Ok(())
            }
            Step::Reveal => {
                let (root, salt, uri) = (
                    rec.root.expect("decided"),
                    rec.salt.expect("decided"),
                    rec.output_uri.expect("decided"),
                );
                let ix = self
                    .keys()
                    .reveal_result(self.key.pubkey(), key, root, salt, uri);
                self.send(&[ix]).await?;
                tracing::info!(job = %key, root = %store::hex(&root), "result revealed");
                Ok(())
            }
            Step::Finalize | Step::Timeout | Step::Expire => self.crank(key, job, step).await,
            Step::Verify => self.budgeted(self.verify(key, job)).await,
            Step::RevealChallenge => {
                let record = rec.challenge.expect("decided");
                let ix = self.keys().reveal_challenge(
                    self.key.pubkey(),
                    key,
                    record.args(),
                    record.salt,
                );
                self.send(&[ix]).await?;
                tracing::info!(job = %key, chunk = record.chunk, "challenge revealed");
                Ok(())
            }
            Step::DrawAudit => {
                self.send(&[self.keys().draw_audit(key)]).await?;
                tracing::info!(job = %key, "audit draw made");
                Ok(())
            }
            Step::Audit => self.budgeted(self.audit(key, job)).await,
            Step::PostAuditLeaves => self.post_audit_leaves(key, job, &rec).await,
            Step::RevealAudit => {
                let audit = rec.audit.expect("decided");
                let ix = self
                    .keys()
                    .reveal_audit(self.key.pubkey(), key, audit.leaves, audit.salt);
                self.send(&[ix]).await?;
                tracing::info!(job = %key, "audit revealed");
                Ok(())
            }
            Step::ConvictWithheld => {
                let ix = self.keys().convict_withheld(
                    key,
                    job.creator,
                    self.creator_token(job),
                    &parties(job),
                );
                let ixs = self.with_creator_token(job, true, ix).await?;
                self.send(&ixs).await?;
                tracing::warn!(job = %key, "the audited leaves were withheld: replicas convicted");
                Ok(())
            }
            Step::ProveFraud => self.prove_fraud(key, job).await,
            Step::Referee => self.play_games(key, job, &rec).await,
            Step::Resolve => self.resolve(key, job).await,
            Step::GiveUp(why) => {
                tracing::warn!(job = %key, %why, "delivery given up; this job will not be claimed again");
                self.metrics.deliveries_given_up.inc();
                self.db
                    .update(&key, |r| r.gave_up = Some(why.to_string()))?;
                self.inputs.lock().expect("inputs").remove(&key);
                Ok(())
            }
        }
    }

    /// Records why `job` is not claimed (it stays so: it is not looked at again).
    fn refuse(&self, key: Pubkey, reason: String) -> Result<(), WorkerError> {
        tracing::info!(job = %key, %reason, "not claiming");
        self.db.update(&key, |r| r.rejected = Some(reason))?;
        Ok(())
    }

    /// Checks the input, then claims a free slot; a bad or underpaid input, or one that cannot
    /// be computed within the job's `exec_timeout`, is recorded as rejected and never claimed.
    async fn claim(&self, key: Pubkey, job: &Job) -> Result<(), WorkerError> {
        let margin = self.cfg.min_exec_margin_secs;
        // Not even the margin fits: no need to fetch the input.
        if let Err(reason) = decide::fits_in_time(job.exec_timeout, 0, 1.0, margin) {
            return self.refuse(key, reason);
        }
        let parsed = match input::load(&self.store, &self.input_bases, job).await? {
            Ok(p) => p,
            Err(refusal) => {
                tracing::warn!(job = %key, reason = %refusal, "input refused; not claiming");
                self.metrics.jobs_rejected.inc();
                self.db
                    .update(&key, |r| r.rejected = Some(refusal.to_string()))?;
                return Ok(());
            }
        };
        let per_unit = job.reward_per_replica as f64 * 1e6 / parsed.work_units().max(1) as f64;
        if per_unit < self.cfg.min_reward_per_unit {
            let reason = format!(
                "reward {per_unit:.1} per million work units is below {}",
                self.cfg.min_reward_per_unit
            );
            return self.refuse(key, reason);
        }
        let rate = self.units_per_sec(job.kernel);
        if let Err(reason) =
            decide::fits_in_time(job.exec_timeout, parsed.work_units(), rate, margin)
        {
            return self.refuse(key, reason);
        }
        self.inputs
            .lock()
            .expect("inputs")
            .insert(key, Arc::new(parsed));
        self.db.update(&key, |r| r.claimed = true)?;
        let ix = self
            .keys()
            .claim_job(self.key.pubkey(), key, job.claim_terms());
        self.send(&[ix]).await?;
        self.db.update(&key, |r| r.claim_landed = true)?;
        self.metrics.jobs_claimed.inc();
        tracing::info!(job = %key, kernel = job.kernel, chunks = job.chunk_count, "job claimed");
        Ok(())
    }

    /// Computes a claimed job and stores its chunks and leaves; the root and the output's
    /// location go to the state database.
    async fn compute(&self, key: Pubkey, job: &Job) -> Result<(), WorkerError> {
        // Decided only while this worker holds a slot (a claim whose record was cut short
        // before its confirmation was written, say).
        self.db.update(&key, |r| r.claim_landed = true)?;
        let cached = self.inputs.lock().expect("inputs").get(&key).cloned();
        let parsed = match cached {
            Some(p) => p,
            // Checked before the claim; only a changed blob is refused here.
            None => Arc::new(input::load(&self.store, &self.input_bases, job).await??),
        };
        let computed = self.pool.compute(parsed.clone()).await;
        self.computed(computed.as_ref().map(|_| ()));
        let computed = computed?;
        let seconds = computed.seconds;
        self.metrics.compute_seconds.inc_by(seconds);
        self.measured(job.kernel, parsed.work_units(), seconds);
        let output = computed.output;
        let root = output.root();
        // Secret until the reveal: a co-replica cannot find this output and copy it.
        let nonce = self.db.output_nonce(&key)?;
        let uri = store::output_uri(&self.store_base, &key, &self.operator, &nonce);
        self.store
            .put_output(&uri, &output.chunks, &mut |_, _| {})
            .await
            .map_err(|source| WorkerError::StoreOutput {
                uri: uri.clone(),
                source,
            })?;
        self.db.update(&key, |r| {
            r.root = Some(root);
            r.output_uri = Some(uri.clone());
        })?;
        tracing::info!(job = %key, seconds, devices = ?computed.devices, root = %store::hex(&root), "computed and stored");
        Ok(())
    }

    /// Finalize, timeout or expire: the cranks share their accounts (the job's money and its
    /// live operators).
    async fn crank(&self, key: Pubkey, job: &Job, step: Step) -> Result<(), WorkerError> {
        let (build, done): (CrankBuilder, &str) = match step {
            Step::Finalize => (MarketKeys::finalize_job, "job finalized"),
            Step::Timeout => (MarketKeys::timeout_job, "late slots timed out"),
            _ => (MarketKeys::expire_job, "unclaimed job expired and refunded"),
        };
        let ix = build(
            self.keys(),
            key,
            job.creator,
            self.creator_token(job),
            &parties(job),
        );
        // A finalize owes the creator tokens only when a slot failed (its reward goes back) or
        // a challenger never revealed (part of its slash goes to the creator).
        // So does an audit fee nobody earned (it goes back).
        let fee_back = job.audit_fee > 0
            && job
                .audit_index()
                .is_none_or(|k| job.challenges[k].status() != ChallengeStatus::Audited);
        let owes_creator = step != Step::Finalize
            || job.has_challenge()
            || fee_back
            || job.slots().iter().any(|a| a.status() == SlotStatus::Failed);
        let ixs = self.with_creator_token(job, owes_creator, ix).await?;
        self.send(&ixs).await?;
        tracing::info!(job = %key, "{done}");
        Ok(())
    }

    /// Runs a check of another operator's result (a sampled check or an audit), counting it and
    /// its time, and spending that time from the verifier's hourly budget.
    async fn budgeted(
        &self,
        check: impl std::future::Future<Output = Result<(), WorkerError>>,
    ) -> Result<(), WorkerError> {
        let started = std::time::Instant::now();
        let result = check.await;
        let took = started.elapsed();
        self.verify_budget
            .lock()
            .expect("verify budget")
            .spend(std::time::Instant::now(), took);
        self.metrics.audits.inc();
        self.metrics.audit_seconds.inc_by(took.as_secs_f64());
        result
    }

    /// Takes a drawn job's audit: recomputes its drawn chunks on the CPU reference, keeps the
    /// leaves and a salt, then commits to them (bonded). A job whose input cannot be used is not
    /// audited.
    async fn audit(&self, key: Pubkey, job: &Job) -> Result<(), WorkerError> {
        let leaves =
            match verify::audit_leaves(&self.store, &self.input_bases, job, &Backend::Cpu).await? {
                Ok(leaves) => leaves,
                Err(why) => {
                    tracing::warn!(job = %key, %why, "cannot audit this job");
                    self.db.update(&key, |r| r.audit_refused = Some(why))?;
                    return Ok(());
                }
            };
        // The leaves and the salt are on disk before the commitment leaves: a restart reveals.
        let record = AuditRecord {
            leaves,
            salt: rand::random(),
        };
        let commitment = tessera_merkle::audit_commitment(
            &record.leaves,
            &self.operator.to_bytes(),
            &record.salt,
        );
        self.db.update(&key, |r| r.audit = Some(record.clone()))?;
        let ix = self
            .keys()
            .commit_audit(self.key.pubkey(), key, commitment, vec![]);
        self.send(&[ix]).await?;
        self.metrics.audits_taken.inc();
        tracing::info!(job = %key, chunks = ?job.audited_chunks(), "audit committed");
        Ok(())
    }

    /// Posts this replica's leaves of the drawn chunks not posted yet, from its leaves file,
    /// each with its Merkle proof (one transaction each): withheld, they would convict it.
    async fn post_audit_leaves(
        &self,
        key: Pubkey,
        job: &Job,
        rec: &JobRecord,
    ) -> Result<(), WorkerError> {
        let slot = job.slot_of(&self.operator).expect("decided");
        let uri = rec
            .output_uri
            .clone()
            .unwrap_or_else(|| job.assignments[slot].output_uri().to_string());
        let leaves = verify::read_leaves(&self.store, &uri, job.chunk_count)
            .await
            .filter(|l| tessera_merkle::root_from_leaves(l) == job.agreed_root)
            .ok_or_else(|| {
                WorkerError::Audit(format!("no leaves file at {uri} under the agreed root"))
            })?;
        let i = job.audit_index().expect("decided");
        let posted = job.challenges[i].leaves_posted as usize;
        for &chunk in &job.audited_chunks()[posted..] {
            let proof = tessera_merkle::proof(&leaves, chunk as usize);
            let ix = self
                .keys()
                .post_audit_leaf(key, leaves[chunk as usize], proof);
            self.send(&[ix]).await?;
        }
        tracing::info!(job = %key, chunks = ?job.audited_chunks(), "audited leaves posted");
        Ok(())
    }

    /// Recomputes sampled chunks of another operator's result (on the CPU reference) and
    /// challenges it when they differ.
    async fn verify(&self, key: Pubkey, job: &Job) -> Result<(), WorkerError> {
        let finding = verify::check(
            &self.store,
            &self.input_bases,
            job,
            &Backend::Cpu,
            self.cfg.verify.chunks_per_job,
        )
        .await?;
        match finding {
            verify::Finding::Agrees { checked } => {
                tracing::info!(job = %key, ?checked, "verified: the result holds");
                self.db.update(&key, |r| r.verified = Some(false))?;
            }
            verify::Finding::Unverifiable(why) => {
                tracing::warn!(job = %key, %why, "cannot verify this result");
                self.db.update(&key, |r| r.verified = Some(false))?;
            }
            verify::Finding::Withheld { chunks, leaves } => {
                tracing::warn!(job = %key, ?chunks, "the operators' leaves are not published: a volunteer audit makes them post them or be convicted");
                let record = AuditRecord {
                    leaves,
                    salt: rand::random(),
                };
                let commitment = tessera_merkle::audit_commitment(
                    &record.leaves,
                    &self.operator.to_bytes(),
                    &record.salt,
                );
                self.db.update(&key, |r| {
                    r.audit = Some(record.clone());
                    r.verified = Some(true);
                })?;
                let ix = self
                    .keys()
                    .commit_audit(self.key.pubkey(), key, commitment, chunks);
                self.send(&[ix]).await?;
                self.metrics.audits_taken.inc();
            }
            verify::Finding::Wrong(args) => {
                tracing::warn!(job = %key, chunk = args.chunk, "wrong result: committing a challenge");
                // The challenge and its salt are stored before the commitment is sent, so that
                // a restart can still reveal it.
                let record = ChallengeRecord::new(&args);
                let commitment =
                    challenge_commitment(self.keys(), &self.key.pubkey(), &args, &record.salt);
                self.db
                    .update(&key, |r| r.challenge = Some(record.clone()))?;
                let ix = self
                    .keys()
                    .commit_challenge(self.key.pubkey(), key, commitment);
                self.send(&[ix]).await?;
                self.metrics.challenges.inc();
                self.db.update(&key, |r| r.verified = Some(true))?;
            }
        }
        Ok(())
    }

    /// Proves this verifier's revealed chunk challenge of a `gemm-i8` job to the on-chain
    /// referee: reads the chunk the replicas delivered, finds the first element the model does
    /// not give, stages the rows and proofs in a buffer, sends `prove_fraud`, closes the
    /// buffer. Tried once: what happened is recorded (a chunk that cannot be read or proven
    /// is left to the arbiter).
    async fn prove_fraud(&self, key: Pubkey, job: &Job) -> Result<(), WorkerError> {
        let built = match job.challenge_of(&self.operator) {
            Some(k) => {
                let c = job.challenges[k];
                self.fraud_proof(
                    job,
                    FraudTarget::Challenge { index: k as u8 },
                    c.chunk,
                    c.operator_leaf,
                    &[],
                )
                .await?
            }
            None => match job
                .slot_of(&self.operator)
                .and_then(|mine| Some((mine, crate::decide::accused_slot(job, mine)?)))
            {
                Some((mine, accused)) => self.replica_fraud_proof(job, mine, accused).await?,
                None => return Ok(()),
            },
        };
        let chunk = match built.as_ref().map(|p| p.args.target) {
            Ok(FraudTarget::Slot { chunk, .. }) => chunk,
            Ok(FraudTarget::Challenge { index }) => job.challenges[index as usize].chunk,
            Err(_) => 0,
        };
        let outcome = match built {
            Err(why) => {
                tracing::warn!(job = %key, %why, "no fraud proof: the dispute is left to the arbiter");
                why
            }
            Ok(proof) => {
                let ctx = tessera_client::flows::Ctx::new(self.chain()).with_tx(self.tx.clone());
                let keys = self.keys();
                let buffer =
                    tessera_client::flows::referee::stage(&ctx, keys, &self.key, &proof.staged)
                        .await
                        .map_err(WorkerError::Transaction)?;
                let ix = keys.prove_fraud(
                    key,
                    job.creator,
                    self.creator_token(job),
                    buffer,
                    &parties(job),
                    proof.args.clone(),
                );
                let ixs = self.with_creator_token(job, true, ix).await?;
                let opts = tessera_client::TxOptions {
                    compute_unit_limit: Some(1_400_000),
                    ..self.tx.clone()
                };
                self.metrics.tx_sent.inc();
                let sent = self
                    .chain()
                    .send_transaction(&ixs, &[&self.key], &opts)
                    .await;
                if sent.is_ok() {
                    self.metrics.fraud_proofs.inc();
                    tracing::info!(
                        job = %key,
                        chunk,
                        row = proof.args.row,
                        feature = proof.args.feature,
                        "fraud proven to the referee"
                    );
                }
                // The buffer's rent comes back whatever the proof's fate.
                if let Err(e) =
                    tessera_client::flows::referee::close(&ctx, keys, &self.key, &buffer).await
                {
                    tracing::warn!(job = %key, error = %e, "cannot close the proof's buffer");
                }
                if let Err(e) = sent {
                    self.metrics.tx_failed.inc();
                    return Err(WorkerError::Transaction(e));
                }
                "proven".to_string()
            }
        };
        self.db.update(&key, |r| r.fraud_proof = Some(outcome))?;
        Ok(())
    }

    /// The proof that slot `accused`'s root is wrong, by slot `mine`: the first chunk whose
    /// leaf differs from this worker's (the accused's published leaves, checked against its
    /// root), proven under the accused's root. The inner error says why there is none (an
    /// accused that published no leaves or chunk cannot be proven wrong: the dispute then
    /// expires at its deadline).
    async fn replica_fraud_proof(
        &self,
        job: &Job,
        mine: usize,
        accused: usize,
    ) -> Result<Result<tessera_client::referee::FraudProof, String>, WorkerError> {
        let (own, theirs) = match (
            self.slot_leaves(job, mine).await,
            self.slot_leaves(job, accused).await,
        ) {
            (Ok(own), Ok(theirs)) => (own, theirs),
            (Err(why), _) | (_, Err(why)) => return Ok(Err(why)),
        };
        let Some(chunk) = own.iter().zip(&theirs).position(|(a, b)| a != b) else {
            return Ok(Err("the roots differ but no leaf does".into()));
        };
        let leaf_proof = tessera_merkle::proof(&theirs, chunk);
        self.fraud_proof(
            job,
            FraudTarget::Slot {
                slot: accused as u8,
                chunk: chunk as u32,
            },
            chunk as u32,
            theirs[chunk],
            &leaf_proof,
        )
        .await
    }

    /// The leaves slot `slot` published beside its output, checked against its root; the error
    /// says why there are none.
    pub(crate) async fn slot_leaves(
        &self,
        job: &Job,
        slot: usize,
    ) -> Result<Vec<[u8; 32]>, String> {
        let a = job.assignments[slot];
        let uri = store::leaves_uri(a.output_uri());
        let bytes = match self.store.get_at_most(&uri, MAX_LEAVES_FILE).await {
            Ok(Capped::Read(bytes)) => bytes,
            Ok(Capped::TooLarge { bytes }) => {
                return Err(format!("{uri} is {bytes} bytes: not a leaves file"))
            }
            Err(e) => return Err(format!("cannot read slot {slot}'s leaves: {e}")),
        };
        let leaves: Vec<[u8; 32]> = bytes.as_chunks::<32>().0.to_vec();
        if bytes.len() % 32 != 0
            || leaves.len() != job.chunk_count as usize
            || tessera_merkle::root_from_leaves(&leaves) != a.root
        {
            return Err(format!("{uri} is not the leaves of slot {slot}'s root"));
        }
        Ok(leaves)
    }

    /// Chunk `chunk` of slot `slot`'s output, as its leaf says; the error says why not.
    pub(crate) async fn slot_chunk(
        &self,
        job: &Job,
        slot: usize,
        chunk: u32,
        leaf: [u8; 32],
    ) -> Result<Vec<u8>, String> {
        let uri = store::chunk_uri(job.assignments[slot].output_uri(), chunk);
        match self.store.get_at_most(&uri, MAX_STAGED_CHUNK).await {
            Ok(Capped::Read(bytes)) if tessera_merkle::leaf_hash(&bytes) == leaf => {
                Ok(bytes.to_vec())
            }
            Ok(Capped::TooLarge { bytes }) => Err(format!(
                "{uri} is {bytes} bytes, more than a proof can stage"
            )),
            Ok(_) => Err(format!("{uri} is not the chunk under slot {slot}'s root")),
            Err(e) => Err(format!("cannot read slot {slot}'s chunk {chunk}: {e}")),
        }
    }

    /// The fraud proof of `chunk` of the accused's output (`target`: a challenge of the agreed
    /// root, or a slot), from its stored chunk, whose leaf must be `operator_leaf`, and the
    /// job's input; the inner error says why there is none.
    async fn fraud_proof(
        &self,
        job: &Job,
        target: FraudTarget,
        chunk: u32,
        operator_leaf: [u8; 32],
        leaf_proof: &[[u8; 32]],
    ) -> Result<Result<tessera_client::referee::FraudProof, String>, WorkerError> {
        let accused_root = match target {
            FraudTarget::Challenge { .. } => job.agreed_root,
            FraudTarget::Slot { slot, .. } => job.assignments[slot as usize].root,
        };
        let Some(slot) = job
            .slots()
            .iter()
            .find(|a| a.status() == SlotStatus::Revealed && a.root == accused_root)
        else {
            return Ok(Err("no revealed slot holds the accused root".into()));
        };
        let uri = store::chunk_uri(slot.output_uri(), chunk);
        // Read in bounded memory: a chunk larger than a buffer account holds could not be
        // staged anyway.
        let delivered = match self.store.get_at_most(&uri, MAX_STAGED_CHUNK).await {
            Ok(Capped::Read(bytes)) if tessera_merkle::leaf_hash(&bytes) == operator_leaf => bytes,
            Ok(Capped::TooLarge { bytes }) => {
                return Ok(Err(format!(
                    "{uri} is {bytes} bytes, more than a proof can stage"
                )))
            }
            Ok(_) => {
                return Ok(Err(format!(
                    "{uri} is not the chunk the replicas committed to"
                )))
            }
            Err(e) => return Ok(Err(format!("cannot read the delivered chunk: {e}"))),
        };
        let parsed = match input::load(&self.store, &self.input_bases, job).await? {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(refusal.to_string())),
        };
        let tessera_kernels::Workload::GemmI8(q) = parsed else {
            return Ok(Err("not a gemm-i8 input".into()));
        };
        let leaf_proof = leaf_proof.to_vec();
        let built = tokio::task::spawn_blocking(move || {
            tessera_client::referee::gemm_fraud_proof(
                &q.model,
                target,
                chunk,
                &delivered,
                &leaf_proof,
            )
        })
        .await
        .map_err(|e| WorkerError::from_join("building the fraud proof", e))?;
        Ok(match built {
            Ok(Some(proof)) => Ok(proof),
            Ok(None) => Err("the delivered chunk is right: nothing to prove".into()),
            Err(e) => Err(e.to_string()),
        })
    }

    /// The arbiter's ruling: recomputes the whole output on the CPU reference (a GPU that
    /// diverged would slash honest operators) and posts which slots and which challenger were
    /// right.
    async fn resolve(&self, key: Pubkey, job: &Job) -> Result<(), WorkerError> {
        let parsed = input::load(&self.store, &self.input_bases, job).await??;
        let output = tokio::task::spawn_blocking(move || parsed.run(&Backend::Cpu))
            .await
            .map_err(|e| WorkerError::from_join("the arbiter's computation", e))?
            .map_err(|source| WorkerError::Compute {
                device: Backend::Cpu.describe(),
                source,
            })?;
        let mask = verify::verdict(job, &output.leaves());
        let ix = self.keys().resolve_dispute(
            self.key.pubkey(),
            key,
            job.creator,
            self.creator_token(job),
            &parties(job),
            mask,
        );
        let ixs = self.with_creator_token(job, true, ix).await?;
        self.send(&ixs).await?;
        tracing::info!(job = %key, honest_mask = mask, "dispute resolved");
        Ok(())
    }

    /// Work units per second this worker computes `kernel` at: the rate of its last job of
    /// that kernel, else the configured `work_units_per_sec`.
    fn units_per_sec(&self, kernel: u8) -> f64 {
        self.rates
            .lock()
            .expect("rates")
            .get(&kernel)
            .copied()
            .unwrap_or(self.cfg.work_units_per_sec)
    }

    /// Books a computation's rate for the next estimates (ignored when too short to time).
    fn measured(&self, kernel: u8, work_units: u64, seconds: f64) {
        if seconds >= 0.01 && work_units > 0 {
            self.rates
                .lock()
                .expect("rates")
                .insert(kernel, work_units as f64 / seconds);
        }
    }

    /// The creator's token account settlements pay back to: its associated token account.
    pub(crate) fn creator_token(&self, job: &Job) -> Pubkey {
        associated_token_address(&job.creator, &self.keys().mint, &self.keys().token_program)
    }

    /// `ix`, a settlement naming the creator's associated token account, made to land when the
    /// creator has closed that account: a settlement that owes the creator nothing goes
    /// without it; one that owes it tokens first re-creates it (idempotently, paid by this
    /// operator), so no creator can block its operators' pay by closing its account.
    pub(crate) async fn with_creator_token(
        &self,
        job: &Job,
        owes_creator: bool,
        ix: Instruction,
    ) -> Result<Vec<Instruction>, WorkerError> {
        let ata = self.creator_token(job);
        let exists = self
            .chain()
            .get_account(&ata)
            .await
            .map_err(WorkerError::Transaction)?
            .is_some();
        Ok(match (exists, owes_creator) {
            (true, _) => vec![ix],
            (false, false) => vec![without_creator_token(ix, &ata)],
            (false, true) => {
                tracing::info!(creator = %job.creator, "re-creating the creator's token account it closed");
                let k = self.keys();
                vec![
                    create_associated_token_account_idempotent(
                        &self.key.pubkey(),
                        &job.creator,
                        &k.mint,
                        &k.token_program,
                    ),
                    ix,
                ]
            }
        })
    }

    pub(crate) fn keys(&self) -> &MarketKeys {
        &self.market.keys
    }

    /// Signs and sends `ixs`, counting the transaction and its failure.
    pub(crate) async fn send(&self, ixs: &[Instruction]) -> Result<(), WorkerError> {
        self.metrics.tx_sent.inc();
        match self
            .chain()
            .send_transaction(ixs, &[&self.key], &self.tx)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                self.metrics.tx_failed.inc();
                Err(WorkerError::Transaction(e))
            }
        }
    }
}
