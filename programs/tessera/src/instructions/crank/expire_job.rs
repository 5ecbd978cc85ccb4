use crate::error::TesseraError;
use crate::events::JobClosed;
use crate::instructions::settlement::*;
use crate::state::JobState;
use anchor_lang::prelude::*;

/// Remaining accounts: the operator account of every live slot, in slot order.
#[event_cpi]
#[derive(Accounts)]
pub struct ExpireJob<'info> {
    pub settlement: JobSettlement<'info>,
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

/// Permissionless: a job not fully claimed by its deadline is refunded in full; operators who
/// did claim a slot get their bonds back (they are not at fault).
pub fn handler<'info>(ctx: Context<'info, ExpireJob<'info>>) -> Result<()> {
    let s = &ctx.accounts.settlement;
    let mut job = s.job()?;
    let keys: Vec<Pubkey> = job.settlement_slots().map(|(_, a)| a.operator).collect();
    let bonds: Vec<u64> = job.settlement_slots().map(|(_, a)| a.bond).collect();
    let mut parties = load_parties(ctx.remaining_accounts, &keys)?;
    for (operator, bond) in parties.iter_mut().zip(bonds) {
        operator.release(bond)?;
    }
    save_parties(&parties)?;
    let refunded = s.refund_and_close_escrow(0)?;
    job.set_state(JobState::Expired);
    s.save_job(&job)?;
    emit_cpi!(JobClosed {
        job: s.job.key(),
        state: JobState::Expired,
        refunded,
    });
    Ok(())
}
