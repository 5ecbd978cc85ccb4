//! Tessera: a Solana marketplace for verifiable GPU compute.
//!
//! Creators escrow SPL tokens per job; staked operators claim, compute deterministic kernels
//! and deliver Merkle roots (one replica: submit; more: commit then reveal); anyone finalizes
//! after the challenge window; no-shows are slashed by `timeout`, cheats by the arbiter's
//! `resolve_dispute`. See DESIGN §2–§4 in the repository.
#![allow(unexpected_cfgs)]
// Every instruction module exports a `handler`; the glob re-exports exist for the types and the
// modules `#[derive(Accounts)]` generates, and handlers are always called by their full path.
#![allow(ambiguous_glob_reexports)]

// Compiler intrinsics (memcpy, memset, …) for SBPF builds without platform-tools.
#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;
pub mod token;

use instructions::*;
use state::ClaimTerms;

/// The program id of local networks and tests (its keypair, `programs/tessera/tessera-keypair.json`,
/// is public: never deploy it anywhere else).
pub const LOCAL_PROGRAM_ID: Pubkey =
    Pubkey::from_str_const("3GwPgwpMXNQBsUo81Gzg8zVGSNJmA5NzVCxjwvJCZ5sd");

// The program id the program checks itself against. A deployment at another address builds
// with `TESSERA_BUILD_PROGRAM_ID=<its address>` (`scripts/build-program.sh` passes it on);
// without it, the local id.
declare_id!(match option_env!("TESSERA_BUILD_PROGRAM_ID") {
    Some(id) => Pubkey::from_str_const(id),
    None => LOCAL_PROGRAM_ID,
});

// Where a security researcher reports a finding: embedded in the deployed `.so` (section
// `.security.txt`), read by explorers and `query-security-txt`. The URLs are the workspace's
// `repository` (Cargo.toml), so a deployment that forks the code names its own.
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "Tessera",
    project_url: env!("CARGO_PKG_REPOSITORY"),
    contacts: concat!("link:", env!("CARGO_PKG_REPOSITORY"), "/security/advisories/new"),
    policy: concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/SECURITY.md"),
    source_code: env!("CARGO_PKG_REPOSITORY"),
    preferred_languages: "en"
}

#[program]
pub mod tessera {
    use super::*;

