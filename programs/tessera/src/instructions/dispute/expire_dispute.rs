use crate::error::TesseraError;
use crate::events::DisputeExpired;
use crate::instructions::settlement::*;
use crate::math::add;
use crate::state::JobState;
use anchor_lang::prelude::*;

/// Remaining accounts: the operator account of every live slot in slot order, then the
/// challenger's if there is a challenge (as for `resolve_dispute`).
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
        Ok(())
    }
}

/// Permissionless, once the arbiter let the dispute deadline pass: settles the job without a
/// verdict, and slashes nobody.
/// - A challenged job (its replicas agreed): the agreed root stands. The replicas are paid as by
///   `finalize_job`, and the challenger's bond is released.
/// - Replicas that disagreed: nobody is paid, every bond is released and the creator refunded.
pub fn handler<'info>(ctx: Context<'info, ExpireDispute<'info>>) -> Result<()> {
    let s = &ctx.accounts.settlement;
    let mut job = s.job()?;
    let challenged = job.has_challenge();
    let mut members: Vec<(Pubkey, u64)> = job
        .settlement_slots()
        .map(|(_, a)| (a.operator, a.bond))
        .collect();
    let slots = members.len();
    if challenged {
        members.push((job.challenge.challenger, job.challenge.bond));
    }
    let keys: Vec<Pubkey> = members.iter().map(|m| m.0).collect();
    let mut parties = load_parties(ctx.remaining_accounts, &keys)?;
    let mut payout = Payout::default();
    for (n, (operator, &(_, bond))) in parties.iter_mut().zip(&members).enumerate() {
        if challenged && n < slots {
            pay_replica(&job, operator, bond, &mut payout)?;
        } else {
            operator.release(bond)?;
        }
    }
    save_parties(&parties)?;
    s.pay_from_escrow(&ctx.accounts.stake_vault.to_account_info(), payout.paid)?;
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
