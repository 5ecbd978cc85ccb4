//! Instruction builders: every account meta comes from the program's own generated account
//! structs (`tessera::accounts`), every payload from `tessera::instruction`, so a builder
//! cannot disagree with the program about order, signer or writable flags.
use crate::pda;
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use tessera::state::{ClaimTerms, Job, MarketParams};
use tessera::{accounts, instruction, ID};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

fn with_remaining(mut ix: Instruction, remaining: Vec<AccountMeta>) -> Instruction {
    ix.accounts.extend(remaining);
    ix
}

/// What every instruction of one market needs to know.
#[derive(Clone, Copy, Debug)]
pub struct MarketKeys {
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub market: Pubkey,
    pub stake_vault: Pubkey,
    /// Where protocol fees accrue until `collect_fees` sends them to the treasury.
    pub fee_vault: Pubkey,
    pub treasury: Pubkey,
}

/// The builders of the permissionless settlements (`finalize_job`, `timeout_job`,
/// `expire_job`): the same accounts (job, creator, creator's token account, live operators).
pub type CrankBuilder = fn(&MarketKeys, Pubkey, Pubkey, Pubkey, &[Pubkey]) -> Instruction;

impl MarketKeys {
    pub fn new(mint: Pubkey, token_program: Pubkey, treasury: Pubkey) -> Self {
        let market = pda::market(&mint).0;
        Self {
            mint,
            token_program,
            market,
            stake_vault: pda::stake_vault(&market).0,
            fee_vault: pda::fee_vault(&market).0,
            treasury,
        }
    }

    pub fn operator(&self, authority: &Pubkey) -> Pubkey {
        pda::operator(&self.market, authority).0
    }

    pub fn job(&self, creator: &Pubkey, job_id: u64) -> Pubkey {
        pda::job(&self.market, creator, job_id).0
    }

