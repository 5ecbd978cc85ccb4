//! Watching the market's jobs: `programSubscribe` for changes as they happen, plus a periodic
//! `getProgramAccounts` resync that catches whatever a dropped websocket missed. A dropped or
//! refused websocket is reopened with backoff; nothing here ends the worker.
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use futures_util::StreamExt;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use tessera_client::chain::{to_rpc_filter, Chain};
use tessera_client::filters::job_accounts;
use tessera_client::state::Job;
use tokio::sync::mpsc;
use tokio::sync::watch;

/// A job seen on chain; `None` when the account is gone (closed).
pub type JobUpdate = (Pubkey, Option<Box<Job>>);

/// Decodes a job account's data; `None` for a closed account or foreign data.
pub fn decode_job(lamports: u64, data: &[u8]) -> Option<Box<Job>> {
    if lamports == 0 {
        return None;
    }
    tessera_client::decode::<Job>(data).ok().map(Box::new)
}

/// Every job of `market` (an account of the program at `program_id`), now.
pub async fn snapshot(
    chain: &dyn Chain,
    program_id: &Pubkey,
    market: &Pubkey,
) -> Option<Vec<(Pubkey, Box<Job>)>> {
    match chain
        .get_program_accounts(program_id, &job_accounts(market))
        .await
    {
        Ok(accounts) => Some(
            accounts
                .into_iter()
                .filter_map(|(k, a)| decode_job(a.lamports, &a.data).map(|j| (k, j)))
                .collect(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "resync failed; will try again");
            None
        }
    }
}

/// Applies a resync to the jobs known so far: every job of `snapshot` is taken as it is, and a
/// job that ended and is no longer on chain (its creator closed it; a missed websocket
/// notification) is forgotten. A job still under way is kept even when the snapshot lacks
/// it, since an account cannot be closed before its job ends: it is newer than the snapshot.
pub fn apply_snapshot(jobs: &mut HashMap<Pubkey, Box<Job>>, snapshot: Vec<(Pubkey, Box<Job>)>) {
    let present: HashSet<Pubkey> = snapshot.iter().map(|(k, _)| *k).collect();
    jobs.retain(|k, j| present.contains(k) || !j.state().has_ended());
    jobs.extend(snapshot);
}

/// Sends every change of a job of `market` (in the program at `program_id`) seen over the
/// websocket at `ws_url` to `out`, reconnecting with backoff when the socket drops, until
/// `stop` turns true.
pub async fn subscribe(
    ws_url: String,
    program_id: Pubkey,
    market: Pubkey,
    out: mpsc::Sender<JobUpdate>,
    mut stop: watch::Receiver<bool>,
    reconnects: impl Fn() + Send,
) {
    let mut backoff = Duration::from_millis(200);
    while !*stop.borrow() {
        let client = match PubsubClient::new(ws_url.as_str()).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, url = %ws_url, "websocket connect failed; retrying");
                reconnects();
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        let config = RpcProgramAccountsConfig {
            filters: Some(job_accounts(&market).iter().map(to_rpc_filter).collect()),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        match client.program_subscribe(&program_id, Some(config)).await {
            Ok((mut stream, unsubscribe)) => {
                tracing::debug!("subscribed to the market's jobs");
                backoff = Duration::from_millis(200);
                loop {
                    tokio::select! {
                        item = stream.next() => match item {
                            Some(resp) => {
                                let keyed = resp.value;
                                let Ok(key) = keyed.pubkey.parse::<Pubkey>() else { continue };
                                let job = keyed
                                    .account
                                    .to_account()
                                    .and_then(|a| decode_job(a.lamports, &a.data));
                                if out.send((key, job)).await.is_err() {
                                    return;
                                }
                            }
                            None => {
                                tracing::warn!("websocket closed; reconnecting");
                                reconnects();
                                break;
                            }
                        },
                        _ = stop.changed() => break,
                    }
                }
                unsubscribe().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "programSubscribe failed; retrying");
                reconnects();
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
        let _ = client.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Discriminator;
    use tessera_client::state::JobState;

    #[test]
    fn filters_select_this_markets_jobs() {
        let market = Pubkey::new_unique();
        let filters = job_accounts(&market);
        let mut data = vec![0u8; 100];
        data[..8].copy_from_slice(Job::DISCRIMINATOR);
        data[8..40].copy_from_slice(market.as_ref());
        assert!(filters.iter().all(|f| f.matches(&data)));
        data[8..40].copy_from_slice(Pubkey::new_unique().as_ref());
        assert!(!filters.iter().all(|f| f.matches(&data)));
    }

    fn job_in(state: JobState) -> Box<Job> {
        let mut data = Job::DISCRIMINATOR.to_vec();
        data.resize(tessera_client::state::JOB_SPACE, 0);
        let mut job = tessera_client::decode::<Job>(&data).unwrap();
        job.set_state(state);
        Box::new(job)
    }

    #[test]
    fn a_resync_forgets_closed_jobs_and_keeps_newer_ones() {
        let keys: Vec<Pubkey> = (0..4).map(|_| Pubkey::new_unique()).collect();
        let mut jobs: HashMap<Pubkey, Box<Job>> = HashMap::from([
            (keys[0], job_in(JobState::Settled)), // closed since: gone from the snapshot
            (keys[1], job_in(JobState::Open)),    // created after the snapshot was taken
            (keys[2], job_in(JobState::Claimed)), // moved on: the snapshot has it Revealed
        ]);
        let snapshot = vec![
            (keys[2], job_in(JobState::Revealed)),
            (keys[3], job_in(JobState::Open)), // missed by the websocket
        ];
        apply_snapshot(&mut jobs, snapshot);
        let mut seen: Vec<(usize, JobState)> = jobs
            .iter()
            .map(|(k, j)| (keys.iter().position(|x| x == k).unwrap(), j.state()))
            .collect();
        seen.sort_by_key(|(i, _)| *i);
        assert_eq!(
            seen,
            vec![
                (1, JobState::Open),
                (2, JobState::Revealed),
                (3, JobState::Open)
            ]
        );
    }

    #[test]
    fn closed_or_foreign_accounts_decode_to_none() {
        let mut data = Job::DISCRIMINATOR.to_vec();
        data.resize(tessera_client::state::JOB_SPACE, 0);
        assert!(decode_job(1, &data).is_some());
        assert!(
            decode_job(0, &data).is_none(),
            "a closed account keeps no job"
        );
        assert!(decode_job(1, &[1, 2, 3]).is_none());
    }
}
