//! `getProgramAccounts` filters (and `programSubscribe` filters) that select the program's
//! accounts: the one place their offsets are written.
use anchor_lang::prelude::Pubkey;
use tessera::state::Job;

use crate::chain::AccountFilter;

/// Bytes before an account's fields: Anchor's discriminator.
const DISCRIMINATOR_LEN: usize = 8;

/// Offset of `Job::market` in a job account's data.
pub const JOB_MARKET_OFFSET: usize = DISCRIMINATOR_LEN + std::mem::offset_of!(Job, market);

/// Offset of `Job::creator` in a job account's data.
pub const JOB_CREATOR_OFFSET: usize = DISCRIMINATOR_LEN + std::mem::offset_of!(Job, creator);

/// The job accounts of `market`.
pub fn job_accounts(market: &Pubkey) -> Vec<AccountFilter> {
    vec![
        AccountFilter::discriminator::<Job>(),
        AccountFilter::Memcmp {
            offset: JOB_MARKET_OFFSET,
            bytes: market.to_bytes().to_vec(),
        },
    ]
}

/// The job accounts of `market` created by `creator`.
pub fn jobs_of_creator(market: &Pubkey, creator: &Pubkey) -> Vec<AccountFilter> {
    let mut filters = job_accounts(market);
    filters.push(AccountFilter::Memcmp {
        offset: JOB_CREATOR_OFFSET,
        bytes: creator.to_bytes().to_vec(),
    });
    filters
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Discriminator;
    use tessera::state::JOB_SPACE;

    fn job_data(market: Pubkey, creator: Pubkey) -> Vec<u8> {
        let mut data = Job::DISCRIMINATOR.to_vec();
        data.resize(JOB_SPACE, 0);
        data[JOB_MARKET_OFFSET..JOB_MARKET_OFFSET + 32].copy_from_slice(market.as_ref());
        data[JOB_CREATOR_OFFSET..JOB_CREATOR_OFFSET + 32].copy_from_slice(creator.as_ref());
        data
    }

    fn passes(filters: &[AccountFilter], data: &[u8]) -> bool {
        filters.iter().all(|f| f.matches(data))
    }

    #[test]
    fn offsets_are_where_the_decoder_reads_the_fields() {
        let (market, creator) = (Pubkey::new_unique(), Pubkey::new_unique());
        let job: Job = crate::decode(&job_data(market, creator)).unwrap();
        assert_eq!((job.market, job.creator), (market, creator));
        assert_eq!((JOB_MARKET_OFFSET, JOB_CREATOR_OFFSET), (8, 40));
    }

    #[test]
    fn a_market_s_jobs_and_a_creator_s_jobs() {
        let (market, creator) = (Pubkey::new_unique(), Pubkey::new_unique());
        let other = Pubkey::new_unique();
        let mine = job_data(market, creator);
        assert!(passes(&job_accounts(&market), &mine));
        assert!(passes(&jobs_of_creator(&market, &creator), &mine));
        assert!(!passes(&job_accounts(&other), &mine));
        assert!(!passes(&jobs_of_creator(&market, &other), &mine));
        assert!(!passes(&jobs_of_creator(&other, &creator), &mine));
        assert!(passes(&job_accounts(&market), &job_data(market, other)));
        // Another account type with the same bytes at the same offsets is not a job.
        let mut not_a_job = mine.clone();
        not_a_job[0] ^= 1;
        assert!(!passes(&job_accounts(&market), &not_a_job));
    }
}
