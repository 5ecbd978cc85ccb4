use crate::error::TesseraError;
use crate::events::{JobClosed, OperatorSlashed, SlashReason};
use crate::instructions::settlement::*;
use crate::math::split_slash;
use crate::state::{Assignment, JobState, SlotStatus};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

/// Remaining accounts: `[operator, payout]` for every live slot, in slot order.
#[event_cpi]
#[derive(Accounts)]
pub struct TimeoutJob<'info> {
    pub settlement: JobSettlement<'info>,
    #[account(mut, address = settlement.market.stake_vault @ TesseraError::InvariantViolated)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl TimeoutJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let state = self.settlement.job.state;
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
    let live: Vec<(usize, Pubkey)> = s
        .job
        .settlement_slots()
        .map(|(i, a)| (i, a.operator))
        .collect();
    let keys: Vec<Pubkey> = live.iter().map(|(_, k)| *k).collect();
    let mut parties = load_parties(ctx.remaining_accounts, &keys)?;
    let reopen =
        now <= s.job.claim_deadline && matches!(s.job.state, JobState::Open | JobState::Claimed);
    let tokens = s.tokens();
    let vault = &ctx.accounts.stake_vault.to_account_info();

    let mut late = Vec::new();
    for (party, (i, key)) in parties.iter_mut().zip(&live) {
        let Some(deadline) = s.job.slot_deadline(*i)? else {
            continue;
        };
        if now <= deadline {
            continue;
        }
        let bond = s.job.assignments[*i].bond;
        let split = split_slash(
            bond,
            p.slash_no_show_bps,
            p.creator_compensation_bps,
            0,
            false,
        )?;
        party.operator.slash(bond, split.total)?;
        party.save()?;
        pay_from_vault(
            &tokens,
            &s.market,
            vault,
            &s.creator_token.to_account_info(),
            split.creator,
        )?;
        burn_from_vault(&tokens, &s.market, vault, split.burn)?;
        late.push((*i, *key, bond, split));
    }
    require!(!late.is_empty(), TesseraError::NotLate);

    let job = &mut ctx.accounts.settlement.job;
    for &(i, _, _, _) in &late {
        if reopen {
            job.assignments[i] = Assignment::empty();
        } else {
            job.assignments[i].status = SlotStatus::Failed;
        }
    }
    let state = job.advance(now, p.reveal_window, p.challenge_window)?;
    for (i, operator, bond, split) in late {
        emit_cpi!(OperatorSlashed {
            job: ctx.accounts.settlement.job.key(),
            operator,
            slot: i as u8,
            reason: SlashReason::NoShow,
            bond,
            slashed: split.total,
            to_creator: split.creator,
            to_honest: 0,
            burned: split.burn,
        });
    }
    if state == JobState::Expired {
        let refunded = ctx.accounts.settlement.refund_and_close_escrow()?;
        emit_cpi!(JobClosed {
            job: ctx.accounts.settlement.job.key(),
            state,
            refunded,
        });
    }
    Ok(())
}
