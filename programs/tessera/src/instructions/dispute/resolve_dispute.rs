use crate::constants::WHOLE_ROOT;
use crate::error::TesseraError;
use crate::events::{DisputeResolved, Slash, SlashReason};
use crate::instructions::settlement::*;
use crate::math::{add, split_slash, sub};
use crate::state::{AuditState, ChallengeStatus, JobState};
use anchor_lang::prelude::*;

/// Bit of the first challenger (in commitment order) in a verdict; bits 0..=2 are the slots,
/// bits 3..=5 the challengers.
pub const CHALLENGER_BIT: u8 = 1 << 3;

/// Bit of challenger `k` (in commitment order) in a verdict.
pub const fn challenger_bit(k: usize) -> u8 {
    CHALLENGER_BIT << k
}

/// Remaining accounts: the operator account of every live slot in slot order, then every
/// challenger's in commitment order (`Job::party_keys`).
#[event_cpi]
#[derive(Accounts)]
pub struct ResolveDispute<'info> {
    /// The arbiter of the job's terms (the market's arbiter when the job was created).
    #[account(address = settlement.job.load()?.terms.arbiter @ TesseraError::NotArbiter)]
    pub arbiter: Signer<'info>,
    pub settlement: JobSettlement<'info>,
    /// CHECK: the market's fee vault (checked by key), where the fee accrues.
    #[account(mut, address = settlement.market.fee_vault @ TesseraError::WrongFeeVault)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: the market's stake vault (checked by key); the token program checks the rest.
    #[account(mut, address = settlement.market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: UncheckedAccount<'info>,
}

impl ResolveDispute<'_> {
    pub fn validate(&self, honest_mask: u8) -> Result<()> {
        let job = self.settlement.job.load()?;
        job.require_state(JobState::Disputed)?;
        let now = Clock::get()?.unix_timestamp;
        require!(
            now <= job.dispute_deadline,
            TesseraError::DisputeDeadlinePassed
        );
        if job.has_challenge() {
            require!(
                now > job.challenge_reveal_deadline()?,
                TesseraError::ChallengeRevealOpen
            );
        }
        require!(
            honest_mask & !participants(&job) == 0,
            TesseraError::BadVerdict
        );
        Ok(())
    }
}

/// The parties a verdict may name honest: the live slots and the revealed challenges.
fn participants(job: &crate::state::Job) -> u8 {
    let slots = job.settlement_slots().fold(0u8, |m, (i, _)| m | (1 << i));
    job.challengers()
        .filter(|(_, c)| c.is_revealed())
        .fold(slots, |m, (k, _)| m | challenger_bit(k))
}

/// The arbiter's verdict: `honest_mask` names the parties that were right (bit `i` = slot `i`,
/// bit `3 + k` = challenger `k`), before the dispute deadline and once every challenge is
/// revealed or past its reveal deadline. Every other party is slashed by the job's
/// `slash_fraud_bps` of its bond: the creator gets `creator_compensation_bps` of it, the honest
/// share `honest_share_bps` goes to the honest slots and to the first honest challenger (in
/// commitment order; later honest challengers get their bonds back), the rest is burned. A
/// challenger that never revealed is slashed as a no-show. Honest slots are paid like a
/// finalize; the rewards of the others go back to the creator.
pub fn handler<'info>(ctx: Context<'info, ResolveDispute<'info>>, honest_mask: u8) -> Result<()> {
    let event = settle_verdict(
        &ctx.accounts.settlement,
        ctx.remaining_accounts,
        &ctx.accounts.fee_vault.to_account_info(),
        &ctx.accounts.stake_vault.to_account_info(),
        honest_mask,
        0,
    )?;
    emit_cpi!(event);
    Ok(())
}