    /// Creates the market of a mint, its stake vault, and sets its parameters (admin = signer).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn init_market(ctx: Context<InitMarket>, args: InitMarketArgs) -> Result<()> {
        instructions::admin::init_market::handler(ctx, args)
    }

    /// Replaces the market's parameters, admin, arbiter and treasury (admin).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn update_market(ctx: Context<UpdateMarket>, args: UpdateMarketArgs) -> Result<()> {
        instructions::admin::update_market::handler(ctx, args)
    }

    /// Pauses or resumes job creation and claims (admin).
    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        instructions::admin::set_paused::handler(ctx, paused)
    }

    /// Registers the signer as an operator of the market.
    pub fn register_operator(ctx: Context<RegisterOperator>, capabilities: u32) -> Result<()> {
        instructions::operator::register_operator::handler(ctx, capabilities)
    }

    /// Adds stake from the operator's token account to the stake vault.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn deposit_stake(ctx: Context<DepositStake>, amount: u64) -> Result<()> {
        instructions::operator::deposit_stake::handler(ctx, amount)
    }

    /// Starts unbonding `amount` of free stake.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn request_unstake(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
        instructions::operator::request_unstake::handler(ctx, amount)
    }

    /// Pays out the operator's earnings, and its unbonding stake once the period has passed.
    pub fn withdraw_stake(ctx: Context<WithdrawStake>) -> Result<()> {
        instructions::operator::withdraw_stake::handler(ctx)
    }

    /// Sets the operator's capabilities.
    pub fn update_operator(ctx: Context<UpdateOperator>, capabilities: u32) -> Result<()> {
        instructions::operator::update_operator::handler(ctx, capabilities)
    }

    /// Leaves the market: all stake starts unbonding, no new claims.
    #[access_control(ctx.accounts.validate())]
    pub fn exit_operator(ctx: Context<ExitOperator>) -> Result<()> {
        instructions::operator::exit_operator::handler(ctx)
    }

    /// Creates a job and deposits `reward_per_replica × replicas` into its escrow.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn create_job(ctx: Context<CreateJob>, args: CreateJobArgs) -> Result<()> {
        instructions::creator::create_job::handler(ctx, args)
    }

    /// Cancels a job nobody has claimed; full refund (creator).
    #[access_control(ctx.accounts.validate())]
    pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
        instructions::creator::cancel_job::handler(ctx)
    }

    /// Closes an ended (settled, expired or cancelled) job's account; its rent goes back to
    /// the creator (creator).
    #[access_control(ctx.accounts.validate())]
    pub fn close_job(ctx: Context<CloseJob>) -> Result<()> {
        instructions::creator::close_job::handler(ctx)
    }

    /// Claims a replica slot, bonding free stake; carries the terms the operator vetted.
    #[access_control(ctx.accounts.validate(&vetted))]
    pub fn claim_job(ctx: Context<ClaimJob>, vetted: ClaimTerms) -> Result<()> {
        instructions::operator::claim_job::handler(ctx, vetted)
    }

    /// Delivers the result of a one-replica job.
    pub fn submit_result(
        ctx: Context<DeliverResult>,
        root: [u8; 32],
        output_uri: String,
    ) -> Result<()> {
        instructions::operator::deliver_result::submit(ctx, root, output_uri)
    }

    /// Commits to a result: `sha256(root ‖ operator ‖ salt)` (two or more replicas).
    pub fn commit_result(ctx: Context<DeliverResult>, commitment: [u8; 32]) -> Result<()> {
        instructions::operator::deliver_result::commit(ctx, commitment)
    }

    /// Reveals a committed result once every replica has committed.
    pub fn reveal_result(
        ctx: Context<DeliverResult>,
        root: [u8; 32],
        salt: [u8; 32],
        output_uri: String,
    ) -> Result<()> {
        instructions::operator::deliver_result::reveal(ctx, root, salt, output_uri)
    }

    /// Pays out an unchallenged job after its challenge window (anyone).
    #[access_control(ctx.accounts.validate())]
    pub fn finalize_job<'info>(ctx: Context<'info, FinalizeJob<'info>>) -> Result<()> {
        instructions::crank::finalize_job::handler(ctx)
    }

    /// Slashes replicas past their deadline; reopens or fails their slots (anyone).
    #[access_control(ctx.accounts.validate())]
    pub fn timeout_job<'info>(ctx: Context<'info, TimeoutJob<'info>>) -> Result<()> {
        instructions::crank::timeout_job::handler(ctx)
    }

    /// Refunds a job not fully claimed by its claim deadline (anyone).
    #[access_control(ctx.accounts.validate())]
    pub fn expire_job<'info>(ctx: Context<'info, ExpireJob<'info>>) -> Result<()> {
        instructions::crank::expire_job::handler(ctx)
    }

    /// Commits to a challenge of a revealed result during the challenge window, bonding free
    /// stake (a staked operator; up to `MAX_CHALLENGERS` per job, in commitment order).
    #[access_control(ctx.accounts.validate_commit())]
    pub fn commit_challenge(ctx: Context<ChallengeResult>, commitment: [u8; 32]) -> Result<()> {
        instructions::dispute::challenge::commit(ctx, commitment)
    }

    /// Reveals a committed challenge by the challenge reveal deadline; the first one disputes
    /// the job (the challenger).
    #[access_control(ctx.accounts.validate_reveal(&args, &salt))]
    pub fn reveal_challenge(
        ctx: Context<ChallengeResult>,
        args: ChallengeArgs,
        salt: [u8; 32],
    ) -> Result<()> {
        instructions::dispute::challenge::reveal(ctx, args, salt)
    }

    /// Settles a dispute the arbiter did not rule by its deadline, slashing nobody: a
    /// challenged agreed root is paid, disagreeing replicas are refunded (anyone).
    #[access_control(ctx.accounts.validate())]
    pub fn expire_dispute<'info>(ctx: Context<'info, ExpireDispute<'info>>) -> Result<()> {
        instructions::dispute::expire_dispute::handler(ctx)
    }

    /// Sends the fees accrued in the fee vault to the market's treasury (anyone).
    #[access_control(ctx.accounts.validate())]
    pub fn collect_fees(ctx: Context<CollectFees>) -> Result<()> {
        instructions::admin::collect_fees::handler(ctx)
    }

    /// Settles a dispute before its deadline: slashes the wrong parties, pays the honest (the
    /// job's arbiter).
    /// Takes a buffer created (at full size, owned by the program) in the same transaction:
    /// the signer may write and close it.
    pub fn init_buffer(ctx: Context<InitBuffer>) -> Result<()> {
        instructions::dispute::referee::init_buffer(ctx)
    }

    /// Writes staged bytes into a buffer, at `offset` of its data.
    pub fn write_buffer(ctx: Context<WriteBuffer>, offset: u32, bytes: Vec<u8>) -> Result<()> {
        instructions::dispute::referee::write_buffer(ctx, offset, bytes)
    }

    /// Closes a buffer; its lamports go back to its authority.
    pub fn close_buffer(ctx: Context<CloseBuffer>) -> Result<()> {
        instructions::dispute::referee::close_buffer(ctx)
    }

    /// The referee: anyone proves a `gemm-i8` job's result wrong by one element re-executed on
    /// chain (an agreed root a verifier challenged, or the root of a replica another
    /// disagreed with), and the dispute is settled without the arbiter.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn prove_fraud<'info>(
        ctx: Context<'info, ProveFraud<'info>>,
        args: FraudArgs,
    ) -> Result<()> {
        instructions::dispute::referee::prove_fraud(ctx, args)
    }

    /// Opens a referee game on an `mlp-i8` (or `gemm-i8`) job whose replicas disagree: the
    /// signer's slot accuses another slot's output row `row` (see `instructions::dispute::game`).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn open_game(ctx: Context<OpenGame>, args: OpenGameArgs) -> Result<()> {
        instructions::dispute::game::open_game(ctx, args)
    }

    /// The defender posts the hashes of its accused row after layers 1 .. L−1.
    pub fn post_chain(ctx: Context<PostChain>, chain: Vec<[u8; 32]>) -> Result<()> {
        instructions::dispute::game::post_chain(ctx, chain)
    }

    /// The accuser picks the layer (1 ..= L) whose output it says is wrong.
    pub fn pick_layer(ctx: Context<PickLayer>, layer: u8) -> Result<()> {
        instructions::dispute::game::pick_layer(ctx, layer)
    }

    /// The defender reveals the picked layer's input and output rows from a buffer, which is
    /// locked to the game until it ends.
    pub fn reveal_rows(ctx: Context<RevealRows>, leaf_proof_len: u8) -> Result<()> {
        instructions::dispute::game::reveal_rows(ctx, leaf_proof_len)
    }

    /// Anyone proves one element of the defender's revealed link wrong: the defender's slot
    /// is convicted and the game ends.
    pub fn prove_step<'info>(ctx: Context<'info, ProveStep<'info>>, args: StepArgs) -> Result<()> {
        instructions::dispute::game::prove_step(ctx, args)
    }

    /// Anyone ends a game whose party to move is late (a late defender is convicted), or that
    /// no longer matters.
    pub fn end_game<'info>(ctx: Context<'info, EndGameIx<'info>>) -> Result<()> {
        instructions::dispute::game::end_game(ctx)
    }

    /// Anyone settles a job whose replicas disagreed once the slots the referee did not
    /// convict agree: they are paid, the convicted slashed for fraud.
    #[access_control(ctx.accounts.validate())]
    pub fn settle_referee<'info>(ctx: Context<'info, SettleReferee<'info>>) -> Result<()> {
        instructions::dispute::game::settle_referee(ctx)
    }

    /// Draws whether a job whose results are in is audited, and which chunks, from the hash of
    /// the first slot after its results (anyone, during the challenge window).
    #[access_control(ctx.accounts.validate())]
    pub fn draw_audit(ctx: Context<DrawAudit>) -> Result<()> {
        instructions::dispute::audit::draw_audit(ctx)
    }

    /// Takes a job's audit: bonds like a challenge and commits to the leaves recomputed for the
    /// drawn chunks (`chunks` empty), or, on a job not drawn, for the `chunks` it names (a
    /// volunteer audit, no fee). A staked operator of none of the job's slots.
    #[access_control(ctx.accounts.validate_audit_commit(&chunks))]
    pub fn commit_audit(
        ctx: Context<ChallengeResult>,
        commitment: [u8; 32],
        chunks: Vec<u32>,
    ) -> Result<()> {
        instructions::dispute::audit::commit_audit(ctx, commitment, chunks)
    }

    /// Posts the operators' leaf of the next drawn chunk, proven under the agreed root (anyone,
    /// once the auditor has committed).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn post_audit_leaf(ctx: Context<PostAuditLeaf>, args: AuditLeaf) -> Result<()> {
        instructions::dispute::audit::post_audit_leaf(ctx, args)
    }

    /// Opens the auditor's commitment, compared with the operators' leaves posted: a match
    /// passes the audit, a mismatch disputes the job with a chunk challenge (the auditor).
    #[access_control(ctx.accounts.validate_audit_reveal(&leaves, &salt))]
    pub fn reveal_audit(
        ctx: Context<ChallengeResult>,
        leaves: Vec<[u8; 32]>,
        salt: [u8; 32],
    ) -> Result<()> {
        instructions::dispute::audit::reveal_audit(ctx, leaves)
    }

    /// Convicts the operators of a job whose audited leaves were not posted by the challenge
    /// reveal deadline, as if wrong; the auditor is the honest party (anyone).
    #[access_control(ctx.accounts.validate())]
    pub fn convict_withheld<'info>(ctx: Context<'info, ConvictWithheld<'info>>) -> Result<()> {
        instructions::dispute::audit::convict_withheld(ctx)
    }

    #[access_control(ctx.accounts.validate(honest_mask))]
    pub fn resolve_dispute<'info>(
        ctx: Context<'info, ResolveDispute<'info>>,
        honest_mask: u8,
    ) -> Result<()> {
        instructions::dispute::resolve_dispute::handler(ctx, honest_mask)
    }
}
