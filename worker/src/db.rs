//! What the worker knows about each job, in an embedded ACID store (redb).
//!
//! Every step that a later transaction depends on is written here, and committed to disk,
//! **before** that transaction is sent: the root, the output's location and above all the
//! commit salt. A worker killed at any point reads its records back on restart and, together
//! with the job's state on chain, knows what is left to do: it never claims twice and always
//! reveals the root it committed to.
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::error::WorkerError;

/// Job address → JSON of [`JobRecord`].
const JOBS: TableDefinition<&[u8], &str> = TableDefinition::new("jobs");

/// The worker's own record of one job.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// A claim was sent (or is about to be).
    pub claimed: bool,
    /// The claim landed: this worker held a slot of the job. It never claims the job again
    /// (after a timeout reopened its slot, say).
    #[serde(default)]
    pub claim_landed: bool,
    /// The delivery was given up because the program no longer accepts it: why.
    #[serde(default)]
    pub gave_up: Option<String>,
    /// The Merkle root of this worker's output.
    pub root: Option<[u8; 32]>,
    /// Where the output chunks were stored.
    pub output_uri: Option<String>,
    /// The commit salt (replicas ≥ 2), chosen once and kept until the reveal.
    pub salt: Option<[u8; 32]>,
    /// The secret part of the output's address (random, chosen once): nobody can read the
    /// output before the reveal (or submit) posts its address.
    #[serde(default)]
    pub output_nonce: Option<[u8; 32]>,
    /// The input was refused before any claim (bad hash, malformed, too dear): why.
    pub rejected: Option<String>,
    /// (verifier) the result was checked; `Some(true)` when a mismatch was challenged.
    pub verified: Option<bool>,
    /// (verifier) the challenge committed (kept until it is revealed).
    #[serde(default)]
    pub challenge: Option<ChallengeRecord>,
    /// (verifier) the referee's fraud proof was sent for its challenge (`gemm-i8`), or could
    /// not be built: what happened. Never tried twice.
    #[serde(default)]
    pub fraud_proof: Option<String>,
    /// (auditor) the audit this worker committed to (kept until it is revealed).
    #[serde(default)]
    pub audit: Option<AuditRecord>,
    /// (auditor) the drawn chunks could not be recomputed: why. The audit is not taken.
    #[serde(default)]
    pub audit_refused: Option<String>,
    /// The job reached a terminal state and was counted in the metrics.
    pub finished: bool,
}

/// A challenge this worker committed to, with the salt of its commitment: what
/// `reveal_challenge` sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChallengeRecord {
    pub chunk: u32,
    pub hash: [u8; 32],
    pub operator_leaf: [u8; 32],
    pub proof: Vec<[u8; 32]>,
    pub salt: [u8; 32],
}

impl ChallengeRecord {
    /// `args` committed with a fresh random salt.
    pub fn new(args: &tessera_client::ChallengeArgs) -> Self {
        ChallengeRecord {
            chunk: args.chunk,
            hash: args.hash,
            operator_leaf: args.operator_leaf,
            proof: args.proof.clone(),
            salt: rand::random(),
        }
    }

    pub fn args(&self) -> tessera_client::ChallengeArgs {
        tessera_client::ChallengeArgs {
            chunk: self.chunk,
            hash: self.hash,
            operator_leaf: self.operator_leaf,
            proof: self.proof.clone(),
        }
    }
}

/// An audit this worker committed to: the leaves it recomputed for the drawn chunks (in draw
/// order) and the salt of its commitment, what `reveal_audit` sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub leaves: Vec<[u8; 32]>,
    pub salt: [u8; 32],
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[error("worker state store: {0}")]
pub struct DbError(String);

fn err(e: impl std::fmt::Display) -> DbError {
    DbError(e.to_string())
}

/// The store, one file.
pub struct Db {
    db: Database,
}

impl Db {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let db = Database::create(path).map_err(err)?;
        let tx = db.begin_write().map_err(err)?;
        tx.open_table(JOBS).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Db { db })
    }

    /// The record of `job` (default when there is none).
    pub fn get(&self, job: &Pubkey) -> Result<JobRecord, DbError> {
        let tx = self.db.begin_read().map_err(err)?;
        let table = tx.open_table(JOBS).map_err(err)?;
        match table.get(job.as_ref()).map_err(err)? {
            Some(v) => serde_json::from_str(v.value()).map_err(err),
            None => Ok(JobRecord::default()),
        }
    }

    /// The output nonce of `job`: the recorded one, or a new random one, recorded (durably)
    /// before it is returned, so that a restart stores the output at the same address.
    pub fn output_nonce(&self, job: &Pubkey) -> Result<[u8; 32], DbError> {
        let record = self.update(job, |r| {
            r.output_nonce.get_or_insert_with(rand::random);
        })?;
        Ok(record.output_nonce.expect("set above"))
    }

    /// Changes the record of `job` with `f` and commits it durably before returning.
    pub fn update(
        &self,
        job: &Pubkey,
        f: impl FnOnce(&mut JobRecord),
    ) -> Result<JobRecord, DbError> {
        let tx = self.db.begin_write().map_err(err)?;
        let record = {
            let mut table = tx.open_table(JOBS).map_err(err)?;
            let mut record = match table.get(job.as_ref()).map_err(err)? {
                Some(v) => serde_json::from_str(v.value()).map_err(err)?,
                None => JobRecord::default(),
            };
            f(&mut record);
            let json = serde_json::to_string(&record).map_err(err)?;
            table.insert(job.as_ref(), json.as_str()).map_err(err)?;
            record
        };
        tx.commit().map_err(err)?;
        Ok(record)
    }
}

