//! Program-derived addresses. The seeds are the program's own constants.
use anchor_lang::prelude::Pubkey;
use tessera::constants::{ESCROW_SEED, JOB_SEED, MARKET_SEED, OPERATOR_SEED, STAKE_VAULT_SEED};
use tessera::ID;

pub fn market(mint: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[MARKET_SEED, mint.as_ref()], &ID)
}

pub fn stake_vault(market: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[STAKE_VAULT_SEED, market.as_ref()], &ID)
}

pub fn operator(market: &Pubkey, authority: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[OPERATOR_SEED, market.as_ref(), authority.as_ref()], &ID)
}

pub fn job(market: &Pubkey, creator: &Pubkey, job_id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[
            JOB_SEED,
            market.as_ref(),
            creator.as_ref(),
            &job_id.to_le_bytes(),
        ],
        &ID,
    )
}

pub fn escrow(job: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[ESCROW_SEED, job.as_ref()], &ID)
}

/// The authority `emit_cpi!` signs events with.
pub fn event_authority() -> Pubkey {
    Pubkey::find_program_address(&[b"__event_authority"], &ID).0
}
