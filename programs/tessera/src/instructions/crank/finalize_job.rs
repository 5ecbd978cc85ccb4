use crate::error::TesseraError;
use crate::events::JobSettled;
use crate::instructions::settlement::*;
use crate::math::add;
use crate::state::JobState;
use anchor_lang::prelude::*;

/// Remaining accounts: the operator account of every live slot, in slot order.
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
        require!(
            Clock::get()?.unix_timestamp > job.challenge_deadline,
            TesseraError::ChallengeWindowOpen
        );
        Ok(())
    }
}

/// Permissionless, after the challenge window: credits every replica that delivered the agreed
/// root with reward − fee − burn under the job's terms (moved once into the stake vault), moves
/// the fee to the fee vault, burns, releases the bonds, refunds what failed slots leave, and
/// closes the escrow.
pub fn handler<'info>(ctx: Context<'info, FinalizeJob<'info>>) -> Result<()> {
    let s = &ctx.accounts.settlement;
    let mut job = s.job()?;
    let keys: Vec<Pubkey> = job.settlement_slots().map(|(_, a)| a.operator).collect();
    let bonds: Vec<u64> = job.settlement_slots().map(|(_, a)| a.bond).collect();
    let mut parties = load_parties(ctx.remaining_accounts, &keys)?;
    let mut payout = Payout::default();
    for (operator, bond) in parties.iter_mut().zip(bonds) {
        pay_replica(&job, operator, bond, &mut payout)?;
    }
    save_parties(&parties)?;
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
    });
    Ok(())
}