/// An exclusive lock held while a worker runs: one in its state directory, one per operator
/// keypair on this machine. Two workers on one keypair would send the same transactions and
/// race (and two on one state directory would share its records); the second one to start
/// is refused, naming the first one's pid. The locks go with the process, however it ends.
#[derive(Debug)]
pub struct InstanceLock {
    _files: Vec<File>,
}

impl InstanceLock {
    /// Locks `data_dir` and the keypair of `authority` (a file under `runtime_dir`).
    pub fn acquire(
        data_dir: &Path,
        runtime_dir: &Path,
        authority: &Pubkey,
    ) -> Result<InstanceLock, WorkerError> {
        let files = vec![
            lock(
                data_dir.join("worker.lock"),
                format!("the data_dir {}", data_dir.display()),
            )?,
            lock(
                runtime_dir.join(format!("tessera-worker-{authority}.lock")),
                format!("the keypair of {authority} on this machine"),
            )?,
        ];
        Ok(InstanceLock { _files: files })
    }

    /// Where the per-keypair locks live: `$XDG_RUNTIME_DIR`, else the temporary directory.
    pub fn runtime_dir() -> PathBuf {
        std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir)
    }
}

/// Takes the exclusive lock of the file at `path` and writes this process's id in it.
fn lock(path: PathBuf, what: String) -> Result<File, WorkerError> {
    let fail = |e: std::io::Error| {
        WorkerError::Db(DbError(format!("cannot lock {}: {e}", path.display())))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(fail)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            return Err(WorkerError::AlreadyRunning {
                what,
                path,
                pid: pid.trim().parse().ok(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(fail(e)),
    }
    file.set_len(0).map_err(fail)?;
    file.rewind().map_err(fail)?;
    write!(file, "{}", std::process::id()).map_err(fail)?;
    file.flush().map_err(fail)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let job = Pubkey::new_unique();
        {
            let db = Db::open(&path).unwrap();
            assert_eq!(db.get(&job).unwrap(), JobRecord::default());
            db.update(&job, |r| {
                r.claimed = true;
                r.salt = Some([7; 32]);
                r.root = Some([9; 32]);
            })
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        let r = db.get(&job).unwrap();
        assert!(r.claimed);
        assert_eq!(r.salt, Some([7; 32]));
        assert_eq!(r.root, Some([9; 32]));
    }

    /// A second worker on the same state directory, or on the same keypair with another
    /// one, is refused with one line naming the first one's pid; once the first is gone the
    /// next one starts.
    #[test]
    fn a_second_worker_is_refused_while_the_first_runs() {
        let dir = tempfile::tempdir().unwrap();
        let (data, other_data, run) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("run"),
        );
        let me = Pubkey::new_unique();
        let first = InstanceLock::acquire(&data, &run, &me).unwrap();

        let e = InstanceLock::acquire(&data, &run, &me).unwrap_err();
        let pid = std::process::id();
        assert_eq!(
            e.to_string(),
            format!(
                "another tessera-worker (pid {pid}) already runs with the data_dir {} (lock {}): two workers on one keypair send the same transactions and race; stop the other one, or give this one its own keypair and data_dir",
                data.display(),
                data.join("worker.lock").display()
            )
        );
        let e = InstanceLock::acquire(&other_data, &run, &me).unwrap_err();
        assert!(
            matches!(&e, WorkerError::AlreadyRunning { what, pid: Some(p), .. }
                if *what == format!("the keypair of {me} on this machine") && *p == pid),
            "{e}"
        );
        // Another operator with its own state directory runs beside it.
        let other = InstanceLock::acquire(&other_data, &run, &Pubkey::new_unique()).unwrap();
        drop((first, other));
        InstanceLock::acquire(&data, &run, &me).expect("free again");
    }

    /// Each job's output address has its own random nonce, kept across restarts.
    #[test]
    fn output_nonces_are_random_per_job_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let (na, nb) = {
            let db = Db::open(&path).unwrap();
            let na = db.output_nonce(&a).unwrap();
            assert_eq!(db.output_nonce(&a).unwrap(), na, "chosen once");
            (na, db.output_nonce(&b).unwrap())
        };
        assert_ne!(na, nb);
        assert_ne!(na, [0; 32]);
        let db = Db::open(&path).unwrap();
        assert_eq!(db.output_nonce(&a).unwrap(), na, "kept across a restart");
        assert_eq!(db.get(&b).unwrap().output_nonce, Some(nb));
    }

    #[test]
    fn updates_change_only_their_job() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("s.redb")).unwrap();
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        db.update(&a, |r| r.rejected = Some("bad hash".into()))
            .unwrap();
        db.update(&b, |r| r.claimed = true).unwrap();
        db.update(&a, |r| r.finished = true).unwrap();
        assert_eq!(db.get(&a).unwrap().rejected.as_deref(), Some("bad hash"));
        assert!(db.get(&a).unwrap().finished);
        assert!(!db.get(&b).unwrap().finished);
    }
}
