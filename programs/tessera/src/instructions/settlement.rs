//! What every settling instruction (finalize, timeout, expire, resolve) shares: the accounts of
//! a job's money, the operator accounts passed as remaining accounts, the moves out of the
//! escrow and the stake vault, and the two steps several settlements take (paying the replicas
//! that delivered, slashing the slots past their deadline).
use crate::constants::{JOB_SEED, MARKET_SEED};
use crate::error::TesseraError;
use crate::events::{Slash, SlashReason};
use crate::math::{add, split_reward, split_slash};
use crate::state::{Job, Market, Operator};
use crate::token::Tokens;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{TokenAccount, TokenInterface};

/// The accounts that hold or receive a job's tokens.
#[derive(Accounts)]
pub struct JobSettlement<'info> {
    #[account(mut, has_one = market @ TesseraError::WrongMarket, has_one = creator @ TesseraError::NotCreator)]
    pub job: AccountLoader<'info, Job>,
    pub market: Box<Account<'info, Market>>,
    /// The job's escrow.
    #[account(mut, address = job.load()?.escrow @ TesseraError::WrongEscrow)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: the market's mint (checked by key), written by burns; the token program checks
    /// the rest.
    #[account(mut, address = market.mint @ TesseraError::WrongMint)]
    pub mint: UncheckedAccount<'info>,
    /// Receives the escrow's rent when it closes.
    /// CHECK: only receives lamports; its key is checked against `job.creator`.
    #[account(mut)]
    pub creator: UncheckedAccount<'info>,
    /// Receives refunds and compensation. Needed only when tokens go to the creator (a
    /// settlement that sends it none works without it, so a creator who closed its token
    /// account blocks nothing): `CreatorTokenAccountRequired` otherwise.
    #[account(
        mut,
        token::mint = mint,
        token::token_program = token_program,
        constraint = creator_token.owner == job.load()?.creator @ TesseraError::WrongCreatorAccount
    )]
    pub creator_token: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> JobSettlement<'info> {
    pub fn tokens(&self) -> Tokens<'info> {
        Tokens {
            program: self.token_program.to_account_info(),
            mint: self.mint.to_account_info(),
            decimals: self.market.decimals,
        }
    }

    /// A copy of the job, for the settling instructions: they read it, move tokens (the job
    /// signs for its escrow in those CPIs, so its data must not be borrowed then), and write
    /// back what changed with `save_job`.
    pub fn job(&self) -> Result<Box<Job>> {
        // On the heap, copied byte for byte: the job (with its challenges) is too large for
        // the copy to live on the SBF stack beside a settlement's other locals.
        let zeroed = Box::<Job>::new_zeroed();
        // SAFETY: `Job` is `Pod`: every byte pattern, all zeros included, is a valid `Job`.
        let mut job = unsafe { zeroed.assume_init() };
        bytemuck::bytes_of_mut(&mut *job).copy_from_slice(bytemuck::bytes_of(&*self.job.load()?));
        Ok(job)
    }

    pub fn save_job(&self, job: &Job) -> Result<()> {
        bytemuck::bytes_of_mut(&mut *self.job.load_mut()?).copy_from_slice(bytemuck::bytes_of(job));
        Ok(())
    }

    /// Runs `f` with the job PDA's signer seeds (the escrow's authority).
    fn with_job_signer<R>(&self, f: impl FnOnce(&[&[&[u8]]]) -> Result<R>) -> Result<R> {
        let (market, creator, job_id, bump) = {
            let job = self.job.load()?;
            (
                job.market,
                job.creator,
                job.job_id.to_le_bytes(),
                [job.bump],
            )
        };
        let seeds: &[&[u8]] = &[JOB_SEED, market.as_ref(), creator.as_ref(), &job_id, &bump];
        f(&[seeds])
    }

    /// Moves `amount` from the escrow to `to`.
    pub fn pay_from_escrow(&self, to: &AccountInfo<'info>, amount: u64) -> Result<()> {
        self.with_job_signer(|s| {
            self.tokens().transfer(
                &self.escrow.to_account_info(),
                to,
                &self.job.to_account_info(),
                s,
                amount,
            )
        })
    }

    /// Burns `amount` from the escrow.
    pub fn burn_from_escrow(&self, amount: u64) -> Result<()> {
        self.with_job_signer(|s| {
            self.tokens().burn(
                &self.escrow.to_account_info(),
                &self.job.to_account_info(),
                s,
                amount,
            )
        })
    }

    /// Refunds whatever is left in the escrow, once `moved` has been paid or burned from it in
    /// this instruction, to the creator and closes it (rent to the creator). A wrong `moved`
    /// cannot lose tokens: the token program refuses to close an escrow that is not empty.
    pub fn refund_and_close_escrow(&self, moved: u64) -> Result<u64> {
        let left = crate::math::sub(self.escrow.amount, moved)?;
        if left > 0 {
            self.pay_from_escrow(&self.creator_token()?, left)?;
        }
        self.with_job_signer(|s| {
            self.tokens().close(
                &self.escrow.to_account_info(),
                &self.creator.to_account_info(),
                &self.job.to_account_info(),
                s,
            )
        })?;
        Ok(left)
    }
}

impl<'info> JobSettlement<'info> {
    /// The creator's token account, which a settlement that sends the creator tokens needs.
    pub fn creator_token(&self) -> Result<AccountInfo<'info>> {
        self.creator_token
            .as_ref()
            .map(|a| a.to_account_info())
            .ok_or_else(|| error!(TesseraError::CreatorTokenAccountRequired))
    }

    /// Sends what slashes took out of the stake vault on: `to_creator` to the creator's token
    /// account, `burned` burned.
    pub fn slashes_out_of_vault(
        &self,
        vault: &AccountInfo<'info>,
        to_creator: u64,
        burned: u64,
    ) -> Result<()> {
        let tokens = self.tokens();
        if to_creator > 0 {
            let creator_token = self.creator_token()?;
            pay_from_vault(&tokens, &self.market, vault, &creator_token, to_creator)?;
        }
        burn_from_vault(&tokens, &self.market, vault, burned)
    }
}

