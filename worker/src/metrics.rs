//! Prometheus metrics of the worker, served as OpenMetrics text on `GET /metrics`.
//!
//! Every metric is named `tessera_worker_…`; counters end in `_total` (OpenMetrics), the
//! compute time in `_seconds_total`:
//!
//! | metric                                   | kind    | meaning                                        |
//! |------------------------------------------|---------|------------------------------------------------|
//! | `tessera_worker_jobs_claimed_total`      | counter | jobs claimed                                   |
//! | `tessera_worker_jobs_completed_total`    | counter | delivered results that settled paid            |
//! | `tessera_worker_jobs_failed_total`       | counter | claimed jobs that could not be delivered       |
//! | `tessera_worker_jobs_rejected_total`     | counter | inputs refused before claiming                 |
//! | `tessera_worker_deliveries_given_up_total` | counter | claimed jobs the program no longer accepted a delivery for |
//! | `tessera_worker_audits_total`            | counter | other operators' results checked (verifier)    |
//! | `tessera_worker_audit_seconds_total`     | counter | time spent checking them                       |
//! | `tessera_worker_audits_taken_total`      | counter | protocol audits of drawn jobs taken (committed) |
//! | `tessera_worker_challenges_total`        | counter | challenges sent against other operators        |
//! | `tessera_worker_fraud_proofs_total`      | counter | wrong results proven to the on-chain referee   |
//! | `tessera_worker_games_total`             | counter | referee games opened against other replicas    |
//! | `tessera_worker_compute_seconds_total`   | counter | time spent computing results                   |
//! | `tessera_worker_tx_sent_total`           | counter | transactions sent                              |
//! | `tessera_worker_tx_failed_total`         | counter | transactions that failed (the step is retried) |
//! | `tessera_worker_step_failures_total`     | counter | job steps that failed (retried with backoff)   |
//! | `tessera_worker_step_retries_total`      | counter | job steps started again after a failure        |
//! | `tessera_worker_step_panics_total`       | counter | job steps that panicked (logged, retried)      |
//! | `tessera_worker_ws_reconnects_total`     | counter | websocket subscriptions opened again           |
//! | `tessera_worker_stake`                   | gauge   | free stake, base units of the mint             |
//! | `tessera_worker_earned`                  | gauge   | earnings credited, base units of the mint      |
//! | `tessera_worker_jobs_active`             | gauge   | jobs claimed and not yet settled               |
//! | `tessera_worker_device_jobs_total`       | counter | jobs a device computed (or took part in)       |
//! | `tessera_worker_device_chunks_total`     | counter | output chunks a device computed                |
//! | `tessera_worker_device_compute_seconds_total` | counter | time a device spent computing          |
//! | `tessera_worker_device_failures_total`   | counter | computations that failed on a device           |
//! | `tessera_worker_claims_suspended`        | gauge   | 1 while claims are stopped (backends failing)  |
//!
//! The `device_*` metrics carry a `device` label: `cpu`, or `cuda:<ordinal>`.
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE_OPENMETRICS: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The worker's metrics. Counters and gauges are cheap to clone and update from any task;
/// the registry only encodes them.
#[derive(Debug)]
pub struct Metrics {
    /// Every metric below, registered under the `tessera_worker` prefix.
    pub registry: Registry,
    /// Jobs claimed.
    pub jobs_claimed: Counter,
    /// Delivered results that settled paid.
    pub jobs_completed: Counter,
    /// Claimed jobs that could not be delivered (compute, upload or transaction failure,
    /// missed deadline).
    pub jobs_failed: Counter,
    /// Inputs refused before claiming (hash mismatch, malformed input).
    pub jobs_rejected: Counter,
    /// Claimed jobs whose delivery was given up: past the exec timeout or the reveal window,
    /// or the slot was timed out.
    pub deliveries_given_up: Counter,
    /// Challenges sent against other operators' results.
    pub challenges: Counter,
    /// Other operators' results checked (verifier mode, on by default).
    pub audits: Counter,
    /// Seconds spent checking them (bounded by `verify.budget_secs_per_hour`).
    pub audit_seconds: Counter<f64, AtomicU64>,
    /// Protocol audits of drawn jobs this worker took (`commit_audit`; also counted in
    /// `audits`).
    pub audits_taken: Counter,
    /// Wrong results proven to the on-chain referee: a revealed challenge or another replica's
    /// root (`gemm-i8`), or the last move of a game (`mlp-i8`).
    pub fraud_proofs: Counter,
    /// Referee games this worker opened against another replica (`mlp-i8`).
    pub games: Counter,
    /// Seconds spent computing results.
    pub compute_seconds: Counter<f64, AtomicU64>,
    /// Transactions sent.
    pub tx_sent: Counter,
    /// Transactions given up on.
    pub tx_failed: Counter,
    /// Job steps (claim, deliver, crank, …) that failed; each is retried with backoff.
    pub step_failures: Counter,
    /// Job steps started again after a failure (after their backoff).
    pub step_retries: Counter,
    /// Job steps that panicked; each is logged with its job and step, and retried.
    pub step_panics: Counter,
    /// Times the websocket subscription was opened again after it dropped.
    pub ws_reconnects: Counter,
    /// Free stake, in base units of the mint.
    pub stake: Gauge,
    /// Earnings credited to the operator, in base units of the mint.
    pub earned: Gauge,
    /// Jobs claimed and not yet settled.
    pub jobs_active: Gauge,
    /// Per device: jobs computed (or taken part in, when a job's chunks are spread).
    pub device_jobs: Family<DeviceLabel, Counter>,
    /// Per device: output chunks computed.
    pub device_chunks: Family<DeviceLabel, Counter>,
    /// Per device: seconds spent computing.
    pub device_seconds: Family<DeviceLabel, Counter<f64, AtomicU64>>,
    /// Per device: computations that failed.
    pub device_failures: Family<DeviceLabel, Counter>,
    /// 1 while claims are stopped because the compute backends failed, else 0.
    pub claims_suspended: Gauge,
}

