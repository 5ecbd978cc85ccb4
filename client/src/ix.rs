//! Instruction builders: every account meta comes from the program's own generated account
//! structs (`tessera::accounts`), every payload from `tessera::instruction`, so a builder
//! cannot disagree with the program about order, signer or writable flags.
use crate::pda::Pdas;
use anchor_lang::prelude::{AccountMeta, Pubkey, SlotHashes};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::sysvar::SysvarId;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use tessera::state::{ClaimTerms, Job, MarketParams};
use tessera::{accounts, instruction};

fn with_remaining(mut ix: Instruction, remaining: Vec<AccountMeta>) -> Instruction {
    ix.accounts.extend(remaining);
    ix
}

/// What every instruction of one market needs to know. A market is named by its address; every
/// builder sends to `program_id` and derives every PDA under it.
#[derive(Clone, Copy, Debug)]
pub struct MarketKeys {
    /// The program the market lives in (`tessera::ID` unless built for another deployment).
    pub program_id: Pubkey,
    /// The authority `emit_cpi!` signs events with, under `program_id`.
    pub event_authority: Pubkey,
    pub mint: Pubkey,
    /// The admin that created the market: `market` is `["market", mint, founder]`.
    pub founder: Pubkey,
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
    /// The market `founder` creates (or created) for `mint`, under the local program id.
    pub fn new(mint: Pubkey, founder: Pubkey, token_program: Pubkey, treasury: Pubkey) -> Self {
        Self::for_program(tessera::ID, mint, founder, token_program, treasury)
    }

    /// The market `founder` creates (or created) for `mint` in the program at `program_id`.
    pub fn for_program(
        program_id: Pubkey,
        mint: Pubkey,
        founder: Pubkey,
        token_program: Pubkey,
        treasury: Pubkey,
    ) -> Self {
        let pdas = Pdas::new(program_id);
        let market = pdas.market(&mint, &founder).0;
        Self {
            program_id,
            event_authority: pdas.event_authority(),
            mint,
            founder,
            token_program,
            market,
            stake_vault: pdas.stake_vault(&market).0,
            fee_vault: pdas.fee_vault(&market).0,
            treasury,
        }
    }

    /// The PDAs of this market's program.
    pub fn pdas(&self) -> Pdas {
        Pdas::new(self.program_id)
    }

    pub fn operator(&self, authority: &Pubkey) -> Pubkey {
        self.pdas().operator(&self.market, authority).0
    }

    /// The track record of `authority`'s operator key in this market.
    pub fn record(&self, authority: &Pubkey) -> Pubkey {
        self.pdas().record(&self.market, authority).0
    }

    pub fn job(&self, creator: &Pubkey, job_id: u64) -> Pubkey {
        self.pdas().job(&self.market, creator, job_id).0
    }

    /// A job's escrow token account.
    pub fn escrow(&self, job: &Pubkey) -> Pubkey {
        self.pdas().escrow(job).0
    }

    fn build(&self, accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
        Instruction {
            program_id: self.program_id,
            accounts: accounts.to_account_metas(None),
            data: data.data(),
        }
    }

