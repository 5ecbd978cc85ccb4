//! A job's input, fetched and checked the one way every part of the worker needs it: before a
//! claim, before a computation, by the verifier and by the arbiter. The blob must hash to the
//! job's `input_hash`, parse with its kernel's own validator, and make the job's chunk count.
use tessera_client::state::Job;
use tessera_client::store::Store;
use tessera_kernels::{KernelError, KernelId, Workload};

use crate::error::WorkerError;

/// Why an input is refused: nothing can be computed from it for this job.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the input does not match its sha256")]
    HashMismatch,
    #[error("unknown kernel {0}")]
    UnknownKernel(u8),
    #[error("malformed input: {0}")]
    Malformed(#[source] KernelError),
    #[error("the input makes {input} chunks, the job says {job}")]
    ChunkCount { input: u32, job: u32 },
}

/// Checks `bytes` as the input of `job` and parses it (CPU-bound: call it off the async
/// threads, as [`load`] does).
pub fn check(job: &Job, bytes: &[u8]) -> Result<Workload, Refusal> {
    if tessera_merkle::sha256(&[bytes]) != job.input_hash {
        return Err(Refusal::HashMismatch);
    }
    let kernel = KernelId::try_from(job.kernel).map_err(|_| Refusal::UnknownKernel(job.kernel))?;
    let parsed = Workload::parse(kernel, bytes).map_err(Refusal::Malformed)?;
    if parsed.chunk_count() != job.chunk_count {
        return Err(Refusal::ChunkCount {
            input: parsed.chunk_count(),
            job: job.chunk_count,
        });
    }
    Ok(parsed)
}

/// Fetches the input of `job` from `store` and [`check`]s it on a blocking thread. The outer
/// error is a fault worth retrying (the store is unreachable); the inner one is a verdict on
/// the input itself.
pub async fn load(store: &Store, job: &Job) -> Result<Result<Workload, Refusal>, WorkerError> {
    let uri = job.input_uri().to_string();
    let bytes = store
        .get(&uri)
        .await
        .map_err(|source| WorkerError::InputFetch { uri, source })?;
    let job = *job;
    tokio::task::spawn_blocking(move || check(&job, &bytes))
        .await
        .map_err(|e| WorkerError::from_join("checking the input", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_client::state::{Assignment, Challenge, JobState};

    const SCENE: &str = include_str!("../../kernels/scenes/cornell.json");

    fn job_for(bytes: &[u8], kernel: u8, chunk_count: u32, uri: &str) -> Job {
        Job {
            market: Default::default(),
            creator: Default::default(),
            job_id: 0,
            kernel,
            kernel_params: [0; 32],
            input_uri: tessera_client::state::pack_uri(uri),
            input_hash: tessera_merkle::sha256(&[bytes]),
            chunk_count,
            replicas: 1,
            reward_per_replica: 1,
            created_at: 0,
            claim_deadline: 0,
            exec_timeout: 1,
            state: JobState::Open as u8,
            assignments: [Assignment::empty(); 3],
            reveal_deadline: 0,
            challenge_deadline: 0,
            agreed_root: [0; 32],
            challenge: Challenge::none(),
            bump: 0,
            escrow: Default::default(),
            reserved: [0; 64],
        }
    }

    fn chunks_of(bytes: &[u8]) -> u32 {
        Workload::parse(KernelId::Render, bytes)
            .unwrap()
            .chunk_count()
    }

    #[test]
    fn a_good_input_parses_and_each_fault_is_named() {
        let scene = SCENE.as_bytes();
        let n = chunks_of(scene);
        let render = u8::from(KernelId::Render);
        let ok = check(&job_for(scene, render, n, ""), scene).unwrap();
        assert_eq!(ok.chunk_count(), n);

        let mut other = job_for(scene, render, n, "");
        other.input_hash[0] ^= 1;
        assert!(matches!(check(&other, scene), Err(Refusal::HashMismatch)));
        assert!(matches!(
            check(&job_for(scene, 200, n, ""), scene),
            Err(Refusal::UnknownKernel(200))
        ));
        let junk = b"{not json";
        assert!(matches!(
            check(&job_for(junk, render, n, ""), junk),
            Err(Refusal::Malformed(_))
        ));
        let e = check(&job_for(scene, render, n + 1, ""), scene).unwrap_err();
        assert!(
            matches!(e, Refusal::ChunkCount { input, job } if input == n && job == n + 1),
            "{e}"
        );
    }

    #[tokio::test]
    async fn load_fetches_then_checks_and_a_missing_blob_is_a_fetch_error() {
        let dir = tempfile::tempdir().unwrap();
        let scene = SCENE.as_bytes();
        let path = dir.path().join("scene.json");
        std::fs::write(&path, scene).unwrap();
        let uri = format!("file://{}", path.display());
        let render = u8::from(KernelId::Render);
        let store = Store::new();
        let parsed = load(&store, &job_for(scene, render, chunks_of(scene), &uri))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(parsed.kernel(), KernelId::Render);

        let refused = load(&store, &job_for(b"other", render, 1, &uri))
            .await
            .unwrap();
        assert!(matches!(refused, Err(Refusal::HashMismatch)));

        let gone = format!("file://{}", dir.path().join("absent").display());
        let e = load(&store, &job_for(scene, render, 1, &gone))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, WorkerError::InputFetch { uri, .. } if uri == &gone),
            "{e}"
        );
    }
}
