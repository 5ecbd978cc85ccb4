use crate::error::TesseraError;
use crate::events::SlotsTimedOut;
use crate::instructions::settlement::*;
use crate::state::{Assignment, JobState, SlotStatus};
use anchor_lang::prelude::*;

/// Remaining accounts: the operator account of every live slot, in slot order.
#[event_cpi]
#[derive(Accounts)]
pub struct TimeoutJob<'info> {
    pub settlement: JobSettlement<'info>,
    /// CHECK: the market's stake vault (checked by key); the token program checks the rest.
    #[account(mut, address = settlement.market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: UncheckedAccount<'info>,
}

impl TimeoutJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let state = self.settlement.job.load()?.state();
        require!(
            matches!(
                state,
                JobState::Open | JobState::Claimed | JobState::Committed
            ),
            TesseraError::WrongJobState
        );
        Ok(())
    }
}

/// Permissionless: slashes every slot past its deadline by the job's `slash_no_show_bps` of its
/// bond (compensation to the creator, the rest burned). The slot reopens while the job can
/// still be claimed and no root has been revealed; otherwise it fails and its reward goes back
/// to the creator at settlement. A job left with no live slot is expired and refunded at once.
pub fn handler<'info>(ctx: Context<'info, TimeoutJob<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let s = &ctx.accounts.settlement;
    let mut job = s.job()?;
    let keys: Vec<Pubkey> = job.settlement_slots().map(|(_, a)| a.operator).collect();
    let mut parties = load_parties(ctx.remaining_accounts, &keys)?;
    let reopen =
        now <= job.claim_deadline && matches!(job.state(), JobState::Open | JobState::Claimed);
    let (late, to_creator, burned) = slash_late_slots(&job, now, &mut parties)?;
    require!(!late.is_empty(), TesseraError::NotLate);
    save_parties(&parties)?;
    s.slashes_out_of_vault(
        &ctx.accounts.stake_vault.to_account_info(),
        to_creator,
        burned,
    )?;

    for slash in &late {
        let i = slash.slot as usize;
        if reopen {
            job.assignments[i] = Assignment::empty();
        } else {
            job.assignments[i].set_status(SlotStatus::Failed);
        }
    }
    let state = job.advance(now, Clock::get()?.slot)?;
    s.save_job(&job)?;
    let refunded = if state == JobState::Expired {
        s.refund_and_close_escrow(0)?
    } else {
        0
    };
    emit_cpi!(SlotsTimedOut {
        market: job.market,
        job: s.job.key(),
        slashes: late,
        state,
        refunded,
    });
    Ok(())
}
