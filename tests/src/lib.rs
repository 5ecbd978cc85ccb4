//! Test fixture: the real `target/deploy/tessera.so` in LiteSVM, a real SPL Token (or
//! Token-2022) mint, and helpers that drive the program through `tessera_client` builders.
// LiteSVM's failed-transaction type is large; tests return it as is to keep its logs.
#![allow(clippy::result_large_err)]

pub mod chain;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::token_2022::spl_token_2022 as spl;
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use litesvm::LiteSVM;
use solana_instruction_error::InstructionError;
use solana_message::Message;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use tessera::instructions::ChallengeArgs;
use tessera::instructions::CreateJobArgs;
use tessera::state::{ClaimTerms, Job, Market, MarketParams, Operator};
use tessera_client::ix::{challenge_commitment, parties, CrankBuilder, MarketKeys};

pub use solana_keypair::Keypair;
pub use solana_signer::Signer;
pub use tessera::error::TesseraError;

pub type TxResult = Result<TransactionMetadata, FailedTransactionMetadata>;

/// The events of type `E` a transaction emitted (`emit_cpi!`: a self-CPI whose data is Anchor's
/// event tag, the event's discriminator, then its Borsh encoding), in order.
pub fn events<E>(meta: &TransactionMetadata) -> Vec<E>
where
    E: anchor_lang::Event + anchor_lang::AnchorDeserialize,
{
    let tag = anchor_lang::event::EVENT_IX_TAG_LE;
    meta.inner_instructions
        .iter()
        .flatten()
        .filter_map(|inner| {
            let data = inner.instruction.data.strip_prefix(tag)?;
            let body = data.strip_prefix(E::DISCRIMINATOR)?;
            Some(E::try_from_slice(body).expect("an event of the program's own layout"))
        })
        .collect()
}

pub const DECIMALS: u8 = 6;
pub const SOL: u64 = 1_000_000_000;
/// Kernel id used by jobs in these tests (render).
pub const KERNEL: u8 = 1;

/// The amounts the program tests use, and the split of `REWARD` under `default_params`.
pub mod amounts {
    use super::{BURN_BPS, COLLATERAL_BPS, FEE_BPS};

    pub const REWARD: u64 = 1_000_000;
    pub const STAKE: u64 = 10_000_000;
    /// To the treasury, of each paid `REWARD`.
    pub const FEE: u64 = REWARD * FEE_BPS as u64 / 10_000;
    /// Burned, of each paid `REWARD`.
    pub const BURN: u64 = REWARD * BURN_BPS as u64 / 10_000;
    /// Credited to the operator, of each paid `REWARD`.
    pub const PAY: u64 = REWARD - FEE - BURN;
    /// Bonded by a claim on a `REWARD` job.
    pub const BOND: u64 = (REWARD * COLLATERAL_BPS as u64).div_ceil(10_000);
}

use tessera_client::presets::{BURN_BPS, COLLATERAL_BPS, PROTOCOL_FEE_BPS as FEE_BPS};

/// Parameters used unless a test says otherwise: the mainnet-style preset for a mint of
/// `DECIMALS` (a 1-token minimum stake, a 0.001-token minimum reward), without its audits (the
/// audit tests turn them on with [`audit_params`]).
pub fn default_params() -> MarketParams {
    MarketParams {
        audit_rate_bps: 0,
        audit_fee_bps: 0,
        audit_chunks: 0,
        ..tessera_client::presets::mainnet(DECIMALS)
    }
}

/// The mainnet-style preset with its audits.
pub fn audit_params() -> MarketParams {
    tessera_client::presets::mainnet(DECIMALS)
}

/// Path of the program built by `scripts/build-program.sh`.
pub fn program_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/tessera.so")
}

/// A keypair with SOL and a token account of the market mint.
pub struct User {
    pub key: Keypair,
    pub token: Pubkey,
}

impl User {
    pub fn pubkey(&self) -> Pubkey {
        self.key.pubkey()
    }
}

pub struct Env {
    pub svm: LiteSVM,
    pub admin: Keypair,
    pub arbiter: Keypair,
    pub mint_authority: Keypair,
    pub keys: MarketKeys,
    pub params: MarketParams,
    /// Total minted so far (to check conservation: balances + burned == minted).
    pub minted: u64,
}

