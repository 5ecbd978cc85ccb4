use crate::error::TesseraError;
use crate::events::JobSettled;
use crate::instructions::settlement::*;
use crate::math::add;
use crate::state::{AuditState, ChallengeStatus, JobState};
use anchor_lang::prelude::*;

/// Remaining accounts: the operator account of every live slot in slot order, then every
/// challenger's in commitment order (`Job::party_keys`).
#[event_cpi]
#[derive(Accounts)]
pub struct FinalizeJob<'info> {
    pub settlement: JobSettlement<'info>,
    /// CHECK: the market's fee vault (checked by key), where the fee accrues.
    #[account(mut, address = settlement.market.fee_vault @ TesseraError::WrongFeeVault)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: the market's stake vault (checked by key), where the rewards are credited.
    #[account(mut, address = settlement.market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: UncheckedAccount<'info>,
}

impl FinalizeJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = self.settlement.job.load()?;
        job.require_state(JobState::Revealed)?;
        let now = Clock::get()?.unix_timestamp;
        require!(
            now > job.challenge_deadline,
            TesseraError::ChallengeWindowOpen
        );
        if job.has_challenge() {
            require!(
                now > job.challenge_reveal_deadline()?,
                TesseraError::ChallengeRevealOpen
            );
        }
        if let Some(i) = job.audit_index() {
            let audit = &job.challenges[i];
            if audit.status() == ChallengeStatus::Committed {
                // Leaves withheld convict the operators (`convict_withheld`); otherwise the
                // auditor has until its reveal deadline.
                require!(
                    audit.leaves_posted == job.audit_chunk_count,
                    TesseraError::AuditLeavesMissing
                );
                require!(now > job.audit_reveal_deadline()?, TesseraError::AuditOpen);
            }
        }
        Ok(())
    }
}

/// Permissionless, after the challenge window: credits every replica that delivered the agreed
/// root with reward − fee − burn under the job's terms (moved once into the stake vault), moves
/// the fee to the fee vault, burns, releases the bonds, refunds what failed slots leave, and
/// closes the escrow. A challenge (or audit) committed and never revealed is slashed as a
/// no-show; an audit that passed is paid the audit fee. An audit fee nobody earned (the job was
/// not drawn, or nobody audited it) goes back to the creator.
pub fn handler<'info>(ctx: Context<'info, FinalizeJob<'info>>) -> Result<()> {
    let s = &ctx.accounts.settlement;
    let mut job = s.job()?;
    let bonds: Vec<u64> = job.settlement_slots().map(|(_, a)| a.bond).collect();
    let challengers: Vec<(usize, bool)> = job
        .challengers()
        .map(|(k, c)| (k, c.status() == ChallengeStatus::Audited))
        .collect();
    let mut parties = load_parties(ctx.remaining_accounts, &job.party_keys())?;
    let (replicas, silent) = parties.split_at_mut(bonds.len());
    let mut payout = Payout::default();
    for (operator, &bond) in replicas.iter_mut().zip(&bonds) {
        pay_replica(&job, operator, bond, &mut payout)?;
    }
    let mut slashes = Vec::new();
    let mut audit_fee = 0;
    for (operator, &(k, audited)) in silent.iter_mut().zip(&challengers) {
        if audited {
            // The audit found the result right: its bond is freed, and the auditor of a drawn
            // audit is paid the fee (a volunteer's audit earns none).
            if job.audit_state() == AuditState::Drawn {
                audit_fee = job.audit_fee;
                operator.credit(audit_fee)?;
                payout.paid = add(payout.paid, audit_fee)?;
            }
            operator.release(job.challenges[k].bond)?;
        } else {
            slashes.push(slash_silent_challenger(&job, k, operator)?);
        }
    }
    save_parties(&parties)?;
    let to_creator = slashes.iter().try_fold(0, |t, s| add(t, s.to_creator))?;
    let slash_burn = slashes.iter().try_fold(0, |t, s| add(t, s.burned))?;
    s.slashes_out_of_vault(
        &ctx.accounts.stake_vault.to_account_info(),
        to_creator,
        slash_burn,
    )?;
    s.pay_from_escrow(&ctx.accounts.stake_vault.to_account_info(), payout.paid)?;
    s.pay_from_escrow(&ctx.accounts.fee_vault.to_account_info(), payout.fee)?;
    s.burn_from_escrow(payout.burn)?;
    let refunded = s.refund_and_close_escrow(add(add(payout.paid, payout.fee)?, payout.burn)?)?;
    job.set_state(JobState::Settled);
    s.save_job(&job)?;
    emit_cpi!(JobSettled {
        market: job.market,
        job: s.job.key(),
        root: job.agreed_root,
        paid: payout.paid,
        fee: payout.fee,
        burned: payout.burn,
        refunded,
        slashes,
        audit_fee,
    });
    Ok(())
}
