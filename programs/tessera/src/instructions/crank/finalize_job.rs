use crate::error::TesseraError;
use crate::events::JobSettled;
use crate::instructions::settlement::*;
use crate::math::{add, split_reward};
use crate::state::JobState;
use anchor_lang::prelude::*;

/// Remaining accounts: the operator account of every live slot, in slot order.
#[event_cpi]
#[derive(Accounts)]
pub struct FinalizeJob<'info> {
    pub settlement: JobSettlement<'info>,
    /// CHECK: the market's treasury (checked by key); the token program checks the rest.
    #[account(mut, address = settlement.market.treasury @ TesseraError::WrongTreasury)]
    pub treasury: UncheckedAccount<'info>,
    /// CHECK: the market's stake vault (checked by key), where the rewards are credited.
    #[account(mut, address = settlement.market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: UncheckedAccount<'info>,
}

impl FinalizeJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = self.settlement.job.load()?;
        job.require_state(JobState::Revealed)?;
        require!(
            Clock::get()?.unix_timestamp > job.challenge_deadline,
            TesseraError::ChallengeWindowOpen
        );
        Ok(())
    }
}

/// Permissionless, after the challenge window: credits every replica that delivered the agreed
/// root with reward − fee − burn (moved once into the stake vault), sends the fee to the
/// treasury, burns, releases the bonds, refunds what failed slots leave, and closes the escrow.
pub fn handler<'info>(ctx: Context<'info, FinalizeJob<'info>>) -> Result<()> {
    let s = &ctx.accounts.settlement;
    let p = s.market.params;
    let mut job = s.job()?;
    let split = split_reward(job.reward_per_replica, p.protocol_fee_bps, p.burn_bps)?;
    let keys: Vec<Pubkey> = job.settlement_slots().map(|(_, a)| a.operator).collect();
    let bonds: Vec<u64> = job.settlement_slots().map(|(_, a)| a.bond).collect();
    let mut parties = load_parties(ctx.remaining_accounts, &keys)?;
    let (mut paid, mut fee, mut burn) = (0u64, 0u64, 0u64);
    for (operator, bond) in parties.iter_mut().zip(bonds) {
        operator.credit(split.operator)?;
        operator.release(bond)?;
        operator.jobs_completed = add(operator.jobs_completed, 1)?;
        paid = add(paid, split.operator)?;
        fee = add(fee, split.fee)?;
        burn = add(burn, split.burn)?;
    }
    save_parties(&parties)?;
    s.pay_from_escrow(&ctx.accounts.stake_vault.to_account_info(), paid)?;
    s.pay_from_escrow(&ctx.accounts.treasury.to_account_info(), fee)?;
    s.burn_from_escrow(burn)?;
    let refunded = s.refund_and_close_escrow(add(add(paid, fee)?, burn)?)?;
    job.set_state(JobState::Settled);
    s.save_job(&job)?;
    emit_cpi!(JobSettled {
        job: s.job.key(),
        root: job.agreed_root,
        paid,
        fee,
        burned: burn,
        refunded,
    });
    Ok(())
}
