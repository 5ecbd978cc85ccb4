//! Program-derived addresses. The seeds are the program's own constants.
//!
//! [`Pdas`] derives them under any program id (a deployment's); the free functions derive them
//! under the local program id, `tessera::ID`.
use anchor_lang::prelude::Pubkey;
use tessera::constants::{
    ESCROW_SEED, FEE_VAULT_SEED, GAME_SEED, JOB_SEED, MARKET_SEED, OPERATOR_SEED, RECORD_SEED,
    STAKE_VAULT_SEED,
};

/// The addresses of one deployment of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pdas {
    pub program_id: Pubkey,
}

impl Default for Pdas {
    /// The program as built here (`tessera::ID`).
    fn default() -> Self {
        Self::new(tessera::ID)
    }
}

impl Pdas {
    pub const fn new(program_id: Pubkey) -> Self {
        Self { program_id }
    }

    fn find(&self, seeds: &[&[u8]]) -> (Pubkey, u8) {
        Pubkey::find_program_address(seeds, &self.program_id)
    }

    /// The market `founder` created for `mint`: `["market", mint, founder]`.
    pub fn market(&self, mint: &Pubkey, founder: &Pubkey) -> (Pubkey, u8) {
        self.find(&[MARKET_SEED, mint.as_ref(), founder.as_ref()])
    }

    pub fn stake_vault(&self, market: &Pubkey) -> (Pubkey, u8) {
        self.find(&[STAKE_VAULT_SEED, market.as_ref()])
    }

    /// The fee vault `["fee_vault", market]`, where protocol fees accrue.
    pub fn fee_vault(&self, market: &Pubkey) -> (Pubkey, u8) {
        self.find(&[FEE_VAULT_SEED, market.as_ref()])
    }

    pub fn operator(&self, market: &Pubkey, authority: &Pubkey) -> (Pubkey, u8) {
        self.find(&[OPERATOR_SEED, market.as_ref(), authority.as_ref()])
    }

    /// An operator key's track record `["record", market, authority]` (never closed).
    pub fn record(&self, market: &Pubkey, authority: &Pubkey) -> (Pubkey, u8) {
        self.find(&[RECORD_SEED, market.as_ref(), authority.as_ref()])
    }

    pub fn job(&self, market: &Pubkey, creator: &Pubkey, job_id: u64) -> (Pubkey, u8) {
        self.find(&[
            JOB_SEED,
            market.as_ref(),
            creator.as_ref(),
            &job_id.to_le_bytes(),
        ])
    }

    pub fn escrow(&self, job: &Pubkey) -> (Pubkey, u8) {
        self.find(&[ESCROW_SEED, job.as_ref()])
    }

    /// The referee game `["game", job, [defender slot], [accuser id]]` of `job`: the accuser
    /// a slot, or `MAX_REPLICAS` + a challenge's index (`tessera::instructions::Accuser::id`).
    pub fn game(&self, job: &Pubkey, defender: u8, accuser_id: u8) -> (Pubkey, u8) {
        self.find(&[GAME_SEED, job.as_ref(), &[defender], &[accuser_id]])
    }

    /// The first job id from `start` on whose job and escrow PDAs both have bump 255.
    ///
    /// `create_job` searches both canonical bumps on chain at 1 500 CU per bump tried (two
    /// tries per PDA on average, sometimes many more); at such an id each search ends at its
    /// first try, so the instruction costs its minimum. One id in four qualifies, so this looks
    /// at four on average.
    pub fn cheap_job_id(&self, market: &Pubkey, creator: &Pubkey, start: u64) -> u64 {
        (start..=u64::MAX)
            .find(|&id| {
                let (job, bump) = self.job(market, creator, id);
                bump == u8::MAX && self.escrow(&job).1 == u8::MAX
            })
            .unwrap_or(start)
    }

    /// The authority `emit_cpi!` signs events with.
    pub fn event_authority(&self) -> Pubkey {
        self.find(&[b"__event_authority"]).0
    }
}

/// The market `founder` created for `mint` (local program id).
pub fn market(mint: &Pubkey, founder: &Pubkey) -> (Pubkey, u8) {
    Pdas::default().market(mint, founder)
}

pub fn stake_vault(market: &Pubkey) -> (Pubkey, u8) {
    Pdas::default().stake_vault(market)
}

/// The fee vault `["fee_vault", market]`, where protocol fees accrue.
pub fn fee_vault(market: &Pubkey) -> (Pubkey, u8) {
    Pdas::default().fee_vault(market)
}

pub fn operator(market: &Pubkey, authority: &Pubkey) -> (Pubkey, u8) {
    Pdas::default().operator(market, authority)
}

pub fn record(market: &Pubkey, authority: &Pubkey) -> (Pubkey, u8) {
    Pdas::default().record(market, authority)
}

pub fn job(market: &Pubkey, creator: &Pubkey, job_id: u64) -> (Pubkey, u8) {
    Pdas::default().job(market, creator, job_id)
}

pub fn escrow(job: &Pubkey) -> (Pubkey, u8) {
    Pdas::default().escrow(job)
}

/// [`Pdas::cheap_job_id`] under the local program id.
pub fn cheap_job_id(market: &Pubkey, creator: &Pubkey, start: u64) -> u64 {
    Pdas::default().cheap_job_id(market, creator, start)
}

/// The authority `emit_cpi!` signs events with (local program id).
pub fn event_authority() -> Pubkey {
    Pdas::default().event_authority()
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

    #[test]
    fn a_mint_has_one_market_per_founder_and_addresses_follow_the_program_id() {
        let (mint, alice, bob) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        assert_ne!(market(&mint, &alice).0, market(&mint, &bob).0);
        assert_eq!(market(&mint, &alice), market(&mint, &alice));
        let other = Pdas::new(Pubkey::new_unique());
        assert_ne!(other.market(&mint, &alice).0, market(&mint, &alice).0);
        assert_ne!(other.event_authority(), event_authority());
        assert_eq!(Pdas::default(), Pdas::new(tessera::ID));
    }
}