impl Env {
    /// A market over a fresh SPL Token mint with [`default_params`].
    pub fn new() -> Self {
        Self::with(anchor_spl::token::ID, default_params())
    }

    /// A market over a fresh mint of `token_program` (SPL Token or Token-2022).
    pub fn with(token_program: Pubkey, params: MarketParams) -> Self {
        let mut env = Self::bare(token_program);
        env.params = params;
        let ix = env
            .keys
            .init_market(env.admin.pubkey(), env.arbiter.pubkey(), params);
        let admin = env.admin.insecure_clone();
        env.send(&[ix], &[&admin]).expect("init_market");
        env
    }

    /// Mint and treasury, no market yet.
    pub fn bare(token_program: Pubkey) -> Self {
        let mut svm = LiteSVM::new();
        svm.add_program_from_file(tessera::ID, program_path())
            .expect("target/deploy/tessera.so missing: run scripts/build-program.sh");
        let admin = Keypair::new();
        let arbiter = Keypair::new();
        let mint_authority = Keypair::new();
        for k in [&admin, &arbiter, &mint_authority] {
            svm.airdrop(&k.pubkey(), 100 * SOL).unwrap();
        }
        let mint = Keypair::new();
        let admin_key = admin.pubkey();
        let mut env = Env {
            svm,
            admin,
            arbiter,
            mint_authority,
            keys: MarketKeys::new(mint.pubkey(), admin_key, token_program, Pubkey::default()),
            params: default_params(),
            minted: 0,
        };
        env.create_mint(&mint, token_program);
        let treasury = env.token_account(&admin_key);
        env.keys = MarketKeys::new(mint.pubkey(), admin_key, token_program, treasury);
        env
    }

    /// Creates a mint at `mint` (decimals 6, authority `mint_authority`).
    pub fn create_mint(&mut self, mint: &Keypair, token_program: Pubkey) {
        let payer = self.mint_authority.insecure_clone();
        let len = 82;
        let rent = self.svm.minimum_balance_for_rent_exemption(len);
        let ixs = [
            solana_system_interface::instruction::create_account(
                &payer.pubkey(),
                &mint.pubkey(),
                rent,
                len as u64,
                &token_program,
            ),
            spl::instruction::initialize_mint2(
                &token_program,
                &mint.pubkey(),
                &payer.pubkey(),
                None,
                DECIMALS,
            )
            .unwrap(),
        ];
        self.send(&ixs, &[&payer, mint]).expect("create mint");
    }

    /// A new token account of the market mint owned by `owner`.
    pub fn token_account(&mut self, owner: &Pubkey) -> Pubkey {
        self.token_account_of(owner, self.keys.mint)
    }

    pub fn token_account_of(&mut self, owner: &Pubkey, mint: Pubkey) -> Pubkey {
        let payer = self.mint_authority.insecure_clone();
        let account = Keypair::new();
        let len = 165;
        let rent = self.svm.minimum_balance_for_rent_exemption(len);
        let tp = self.keys.token_program;
        let ixs = [
            solana_system_interface::instruction::create_account(
                &payer.pubkey(),
                &account.pubkey(),
                rent,
                len as u64,
                &tp,
            ),
            spl::instruction::initialize_account3(&tp, &account.pubkey(), &mint, owner).unwrap(),
        ];
        self.send(&ixs, &[&payer, &account])
            .expect("create token account");
        account.pubkey()
    }

    pub fn mint_to(&mut self, account: &Pubkey, amount: u64) {
        let auth = self.mint_authority.insecure_clone();
        let ix = spl::instruction::mint_to(
            &self.keys.token_program,
            &self.keys.mint,
            account,
            &auth.pubkey(),
            &[],
            amount,
        )
        .unwrap();
        self.send(&[ix], &[&auth]).expect("mint_to");
        self.minted += amount;
    }

    /// A funded keypair with `tokens` in a token account of the market mint.
    pub fn user(&mut self, tokens: u64) -> User {
        let key = Keypair::new();
        self.svm.airdrop(&key.pubkey(), 10 * SOL).unwrap();
        let token = self.token_account(&key.pubkey());
        if tokens > 0 {
            self.mint_to(&token, tokens);
        }
        User { key, token }
    }