/// Settles a disputed job on a verdict (the arbiter's, or the referee's): `honest_mask` names
/// the parties that were right, `released_mask` revealed challengers the verdict says nothing
/// about (their bonds are released, with no share and no slash); every other party is slashed
/// as [`handler`] says. Returns the event to emit.
pub fn settle_verdict<'info>(
    s: &JobSettlement<'info>,
    remaining: &'info [AccountInfo<'info>],
    fee_vault: &AccountInfo<'info>,
    stake_vault: &AccountInfo<'info>,
    honest_mask: u8,
    released_mask: u8,
) -> Result<DisputeResolved> {
    let mut job = s.job()?;
    let p = job.terms;
    // The audit, if an auditor committed: one the verdict does not name honest that passed, or
    // that the dispute made moot before it was revealed, is released like a challenge the
    // verdict says nothing about. Its auditor is paid the fee (a drawn audit's) if it passed or
    // is named honest.
    let audit = job
        .audit_index()
        .map(|k| (challenger_bit(k), job.challenges[k].status()));
    let audit_released = match audit {
        Some((bit, status)) if honest_mask & bit == 0 && status != ChallengeStatus::Revealed => bit,
        _ => 0,
    };
    let released_mask = released_mask | audit_released;
    let audit_paid = audit
        .filter(|_| job.audit_state() == AuditState::Drawn)
        .filter(|&(bit, status)| honest_mask & bit != 0 || status == ChallengeStatus::Audited)
        .map(|(bit, _)| bit);
    // Parties in order: live slots, then the challengers. Each with its verdict bit, its bond
    // and whether it revealed (slots always count as revealed here).
    let mut members: Vec<(u8, Pubkey, u64, bool)> = job
        .settlement_slots()
        .map(|(i, a)| (1u8 << i, a.operator, a.bond, true))
        .collect();
    members.extend(job.challengers().map(|(k, c)| {
        let bit = challenger_bit(k);
        let revealed = c.is_revealed() || bit == audit_released;
        (bit, c.challenger, c.bond, revealed)
    }));
    let keys: Vec<Pubkey> = members.iter().map(|m| m.1).collect();
    let mut parties = load_parties(remaining, &keys)?;
    // The first honest challenger in commitment order; the others only get their bonds back.
    let rewarded_challenger = members
        .iter()
        .find(|m| m.0 >= CHALLENGER_BIT && honest_mask & m.0 != 0)
        .map(|m| m.0);
    let honest_count = members
        .iter()
        .filter(|m| {
            honest_mask & m.0 != 0 && (m.0 < CHALLENGER_BIT || Some(m.0) == rewarded_challenger)
        })
        .count() as u64;

    // Slash the wrong parties (and the challengers that never revealed, as no-shows).
    let (mut pool, mut to_creator, mut vault_burn) = (0u64, 0u64, 0u64);
    let mut slashes = Vec::new();
    for (operator, &(bit, key, bond, revealed)) in parties.iter_mut().zip(&members) {
        if honest_mask & bit != 0 || (revealed && released_mask & bit != 0) {
            continue;
        }
        let (rate, to_honest, reason) = if revealed {
            (p.slash_fraud_bps, p.honest_share_bps, SlashReason::Fraud)
        } else {
            (p.slash_no_show_bps, 0, SlashReason::NoShow)
        };
        let split = split_slash(
            bond,
            rate,
            p.creator_compensation_bps,
            to_honest,
            honest_count > 0,
        )?;
        operator.slash(bond, split.total)?;
        pool = add(pool, split.honest)?;
        to_creator = add(to_creator, split.creator)?;
        vault_burn = add(vault_burn, split.burn)?;
        slashes.push(Slash {
            operator: key,
            slot: bit.trailing_zeros() as u8,
            reason,
            bond,
            slashed: split.total,
            to_creator: split.creator,
            to_honest: split.honest,
            burned: split.burn,
        });
    }
    // Share the pool among the honest; the indivisible remainder is burned.
    let share = pool.checked_div(honest_count).unwrap_or(0);
    vault_burn = add(
        vault_burn,
        sub(pool, crate::math::mul(share, honest_count)?)?,
    )?;

    // Credit the honest: their share of the slashes, and the reward of each honest slot.
    let mut payout = Payout::default();
    let mut agreed_root = [0u8; 32];
    let mut audit_fee = 0;
    for (operator, &(bit, _, bond, revealed)) in parties.iter_mut().zip(&members) {
        if Some(bit) == audit_paid {
            audit_fee = job.audit_fee;
            operator.credit(audit_fee)?;
            payout.paid = add(payout.paid, audit_fee)?;
        }
        if honest_mask & bit == 0 {
            if revealed && released_mask & bit != 0 {
                operator.release(bond)?;
            }
            continue;
        }
        if bit >= CHALLENGER_BIT {
            if Some(bit) == rewarded_challenger {
                operator.credit(share)?;
            }
            operator.release(bond)?;
            let c = &job.challenges[(bit / CHALLENGER_BIT).trailing_zeros() as usize];
            if c.chunk == WHOLE_ROOT && agreed_root == [0; 32] {
                agreed_root = c.hash;
            }
            continue;
        }
        operator.credit(share)?;
        let slot = bit.trailing_zeros() as usize;
        if agreed_root == [0; 32] {
            agreed_root = job.assignments[slot].root;
        }
        pay_replica(&job, operator, bond, &mut payout)?;
    }
    let Payout { paid, fee, burn } = payout;
    save_parties(&parties)?;
    // The escrow owes the vault `paid`; the vault owes the creator `to_creator` and the burn
    // `vault_burn`. Netted, so that as few token CPIs run as possible: the escrow covers the
    // vault's debts out of what it would have sent it (the creator's part first), and only the
    // difference moves between escrow and vault. Every account ends as it would unnetted.
    let covered = paid.min(add(to_creator, vault_burn)?);
    let creator_from_escrow = to_creator.min(covered);
    let burn_from_escrow = sub(covered, creator_from_escrow)?;
    let vault = stake_vault;
    s.slashes_out_of_vault(
        vault,
        sub(to_creator, creator_from_escrow)?,
        sub(vault_burn, burn_from_escrow)?,
    )?;
    let to_vault = sub(paid, covered)?;
    s.pay_from_escrow(vault, to_vault)?;
    s.pay_from_escrow(fee_vault, fee)?;
    let escrow_burn = add(burn, burn_from_escrow)?;
    s.burn_from_escrow(escrow_burn)?;
    // What is left goes to the creator: the refund, plus the compensation the escrow covered.
    let sent = s.refund_and_close_escrow(add(add(to_vault, fee)?, escrow_burn)?)?;
    let refunded = sub(sent, creator_from_escrow)?;

    job.agreed_root = agreed_root;
    job.set_state(JobState::Settled);
    s.save_job(&job)?;
    Ok(DisputeResolved {
        market: job.market,
        job: s.job.key(),
        honest_mask,
        root: agreed_root,
        paid,
        fee,
        burned: burn,
        honest_share: share,
        compensation: to_creator,
        slash_burned: vault_burn,
        slashes,
        refunded,
        audit_fee,
    })
}