/// The `device` label of the per-device metrics.
pub type DeviceLabel = Vec<(&'static str, String)>;

/// The label set naming `device`.
pub fn device_label(device: &str) -> DeviceLabel {
    vec![("device", device.to_string())]
}

impl Metrics {
    /// Fresh metrics (all zero), registered and ready to encode.
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("tessera_worker");
        let jobs_claimed = Counter::default();
        let jobs_completed = Counter::default();
        let jobs_failed = Counter::default();
        let jobs_rejected = Counter::default();
        let challenges = Counter::default();
        let audits = Counter::default();
        let audit_seconds = Counter::<f64, AtomicU64>::default();
        let audits_taken = Counter::default();
        let fraud_proofs = Counter::default();
        let games = Counter::default();
        let deliveries_given_up = Counter::default();
        let compute_seconds = Counter::<f64, AtomicU64>::default();
        let tx_sent = Counter::default();
        let tx_failed = Counter::default();
        let step_failures = Counter::default();
        let step_retries = Counter::default();
        let step_panics = Counter::default();
        let ws_reconnects = Counter::default();
        let stake = Gauge::default();
        let earned = Gauge::default();
        let jobs_active = Gauge::default();
        let device_jobs = Family::<DeviceLabel, Counter>::default();
        let device_chunks = Family::<DeviceLabel, Counter>::default();
        let device_seconds = Family::<DeviceLabel, Counter<f64, AtomicU64>>::default();
        let device_failures = Family::<DeviceLabel, Counter>::default();
        let claims_suspended = Gauge::default();

        registry.register("jobs_claimed", "Jobs claimed", jobs_claimed.clone());
        registry.register(
            "jobs_completed",
            "Delivered results that settled paid",
            jobs_completed.clone(),
        );
        registry.register(
            "jobs_failed",
            "Claimed jobs that could not be delivered",
            jobs_failed.clone(),
        );
        registry.register(
            "jobs_rejected",
            "Inputs refused before claiming (bad hash or malformed)",
            jobs_rejected.clone(),
        );
        registry.register(
            "deliveries_given_up",
            "Claimed jobs the program no longer accepted a delivery for (past the deadline, or the slot timed out)",
            deliveries_given_up.clone(),
        );
        registry.register(
            "challenges",
            "Challenges sent against other operators' results",
            challenges.clone(),
        );
        registry.register(
            "audits",
            "Other operators' results checked by this worker's verifier",
            audits.clone(),
        );
        registry.register_with_unit(
            "audit",
            "Time spent checking other operators' results",
            Unit::Seconds,
            audit_seconds.clone(),
        );
        registry.register(
            "audits_taken",
            "Protocol audits of drawn jobs taken (committed), paid the audit fee when they pass",
            audits_taken.clone(),
        );
        registry.register(
            "fraud_proofs",
            "Wrong results proven to the on-chain referee, which settles the dispute with no arbiter",
            fraud_proofs.clone(),
        );
        registry.register(
            "games",
            "Referee games opened against another replica's result",
            games.clone(),
        );
        registry.register_with_unit(
            "compute",
            "Time spent computing results",
            Unit::Seconds,
            compute_seconds.clone(),
        );
        registry.register("tx_sent", "Transactions sent", tx_sent.clone());
        registry.register(
            "tx_failed",
            "Transactions that failed (the step is retried)",
            tx_failed.clone(),
        );
        registry.register(
            "step_failures",
            "Job steps that failed (retried with backoff)",
            step_failures.clone(),
        );
        registry.register(
            "step_retries",
            "Job steps started again after a failure",
            step_retries.clone(),
        );
        registry.register(
            "step_panics",
            "Job steps that panicked (logged and retried)",
            step_panics.clone(),
        );
        registry.register(
            "ws_reconnects",
            "Websocket subscriptions opened again after they dropped",
            ws_reconnects.clone(),
        );
        registry.register(
            "stake",
            "Free stake, in base units of the mint",
            stake.clone(),
        );
        registry.register(
            "earned",
            "Earnings credited to the operator, in base units of the mint",
            earned.clone(),
        );
        registry.register(
            "jobs_active",
            "Jobs claimed and not yet settled",
            jobs_active.clone(),
        );
        registry.register(
            "device_jobs",
            "Jobs a device computed (or took part in)",
            device_jobs.clone(),
        );
        registry.register(
            "device_chunks",
            "Output chunks a device computed",
            device_chunks.clone(),
        );
        registry.register_with_unit(
            "device_compute",
            "Time a device spent computing",
            Unit::Seconds,
            device_seconds.clone(),
        );
        registry.register(
            "device_failures",
            "Computations that failed on a device",
            device_failures.clone(),
        );
        registry.register(
            "claims_suspended",
            "1 while claims are stopped because the compute backends failed",
            claims_suspended.clone(),
        );

        Arc::new(Metrics {
            registry,
            jobs_claimed,
            jobs_completed,
            jobs_failed,
            jobs_rejected,
            deliveries_given_up,
            challenges,
            audits,
            audit_seconds,
            audits_taken,
            fraud_proofs,
            games,
            compute_seconds,
            tx_sent,
            tx_failed,
            step_failures,
            step_retries,
            step_panics,
            ws_reconnects,
            stake,
            earned,
            jobs_active,
            device_jobs,
            device_chunks,
            device_seconds,
            device_failures,
            claims_suspended,
        })
    }

    /// Every metric in the OpenMetrics text format (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        encode(&mut text, &self.registry).expect("encoding metrics into a String");
        text
    }
}

