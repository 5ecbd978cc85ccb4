use crate::constants::{OPERATOR_SEED, RECORD_SEED};
use crate::events::OperatorRegistered;
use crate::state::{Market, Operator, OperatorRecord, OperatorStatus};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct RegisterOperator<'info> {
    /// Signs for the operator from now on; pays for the account.
    #[account(mut)]
    pub authority: Signer<'info>,
    pub market: Box<Account<'info, Market>>,
    #[account(
        init,
        payer = authority,
        space = 8 + Operator::INIT_SPACE,
        seeds = [OPERATOR_SEED, market.key().as_ref(), authority.key().as_ref()],
        bump
    )]
    pub operator: Box<Account<'info, Operator>>,
    /// The key's track record in the market: created at its first registration, read back at
    /// every later one.
    #[account(
        init_if_needed,
        payer = authority,
        space = 8 + OperatorRecord::INIT_SPACE,
        seeds = [RECORD_SEED, market.key().as_ref(), authority.key().as_ref()],
        bump
    )]
    pub record: Box<Account<'info, OperatorRecord>>,
    pub system_program: Program<'info, System>,
}

/// Registers the operator. A key registering again (after its account closed) starts from the
/// counters of its record, not from zero.
pub fn handler(ctx: Context<RegisterOperator>, capabilities: u32) -> Result<()> {
    let record = &mut ctx.accounts.record;
    if record.registrations == 0 {
        record.market = ctx.accounts.market.key();
        record.authority = ctx.accounts.authority.key();
        record.bump = ctx.bumps.record;
    }
    record.registrations = record
        .registrations
        .checked_add(1)
        .ok_or(crate::error::TesseraError::MathOverflow)?;
    let (jobs_completed, jobs_failed, slashed_total) = (
        record.jobs_completed,
        record.jobs_failed,
        record.slashed_total,
    );
    let operator = &mut ctx.accounts.operator;
    operator.set_inner(Operator {
        market: ctx.accounts.market.key(),
        authority: ctx.accounts.authority.key(),
        stake: 0,
        bonded: 0,
        unbonding: 0,
        unbonding_ready_at: 0,
        earned: 0,
        capabilities,
        benchmark_score: 0,
        jobs_completed,
        jobs_failed,
        slashed_total,
        live_claims: 0,
        status: OperatorStatus::Active,
        bump: ctx.bumps.operator,
        reserved: [0; 64],
    });
    emit_cpi!(OperatorRegistered {
        market: operator.market,
        operator: operator.key(),
        authority: operator.authority,
        capabilities,
    });
    Ok(())
}
