use crate::error::TesseraError;
use crate::events::{JobClosed, JobSettled};
use crate::instructions::settlement::*;
use crate::math::{add, split_reward};
use crate::state::JobState;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

/// Remaining accounts: `[operator, payout]` for every live slot, in slot order.
#[event_cpi]
#[derive(Accounts)]
pub struct FinalizeJob<'info> {
    pub settlement: JobSettlement<'info>,
    #[account(mut, address = settlement.market.treasury @ TesseraError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl FinalizeJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = &self.settlement.job;
        job.require_state(JobState::Revealed)?;
        require!(
            Clock::get()?.unix_timestamp > job.challenge_deadline,
            TesseraError::ChallengeWindowOpen
        );
        Ok(())
    }
}

/// Permissionless, after the challenge window: pays every replica that delivered the agreed
/// root (reward − fee − burn), sends the fee to the treasury, burns, releases the bonds,
/// refunds what failed slots leave, and closes the escrow.
pub fn handler<'info>(ctx: Context<'info, FinalizeJob<'info>>) -> Result<()> {
    let s = &ctx.accounts.settlement;
    let p = s.market.params;
    let keys: Vec<Pubkey> = s.job.settlement_slots().map(|(_, a)| a.operator).collect();
    let mut parties = load_parties(ctx.remaining_accounts, &keys)?;
    let (mut paid, mut fee, mut burn) = (0u64, 0u64, 0u64);
    let slots: Vec<usize> = s.job.settlement_slots().map(|(i, _)| i).collect();
    for (party, i) in parties.iter_mut().zip(slots) {
        let split = split_reward(s.job.reward_per_replica, p.protocol_fee_bps, p.burn_bps)?;
        s.pay_from_escrow(&party.payout, split.operator)?;
        paid = add(paid, split.operator)?;
        fee = add(fee, split.fee)?;
        burn = add(burn, split.burn)?;
        party.operator.release(s.job.assignments[i].bond)?;
        party.operator.jobs_completed = add(party.operator.jobs_completed, 1)?;
        party.save()?;
    }
    s.pay_from_escrow(&ctx.accounts.treasury.to_account_info(), fee)?;
    s.burn_from_escrow(burn)?;
    let refunded = ctx.accounts.settlement.refund_and_close_escrow()?;
    let job = &mut ctx.accounts.settlement.job;
    job.state = JobState::Settled;
    emit_cpi!(JobSettled {
        job: job.key(),
        root: job.agreed_root,
        paid,
        fee,
        burned: burn,
        refunded,
    });
    emit_cpi!(JobClosed {
        job: job.key(),
        state: JobState::Settled,
        refunded,
    });
    Ok(())
}
