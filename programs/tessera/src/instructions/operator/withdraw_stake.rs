use crate::constants::RECORD_SEED;
use crate::error::TesseraError;
use crate::events::StakeWithdrawn;
use crate::instructions::settlement::pay_from_vault;
use crate::math::{add, sub};
use crate::state::{Market, Operator, OperatorRecord, OperatorStatus};
use crate::token::Tokens;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawStake<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(has_one = mint @ TesseraError::WrongMint)]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        has_one = market @ TesseraError::WrongMarket,
        has_one = authority @ TesseraError::NotOperatorAuthority
    )]
    pub operator: Box<Account<'info, Operator>>,
    /// The key's track record: the operator's counters are saved there when it closes.
    #[account(
        mut,
        seeds = [RECORD_SEED, market.key().as_ref(), authority.key().as_ref()],
        bump = record.bump
    )]
    pub record: Box<Account<'info, OperatorRecord>>,
    #[account(mut, address = market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Receives the tokens.
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub to: Box<InterfaceAccount<'info, TokenAccount>>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl WithdrawStake<'_> {
    /// What can leave now: every earning, and the unbonding stake once its period has passed.
    /// An exiting operator with nothing left passes with (0, 0), so that it can be closed.
    fn withdrawable(&self, now: i64) -> Result<(u64, u64)> {
        let op = &self.operator;
        let unbonded = if op.unbonding > 0 && now >= op.unbonding_ready_at {
            op.unbonding
        } else {
            0
        };
        let empty_exit = op.status == OperatorStatus::Exiting
            && op.stake == 0
            && op.unbonding == 0
            && op.earned == 0;
        if op.earned == 0 && unbonded == 0 && !empty_exit {
            require!(op.unbonding == 0, TesseraError::UnbondingNotReady);
            return err!(TesseraError::NothingToWithdraw);
        }
        Ok((op.earned, unbonded))
    }
}

/// Pays out the operator's earnings, and its unbonding stake once the unbonding period has
/// passed. An exiting operator with nothing left is closed (rent back to its authority).
pub fn handler(ctx: Context<WithdrawStake>) -> Result<()> {
    let a = &ctx.accounts;
    let (earned, unbonded) = a.withdrawable(Clock::get()?.unix_timestamp)?;
    let amount = add(earned, unbonded)?;
    let tokens = Tokens {
        program: a.token_program.to_account_info(),
        mint: a.mint.to_account_info(),
        decimals: a.market.decimals,
    };
    pay_from_vault(
        &tokens,
        &a.market,
        &a.stake_vault.to_account_info(),
        &a.to.to_account_info(),
        amount,
    )?;
    let operator = &mut ctx.accounts.operator;
    operator.earned = 0;
    operator.unbonding = sub(operator.unbonding, unbonded)?;
    let closed = operator.status == OperatorStatus::Exiting
        && operator.stake == 0
        && operator.unbonding == 0;
    emit_cpi!(StakeWithdrawn {
        market: ctx.accounts.operator.market,
        operator: ctx.accounts.operator.key(),
        amount,
        earnings: earned,
        closed,
    });
    if closed {
        let (operator, record) = (&ctx.accounts.operator, &mut ctx.accounts.record);
        record.jobs_completed = operator.jobs_completed;
        record.jobs_failed = operator.jobs_failed;
        record.slashed_total = operator.slashed_total;
        ctx.accounts
            .operator
            .close(ctx.accounts.authority.to_account_info())?;
    }
    Ok(())
}
