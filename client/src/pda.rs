//! Program-derived addresses. The seeds are the program's own constants.
use anchor_lang::prelude::Pubkey;
use tessera::constants::{
    ESCROW_SEED, FEE_VAULT_SEED, JOB_SEED, MARKET_SEED, OPERATOR_SEED, STAKE_VAULT_SEED,
};
use tessera::ID;

pub fn market(mint: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[MARKET_SEED, mint.as_ref()], &ID)
}

pub fn stake_vault(market: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[STAKE_VAULT_SEED, market.as_ref()], &ID)
}

/// The fee vault `["fee_vault", market]`, where protocol fees accrue.
pub fn fee_vault(market: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[FEE_VAULT_SEED, market.as_ref()], &ID)
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

/// The first job id from `start` on whose job and escrow PDAs both have bump 255.
///
/// `create_job` searches both canonical bumps on chain at 1 500 CU per bump tried (two tries per
/// PDA on average, sometimes many more); at such an id each search ends at its first try, so the
/// instruction costs its minimum. One id in four qualifies, so this looks at four on average.
pub fn cheap_job_id(market: &Pubkey, creator: &Pubkey, start: u64) -> u64 {
    (start..=u64::MAX)
        .find(|&id| {
            let (job, bump) = job(market, creator, id);
            bump == u8::MAX && escrow(&job).1 == u8::MAX
        })
        .unwrap_or(start)
}

/// The authority `emit_cpi!` signs events with.
pub fn event_authority() -> Pubkey {
    Pubkey::find_program_address(&[b"__event_authority"], &ID).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both bumps are found at the first try.
    fn first_try(market: &Pubkey, creator: &Pubkey, id: u64) -> bool {
        let (address, bump) = job(market, creator, id);
        bump == 255 && escrow(&address).1 == 255
    }

    #[test]
    fn cheap_job_ids_are_the_first_from_start_with_first_try_bumps() {
        let (market, creator) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut start = 1_700_000_000_000;
        for _ in 0..20 {
            let id = cheap_job_id(&market, &creator, start);
            assert!(first_try(&market, &creator, id));
            assert!((start..id).all(|skipped| !first_try(&market, &creator, skipped)));
            start = id + 1;
        }
    }
}
