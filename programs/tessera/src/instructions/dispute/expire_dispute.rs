use crate::error::TesseraError;
use crate::events::DisputeExpired;
use crate::instructions::game::referee_verdict;
use crate::instructions::resolve_dispute::{challenger_bit, settle_verdict};
use crate::instructions::settlement::*;
use crate::math::add;
use crate::state::{AuditState, ChallengeStatus, JobState};
use anchor_lang::prelude::*;

/// Remaining accounts: the operator account of every live slot in slot order, then every
/// challenger's in commitment order (`Job::party_keys`, as for `resolve_dispute`).
#[event_cpi]
#[derive(Accounts)]
pub struct ExpireDispute<'info> {
    pub settlement: JobSettlement<'info>,
    /// CHECK: the market's fee vault (checked by key), where the fee accrues.
    #[account(mut, address = settlement.market.fee_vault @ TesseraError::WrongFeeVault)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: the market's stake vault (checked by key), where the rewards are credited.
    #[account(mut, address = settlement.market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: UncheckedAccount<'info>,
}

impl ExpireDispute<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = self.settlement.job.load()?;
        job.require_state(JobState::Disputed)?;
        require!(
            Clock::get()?.unix_timestamp > job.dispute_deadline,
            TesseraError::DisputeOpen
        );
        require!(job.open_games == 0, TesseraError::GamesOpen);
        Ok(())
    }
}

/// Permissionless, once the arbiter let the dispute deadline pass (and every referee game
/// ended): settles the job without a verdict, and slashes nobody but challengers that never
/// revealed (as no-shows) and the slots the referee convicted (`Job::convicted`, for fraud).
/// - A challenged job (its replicas agreed): the agreed root stands. The replicas are paid as by
///   `finalize_job`, and the revealed challengers' bonds are released. Slots a challenger's game
///   convicted are slashed instead of paid.
/// - Replicas that disagreed: nobody is paid, every bond is released and the creator refunded,
///   except the bonds of the convicted slots, slashed as a verdict that names nobody honest
///   would.
///
/// Convictions that decide the job settle it as `settle_referee` would.
pub fn handler<'info>(ctx: Context<'info, ExpireDispute<'info>>) -> Result<()> {
    let s = &ctx.accounts.settlement;
    let mut job = s.job()?;
    let challenged = job.has_challenge();
    if job.convicted != 0 {
        let unconvicted = job
            .settlement_slots()
            .filter(|(i, _)| job.convicted & (1 << i) == 0)
            .fold(0u8, |m, (i, _)| m | (1 << i));
        let revealed_challengers = job
            .challengers()
            .filter(|(_, c)| c.is_revealed())
            .fold(0u8, |m, (i, _)| m | challenger_bit(i));
        let (honest, released) = match referee_verdict(&job) {
            Some(verdict) => verdict,
            // The agreed root stands for the slots not convicted.
            None if challenged => (unconvicted, revealed_challengers),
            None => (0, unconvicted),
        };
        let paid_agreed_root = challenged && honest & unconvicted != 0;
        let verdict = settle_verdict(
            s,
            ctx.remaining_accounts,
            &ctx.accounts.fee_vault.to_account_info(),
            &ctx.accounts.stake_vault.to_account_info(),
            honest,
            released,
        )?;
        emit_cpi!(DisputeExpired {
            market: verdict.market,
            job: s.job.key(),
            paid_agreed_root,
            paid: verdict.paid,
            fee: verdict.fee,
            burned: verdict.burned,
            refunded: verdict.refunded,
        });
        emit_cpi!(verdict);
        return Ok(());
    }
    let bonds: Vec<u64> = job.settlement_slots().map(|(_, a)| a.bond).collect();
    // A passed audit is released and paid its fee; one the dispute made moot before it was
    // revealed is released.
    let challengers: Vec<(usize, u64, bool)> = job
        .challengers()
        .map(|(k, c)| (k, c.bond, c.is_revealed() || c.is_audit()))
        .collect();
    let mut parties = load_parties(ctx.remaining_accounts, &job.party_keys())?;
    let (replicas, others) = parties.split_at_mut(bonds.len());
    let mut payout = Payout::default();
    for (operator, &bond) in replicas.iter_mut().zip(&bonds) {
        if challenged {
            pay_replica(&job, operator, bond, &mut payout)?;
        } else {
            operator.release(bond)?;
        }
    }
    let (mut to_creator, mut slash_burn) = (0u64, 0u64);
    for (operator, &(k, bond, revealed)) in others.iter_mut().zip(&challengers) {
        if job.challenges[k].status() == ChallengeStatus::Audited
            && job.audit_state() == AuditState::Drawn
        {
            operator.credit(job.audit_fee)?;
            payout.paid = add(payout.paid, job.audit_fee)?;
        }
        if revealed {
            operator.release(bond)?;
        } else {
            let slash = slash_silent_challenger(&job, k, operator)?;
            to_creator = add(to_creator, slash.to_creator)?;
            slash_burn = add(slash_burn, slash.burned)?;
        }
    }
    save_parties(&parties)?;
    let vault = ctx.accounts.stake_vault.to_account_info();
    s.slashes_out_of_vault(&vault, to_creator, slash_burn)?;
    s.pay_from_escrow(&vault, payout.paid)?;
    s.pay_from_escrow(&ctx.accounts.fee_vault.to_account_info(), payout.fee)?;
    s.burn_from_escrow(payout.burn)?;
    let refunded = s.refund_and_close_escrow(add(add(payout.paid, payout.fee)?, payout.burn)?)?;
    if !challenged {
        job.agreed_root = [0; 32];
    }
    job.set_state(JobState::Settled);
    s.save_job(&job)?;
    emit_cpi!(DisputeExpired {
        market: job.market,
        job: s.job.key(),
        paid_agreed_root: challenged,
        paid: payout.paid,
        fee: payout.fee,
        burned: payout.burn,
        refunded,
    });
    Ok(())
}