    /// A registered operator with `stake` deposited and every kernel capability.
    pub fn operator(&mut self, stake: u64) -> User {
        let u = self.user(stake);
        let ixs = [
            self.keys.register_operator(u.pubkey(), u32::MAX),
            self.keys.deposit_stake(u.pubkey(), u.token, stake),
        ];
        self.send(&ixs, &[&u.key]).expect("register operator");
        u
    }

    /// Sends one transaction paid by the first signer. A fresh blockhash every time, so that
    /// identical transactions (replays in tests) are distinct.
    pub fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        self.svm.expire_blockhash();
        let payer = signers[0].pubkey();
        let msg = Message::new_with_blockhash(ixs, Some(&payer), &self.svm.latest_blockhash());
        let tx = Transaction::new(signers, msg, self.svm.latest_blockhash());
        self.svm.send_transaction(tx)
    }

    pub fn job_args(&self, job_id: u64, replicas: u8, reward: u64) -> CreateJobArgs {
        CreateJobArgs {
            job_id,
            kernel: KERNEL,
            kernel_params: [0; 32],
            input_uri: format!("file:///inputs/{job_id}.json"),
            input_hash: [7; 32],
            chunk_count: 4,
            replicas,
            reward_per_replica: reward,
            claim_deadline: self.now() + 3_600,
            exec_timeout: 600,
        }
    }

    pub fn create_job(&mut self, creator: &User, job_id: u64, replicas: u8, reward: u64) -> Pubkey {
        let args = self.job_args(job_id, replicas, reward);
        self.create_job_with(creator, args).expect("create_job");
        self.keys.job(&creator.pubkey(), job_id)
    }

    /// Creates a `gemm-i8` job of `model`: its model root in `kernel_params`, its chunk count.
    pub fn create_gemm_job(
        &mut self,
        creator: &User,
        job_id: u64,
        replicas: u8,
        model: &tessera_kernels::quant::QuantModel,
    ) -> TxResult {
        self.create_quant_job(
            creator,
            job_id,
            replicas,
            tessera::constants::KERNEL_GEMM_I8,
            model,
        )
    }

    /// A job of an int8 kernel (`gemm-i8` or `mlp-i8`) over `model`, its model root in
    /// `kernel_params`.
    pub fn create_quant_job(
        &mut self,
        creator: &User,
        job_id: u64,
        replicas: u8,
        kernel: u8,
        model: &tessera_kernels::quant::QuantModel,
    ) -> TxResult {
        let mut args = self.job_args(job_id, replicas, amounts::REWARD);
        args.kernel = kernel;
        args.kernel_params = model.model_root();
        args.chunk_count = model.chunk_count();
        self.create_job_with(creator, args)
    }

    pub fn create_job_with(&mut self, creator: &User, args: CreateJobArgs) -> TxResult {
        let ix = self.keys.create_job(creator.pubkey(), creator.token, args);
        self.send(&[ix], &[&creator.key])
    }

    /// `op` claims `job` as it is now (the terms it vets are the job's current ones; an
    /// account that is no job vets nothing).
    pub fn claim(&mut self, op: &User, job: Pubkey) -> TxResult {
        let vetted = self
            .account::<Job>(&job)
            .map_or_else(no_terms, |j| j.claim_terms());
        self.claim_vetted(op, job, vetted)
    }

    /// `op` claims `job` carrying the terms it vetted earlier.
    pub fn claim_vetted(&mut self, op: &User, job: Pubkey, vetted: ClaimTerms) -> TxResult {
        let ix = self.keys.claim_job(op.pubkey(), job, vetted);
        self.send(&[ix], &[&op.key])
    }

    pub fn submit(&mut self, op: &User, job: Pubkey, root: [u8; 32]) -> TxResult {
        let ix = self
            .keys
            .submit_result(op.pubkey(), job, root, "file:///out/x".into());
        self.send(&[ix], &[&op.key])
    }

    pub fn commit(&mut self, op: &User, job: Pubkey, root: [u8; 32], salt: [u8; 32]) -> TxResult {
        let c =
            tessera_merkle::commitment(&root, &self.keys.operator(&op.pubkey()).to_bytes(), &salt);
        let ix = self.keys.commit_result(op.pubkey(), job, c);
        self.send(&[ix], &[&op.key])
    }

    pub fn reveal(&mut self, op: &User, job: Pubkey, root: [u8; 32], salt: [u8; 32]) -> TxResult {
        let ix = self
            .keys
            .reveal_result(op.pubkey(), job, root, salt, "file:///out/y".into());
        self.send(&[ix], &[&op.key])
    }

    /// The operator accounts a settling instruction takes for `job`.
    pub fn parties(&self, job: &Job) -> Vec<Pubkey> {
        parties(job)
    }

    /// `op` commits to challenge `args` of `job` (salted with its own key).
    pub fn commit_challenge(&mut self, op: &User, job: Pubkey, args: &ChallengeArgs) -> TxResult {
        let c = challenge_commitment(&self.keys, &op.pubkey(), args, &challenge_salt(op));
        let ix = self.keys.commit_challenge(op.pubkey(), job, c);
        self.send(&[ix], &[&op.key])
    }

    /// `op` reveals the challenge it committed.
    pub fn reveal_challenge(&mut self, op: &User, job: Pubkey, args: ChallengeArgs) -> TxResult {
        let ix = self
            .keys
            .reveal_challenge(op.pubkey(), job, args, challenge_salt(op));
        self.send(&[ix], &[&op.key])
    }

    /// Moves the clock past `job`'s challenge reveal deadline (the arbiter may rule then).
    pub fn warp_past_challenge_reveals(&mut self, job: Pubkey) {
        let deadline = self.job(&job).challenge_reveal_deadline().unwrap();
        self.warp(deadline - self.now() + 1);
    }

    /// `op` challenges `job` with `args`: commits, then reveals at once (the result of the
    /// first transaction that fails, else of the reveal).
    pub fn challenge(&mut self, op: &User, job: Pubkey, args: ChallengeArgs) -> TxResult {
        self.commit_challenge(op, job, &args)?;
        self.reveal_challenge(op, job, args)
    }

    /// A permissionless settling instruction for `job_key`, built by `build` from the job's
    /// live parties and sent by a third party (a crank).
    fn crank_with(&mut self, job_key: Pubkey, creator: &User, build: CrankBuilder) -> TxResult {
        let job = self.job(&job_key);
        let ix = build(
            &self.keys,
            job_key,
            creator.pubkey(),
            creator.token,
            &self.parties(&job),
        );
        let crank = self.cranker();
        self.send(&[ix], &[&crank])
    }

    pub fn finalize(&mut self, job_key: Pubkey, creator: &User) -> TxResult {
        self.crank_with(job_key, creator, MarketKeys::finalize_job)
    }

    pub fn timeout(&mut self, job_key: Pubkey, creator: &User) -> TxResult {
        self.crank_with(job_key, creator, MarketKeys::timeout_job)
    }

    pub fn expire(&mut self, job_key: Pubkey, creator: &User) -> TxResult {
        self.crank_with(job_key, creator, MarketKeys::expire_job)
    }

    pub fn resolve(&mut self, job_key: Pubkey, creator: &User, honest_mask: u8) -> TxResult {
        let job = self.job(&job_key);
        let ix = self.keys.resolve_dispute(
            self.arbiter.pubkey(),
            job_key,
            creator.pubkey(),
            creator.token,
            &self.parties(&job),
            honest_mask,
        );
        let arbiter = self.arbiter.insecure_clone();
        self.send(&[ix], &[&arbiter])
    }

    /// Creates a buffer of `bytes.len()` bytes owned by `authority` and writes `bytes` into it,
    /// `tessera_client::ix::BUFFER_WRITE_BYTES` per transaction; returns its address.
    pub fn stage(&mut self, authority: &Keypair, bytes: &[u8]) -> Pubkey {
        let buffer = Keypair::new();
        let space = tessera_client::ix::buffer_space(bytes.len());
        let lamports = self.svm.minimum_balance_for_rent_exemption(space);
        let create = tessera_client::ix::create_buffer_account(
            &self.keys.program_id,
            &authority.pubkey(),
            &buffer.pubkey(),
            bytes.len(),
            lamports,
        );
        let init = self.keys.init_buffer(authority.pubkey(), buffer.pubkey());
        self.send(&[create, init], &[authority, &buffer])
            .expect("create the buffer");
        for (i, piece) in bytes
            .chunks(tessera_client::ix::BUFFER_WRITE_BYTES)
            .enumerate()
        {
            let offset = (i * tessera_client::ix::BUFFER_WRITE_BYTES) as u32;
            let ix =
                self.keys
                    .write_buffer(authority.pubkey(), buffer.pubkey(), offset, piece.to_vec());
            self.send(&[ix], &[authority]).expect("write the buffer");
        }
        buffer.pubkey()
    }

    /// A third party sends the referee's fraud proof for `job_key`, staged in `buffer`.
    pub fn prove_fraud(
        &mut self,
        job_key: Pubkey,
        creator: &User,
        buffer: Pubkey,
        args: tessera::instructions::FraudArgs,
    ) -> TxResult {
        let job = self.job(&job_key);
        let ix = self.keys.prove_fraud(
            job_key,
            creator.pubkey(),
            creator.token,
            buffer,
            &self.parties(&job),
            args,
        );
        let budget =
            solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
                1_400_000,
            );
        let crank = self.cranker();
        self.send(&[budget, ix], &[&crank])
    }

    /// A funded keypair with no role (pays for permissionless cranks).
    /// A market with no arbiter at all (the default key): it takes only the kernels the
    /// referee rules.
    pub fn without_arbiter() -> Env {
        Env::without_arbiter_with(default_params())
    }

    /// A market with no arbiter and `params`.
    pub fn without_arbiter_with(params: MarketParams) -> Env {
        let mut env = Env::bare(anchor_spl::token::ID);
        let ix = env
            .keys
            .init_market(env.admin.pubkey(), Pubkey::default(), params);
        let admin = env.admin.insecure_clone();
        env.send(&[ix], &[&admin]).unwrap();
        env
    }

    /// A referee game's account, if it is open.
    pub fn game(&self, key: &Pubkey) -> Option<tessera::state::Game> {
        self.account(key)
    }

    /// The accounts that end the open game `key`.
    pub fn game_keys(&self, key: Pubkey) -> tessera_client::ix::GameKeys {
        tessera_client::ix::GameKeys::of(key, &self.game(&key).expect("an open game"))
    }

    /// A third party ends game `key`.
    pub fn end_game(&mut self, key: Pubkey) -> TxResult {
        let ix = self.keys.end_game(&self.game_keys(key));
        let crank = self.cranker();
        self.send(&[ix], &[&crank])
    }

    /// A third party sends the proof that ends game `key`, the rest of it staged in `buffer`.
    pub fn prove_step(
        &mut self,
        key: Pubkey,
        buffer: Pubkey,
        args: tessera::instructions::StepArgs,
    ) -> TxResult {
        let ix = self.keys.prove_step(&self.game_keys(key), buffer, args);
        let budget =
            solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
                1_400_000,
            );
        let crank = self.cranker();
        self.send(&[budget, ix], &[&crank])
    }

    /// A third party settles `job_key` once the referee's convictions leave its slots agreeing.
    pub fn settle_referee(&mut self, job_key: Pubkey, creator: &User) -> TxResult {
        let job = self.job(&job_key);
        let ix = self.keys.settle_referee(
            job_key,
            creator.pubkey(),
            creator.token,
            &self.parties(&job),
        );
        let crank = self.cranker();
        self.send(&[ix], &[&crank])
    }

    pub fn cranker(&mut self) -> Keypair {
        let k = Keypair::new();
        self.svm.airdrop(&k.pubkey(), SOL).unwrap();
        k
    }

    pub fn account<T: anchor_lang::AccountDeserialize + anchor_lang::Discriminator>(
        &self,
        key: &Pubkey,
    ) -> Option<T> {
        let acc = self.svm.get_account(key)?;
        if acc.lamports == 0 {
            return None;
        }
        tessera_client::decode::<T>(&acc.data).ok()
    }

    pub fn job(&self, key: &Pubkey) -> Job {
        self.account(key).expect("job account")
    }

    pub fn market(&self) -> Market {
        self.account(&self.keys.market).expect("market account")
    }

    /// What `op` has earned and not yet withdrawn (held in the stake vault).
    pub fn earned(&self, op: &User) -> u64 {
        self.operator_of(op).earned
    }

    pub fn operator_of(&self, u: &User) -> Operator {
        self.operator_at(&self.keys.operator(&u.pubkey()))
    }

    pub fn operator_at(&self, key: &Pubkey) -> Operator {
        self.account(key).expect("operator account")
    }

    /// Token balance of a token account (0 if it does not exist).
    pub fn balance(&self, account: &Pubkey) -> u64 {
        match self.svm.get_account(account) {
            Some(a) if a.data.len() >= 72 => u64::from_le_bytes(a.data[64..72].try_into().unwrap()),
            _ => 0,
        }
    }

    pub fn supply(&self) -> u64 {
        let a = self.svm.get_account(&self.keys.mint).unwrap();
        tessera_client::token::mint_supply(&a).expect("a mint of either token program")
    }

    pub fn now(&self) -> i64 {
        self.svm
            .get_sysvar::<anchor_lang::prelude::Clock>()
            .unix_timestamp
    }

    /// Moves the clock forward by `seconds`.
    pub fn warp(&mut self, seconds: i64) {
        let mut clock = self.svm.get_sysvar::<anchor_lang::prelude::Clock>();
        clock.unix_timestamp += seconds;
        clock.slot = clock
            .slot
            .saturating_add((seconds.max(0) as u64).saturating_mul(5) / 2);
        self.svm.set_sysvar(&clock);
        self.set_slot_hashes(clock.slot);
    }

    /// Writes the `SlotHashes` sysvar a validator would hold at `slot` (LiteSVM keeps only its
    /// first slot's): the hashes ([`test_slot_hash`]) of the 512 slots before it, newest first.
    fn set_slot_hashes(&mut self, slot: u64) {
        let kept: Vec<u64> = (slot.saturating_sub(512)..slot).rev().collect();
        let mut data = (kept.len() as u64).to_le_bytes().to_vec();
        for s in kept {
            data.extend_from_slice(&s.to_le_bytes());
            data.extend_from_slice(&test_slot_hash(s));
        }
        let id =
            <anchor_lang::prelude::SlotHashes as anchor_lang::solana_program::sysvar::SysvarId>::id(
            );
        let mut account = self
            .svm
            .get_account(&id)
            .expect("LiteSVM creates SlotHashes");
        account.data = data;
        self.svm.set_account(id, account).unwrap();
    }

    /// The current slot.
    pub fn slot(&self) -> u64 {
        self.svm.get_sysvar::<anchor_lang::prelude::Clock>().slot
    }

    /// Draws `job`'s audit (a crank).
    pub fn draw_audit(&mut self, job: Pubkey) -> TxResult {
        let ix = self.keys.draw_audit(job);
        let crank = self.cranker();
        self.send(&[ix], &[&crank])
    }

    /// `op` takes `job`'s audit, committed to `leaves` (its recomputed leaves of the drawn
    /// chunks, in draw order) with [`challenge_salt`].
    pub fn commit_audit(&mut self, op: &User, job: Pubkey, leaves: &[[u8; 32]]) -> TxResult {
        self.volunteer_audit(op, job, leaves, vec![])
    }

    /// `op` takes a volunteer audit of `chunks` of `job` (a job not drawn), committed to
    /// `leaves` (its leaves of those chunks, in that order).
    pub fn volunteer_audit(
        &mut self,
        op: &User,
        job: Pubkey,
        leaves: &[[u8; 32]],
        chunks: Vec<u32>,
    ) -> TxResult {
        let auditor = self.keys.operator(&op.pubkey());
        let c = tessera_merkle::audit_commitment(leaves, &auditor.to_bytes(), &challenge_salt(op));
        let ix = self.keys.commit_audit(op.pubkey(), job, c, chunks);
        self.send(&[ix], &[&op.key])
    }

    /// Posts the operators' leaves of `job`'s drawn chunks not posted yet, from all of the
    /// result's `leaves` (a crank), one transaction each; stops at the first failure.
    pub fn post_audit_leaves(&mut self, job: Pubkey, leaves: &[[u8; 32]]) -> TxResult {
        let j = self.job(&job);
        let i = j.audit_index().expect("an auditor committed");
        let mut last = None;
        for &chunk in &j.audited_chunks()[j.challenges[i].leaves_posted as usize..] {
            let proof = tessera_merkle::proof(leaves, chunk as usize);
            let ix = self
                .keys
                .post_audit_leaf(job, leaves[chunk as usize], proof);
            let crank = self.cranker();
            last = Some(self.send(&[ix], &[&crank])?);
        }
        Ok(last.expect("a leaf to post"))
    }

    /// `op` opens its audit of `job`: the `leaves` it committed to.
    pub fn reveal_audit(&mut self, op: &User, job: Pubkey, leaves: Vec<[u8; 32]>) -> TxResult {
        let ix = self
            .keys
            .reveal_audit(op.pubkey(), job, leaves, challenge_salt(op));
        self.send(&[ix], &[&op.key])
    }

    pub fn convict_withheld(&mut self, job_key: Pubkey, creator: &User) -> TxResult {
        self.crank_with(job_key, creator, MarketKeys::convict_withheld)
    }
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