    pub fn init_market(&self, admin: Pubkey, arbiter: Pubkey, params: MarketParams) -> Instruction {
        build(
            accounts::InitMarket {
                admin,
                market: self.market,
                mint: self.mint,
                treasury: self.treasury,
                stake_vault: self.stake_vault,
                fee_vault: self.fee_vault,
                token_program: self.token_program,
                system_program: system_program::ID,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::InitMarket {
                args: tessera::instructions::InitMarketArgs { arbiter, params },
            },
        )
    }

    pub fn update_market(
        &self,
        admin: Pubkey,
        args: tessera::instructions::UpdateMarketArgs,
        treasury: Pubkey,
    ) -> Instruction {
        build(
            accounts::UpdateMarket {
                admin,
                market: self.market,
                treasury,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::UpdateMarket { args },
        )
    }

    pub fn set_paused(&self, admin: Pubkey, paused: bool) -> Instruction {
        build(
            accounts::SetPaused {
                admin,
                market: self.market,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::SetPaused { paused },
        )
    }

    pub fn register_operator(&self, authority: Pubkey, capabilities: u32) -> Instruction {
        build(
            accounts::RegisterOperator {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                system_program: system_program::ID,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::RegisterOperator { capabilities },
        )
    }

    pub fn deposit_stake(&self, authority: Pubkey, from: Pubkey, amount: u64) -> Instruction {
        build(
            accounts::DepositStake {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                stake_vault: self.stake_vault,
                from,
                mint: self.mint,
                token_program: self.token_program,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::DepositStake { amount },
        )
    }

    pub fn request_unstake(&self, authority: Pubkey, amount: u64) -> Instruction {
        build(
            accounts::RequestUnstake {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::RequestUnstake { amount },
        )
    }

    pub fn withdraw_stake(&self, authority: Pubkey, to: Pubkey) -> Instruction {
        build(
            accounts::WithdrawStake {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                stake_vault: self.stake_vault,
                to,
                mint: self.mint,
                token_program: self.token_program,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::WithdrawStake {},
        )
    }

    pub fn update_operator(&self, authority: Pubkey, capabilities: u32) -> Instruction {
        build(
            accounts::UpdateOperator {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::UpdateOperator { capabilities },
        )
    }

    pub fn exit_operator(&self, authority: Pubkey) -> Instruction {
        build(
            accounts::ExitOperator {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::ExitOperator {},
        )
    }

    pub fn create_job(
        &self,
        creator: Pubkey,
        creator_token: Pubkey,
        args: tessera::instructions::CreateJobArgs,
    ) -> Instruction {
        let job = self.job(&creator, args.job_id);
        build(
            accounts::CreateJob {
                creator,
                market: self.market,
                job,
                escrow: pda::escrow(&job).0,
                creator_token,
                mint: self.mint,
                token_program: self.token_program,
                system_program: system_program::ID,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::CreateJob { args },
        )
    }

    /// The accounts of a job's money, shared by every settling instruction. The creator's
    /// token account is always passed: the program needs it only when tokens go to the creator,
    /// and [`without_creator_token`] drops it for a settlement that sends it none.
    pub fn settlement(
        &self,
        job: Pubkey,
        creator: Pubkey,
        creator_token: Pubkey,
    ) -> accounts::JobSettlement {
        accounts::JobSettlement {
            job,
            market: self.market,
            escrow: pda::escrow(&job).0,
            mint: self.mint,
            creator,
            creator_token: Some(creator_token),
            token_program: self.token_program,
        }
    }

    /// Sends every fee accrued in the fee vault to the treasury (permissionless).
    pub fn collect_fees(&self) -> Instruction {
        build(
            accounts::CollectFees {
                market: self.market,
                fee_vault: self.fee_vault,
                treasury: self.treasury,
                mint: self.mint,
                token_program: self.token_program,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::CollectFees {},
        )
    }

    pub fn cancel_job(&self, job: Pubkey, creator: Pubkey, creator_token: Pubkey) -> Instruction {
        build(
            accounts::CancelJob {
                signer: creator,
                settlement: self.settlement(job, creator, creator_token),
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::CancelJob {},
        )
    }

    pub fn close_job(&self, creator: Pubkey, job: Pubkey) -> Instruction {
        build(
            accounts::CloseJob {
                creator,
                job,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::CloseJob {},
        )
    }

    /// Claims a slot of `job`, which the operator vetted as `vetted` (read it from the job
    /// with `Job::claim_terms`): the claim fails with `TermsChanged` if the job is no longer
    /// the one vetted.
    pub fn claim_job(&self, authority: Pubkey, job: Pubkey, vetted: ClaimTerms) -> Instruction {
        build(
            accounts::ClaimJob {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                job,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::ClaimJob { vetted },
        )
    }

    fn deliver(&self, authority: Pubkey, job: Pubkey) -> accounts::DeliverResult {
        accounts::DeliverResult {
            authority,
            market: self.market,
            operator: self.operator(&authority),
            job,
            event_authority: pda::event_authority(),
            program: ID,
        }
    }

    pub fn submit_result(
        &self,
        authority: Pubkey,
        job: Pubkey,
        root: [u8; 32],
        output_uri: String,
    ) -> Instruction {
        build(
            self.deliver(authority, job),
            instruction::SubmitResult { root, output_uri },
        )
    }

    pub fn commit_result(
        &self,
        authority: Pubkey,
        job: Pubkey,
        commitment: [u8; 32],
    ) -> Instruction {
        build(
            self.deliver(authority, job),
            instruction::CommitResult { commitment },
        )
    }

    pub fn reveal_result(
        &self,
        authority: Pubkey,
        job: Pubkey,
        root: [u8; 32],
        salt: [u8; 32],
        output_uri: String,
    ) -> Instruction {
        build(
            self.deliver(authority, job),
            instruction::RevealResult {
                root,
                salt,
                output_uri,
            },
        )
    }

    /// Finalize a job; `parties` are the operator accounts of every live slot in order (see
    /// [`parties`]).
    pub fn finalize_job(
        &self,
        job: Pubkey,
        creator: Pubkey,
        creator_token: Pubkey,
        parties: &[Pubkey],
    ) -> Instruction {
        with_remaining(
            build(
                accounts::FinalizeJob {
                    settlement: self.settlement(job, creator, creator_token),
                    fee_vault: self.fee_vault,
                    stake_vault: self.stake_vault,
                    event_authority: pda::event_authority(),
                    program: ID,
                },
                instruction::FinalizeJob {},
            ),
            party_metas(parties),
        )
    }

    pub fn timeout_job(
        &self,
        job: Pubkey,
        creator: Pubkey,
        creator_token: Pubkey,
        parties: &[Pubkey],
    ) -> Instruction {
        with_remaining(
            build(
                accounts::TimeoutJob {
                    settlement: self.settlement(job, creator, creator_token),
                    stake_vault: self.stake_vault,
                    event_authority: pda::event_authority(),
                    program: ID,
                },
                instruction::TimeoutJob {},
            ),
            party_metas(parties),
        )
    }

    pub fn expire_job(
        &self,
        job: Pubkey,
        creator: Pubkey,
        creator_token: Pubkey,
        parties: &[Pubkey],
    ) -> Instruction {
        with_remaining(
            build(
                accounts::ExpireJob {
                    settlement: self.settlement(job, creator, creator_token),
                    stake_vault: self.stake_vault,
                    event_authority: pda::event_authority(),
                    program: ID,
                },
                instruction::ExpireJob {},
            ),
            party_metas(parties),
        )
    }

    pub fn challenge_result(
        &self,
        authority: Pubkey,
        job: Pubkey,
        args: tessera::instructions::ChallengeArgs,
    ) -> Instruction {
        build(
            accounts::ChallengeResult {
                authority,
                market: self.market,
                challenger: self.operator(&authority),
                job,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::ChallengeResult { args },
        )
    }

    /// Settles a job whose dispute deadline passed without a ruling (permissionless);
    /// `parties`: every live slot in order, then the challenger if any.
    pub fn expire_dispute(
        &self,
        job: Pubkey,
        creator: Pubkey,
        creator_token: Pubkey,
        parties: &[Pubkey],
    ) -> Instruction {
        with_remaining(
            build(
                accounts::ExpireDispute {
                    settlement: self.settlement(job, creator, creator_token),
                    fee_vault: self.fee_vault,
                    stake_vault: self.stake_vault,
                    event_authority: pda::event_authority(),
                    program: ID,
                },
                instruction::ExpireDispute {},
            ),
            party_metas(parties),
        )
    }

    /// `parties`: every live slot in order, then the challenger if any.
    pub fn resolve_dispute(
        &self,
        arbiter: Pubkey,
        job: Pubkey,
        creator: Pubkey,
        creator_token: Pubkey,
        parties: &[Pubkey],
        honest_mask: u8,
    ) -> Instruction {
        with_remaining(
            build(
                accounts::ResolveDispute {
                    arbiter,
                    settlement: self.settlement(job, creator, creator_token),
                    fee_vault: self.fee_vault,
                    stake_vault: self.stake_vault,
                    event_authority: pda::event_authority(),
                    program: ID,
                },
                instruction::ResolveDispute { honest_mask },
            ),
            party_metas(parties),
        )
    }
}

/// `ix` (a settling instruction built with `creator_token`) without the creator's token
/// account: what a third party sends when the settlement pays the creator nothing and that
/// account is gone (Anchor reads the program id in an optional account's place as "none").
pub fn without_creator_token(mut ix: Instruction, creator_token: &Pubkey) -> Instruction {
    for meta in ix
        .accounts
        .iter_mut()
        .filter(|m| m.pubkey == *creator_token)
    {
        *meta = AccountMeta::new_readonly(ID, false);
    }
    ix
}

fn party_metas(parties: &[Pubkey]) -> Vec<AccountMeta> {
    parties
        .iter()
        .map(|op| AccountMeta::new(*op, false))
        .collect()
}

/// The operator accounts a settling instruction takes for `job`, in order: live slots, then
/// the challenger (for `resolve_dispute`).
pub fn parties(job: &Job, with_challenger: bool) -> Vec<Pubkey> {
    let mut keys: Vec<Pubkey> = job.settlement_slots().map(|(_, a)| a.operator).collect();
    if with_challenger && job.has_challenge() {
        keys.push(job.challenge.challenger);
    }
    keys
}
