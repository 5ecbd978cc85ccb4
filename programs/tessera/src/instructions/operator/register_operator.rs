use crate::constants::OPERATOR_SEED;
use crate::events::OperatorRegistered;
use crate::state::{Market, Operator, OperatorStatus};
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
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<RegisterOperator>, capabilities: u32) -> Result<()> {
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
        jobs_completed: 0,
        jobs_failed: 0,
        slashed_total: 0,
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