/// The salt `op`'s challenges are committed with in these tests.
/// The hash of `slot` in the tests' `SlotHashes` sysvar (see `Env::warp`).
pub fn test_slot_hash(slot: u64) -> [u8; 32] {
    tessera_merkle::sha256(&[b"tessera-test-slot", &slot.to_le_bytes()])
}

pub fn challenge_salt(op: &User) -> [u8; 32] {
    op.pubkey().to_bytes()
}

/// The terms of no job (claims built for accounts that are not jobs).
pub fn no_terms() -> ClaimTerms {
    ClaimTerms {
        input_hash: [0; 32],
        reward_per_replica: 0,
        exec_timeout: 0,
        chunk_count: 0,
        max_bond: 0,
    }
}

/// The program error code a failed transaction ended with.
pub fn custom_code(result: &TxResult) -> Option<u32> {
    match result {
        Err(f) => match &f.err {
            TransactionError::InstructionError(_, InstructionError::Custom(c)) => Some(*c),
            _ => None,
        },
        Ok(_) => None,
    }
}

/// Asserts that `result` failed with Tessera error `e`.
#[track_caller]
pub fn assert_tessera_error(result: &TxResult, e: TesseraError) {
    let expected = e as u32 + anchor_lang::error::ERROR_CODE_OFFSET;
    match result {
        Ok(_) => panic!("expected {e:?}, but the transaction succeeded"),
        Err(f) => assert_eq!(
            custom_code(result),
            Some(expected),
            "expected {e:?} ({expected}), got {:?}\nlogs: {:#?}",
            f.err,
            f.meta.logs
        ),
    }
}

