use crate::constants::{
    ESCROW_SEED, JOB_SEED, KNOWN_KERNELS, MAX_AUDIT_CHUNKS, MAX_CHALLENGERS, MAX_KERNEL_ID,
    MAX_REPLICAS, MAX_WINDOW, REFEREE_KERNELS,
};
use crate::error::TesseraError;
use crate::events::JobCreated;
use crate::math::{add, audit_fee_for, mul};
use crate::state::{
    check_uri, pack_uri, Assignment, AuditState, Challenge, Job, JobState, JobTerms, Market,
    JOB_SPACE,
};
use crate::token::Tokens;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{TokenAccount, TokenInterface};
use tessera_merkle::MAX_CHUNKS;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateJobArgs {
    /// Unique per (market, creator); part of the job's address.
    pub job_id: u64,
    pub kernel: u8,
    pub kernel_params: [u8; 32],
    pub input_uri: String,
    pub input_hash: [u8; 32],
    pub chunk_count: u32,
    pub replicas: u8,
    pub reward_per_replica: u64,
    /// Unix seconds after which the job can no longer be claimed.
    pub claim_deadline: i64,
    /// Seconds each replica has from its claim to submit or commit.
    pub exec_timeout: i64,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: CreateJobArgs)]
pub struct CreateJob<'info> {
    #[account(mut)]
    pub creator: Signer<'info>,
    pub market: Box<Account<'info, Market>>,
    #[account(
        init,
        payer = creator,
        space = JOB_SPACE,
        seeds = [JOB_SEED, market.key().as_ref(), creator.key().as_ref(), &args.job_id.to_le_bytes()],
        bump
    )]
    pub job: AccountLoader<'info, Job>,
    /// The job's own token account, owned by the job PDA.
    #[account(
        init,
        payer = creator,
        seeds = [ESCROW_SEED, job.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = job,
        token::token_program = token_program
    )]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Pays the rewards.
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub creator_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: the market's mint (checked by key); the token program checks the rest.
    #[account(address = market.mint @ TesseraError::WrongMint)]
    pub mint: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl CreateJob<'_> {
    pub fn validate(&self, args: &CreateJobArgs) -> Result<()> {
        let p = &self.market.params;
        require!(!self.market.paused, TesseraError::MarketPaused);
        require!(
            args.kernel <= MAX_KERNEL_ID && KNOWN_KERNELS & (1 << args.kernel) != 0,
            TesseraError::BadKernel
        );
        // Without an arbiter, only the referee can rule a dispute.
        require!(
            self.market.arbiter_at(Clock::get()?.unix_timestamp) != Pubkey::default()
                || REFEREE_KERNELS & (1 << args.kernel) != 0,
            TesseraError::KernelNeedsArbiter
        );
        require!(
            args.replicas >= 1 && args.replicas <= p.max_replicas,
            TesseraError::BadReplicas
        );
        require!(
            args.reward_per_replica >= p.min_reward_per_replica && args.reward_per_replica > 0,
            TesseraError::RewardTooLow
        );
        check_uri(&args.input_uri)?;
        require!(
            args.chunk_count >= 1 && args.chunk_count <= MAX_CHUNKS,
            TesseraError::BadChunkCount
        );
        let now = Clock::get()?.unix_timestamp;
        require!(
            args.claim_deadline > now && args.claim_deadline - now <= MAX_WINDOW,
            TesseraError::BadClaimDeadline
        );
        require!(
            args.exec_timeout > 0 && args.exec_timeout <= p.max_exec_timeout,
            TesseraError::BadExecTimeout
        );
        require!(
            args.exec_timeout >= p.min_exec_timeout_for(args.chunk_count),
            TesseraError::ExecTimeoutTooShort
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<CreateJob>, args: CreateJobArgs) -> Result<()> {
    let params = &ctx.accounts.market.params;
    let audit_fee = audit_fee_for(args.reward_per_replica, params)?;
    let total = add(
        mul(args.reward_per_replica, args.replicas as u64)?,
        audit_fee,
    )?;
    let a = &ctx.accounts;
    Tokens {
        program: a.token_program.to_account_info(),
        mint: a.mint.to_account_info(),
        decimals: a.market.decimals,
    }
    .transfer(
        &a.creator_token.to_account_info(),
        &a.escrow.to_account_info(),
        &a.creator.to_account_info(),
        &[],
        total,
    )?;

    let now = Clock::get()?.unix_timestamp;
    let market = &ctx.accounts.market;
    let terms = JobTerms::snapshot(
        &market.params,
        market.arbiter_at(now),
        args.reward_per_replica,
    )?;
    let job = Job {
        market: ctx.accounts.market.key(),
        creator: ctx.accounts.creator.key(),
        escrow: ctx.accounts.escrow.key(),
        job_id: args.job_id,
        reward_per_replica: args.reward_per_replica,
        created_at: now,
        claim_deadline: args.claim_deadline,
        exec_timeout: args.exec_timeout,
        reveal_deadline: 0,
        challenge_deadline: 0,
        dispute_deadline: 0,
        chunk_count: args.chunk_count,
        kernel: args.kernel,
        replicas: args.replicas,
        state: JobState::Open as u8,
        bump: ctx.bumps.job,
        kernel_params: args.kernel_params,
        input_hash: args.input_hash,
        agreed_root: [0; 32],
        input_uri: pack_uri(&args.input_uri),
        assignments: [Assignment::empty(); MAX_REPLICAS as usize],
        challenges: [Challenge::none(); MAX_CHALLENGERS as usize],
        terms,
        convicted: 0,
        open_games: 0,
        games_played: [0; 4],
        challenge_wins: 0,
        audit_state: if terms.audit_rate_bps > 0 {
            AuditState::Pending as u8
        } else {
            AuditState::None as u8
        },
        audit_fee,
        revealed_slot: 0,
        audit_chunks: [0; MAX_AUDIT_CHUNKS as usize],
        audit_chunk_count: 0,
        audit_leaves: [[0; 32]; MAX_AUDIT_CHUNKS as usize],
        reserved: [0; 23],
    };
    *ctx.accounts.job.load_init()? = job;
    emit_cpi!(JobCreated {
        job: ctx.accounts.job.key(),
        market: job.market,
        creator: job.creator,
        job_id: job.job_id,
        kernel: job.kernel,
        replicas: job.replicas,
        reward_per_replica: job.reward_per_replica,
        escrowed: total,
        claim_deadline: job.claim_deadline,
    });
    Ok(())
}