/// What paying replicas moves out of the escrow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Payout {
    /// Credited to the operators (moved into the stake vault).
    pub paid: u64,
    /// Sent to the fee vault.
    pub fee: u64,
    /// Burned.
    pub burn: u64,
}

/// Pays `operator` one replica's reward under the job's terms (credited to its earnings),
/// releases `bond` and counts the job completed; adds the amounts to `payout`.
pub fn pay_replica(
    job: &Job,
    operator: &mut Operator,
    bond: u64,
    payout: &mut Payout,
) -> Result<()> {
    let t = &job.terms;
    let split = split_reward(job.reward_per_replica, t.protocol_fee_bps, t.burn_bps)?;
    operator.credit(split.operator)?;
    operator.release(bond)?;
    operator.jobs_completed = add(operator.jobs_completed, 1)?;
    payout.paid = add(payout.paid, split.operator)?;
    payout.fee = add(payout.fee, split.fee)?;
    payout.burn = add(payout.burn, split.burn)?;
    Ok(())
}

/// Slashes challenger `k` of `job`, which committed a challenge and never revealed it, as a
/// no-show (the job's no-show rate; compensation to the creator, the rest burned). Returns the
/// slash; the caller moves the tokens.
pub fn slash_silent_challenger(job: &Job, k: usize, operator: &mut Operator) -> Result<Slash> {
    let t = &job.terms;
    let c = &job.challenges[k];
    let split = split_slash(
        c.bond,
        t.slash_no_show_bps,
        t.creator_compensation_bps,
        0,
        false,
    )?;
    operator.slash(c.bond, split.total)?;
    Ok(Slash {
        operator: c.challenger,
        slot: crate::constants::MAX_REPLICAS + k as u8,
        reason: SlashReason::NoShow,
        bond: c.bond,
        slashed: split.total,
        to_creator: split.creator,
        to_honest: 0,
        burned: split.burn,
    })
}

/// Slashes every live slot of `job` past its deadline at `now` by the job's no-show rate
/// (`parties` are the operators of `job.settlement_slots()`, in order). Returns the slashes,
/// what goes to the creator and what is burned; the caller moves the tokens and the slots.
pub fn slash_late_slots(
    job: &Job,
    now: i64,
    parties: &mut [Account<'_, Operator>],
) -> Result<(Vec<Slash>, u64, u64)> {
    let t = &job.terms;
    let live: Vec<usize> = job.settlement_slots().map(|(i, _)| i).collect();
    let mut late = Vec::new();
    let (mut to_creator, mut burned) = (0u64, 0u64);
    for (operator, &i) in parties.iter_mut().zip(&live) {
        let Some(deadline) = job.slot_deadline(i)? else {
            continue;
        };
        if now <= deadline {
            continue;
        }
        let bond = job.assignments[i].bond;
        let split = split_slash(
            bond,
            t.slash_no_show_bps,
            t.creator_compensation_bps,
            0,
            false,
        )?;
        operator.slash(bond, split.total)?;
        to_creator = add(to_creator, split.creator)?;
        burned = add(burned, split.burn)?;
        late.push(Slash {
            operator: job.assignments[i].operator,
            slot: i as u8,
            reason: SlashReason::NoShow,
            bond,
            slashed: split.total,
            to_creator: split.creator,
            to_honest: 0,
            burned: split.burn,
        });
    }
    Ok((late, to_creator, burned))
}

/// Moves `amount` out of the stake vault (signed by the market PDA).
pub fn pay_from_vault<'info>(
    tokens: &Tokens<'info>,
    market: &Account<'info, Market>,
    vault: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    let bump = [market.bump];
    let seeds: &[&[u8]] = &[
        MARKET_SEED,
        market.mint.as_ref(),
        market.founder.as_ref(),
        &bump,
    ];
    tokens.transfer(vault, to, market.as_ref(), &[seeds], amount)
}

/// Burns `amount` from the stake vault (signed by the market PDA).
pub fn burn_from_vault<'info>(
    tokens: &Tokens<'info>,
    market: &Account<'info, Market>,
    vault: &AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    let bump = [market.bump];
    let seeds: &[&[u8]] = &[
        MARKET_SEED,
        market.mint.as_ref(),
        market.founder.as_ref(),
        &bump,
    ];
    tokens.burn(vault, market.as_ref(), &[seeds], amount)
}

/// Loads the operator accounts of a settlement from the remaining accounts, one per key of
/// `expected`, in order. Each must be the expected (writable, program-owned) operator account.
/// Settlements credit operators inside the stake vault (`Operator::credit`), so they take no
/// token account of an operator's: nothing an operator controls can block a settlement.
pub fn load_parties<'info>(
    remaining: &'info [AccountInfo<'info>],
    expected: &[Pubkey],
) -> Result<Vec<Account<'info, Operator>>> {
    require!(
        remaining.len() == expected.len(),
        TesseraError::WrongOperatorAccounts
    );
    expected
        .iter()
        .zip(remaining)
        .map(|(key, info)| {
            require!(
                info.key == key && info.is_writable,
                TesseraError::WrongOperatorAccounts
            );
            Account::<Operator>::try_from(info)
        })
        .collect()
}

/// Writes settled operator accounts back.
pub fn save_parties(parties: &[Account<'_, Operator>]) -> Result<()> {
    parties.iter().try_for_each(|p| p.exit(&crate::ID))
}