/// Asserts that `result` failed with an Anchor framework error (constraint, account, …).
#[track_caller]
pub fn assert_anchor_error(result: &TxResult, e: anchor_lang::error::ErrorCode) {
    let expected: u32 = e.into();
    match result {
        Ok(_) => panic!("expected {e:?}, but the transaction succeeded"),
        Err(f) => assert_eq!(
            custom_code(result),
            Some(expected),
            "expected {e:?} ({expected}), got {:?}\nlogs: {:#?}",
            f.err,
            f.meta.logs
        ),
    }
}

/// Asserts that `result` failed, whatever the reason.
#[track_caller]
pub fn assert_fails(result: &TxResult) {
    assert!(result.is_err(), "expected the transaction to fail");
}

/// The shipped Cornell box made small for end-to-end runs: 32×32 pixels, 4 tiles of 16²,
/// `samples` per pixel, 4 bounces, and `seed` (so that inputs differ).
pub fn small_cornell(samples: u32, seed: u64) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../kernels/scenes/cornell.json"
    );
    let text = std::fs::read_to_string(path).expect("the shipped scene");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("a JSON scene");
    v["width"] = 32.into();
    v["height"] = 32.into();
    v["samples_per_pixel"] = samples.into();
    v["max_bounces"] = 4.into();
    v["tile_size"] = 16.into();
    v["seed"] = seed.into();
    serde_json::to_vec(&v).expect("serialisable")
}

