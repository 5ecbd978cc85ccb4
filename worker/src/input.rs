//! A job's input, fetched and checked the one way every part of the worker needs it: before a
//! claim, before a computation, by the verifier and by the arbiter. The blob must hash to the
//! job's `input_hash`, parse with its kernel's own validator, and make the job's chunk count.
//! Its size is checked against the kernel's limit before any of it is read.
use tessera_client::state::Job;
use tessera_client::store::{input_locations, Capped, Store};
use tessera_kernels::limits::max_input_bytes;
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
    #[error(
        "the model's root is not the job's kernel_params (the creator committed to another model)"
    )]
    ModelRoot,
    #[error("the input makes {input} chunks, the job says {job}")]
    ChunkCount { input: u32, job: u32 },
    #[error("the input URI names no readable place: {0}")]
    BadUri(String),
    #[error("the input is {bytes} bytes; the {kernel} kernel accepts at most {max}")]
    TooLarge {
        kernel: KernelId,
        bytes: u64,
        max: u64,
    },
}

/// Checks `bytes` as the input of `job` and parses it (CPU-bound: call it off the async
/// threads, as [`load`] does).
pub fn check(job: &Job, bytes: &[u8]) -> Result<Workload, Refusal> {
    if tessera_merkle::sha256(&[bytes]) != job.input_hash {
        return Err(Refusal::HashMismatch);
    }
    let kernel = KernelId::try_from(job.kernel).map_err(|_| Refusal::UnknownKernel(job.kernel))?;
    let parsed = Workload::parse(kernel, bytes).map_err(Refusal::Malformed)?;
    if parsed.kernel_params() != job.kernel_params {
        return Err(Refusal::ModelRoot);
    }
    if parsed.chunk_count() != job.chunk_count {
        return Err(Refusal::ChunkCount {
            input: parsed.chunk_count(),
            job: job.chunk_count,
        });
    }
    Ok(parsed)
}

