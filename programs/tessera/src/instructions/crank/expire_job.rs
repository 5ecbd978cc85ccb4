use crate::error::TesseraError;
use crate::events::JobClosed;
use crate::instructions::settlement::*;
use crate::state::{JobState, SlotStatus};
use anchor_lang::prelude::*;

/// Remaining accounts: the operator account of every live slot, in slot order.
#[event_cpi]
#[derive(Accounts)]
pub struct ExpireJob<'info> {
    pub settlement: JobSettlement<'info>,
    /// CHECK: the market's stake vault (checked by key): late slots are slashed out of it.
    #[account(mut, address = settlement.market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: UncheckedAccount<'info>,
}

impl ExpireJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = self.settlement.job.load()?;
        job.require_state(JobState::Open)?;
        require!(
            Clock::get()?.unix_timestamp > job.claim_deadline,
            TesseraError::NotExpired
        );
        Ok(())
    }
}

/// Permissionless: a job not fully claimed by its deadline is refunded in full. Operators who
/// claimed a slot and are within their execution timeout get their bonds back (they are not at
/// fault); a slot past its timeout is slashed as a no-show first, exactly as `timeout_job`
/// would have, so that expiring the job is no way around the slash.
pub fn handler<'info>(ctx: Context<'info, ExpireJob<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let s = &ctx.accounts.settlement;
    let mut job = s.job()?;
    let keys: Vec<Pubkey> = job.settlement_slots().map(|(_, a)| a.operator).collect();
    let bonds: Vec<(usize, u64)> = job.settlement_slots().map(|(i, a)| (i, a.bond)).collect();
    let mut parties = load_parties(ctx.remaining_accounts, &keys)?;
    let (late, to_creator, burned) = slash_late_slots(&job, now, &mut parties)?;
    for (operator, (i, bond)) in parties.iter_mut().zip(bonds) {
        if late.iter().any(|l| l.slot as usize == i) {
            job.assignments[i].set_status(SlotStatus::Failed);
        } else {
            operator.release(bond)?;
        }
    }
    save_parties(&parties)?;
    s.slashes_out_of_vault(
        &ctx.accounts.stake_vault.to_account_info(),
        to_creator,
        burned,
    )?;
    let refunded = s.refund_and_close_escrow(0)?;
    job.set_state(JobState::Expired);
    s.save_job(&job)?;
    emit_cpi!(JobClosed {
        market: job.market,
        job: s.job.key(),
        state: JobState::Expired,
        refunded,
        slashes: late,
    });
    Ok(())
}