/// The output chunks of an int8 `model`, computed on the CPU reference, as a worker stores them.
pub fn quant_chunks(model: &tessera_kernels::quant::QuantModel) -> Vec<Vec<u8>> {
    (0..model.chunk_count())
        .map(|c| {
            let (s, e) = model.chunk_rows(c);
            tessera_kernels::quant::run_rows_cpu(model, s, e)
                .iter()
                .map(|&v| v as u8)
                .collect()
        })
        .collect()
}

/// One replica's computation of an `mlp-i8` model, for the referee's game
/// (`instructions/dispute/game.rs`): every batch row through every layer (`rows[m][j]` is row
/// `m` after layer `j`, `rows[m][0]` the input row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpReplica {
    pub rows: Vec<Vec<Vec<i8>>>,
}

impl MlpReplica {
    pub fn honest(model: &tessera_kernels::quant::QuantModel) -> Self {
        Self {
            rows: (0..model.rows)
                .map(|m| tessera_client::referee::row_chain(model, m))
                .collect(),
        }
    }

    /// [`MlpReplica::honest`], but element `feature` of batch row `m` after layer `layer` is
    /// changed by `delta`, and the later layers computed from the changed row.
    pub fn corrupted(
        model: &tessera_kernels::quant::QuantModel,
        m: usize,
        layer: usize,
        feature: usize,
        delta: i8,
    ) -> Self {
        let mut r = Self::honest(model);
        let rows = &mut r.rows[m];
        rows[layer][feature] = rows[layer][feature].wrapping_add(delta);
        for j in layer..model.layers.len() {
            rows[j + 1] = tessera_kernels::quant::layer_cpu(model, j, &rows[j], 1);
        }
        r
    }