/// Serves `metrics` over HTTP/1 on `addr` until `shutdown` resolves: `GET /metrics` gives
/// [`Metrics::encode`], other paths 404.
///
/// Returns the address bound (the real port when `addr` asks for port 0) and the task
/// accepting connections, which ends once `shutdown` resolves; connections already open are
/// served to their end.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "cannot serve metrics on {addr}: {e}; another process (a second worker with this \
                 configuration?) holds it: set metrics_addr (TESSERA_METRICS_ADDR) to a free \
                 address, or \"off\""
            ),
        )
    })?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(async move {
        tokio::pin!(shutdown);
        loop {
            let stream = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(error = %e, "metrics endpoint: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let response = respond(&metrics, &request);
                    async move { Ok::<_, Infallible>(response) }
                });
                let served = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                if let Err(e) = served {
                    tracing::debug!(error = %e, "metrics endpoint: connection ended with an error");
                }
            });
        }
        tracing::debug!(%bound, "metrics endpoint stopped");
    });
    Ok((bound, task))
}

/// The response to one request.
fn respond(metrics: &Metrics, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let (status, body) = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let mut response = Response::new(Full::new(Bytes::from(metrics.encode())));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(CONTENT_TYPE_OPENMETRICS),
            );
            return response;
        }
        (_, "/metrics") => (StatusCode::METHOD_NOT_ALLOWED, "use GET\n"),
        _ => (
            StatusCode::NOT_FOUND,
            "not found: metrics are at /metrics\n",
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::oneshot;

    #[test]
    fn encode_shows_every_metric() {
        let metrics = Metrics::new();
        metrics.jobs_claimed.inc();
        metrics.jobs_claimed.inc();
        metrics.jobs_completed.inc();
        metrics.jobs_failed.inc_by(3);
        metrics.jobs_rejected.inc();
        metrics.challenges.inc();
        metrics.audits.inc_by(4);
        metrics.audit_seconds.inc_by(0.25);
        metrics.fraud_proofs.inc_by(2);
        metrics.games.inc_by(3);
        metrics.compute_seconds.inc_by(1.5);
        metrics.tx_sent.inc_by(7);
        metrics.step_retries.inc();
        metrics
            .device_chunks
            .get_or_create(&device_label("cuda:1"))
            .inc_by(9);
        metrics
            .device_seconds
            .get_or_create(&device_label("cpu"))
            .inc_by(1.5);
        metrics.step_panics.inc_by(2);
        metrics.tx_failed.inc();
        metrics.step_failures.inc_by(4);
        metrics.ws_reconnects.inc();
        metrics.stake.set(1_000_000);
        metrics.earned.set(42);
        metrics.jobs_active.set(2);

        let text = metrics.encode();
        for line in [
            "tessera_worker_jobs_claimed_total 2",
            "tessera_worker_jobs_completed_total 1",
            "tessera_worker_jobs_failed_total 3",
            "tessera_worker_jobs_rejected_total 1",
            "tessera_worker_challenges_total 1",
            "tessera_worker_audits_total 4",
            "tessera_worker_audit_seconds_total 0.25",
            "tessera_worker_fraud_proofs_total 2",
            "tessera_worker_games_total 3",
            "tessera_worker_compute_seconds_total 1.5",
            "tessera_worker_tx_sent_total 7",
            "tessera_worker_tx_failed_total 1",
            "tessera_worker_step_failures_total 4",
            "tessera_worker_step_retries_total 1",
            "tessera_worker_device_chunks_total{device=\"cuda:1\"} 9",
            "tessera_worker_device_compute_seconds_total{device=\"cpu\"} 1.5",
            "tessera_worker_step_panics_total 2",
            "tessera_worker_ws_reconnects_total 1",
            "tessera_worker_stake 1000000",
            "tessera_worker_earned 42",
            "tessera_worker_jobs_active 2",
            "# TYPE tessera_worker_jobs_claimed counter",
            "# TYPE tessera_worker_stake gauge",
            "# UNIT tessera_worker_compute_seconds seconds",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    async fn get(addr: SocketAddr, method: &str, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn serves_metrics_over_http() {
        let metrics = Metrics::new();
        metrics.jobs_claimed.inc_by(5);
        let (stop, stopped) = oneshot::channel::<()>();
        let (addr, task) = serve(
            "127.0.0.1:0".parse().unwrap(),
            metrics.clone(),
            async move {
                let _ = stopped.await;
            },
        )
        .await
        .unwrap();
        assert_ne!(addr.port(), 0);

        let response = get(addr, "GET", "/metrics").await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.to_ascii_lowercase().contains(
                "\r\ncontent-type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n"
            ),
            "{response}"
        );
        assert!(
            response
                .lines()
                .any(|l| l == "tessera_worker_jobs_claimed_total 5"),
            "{response}"
        );

        // Updates show in the next scrape.
        metrics.jobs_claimed.inc();
        let response = get(addr, "GET", "/metrics").await;
        assert!(
            response
                .lines()
                .any(|l| l == "tessera_worker_jobs_claimed_total 6"),
            "{response}"
        );

        let response = get(addr, "GET", "/").await;
        assert!(
            response.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{response}"
        );
        let response = get(addr, "GET", "/metrics/extra").await;
        assert!(
            response.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{response}"
        );
        let response = get(addr, "POST", "/metrics").await;
        assert!(
            response.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{response}"
        );

        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the server stops on shutdown")
            .unwrap();
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "the listener is closed after shutdown"
        );
    }

    #[tokio::test]
    async fn bind_errors_are_returned() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap();
        let e = serve(addr, Metrics::new(), std::future::pending())
            .await
            .expect_err("the address is taken");
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
        let e = e.to_string();
        assert!(
            e.starts_with(&format!("cannot serve metrics on {addr}: ")),
            "{e}"
        );
        assert!(e.contains("set metrics_addr (TESSERA_METRICS_ADDR)"), "{e}");
    }
}