/// Fetches the input of `job` from `store` and [`check`]s it on a blocking thread. An input
/// posted relative to a store is looked for under each of `bases` in turn (the worker's own
/// store first, then its `input_stores`). The outer error is a fault worth retrying (the
/// store is unreachable, or the input is not there yet); the inner one is a verdict on the
/// input itself. An input larger than its kernel accepts is refused from its size in the
/// store, without reading it, and no read holds more than that limit.
pub async fn load(
    store: &Store,
    bases: &[String],
    job: &Job,
) -> Result<Result<Workload, Refusal>, WorkerError> {
    let Ok(kernel) = KernelId::try_from(job.kernel) else {
        return Ok(Err(Refusal::UnknownKernel(job.kernel)));
    };
    let max = max_input_bytes(kernel);
    let uri = job.input_uri().to_string();
    if let Err(e) = input_locations(&uri, &job.input_hash, bases) {
        return Ok(Err(Refusal::BadUri(e.to_string())));
    }
    let bytes = match store
        .get_input_at_most(&uri, &job.input_hash, bases, max)
        .await
    {
        Ok(Capped::Read(bytes)) => bytes,
        Ok(Capped::TooLarge { bytes }) => {
            return Ok(Err(Refusal::TooLarge { kernel, bytes, max }));
        }
        Err(source) => return Err(WorkerError::InputFetch { uri, source }),
    };
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
            dispute_deadline: 0,
            agreed_root: [0; 32],
            challenges: [Challenge::none(); 3],
            bump: 0,
            escrow: Default::default(),
            terms: tessera_client::state::JobTerms::none(),
            convicted: 0,
            open_games: 0,
            games_played: [0; 4],
            challenge_wins: 0,
            audit_state: 0,
            audit_fee: 0,
            revealed_slot: 0,
            audit_chunks: [0; 4],
            audit_chunk_count: 0,
            audit_leaves: [[0; 32]; 4],
            reserved: [0; 23],
        }
    }

    fn chunks_of(bytes: &[u8]) -> u32 {
        Workload::parse(KernelId::Render, bytes)
            .unwrap()
            .chunk_count()
    }

    /// An int8 model is claimed only under the root its creator committed to: the same
    /// blob under a job with another (or no) model root is refused.
    #[test]
    fn a_model_is_checked_against_the_committed_root() {
        let model = tessera_kernels::benchmark::synthetic_mlp(7, 8, &[16, 12, 4], 2);
        let blob = model.to_safetensors();
        let mlp = u8::from(KernelId::MlpI8);
        let mut job = job_for(&blob, mlp, 4, "");
        job.kernel_params = model.model_root();
        assert_eq!(check(&job, &blob).unwrap().chunk_count(), 4);
        for params in [[0; 32], {
            let mut other = model.model_root();
            other[31] ^= 1;
            other
        }] {
            job.kernel_params = params;
            let e = check(&job, &blob).unwrap_err();
            assert!(matches!(e, Refusal::ModelRoot), "{e}");
            assert!(e.to_string().contains("kernel_params"), "{e}");
        }
        // A render job's parameters are zero: anything else is refused too.
        let scene = SCENE.as_bytes();
        let mut render = job_for(scene, u8::from(KernelId::Render), chunks_of(scene), "");
        render.kernel_params[0] = 1;
        assert!(matches!(check(&render, scene), Err(Refusal::ModelRoot)));
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

    /// The process's peak resident memory (VmHWM), in MiB.
    fn peak_mib() -> f64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib / 1024.0
    }

    /// Peak memory while loading inputs (docs/benchmarks.md has the figures):
    /// `cargo test --release -p tessera-worker --lib input_peak_memory -- --ignored --nocapture`
    /// A 1 GiB input for the render kernel (limit 64 MiB) is refused without growing the
    /// peak; one at the limit adds about its size; reading the 1 GiB whole, as the worker
    /// did before it asked the size first, adds 1 GiB.
    #[tokio::test]
    #[ignore = "measures the process's peak memory: run alone"]
    async fn input_peak_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input");
        let uri = format!("file://{}", path.display());
        let set_len = |n: u64| std::fs::File::create(&path).unwrap().set_len(n).unwrap();
        let store = Store::new();
        let render = u8::from(KernelId::Render);
        let job = job_for(b"x", render, 1, &uri);

        set_len(1 << 30);
        let start = peak_mib();
        let base = start;
        let refused = load(&store, &[], &job).await.unwrap();
        assert!(matches!(refused, Err(Refusal::TooLarge { .. })));
        let refuse = peak_mib() - base;

        set_len(64 << 20);
        let base = peak_mib();
        let read = load(&store, &[], &job).await.unwrap();
        assert!(matches!(read, Err(Refusal::HashMismatch)));
        let at_limit = peak_mib() - base;

        set_len(1 << 30);
        let base = peak_mib();
        let whole = store.get(&uri).await.unwrap();
        assert_eq!(whole.len(), 1 << 30);
        drop(whole);
        let before = peak_mib() - base;

        println!(
            "peak RSS {start:.1} MiB at the start; +{refuse:.1} MiB refusing a 1 GiB input; \
             +{at_limit:.1} MiB reading a 64 MiB input; +{before:.1} MiB more reading the 1 GiB \
             input whole (before: no size check), {:.1} MiB in all",
            peak_mib()
        );
        assert!(refuse < 8.0, "{refuse} MiB");
        assert!(at_limit < 64.0 * 1.5, "{at_limit} MiB");
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
        let parsed = load(&store, &[], &job_for(scene, render, chunks_of(scene), &uri))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(parsed.kernel(), KernelId::Render);

        let refused = load(&store, &[], &job_for(b"other", render, 1, &uri))
            .await
            .unwrap();
        assert!(matches!(refused, Err(Refusal::HashMismatch)));

        // Larger than a scene may be: refused from its size, never read (reading 1 TiB would
        // not end in time, nor fit in memory). A sparse file takes no disk.
        let huge = dir.path().join("huge.json");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(1 << 40)
            .unwrap();
        let huge_uri = format!("file://{}", huge.display());
        let started = std::time::Instant::now();
        let refused = load(&store, &[], &job_for(scene, render, 1, &huge_uri))
            .await
            .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let e = refused.expect_err("refused");
        assert!(
            matches!(e, Refusal::TooLarge { bytes, max, .. } if bytes == 1 << 40 && max == 64 << 20),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "the input is 1099511627776 bytes; the render kernel accepts at most 67108864"
        );
        // One byte over the limit is refused; at the limit it is read (and then judged).
        std::fs::File::create(&huge)
            .unwrap()
            .set_len((64 << 20) + 1)
            .unwrap();
        let over = load(&store, &[], &job_for(scene, render, 1, &huge_uri))
            .await
            .unwrap();
        assert!(matches!(over, Err(Refusal::TooLarge { .. })));
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(64 << 20)
            .unwrap();
        let at = load(&store, &[], &job_for(scene, render, 1, &huge_uri))
            .await
            .unwrap();
        assert!(
            matches!(at, Err(Refusal::HashMismatch)),
            "read, then checked"
        );

        let gone = format!("file://{}", dir.path().join("absent").display());
        let e = load(&store, &[], &job_for(scene, render, 1, &gone))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, WorkerError::InputFetch { uri, .. } if uri == &gone),
            "{e}"
        );
    }

    /// An input posted relative to a store (`inputs/<sha256>`) is found under any of the
    /// worker's stores, in order; one in none of them is a fault naming every place tried
    /// (retried: it may not be uploaded yet); a relative URI that is not the job's own
    /// content address is refused without reading anything.
    #[tokio::test]
    async fn a_relative_input_is_looked_for_in_every_store() {
        let scene = SCENE.as_bytes();
        let hash = tessera_merkle::sha256(&[scene]);
        let own = tempfile::tempdir().unwrap();
        let shared = tempfile::tempdir().unwrap();
        let base = |d: &tempfile::TempDir| format!("file://{}", d.path().display());
        let bases = [base(&own), base(&shared)];
        let store = Store::new();
        let render = u8::from(KernelId::Render);
        let relative = tessera_client::store::relative_input_uri(&hash);
        assert_eq!(relative.len(), 71);
        let job = job_for(scene, render, chunks_of(scene), &relative);

        let e = load(&store, &bases, &job).await.unwrap_err().to_string();
        assert!(e.contains("in none of the stores"), "{e}");
        assert!(e.contains(&bases[0]) && e.contains(&bases[1]), "{e}");

        let in_shared = tessera_client::store::input_uri(&bases[1], &hash);
        store
            .put(
                &in_shared,
                bytes::Bytes::from_static(SCENE.as_bytes()),
                &mut |_, _| {},
            )
            .await
            .unwrap();
        let parsed = load(&store, &bases, &job).await.unwrap().unwrap();
        assert_eq!(parsed.chunk_count(), chunks_of(scene));

        // Relative, but not the job's content address: another hash, a path that climbs out
        // of the store, a bare name.
        let other = tessera_client::store::relative_input_uri(&[7; 32]);
        for uri in [other.as_str(), "inputs/../../etc/passwd", "scene.json", ""] {
            let job = job_for(scene, render, chunks_of(scene), uri);
            let refused = load(&store, &bases, &job).await.unwrap();
            assert!(
                matches!(refused, Err(Refusal::BadUri(_))),
                "{uri}: {refused:?}"
            );
        }
    }
}
