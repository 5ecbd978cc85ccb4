use crate::error::TesseraError;
use crate::events::{Slash, SlashReason, SlotsTimedOut};
use crate::instructions::settlement::*;
use crate::math::{add, split_slash};
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

/// Permissionless: slashes every slot past its deadline by `slash_no_show_bps` of its bond
/// (compensation to the creator, the rest burned). The slot reopens while the job can still be
/// claimed and no root has been revealed; otherwise it fails and its reward goes back to the
/// creator at settlement. A job left with no live slot is expired and refunded at once.
pub fn handler<'info>(ctx: Context<'info, TimeoutJob<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let s = &ctx.accounts.settlement;
    let p = s.market.params;
    let mut job = s.job()?;
    let live: Vec<(usize, Pubkey)> = job
        .settlement_slots()
        .map(|(i, a)| (i, a.operator))
        .collect();
    let keys: Vec<Pubkey> = live.iter().map(|(_, k)| *k).collect();
    let mut parties = load_parties(ctx.remaining_accounts, &keys)?;
    let reopen =
        now <= job.claim_deadline && matches!(job.state(), JobState::Open | JobState::Claimed);
    let vault = &ctx.accounts.stake_vault.to_account_info();

    let mut late = Vec::new();
    let (mut to_creator, mut burned) = (0u64, 0u64);
    for (operator, (i, key)) in parties.iter_mut().zip(&live) {
        let Some(deadline) = job.slot_deadline(*i)? else {
            continue;
        };
        if now <= deadline {
            continue;
        }
        let bond = job.assignments[*i].bond;
        let split = split_slash(
            bond,
            p.slash_no_show_bps,
            p.creator_compensation_bps,
            0,
            false,
        )?;
        operator.slash(bond, split.total)?;
        to_creator = add(to_creator, split.creator)?;
        burned = add(burned, split.burn)?;
        late.push(Slash {
            operator: *key,
            slot: *i as u8,
            reason: SlashReason::NoShow,
            bond,
            slashed: split.total,
            to_creator: split.creator,
            to_honest: 0,
            burned: split.burn,
        });
    }
    require!(!late.is_empty(), TesseraError::NotLate);
    save_parties(&parties)?;
    s.slashes_out_of_vault(vault, to_creator, burned)?;

    for slash in &late {
        let i = slash.slot as usize;
        if reopen {
            job.assignments[i] = Assignment::empty();
        } else {
            job.assignments[i].set_status(SlotStatus::Failed);
        }
    }
    let state = job.advance(now, p.reveal_window, p.challenge_window)?;
    s.save_job(&job)?;
    let refunded = if state == JobState::Expired {
        s.refund_and_close_escrow(0)?
    } else {
        0
    };
    emit_cpi!(SlotsTimedOut {
        job: s.job.key(),
        slashes: late,
        state,
        refunded,
    });
    Ok(())
}