    /// [`MlpReplica::corrupted`] at the first feature of `layer` whose change reaches the
    /// output (relu and saturation wash some out).
    pub fn cheat(
        model: &tessera_kernels::quant::QuantModel,
        m: usize,
        layer: usize,
        delta: i8,
    ) -> Self {
        let honest = Self::honest(model).root(model);
        (0..model.layers[layer - 1].n)
            .map(|f| Self::corrupted(model, m, layer, f, delta))
            .find(|r| r.root(model) != honest)
            .expect("a change that reaches the output")
    }

    /// The delivered chunks: the output rows, `rows_per_chunk` to a chunk.
    pub fn chunks(&self, model: &tessera_kernels::quant::QuantModel) -> Vec<Vec<u8>> {
        (0..model.chunk_count())
            .map(|c| {
                let (s, e) = model.chunk_rows(c);
                self.rows[s..e]
                    .iter()
                    .flat_map(|r| r.last().expect("an output row").iter().map(|&v| v as u8))
                    .collect()
            })
            .collect()
    }

    pub fn root(&self, model: &tessera_kernels::quant::QuantModel) -> [u8; 32] {
        tessera_merkle::root_of_chunks(&self.chunks(model))
    }

    /// What this replica stages for `reveal_rows` when layer `layer` of its batch row `m` is
    /// picked (`tessera_client::referee::revealed_rows`: for the last layer, its chunk and the
    /// chunk's leaf proof under its root), and the leaf proof's length.
    pub fn revealed(
        &self,
        model: &tessera_kernels::quant::QuantModel,
        m: usize,
        layer: u8,
    ) -> (Vec<u8>, u8) {
        let chunks = self.chunks(model);
        let c = m / model.rows_per_chunk as usize;
        let leaves: Vec<_> = chunks
            .iter()
            .map(|c| tessera_merkle::leaf_hash(c))
            .collect();
        let proof = tessera_merkle::proof(&leaves, c);
        (
            tessera_client::referee::revealed_rows(&self.rows[m], layer, &chunks[c], &proof),
            proof.len() as u8,
        )
    }
}