    pub fn init_market(&self, admin: Pubkey, arbiter: Pubkey, params: MarketParams) -> Instruction {
        self.build(
            accounts::InitMarket {
                admin,
                market: self.market,
                mint: self.mint,
                treasury: self.treasury,
                stake_vault: self.stake_vault,
                fee_vault: self.fee_vault,
                token_program: self.token_program,
                system_program: system_program::ID,
                event_authority: self.event_authority,
                program: self.program_id,
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
        self.build(
            accounts::UpdateMarket {
                admin,
                market: self.market,
                treasury,
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::UpdateMarket { args },
        )
    }

    pub fn set_paused(&self, admin: Pubkey, paused: bool) -> Instruction {
        self.build(
            accounts::SetPaused {
                admin,
                market: self.market,
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::SetPaused { paused },
        )
    }

    pub fn register_operator(&self, authority: Pubkey, capabilities: u32) -> Instruction {
        self.build(
            accounts::RegisterOperator {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                record: self.record(&authority),
                system_program: system_program::ID,
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::RegisterOperator { capabilities },
        )
    }

    pub fn deposit_stake(&self, authority: Pubkey, from: Pubkey, amount: u64) -> Instruction {
        self.build(
            accounts::DepositStake {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                stake_vault: self.stake_vault,
                from,
                mint: self.mint,
                token_program: self.token_program,
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::DepositStake { amount },
        )
    }

    pub fn request_unstake(&self, authority: Pubkey, amount: u64) -> Instruction {
        self.build(
            accounts::RequestUnstake {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::RequestUnstake { amount },
        )
    }

    pub fn withdraw_stake(&self, authority: Pubkey, to: Pubkey) -> Instruction {
        self.build(
            accounts::WithdrawStake {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                record: self.record(&authority),
                stake_vault: self.stake_vault,
                to,
                mint: self.mint,
                token_program: self.token_program,
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::WithdrawStake {},
        )
    }

    pub fn update_operator(&self, authority: Pubkey, capabilities: u32) -> Instruction {
        self.build(
            accounts::UpdateOperator {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::UpdateOperator { capabilities },
        )
    }

    pub fn exit_operator(&self, authority: Pubkey) -> Instruction {
        self.build(
            accounts::ExitOperator {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                event_authority: self.event_authority,
                program: self.program_id,
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
        self.build(
            accounts::CreateJob {
                creator,
                market: self.market,
                job,
                escrow: self.escrow(&job),
                creator_token,
                mint: self.mint,
                token_program: self.token_program,
                system_program: system_program::ID,
                event_authority: self.event_authority,
                program: self.program_id,
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
            escrow: self.escrow(&job),
            mint: self.mint,
            creator,
            creator_token: Some(creator_token),
            token_program: self.token_program,
        }
    }

    /// Sends every fee accrued in the fee vault to the treasury (permissionless).
    pub fn collect_fees(&self) -> Instruction {
        self.build(
            accounts::CollectFees {
                market: self.market,
                fee_vault: self.fee_vault,
                treasury: self.treasury,
                mint: self.mint,
                token_program: self.token_program,
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::CollectFees {},
        )
    }

    pub fn cancel_job(&self, job: Pubkey, creator: Pubkey, creator_token: Pubkey) -> Instruction {
        self.build(
            accounts::CancelJob {
                signer: creator,
                settlement: self.settlement(job, creator, creator_token),
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::CancelJob {},
        )
    }

    pub fn close_job(&self, creator: Pubkey, job: Pubkey) -> Instruction {
        self.build(
            accounts::CloseJob {
                creator,
                job,
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::CloseJob {},
        )
    }

    /// Claims a slot of `job`, which the operator vetted as `vetted` (read it from the job
    /// with `Job::claim_terms`): the claim fails with `TermsChanged` if the job is no longer
    /// the one vetted.
    pub fn claim_job(&self, authority: Pubkey, job: Pubkey, vetted: ClaimTerms) -> Instruction {
        self.build(
            accounts::ClaimJob {
                authority,
                market: self.market,
                operator: self.operator(&authority),
                job,
                event_authority: self.event_authority,
                program: self.program_id,
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
            event_authority: self.event_authority,
            program: self.program_id,
        }
    }

    pub fn submit_result(
        &self,
        authority: Pubkey,
        job: Pubkey,
        root: [u8; 32],
        output_uri: String,
    ) -> Instruction {
        self.build(
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
        self.build(
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
        self.build(
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
            self.build(
                accounts::FinalizeJob {
                    settlement: self.settlement(job, creator, creator_token),
                    fee_vault: self.fee_vault,
                    stake_vault: self.stake_vault,
                    event_authority: self.event_authority,
                    program: self.program_id,
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
            self.build(
                accounts::TimeoutJob {
                    settlement: self.settlement(job, creator, creator_token),
                    stake_vault: self.stake_vault,
                    event_authority: self.event_authority,
                    program: self.program_id,
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
            self.build(
                accounts::ExpireJob {
                    settlement: self.settlement(job, creator, creator_token),
                    stake_vault: self.stake_vault,
                    event_authority: self.event_authority,
                    program: self.program_id,
                },
                instruction::ExpireJob {},
            ),
            party_metas(parties),
        )
    }

    fn challenge(&self, authority: Pubkey, job: Pubkey) -> accounts::ChallengeResult {
        accounts::ChallengeResult {
            authority,
            market: self.market,
            challenger: self.operator(&authority),
            job,
            event_authority: self.event_authority,
            program: self.program_id,
        }
    }

    /// Commits to a challenge of `job` (see [`challenge_commitment`]), bonding free stake.
    pub fn commit_challenge(
        &self,
        authority: Pubkey,
        job: Pubkey,
        commitment: [u8; 32],
    ) -> Instruction {
        self.build(
            self.challenge(authority, job),
            instruction::CommitChallenge { commitment },
        )
    }

    /// Reveals the challenge committed with `salt`.
    pub fn reveal_challenge(
        &self,
        authority: Pubkey,
        job: Pubkey,
        args: tessera::instructions::ChallengeArgs,
        salt: [u8; 32],
    ) -> Instruction {
        self.build(
            self.challenge(authority, job),
            instruction::RevealChallenge { args, salt },
        )
    }

    /// Settles a job whose dispute deadline passed without a ruling (permissionless);
    /// `parties`: see [`parties`].
    pub fn expire_dispute(
        &self,
        job: Pubkey,
        creator: Pubkey,
        creator_token: Pubkey,
        parties: &[Pubkey],
    ) -> Instruction {
        with_remaining(
            self.build(
                accounts::ExpireDispute {
                    settlement: self.settlement(job, creator, creator_token),
                    fee_vault: self.fee_vault,
                    stake_vault: self.stake_vault,
                    event_authority: self.event_authority,
                    program: self.program_id,
                },
                instruction::ExpireDispute {},
            ),
            party_metas(parties),
        )
    }

    /// Draws whether `job` is audited, and which chunks (permissionless, once a slot has
    /// passed since its results came in).
    pub fn draw_audit(&self, job: Pubkey) -> Instruction {
        self.build(
            accounts::DrawAudit {
                job,
                slot_hashes: <SlotHashes as SysvarId>::id(),
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::DrawAudit {},
        )
    }

    /// `authority`'s operator takes `job`'s audit, committed to
    /// `tessera_merkle::audit_commitment` of its recomputed leaves: of the drawn chunks
    /// (`chunks` empty), or of the `chunks` it names on a job not drawn (a volunteer audit).
    pub fn commit_audit(
        &self,
        authority: Pubkey,
        job: Pubkey,
        commitment: [u8; 32],
        chunks: Vec<u32>,
    ) -> Instruction {
        self.build(
            self.challenge(authority, job),
            instruction::CommitAudit { commitment, chunks },
        )
    }

    /// Posts the operators' leaf of the audit's next drawn chunk with its Merkle proof
    /// (permissionless).
    pub fn post_audit_leaf(
        &self,
        job: Pubkey,
        leaf: [u8; 32],
        proof: Vec<[u8; 32]>,
    ) -> Instruction {
        self.build(
            accounts::PostAuditLeaf {
                job,
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::PostAuditLeaf {
                args: tessera::instructions::AuditLeaf { leaf, proof },
            },
        )
    }

    /// Opens `authority`'s audit: the leaves it committed to, in draw order.
    pub fn reveal_audit(
        &self,
        authority: Pubkey,
        job: Pubkey,
        leaves: Vec<[u8; 32]>,
        salt: [u8; 32],
    ) -> Instruction {
        self.build(
            self.challenge(authority, job),
            instruction::RevealAudit { leaves, salt },
        )
    }

    /// Convicts the operators of a job whose audited leaves were withheld (permissionless);
    /// `parties`: see [`parties`].
    pub fn convict_withheld(
        &self,
        job: Pubkey,
        creator: Pubkey,
        creator_token: Pubkey,
        parties: &[Pubkey],
    ) -> Instruction {
        with_remaining(
            self.build(
                accounts::ConvictWithheld {
                    settlement: self.settlement(job, creator, creator_token),
                    fee_vault: self.fee_vault,
                    stake_vault: self.stake_vault,
                    event_authority: self.event_authority,
                    program: self.program_id,
                },
                instruction::ConvictWithheld {},
            ),
            party_metas(parties),
        )
    }

    /// Takes `buffer`, just created by the System Program at its full size and owned by the
    /// program ([`create_buffer_account`]); `authority` may then write and close it.
    pub fn init_buffer(&self, authority: Pubkey, buffer: Pubkey) -> Instruction {
        self.build(
            accounts::InitBuffer { authority, buffer },
            instruction::InitBuffer {},
        )
    }

    /// Writes `bytes` at `offset` of `buffer`'s data.
    pub fn write_buffer(
        &self,
        authority: Pubkey,
        buffer: Pubkey,
        offset: u32,
        bytes: Vec<u8>,
    ) -> Instruction {
        self.build(
            accounts::WriteBuffer { authority, buffer },
            instruction::WriteBuffer { offset, bytes },
        )
    }

    /// Closes `buffer`, its lamports back to `authority`.
    pub fn close_buffer(&self, authority: Pubkey, buffer: Pubkey) -> Instruction {
        self.build(
            accounts::CloseBuffer { authority, buffer },
            instruction::CloseBuffer {},
        )
    }

    /// The referee's fraud proof on a `gemm-i8` job, from the rows staged in `buffer`.
    /// `parties`: see [`parties`]. Permissionless: no signer but the fee payer.
    pub fn prove_fraud(
        &self,
        job: Pubkey,
        creator: Pubkey,
        creator_token: Pubkey,
        buffer: Pubkey,
        parties: &[Pubkey],
        args: tessera::instructions::FraudArgs,
    ) -> Instruction {
        with_remaining(
            self.build(
                accounts::ProveFraud {
                    settlement: self.settlement(job, creator, creator_token),
                    fee_vault: self.fee_vault,
                    stake_vault: self.stake_vault,
                    buffer,
                    event_authority: self.event_authority,
                    program: self.program_id,
                },
                instruction::ProveFraud { args },
            ),
            party_metas(parties),
        )
    }

    /// Opens a referee game: `authority` (the operator authority of `args.accuser`, a slot or a
    /// challenger) accuses slot `args.defender_slot` (held by `defender`, an operator account).
    pub fn open_game(
        &self,
        authority: Pubkey,
        job: Pubkey,
        defender: Pubkey,
        args: tessera::instructions::OpenGameArgs,
    ) -> Instruction {
        let game = self
            .pdas()
            .game(&job, args.defender_slot, args.accuser.id())
            .0;
        self.build(
            accounts::OpenGame {
                authority,
                accuser_operator: self.operator(&authority),
                defender_operator: defender,
                job,
                game,
                system_program: system_program::ID,
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::OpenGame { args },
        )
    }

    /// The defender's row chain (`defender`: its operator authority).
    pub fn post_chain(
        &self,
        defender: Pubkey,
        game: Pubkey,
        job: Pubkey,
        chain: Vec<[u8; 32]>,
    ) -> Instruction {
        self.build(
            accounts::PostChain {
                defender,
                game,
                job,
            },
            instruction::PostChain { chain },
        )
    }

    /// The accuser's pick of the wrong layer (`accuser`: its operator authority).
    pub fn pick_layer(&self, accuser: Pubkey, game: Pubkey, job: Pubkey, layer: u8) -> Instruction {
        self.build(
            accounts::PickLayer { accuser, game, job },
            instruction::PickLayer { layer },
        )
    }

    /// The defender's rows, staged in `buffer` (which it holds; the game then does).
    pub fn reveal_rows(
        &self,
        defender: Pubkey,
        game: Pubkey,
        job: Pubkey,
        buffer: Pubkey,
        leaf_proof_len: u8,
    ) -> Instruction {
        self.build(
            accounts::RevealRows {
                defender,
                game,
                job,
                buffer,
            },
            instruction::RevealRows { leaf_proof_len },
        )
    }

    fn end_game_accounts(&self, game: &GameKeys) -> accounts::EndGame {
        accounts::EndGame {
            job: game.job,
            game: game.game,
            accuser: game.accuser,
            defender: game.defender,
            rows_buffer: game.rows_buffer,
        }
    }

    /// The proof that ends `game` with its defender convicted: the rest of it staged in
    /// `proof_buffer`. Permissionless.
    pub fn prove_step(
        &self,
        game: &GameKeys,
        proof_buffer: Pubkey,
        args: tessera::instructions::StepArgs,
    ) -> Instruction {
        self.build(
            accounts::ProveStep {
                end: self.end_game_accounts(game),
                proof_buffer,
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::ProveStep { args },
        )
    }

    /// Ends `game` once the party to move is late, or once it no longer matters.
    /// Permissionless.
    pub fn end_game(&self, game: &GameKeys) -> Instruction {
        self.build(
            accounts::EndGameIx {
                end: self.end_game_accounts(game),
                event_authority: self.event_authority,
                program: self.program_id,
            },
            instruction::EndGame {},
        )
    }

    /// Settles a job the referee's convictions leave in agreement. `parties`: see
    /// [`parties`]. Permissionless.
    pub fn settle_referee(
        &self,
        job: Pubkey,
        creator: Pubkey,
        creator_token: Pubkey,
        parties: &[Pubkey],
    ) -> Instruction {
        with_remaining(
            self.build(
                accounts::SettleReferee {
                    settlement: self.settlement(job, creator, creator_token),
                    fee_vault: self.fee_vault,
                    stake_vault: self.stake_vault,
                    event_authority: self.event_authority,
                    program: self.program_id,
                },
                instruction::SettleReferee {},
            ),
            party_metas(parties),
        )
    }

    /// `parties`: see [`parties`].
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
            self.build(
                accounts::ResolveDispute {
                    arbiter,
                    settlement: self.settlement(job, creator, creator_token),
                    fee_vault: self.fee_vault,
                    stake_vault: self.stake_vault,
                    event_authority: self.event_authority,
                    program: self.program_id,
                },
                instruction::ResolveDispute { honest_mask },
            ),
            party_metas(parties),
        )
    }
}

/// The accounts a game's end names, read from its account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GameKeys {
    pub game: Pubkey,
    pub job: Pubkey,
    pub accuser: Pubkey,
    pub defender: Pubkey,
    /// The defender's revealed rows, once it revealed them.
    pub rows_buffer: Option<Pubkey>,
}

impl GameKeys {
    pub fn of(key: Pubkey, game: &tessera::state::Game) -> Self {
        Self {
            game: key,
            job: game.job,
            accuser: game.accuser,
            defender: game.defender,
            rows_buffer: (game.rows_buffer != Pubkey::default()).then_some(game.rows_buffer),
        }
    }
}

/// `ix` (a settling instruction built with `creator_token`) without the creator's token
/// account: what a third party sends when the settlement pays the creator nothing and that
/// account is gone (Anchor reads the program id in an optional account's place as "none": the
/// id `ix` is sent to).
pub fn without_creator_token(mut ix: Instruction, creator_token: &Pubkey) -> Instruction {
    let program_id = ix.program_id;
    for meta in ix
        .accounts
        .iter_mut()
        .filter(|m| m.pubkey == *creator_token)
    {
        *meta = AccountMeta::new_readonly(program_id, false);
    }
    ix
}

fn party_metas(parties: &[Pubkey]) -> Vec<AccountMeta> {
    parties
        .iter()
        .map(|op| AccountMeta::new(*op, false))
        .collect()
}

/// Creates `buffer` (a new keypair's address) with room for `data_len` staged bytes, owned by
/// `program_id`, funded by `payer` with `lamports` (its rent exemption: `Rent::minimum_balance`
/// of [`buffer_space`]). Sent with [`MarketKeys::init_buffer`] in the same transaction, signed
/// by `buffer` too.
pub fn create_buffer_account(
    program_id: &Pubkey,
    payer: &Pubkey,
    buffer: &Pubkey,
    data_len: usize,
    lamports: u64,
) -> Instruction {
    solana_system_interface::instruction::create_account(
        payer,
        buffer,
        lamports,
        buffer_space(data_len) as u64,
        program_id,
    )
}

/// Bytes a `write_buffer` transaction carries (one signer, the authority, paying): the most
/// that keeps it within Solana's 1 232-byte transaction limit with room for a compute-budget
/// instruction.
pub const BUFFER_WRITE_BYTES: usize = 960;

/// Account size of a buffer of `data_len` staged bytes.
pub fn buffer_space(data_len: usize) -> usize {
    tessera::state::BUFFER_DATA_OFFSET + data_len
}

/// The operator accounts a settling instruction takes for `job`, in order: live slots, then
/// the challengers in commitment order (`Job::party_keys`).
pub fn parties(job: &Job) -> Vec<Pubkey> {
    job.party_keys()
}

/// What `authority`'s operator commits to for challenge `args` with `salt` (the program's own
/// hashing, `Challenge::commitment_of`).
pub fn challenge_commitment(
    market: &MarketKeys,
    authority: &Pubkey,
    args: &tessera::instructions::ChallengeArgs,
    salt: &[u8; 32],
) -> [u8; 32] {
    tessera::state::Challenge::commitment_of(
        args.chunk,
        &args.hash,
        &args.operator_leaf,
        &market.operator(authority),
        salt,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(program_id: Pubkey) -> MarketKeys {
        MarketKeys::for_program(
            program_id,
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            anchor_spl::token::ID,
            Pubkey::new_unique(),
        )
    }

    #[test]
    fn builders_send_to_the_markets_program_and_derive_its_pdas_there() {
        let program_id = Pubkey::new_unique();
        let k = keys(program_id);
        let pdas = Pdas::new(program_id);
        assert_eq!(k.market, pdas.market(&k.mint, &k.founder).0);
        assert_ne!(k.market, crate::pda::market(&k.mint, &k.founder).0);
        assert_eq!(k.stake_vault, pdas.stake_vault(&k.market).0);
        assert_eq!(k.fee_vault, pdas.fee_vault(&k.market).0);
        assert_eq!(k.event_authority, pdas.event_authority());
        let (creator, operator) = (Pubkey::new_unique(), Pubkey::new_unique());
        let job = k.job(&creator, 7);
        assert_eq!(job, pdas.job(&k.market, &creator, 7).0);
        let params = crate::presets::local(6);
        let ixs = [
            k.init_market(k.founder, operator, params),
            k.register_operator(operator, 1),
            k.claim_job(
                operator,
                job,
                ClaimTerms {
                    input_hash: [0; 32],
                    reward_per_replica: 1,
                    exec_timeout: 60,
                    chunk_count: 1,
                    max_bond: 1,
                },
            ),
            k.finalize_job(job, creator, Pubkey::new_unique(), &[k.operator(&operator)]),
            k.collect_fees(),
        ];
        for ix in &ixs {
            assert_eq!(ix.program_id, program_id);
            let keys: Vec<Pubkey> = ix.accounts.iter().map(|m| m.pubkey).collect();
            assert!(
                keys.contains(&program_id),
                "the program account of event_cpi"
            );
            assert!(keys.contains(&pdas.event_authority()));
            assert!(!keys.contains(&tessera::ID));
            assert!(!keys.contains(&crate::pda::event_authority()));
        }
        assert!(ixs[1]
            .accounts
            .iter()
            .any(|m| m.pubkey == pdas.operator(&k.market, &operator).0));
    }

    #[test]
    fn without_creator_token_puts_the_instructions_own_program_id_in_its_place() {
        let program_id = Pubkey::new_unique();
        let k = keys(program_id);
        let (job, creator, token) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let ix = without_creator_token(k.expire_job(job, creator, token, &[]), &token);
        assert!(!ix.accounts.iter().any(|m| m.pubkey == token));
        let none = ix
            .accounts
            .iter()
            .filter(|m| m.pubkey == program_id)
            .count();
        assert_eq!(
            none, 2,
            "the creator's token account and the event_cpi program account"
        );
    }

    #[test]
    fn the_local_market_keys_use_the_local_program_id() {
        let k = MarketKeys::new(
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            anchor_spl::token::ID,
            Pubkey::new_unique(),
        );
        assert_eq!(k.program_id, tessera::ID);
        assert_eq!(k.market, crate::pda::market(&k.mint, &k.founder).0);
        assert_eq!(k.collect_fees().program_id, tessera::ID);
    }
}
