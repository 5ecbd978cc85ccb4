//! Why the worker could not start, or why a step failed: [`WorkerError`]. Each variant says
//! what failed (the keypair, the market, the input, the store, a transaction, a computation,
//! the state database); a failed step is logged with it and tried again with backoff.
use tessera_client::ClientError;
use tessera_kernels::KernelError;

use crate::config::ConfigError;
use crate::db::DbError;
use crate::input::Refusal;

/// Why a worker could not start or a step failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The configuration is not acceptable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The operator's keypair file could not be read.
    #[error(transparent)]
    Keypair(ClientError),
    /// Another worker already runs with this state directory or this keypair.
    #[error(
        "another tessera-worker{} already runs with {what} (lock {}): two workers on one keypair send the same transactions and race; stop the other one, or give this one its own keypair and data_dir",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        path.display()
    )]
    AlreadyRunning {
        what: String,
        path: std::path::PathBuf,
        pid: Option<u32>,
    },
    /// The market (or its mint) could not be read at start-up.
    #[error("cannot read the market: {0}")]
    Market(#[source] ClientError),
    /// The worker's state database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A job's input could not be fetched from its store.
    #[error("cannot fetch the input at {uri}: {source}")]
    InputFetch {
        uri: String,
        #[source]
        source: ClientError,
    },
    /// A job's input was refused where it had been accepted before (its blob changed), or
    /// the arbiter cannot rule on it.
    #[error("the input is not usable: {0}")]
    Input(#[from] Refusal),
    /// An output could not be written to the store.
    #[error("cannot store the output at {uri}: {source}")]
    StoreOutput {
        uri: String,
        #[source]
        source: ClientError,
    },
    /// A transaction (or the RPC call that sends it) failed.
    #[error("transaction failed: {0}")]
    Transaction(#[source] ClientError),
    /// A kernel failed on a device.
    #[error("computing on {device} failed: {source}")]
    Compute {
        device: String,
        #[source]
        source: KernelError,
    },
    /// No compute backend passed its self-test (or none is configured).
    #[error("no compute backend is usable: {0}")]
    NoBackend(String),
    /// A referee game's move could not be made (the data it needs is missing or wrong).
    #[error("referee game: {0}")]
    Game(String),
    #[error("audit: {0}")]
    Audit(String),
    /// A step or a computation panicked; the worker carries on without it.
    #[error("{what} panicked: {message}")]
    Panicked { what: String, message: String },
}

impl WorkerError {
    /// A panic caught from a task (`what` names it), with the panic's message when it has one.
    pub fn panicked(what: impl Into<String>, payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_string());
        WorkerError::Panicked {
            what: what.into(),
            message,
        }
    }

    /// From a blocking task that did not return: a panic (with its message) or a cancellation.
    pub fn from_join(what: &str, e: tokio::task::JoinError) -> Self {
        match e.try_into_panic() {
            Ok(payload) => Self::panicked(what, payload.as_ref()),
            Err(e) => WorkerError::Panicked {
                what: what.to_string(),
                message: e.to_string(),
            },
        }
    }

    /// Whether a computation failed because its GPU is lost for good (a sticky driver
    /// error): that device must not be used again.
    pub fn is_device_lost(&self) -> bool {
        matches!(self, WorkerError::Compute { source, .. } if source.is_device_lost())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_keeps_its_message() {
        let e = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                tokio::task::spawn_blocking(|| panic!("tile {} overflowed", 3))
                    .await
                    .unwrap_err()
            });
        let e = WorkerError::from_join("compute", e);
        assert_eq!(e.to_string(), "compute panicked: tile 3 overflowed");
        let e = WorkerError::panicked("step", &"static text");
        assert_eq!(e.to_string(), "step panicked: static text");
        let e = WorkerError::panicked("step", &42u32);
        assert_eq!(e.to_string(), "step panicked: no message");
    }
}
