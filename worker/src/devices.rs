//! The devices a worker computes on: chosen at start-up by the self-test, then shared by the
//! jobs, one job per device at once.
//!
//! ```text
//!  start-up   each GPU of `devices`: open (compile, load every kernel) → self-test
//!             (known workloads, known roots) → used, or refused with one log line;
//!             the CPU reference is self-tested too (verifier, arbiter, fallback)
//!  a job      waits for an idle device, takes every other idle one too, and spreads its
//!             chunks over them; assembled in order, they are the bytes of Workload::run
//!  a failure  counted per device; a lost GPU (sticky driver error) is never used again;
//!             while claims are stopped, jobs already claimed run on the CPU
//!  re-test    the self-test again on the GPUs left (or the CPU): a pass resumes claims
//! ```
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tessera_kernels::{selftest, Backend, GpuError, KernelError, Output, Workload};
use tokio::sync::Notify;

use crate::config;
use crate::error::WorkerError;
use crate::metrics::{device_label, Metrics};

/// A device and the name its logs and metrics use (`cpu`, `cuda:<ordinal>`).
#[derive(Clone, Debug)]
pub struct Device {
    pub label: String,
    pub backend: Backend,
}

impl Device {
    /// The CPU reference.
    pub fn cpu() -> Device {
        Device {
            label: "cpu".to_string(),
            backend: Backend::Cpu,
        }
    }
}

/// Runs the self-test on a device: known workloads whose roots must be reproduced. Injected,
/// so that a test can stand in a device whose bytes are wrong.
pub type SelfTest = Arc<dyn Fn(&Device) -> Result<(), KernelError> + Send + Sync>;

/// The kernels' own self-test ([`selftest::self_test`]).
pub fn kernel_self_test() -> SelfTest {
    Arc::new(|d: &Device| selftest::self_test(&d.backend).map(|_| ()))
}

/// Where GPUs come from: the CUDA driver ([`Cuda`]), or stand-ins in tests.
pub trait Gpus: Send + Sync {
    /// How many devices there are.
    fn count(&self) -> Result<usize, GpuError>;
    /// Device `ordinal`, opened with every kernel compiled and loaded.
    fn open(&self, ordinal: usize) -> Result<Backend, GpuError>;
}

/// The CUDA driver's devices.
pub struct Cuda;

impl Gpus for Cuda {
    fn count(&self) -> Result<usize, GpuError> {
        tessera_kernels::cuda::device_count()
    }

    fn open(&self, ordinal: usize) -> Result<Backend, GpuError> {
        Backend::cuda(ordinal)
    }
}

/// Chooses the GPUs to compute on before the first claim: every device of `devices` is opened
/// and self-tested, and one that fails either is refused with a log line naming it and why.
/// The CPU reference is self-tested too, and must pass. Returns the GPUs that passed: none
/// means the CPU computes (`auto`, `cpu`); `cuda` with none is an error.
pub fn choose(
    backend: config::Backend,
    devices: &config::Devices,
    gpus: &dyn Gpus,
    self_test: &SelfTest,
) -> Result<Vec<Device>, WorkerError> {
    let cpu = Device::cpu();
    if let Err(e) = self_test(&cpu) {
        tracing::error!(device = %cpu.label, error = %e, "the CPU reference failed its self-test");
        return Err(WorkerError::NoBackend(format!(
            "the CPU reference failed its self-test: {e}"
        )));
    }
    if backend == config::Backend::Cpu {
        tracing::info!("computing on the CPU reference (backend = \"cpu\")");
        return Ok(Vec::new());
    }
    let ordinals: Vec<usize> = match devices {
        config::Devices::List(v) => v.clone(),
        config::Devices::All => match gpus.count() {
            Ok(n) => (0..n).collect(),
            Err(e) => {
                tracing::warn!(reason = %e, "no GPU found");
                Vec::new()
            }
        },
    };
    let mut passed = Vec::new();
    let mut refused = Vec::new();
    for ordinal in ordinals {
        let label = format!("cuda:{ordinal}");
        let checked = gpus
            .open(ordinal)
            .map_err(KernelError::from)
            .and_then(|backend| {
                let device = Device {
                    label: label.clone(),
                    backend,
                };
                self_test(&device).map(|()| device)
            });
        match checked {
            Ok(device) => {
                tracing::info!(device = %label, backend = %device.backend.describe(), "GPU passed its self-test");
                passed.push(device);
            }
            Err(e) => {
                tracing::warn!("GPU {label} refused: {e}");
                refused.push(format!("{label}: {e}"));
            }
        }
    }
    if passed.is_empty() {
        let why = if refused.is_empty() {
            "no GPU found".to_string()
        } else {
            refused.join("; ")
        };
        if backend == config::Backend::Cuda {
            return Err(WorkerError::NoBackend(format!(
                "backend = \"cuda\" and no GPU passed its self-test ({why})"
            )));
        }
        tracing::info!(%why, "no GPU passed its self-test: computing on the CPU reference");
    }
    Ok(passed)
}

struct Slot {
    device: Device,
    busy: bool,
    /// Unusable for good (a sticky driver error, or a failed re-test).
    lost: bool,
    /// A GPU (else the CPU reference, which is used only when no GPU is, or none is trusted).
    gpu: bool,
}

struct State {
    slots: Vec<Slot>,
    /// The GPUs are not trusted (claims are stopped): jobs run on the CPU.
    on_cpu: bool,
}

impl State {
    /// Whether jobs run on the GPUs now: some are left and they are trusted.
    fn on_gpus(&self) -> bool {
        !self.on_cpu && self.slots.iter().any(|s| s.gpu && !s.lost)
    }

    /// Whether slot `i` may take a job now.
    fn usable(&self, i: usize) -> bool {
        let s = &self.slots[i];
        !s.busy && !s.lost && s.gpu == self.on_gpus()
    }
}

/// One device, held by one job until dropped.
pub struct Lease<'a> {
    pool: &'a Pool,
    index: usize,
    pub device: Device,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.pool.state().slots[self.index].busy = false;
        self.pool.changed.notify_waiters();
    }
}

/// What a computation gave, and on which devices.
#[derive(Debug)]
pub struct Computed {
    pub output: Output,
    /// The devices that held the job (its chunks spread over them).
    pub devices: Vec<String>,
    /// Seconds from the start of the computation (once it held its devices) to its end.
    pub seconds: f64,
}

/// The devices of a worker, one job per device at once.
pub struct Pool {
    state: Mutex<State>,
    changed: Notify,
    metrics: Arc<Metrics>,
    self_test: SelfTest,
    /// Whether the CPU may carry claims when no GPU is left (`auto`; not `cuda`).
    cpu_may_claim: bool,
}

impl Pool {
    /// A pool of the `gpus` that passed their self-test, with the CPU reference as the fallback
    /// (or as the one device when there is no GPU).
    pub fn new(
        gpus: Vec<Device>,
        cpu_may_claim: bool,
        metrics: Arc<Metrics>,
        self_test: SelfTest,
    ) -> Pool {
        let mut slots: Vec<Slot> = gpus
            .into_iter()
            .map(|device| Slot {
                device,
                busy: false,
                lost: false,
                gpu: true,
            })
            .collect();
        slots.push(Slot {
            device: Device::cpu(),
            busy: false,
            lost: false,
            gpu: false,
        });
        Pool {
            state: Mutex::new(State {
                slots,
                on_cpu: false,
            }),
            changed: Notify::new(),
            metrics,
            self_test,
            cpu_may_claim,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("device pool")
    }

    /// The devices jobs run on now.
    pub fn describe(&self) -> String {
        let st = self.state();
        let on_gpus = st.on_gpus();
        let names: Vec<String> = st
            .slots
            .iter()
            .filter(|s| !s.lost && s.gpu == on_gpus)
            .map(|s| s.device.backend.describe())
            .collect();
        names.join(", ")
    }

    /// Runs jobs on the CPU (`true`) while the GPUs are not trusted, or on the GPUs again.
    pub fn set_on_cpu(&self, on_cpu: bool) {
        self.state().on_cpu = on_cpu;
        self.changed.notify_waiters();
    }

    /// An idle device, if one is free now.
    pub fn try_acquire(&self) -> Option<Lease<'_>> {
        let mut st = self.state();
        let i = (0..st.slots.len()).find(|&i| st.usable(i))?;
        st.slots[i].busy = true;
        Some(Lease {
            pool: self,
            index: i,
            device: st.slots[i].device.clone(),
        })
    }

    /// Waits for an idle device.
    pub async fn acquire(&self) -> Lease<'_> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(lease) = self.try_acquire() {
                return lease;
            }
            notified.await;
        }
    }

    /// Waits until slot `index` is idle (whatever the GPUs' trust) and holds it.
    async fn acquire_slot(&self, index: usize) -> Lease<'_> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.state();
                if !st.slots[index].busy {
                    st.slots[index].busy = true;
                    return Lease {
                        pool: self,
                        index,
                        device: st.slots[index].device.clone(),
                    };
                }
            }
            notified.await;
        }
    }

    /// Computes `workload`: on one idle device (waiting for one), and on every other device
    /// idle at that moment too, its chunks spread over them and assembled in order.
    pub async fn compute(&self, workload: Arc<Workload>) -> Result<Computed, WorkerError> {
        let mut leases = vec![self.acquire().await];
        if workload.chunk_count() > 1 {
            while let Some(lease) = self.try_acquire() {
                leases.push(lease);
            }
        }
        let devices: Vec<String> = leases.iter().map(|l| l.device.label.clone()).collect();
        let started = Instant::now();
        let output = if leases.len() == 1 {
            self.run_whole(&leases[0], workload).await?
        } else {
            self.run_spread(&leases, workload).await?
        };
        Ok(Computed {
            output,
            devices,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    async fn run_whole(
        &self,
        lease: &Lease<'_>,
        workload: Arc<Workload>,
    ) -> Result<Output, WorkerError> {
        let backend = lease.device.backend.clone();
        let started = Instant::now();
        let result = tokio::task::spawn_blocking(move || workload.run(&backend))
            .await
            .map_err(|e| WorkerError::from_join("the computation", e));
        let seconds = started.elapsed().as_secs_f64();
        let label = device_label(&lease.device.label);
        match result.and_then(|r| r.map_err(|e| self.failed(lease, e))) {
            Ok(output) => {
                self.metrics.device_jobs.get_or_create(&label).inc();
                self.metrics
                    .device_chunks
                    .get_or_create(&label)
                    .inc_by(output.chunks.len() as u64);
                self.metrics
                    .device_seconds
                    .get_or_create(&label)
                    .inc_by(seconds);
                Ok(output)
            }
            Err(e) => {
                if matches!(e, WorkerError::Panicked { .. }) {
                    self.metrics.device_failures.get_or_create(&label).inc();
                }
                Err(e)
            }
        }
    }

    async fn run_spread(
        &self,
        leases: &[Lease<'_>],
        workload: Arc<Workload>,
    ) -> Result<Output, WorkerError> {
        let count = workload.chunk_count();
        let next = Arc::new(AtomicU32::new(0));
        let tasks: Vec<_> = leases
            .iter()
            .map(|lease| {
                let (w, b, next) = (workload.clone(), lease.device.backend.clone(), next.clone());
                tokio::task::spawn_blocking(move || {
                    let started = Instant::now();
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            return (done, started.elapsed().as_secs_f64(), Ok(()));
                        }
                        match w.chunk(&b, i) {
                            Ok(c) => done.push((i, c)),
                            Err(e) => {
                                // The others stop after their chunk under way.
                                next.store(count, Ordering::Relaxed);
                                return (done, started.elapsed().as_secs_f64(), Err(e));
                            }
                        }
                    }
                })
            })
            .collect();
        let mut chunks: Vec<Option<Vec<u8>>> = vec![None; count as usize];
        let mut first_error = None;
        for (lease, task) in leases.iter().zip(tasks) {
            let label = device_label(&lease.device.label);
            let (done, seconds, result) = match task.await {
                Ok(r) => r,
                Err(e) => {
                    self.metrics.device_failures.get_or_create(&label).inc();
                    first_error.get_or_insert(WorkerError::from_join("the computation", e));
                    continue;
                }
            };
            if !done.is_empty() {
                self.metrics.device_jobs.get_or_create(&label).inc();
            }
            self.metrics
                .device_chunks
                .get_or_create(&label)
                .inc_by(done.len() as u64);
            self.metrics
                .device_seconds
                .get_or_create(&label)
                .inc_by(seconds);
            for (i, c) in done {
                chunks[i as usize] = Some(c);
            }
            if let Err(e) = result {
                let e = self.failed(lease, e);
                first_error.get_or_insert(e);
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let chunks = chunks
            .into_iter()
            .map(|c| c.expect("every chunk was computed"))
            .collect();
        Ok(Output { chunks })
    }

    /// Books a failed computation on the lease's device; a lost GPU is never used again.
    fn failed(&self, lease: &Lease<'_>, source: KernelError) -> WorkerError {
        let label = &lease.device.label;
        self.metrics
            .device_failures
            .get_or_create(&device_label(label))
            .inc();
        if source.is_device_lost() {
            tracing::error!(device = %label, error = %source, "GPU lost: it is not used again (restart the worker to reopen it)");
            self.state().slots[lease.index].lost = true;
            self.changed.notify_waiters();
        }
        WorkerError::Compute {
            device: label.clone(),
            source,
        }
    }

    /// Runs the self-test again on every GPU still in use (each as soon as it is idle), or on
    /// the CPU when none is left. A GPU that fails is not used again. `Ok` when jobs may be
    /// claimed again: at least one GPU passed, or (without GPUs, when the CPU may carry
    /// claims) the CPU did; jobs then run there.
    pub async fn retest(&self) -> Result<(), String> {
        let gpus: Vec<usize> = {
            let st = self.state();
            (0..st.slots.len())
                .filter(|&i| st.slots[i].gpu && !st.slots[i].lost)
                .collect()
        };
        let mut failures = Vec::new();
        let mut passed = false;
        for i in gpus {
            let lease = self.acquire_slot(i).await;
            match self.run_self_test(&lease.device).await {
                Ok(()) => passed = true,
                Err(e) => {
                    tracing::warn!("GPU {} refused: {e}", lease.device.label);
                    self.state().slots[i].lost = true;
                    failures.push(format!("{}: {e}", lease.device.label));
                }
            }
        }
        if passed {
            self.set_on_cpu(false);
            return Ok(());
        }
        if !self.cpu_may_claim {
            return Err(format!(
                "no GPU passed its self-test ({})",
                failures.join("; ")
            ));
        }
        let cpu = self.state().slots.len() - 1;
        let lease = self.acquire_slot(cpu).await;
        match self.run_self_test(&lease.device).await {
            Ok(()) => {
                drop(lease);
                self.changed.notify_waiters();
                Ok(())
            }
            Err(e) => Err(format!("the CPU reference failed its self-test: {e}")),
        }
    }

    async fn run_self_test(&self, device: &Device) -> Result<(), String> {
        let (test, device) = (self.self_test.clone(), device.clone());
        tokio::task::spawn_blocking(move || test(&device).map_err(|e| e.to_string()))
            .await
            .map_err(|e| WorkerError::from_join("the self-test", e).to_string())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use tessera_kernels::quant::QuantWorkload;
    use tessera_kernels::selftest::left_shift_mlp;

    /// GPUs stood in by CPU backends: `count` devices, of which `broken` do not open.
    struct StandIns {
        count: usize,
        broken: Vec<usize>,
    }

    impl Gpus for StandIns {
        fn count(&self) -> Result<usize, GpuError> {
            Ok(self.count)
        }

        fn open(&self, ordinal: usize) -> Result<Backend, GpuError> {
            if self.broken.contains(&ordinal) {
                return Err(GpuError::Unavailable(format!(
                    "stand-in {ordinal} does not open"
                )));
            }
            Ok(Backend::Cpu)
        }
    }

    fn small() -> Workload {
        Workload::MlpI8(QuantWorkload {
            model: left_shift_mlp(),
        })
    }

    /// A self-test that really computes a workload on the device and compares its root with
    /// the expected one; `wrong` devices are given a wrong expected root, so their honest
    /// bytes disagree (as a diverging GPU's would).
    fn root_check(wrong: &'static [&'static str]) -> SelfTest {
        let truth = small().run(&Backend::Cpu).unwrap().root();
        Arc::new(move |d: &Device| {
            let expected = if wrong.contains(&d.label.as_str()) {
                [0; 32]
            } else {
                truth
            };
            let got = small().run(&d.backend)?.root();
            if got != expected {
                return Err(KernelError::SelfTestMismatch {
                    device: d.label.clone(),
                    workload: "mlp-i8",
                    expected: tessera_client::store::hex(&expected),
                    got: tessera_client::store::hex(&got),
                });
            }
            Ok(())
        })
    }

    fn labels(devices: &[Device]) -> Vec<&str> {
        devices.iter().map(|d| d.label.as_str()).collect()
    }

    #[test]
    fn start_up_refuses_gpus_that_fail_to_open_or_disagree() {
        use config::{Backend as Kind, Devices};
        let gpus = StandIns {
            count: 3,
            broken: vec![1],
        };
        let test = root_check(&["cuda:2"]);
        let chosen = choose(Kind::Auto, &Devices::All, &gpus, &test).unwrap();
        assert_eq!(labels(&chosen), ["cuda:0"]);
        let chosen = choose(Kind::Cuda, &Devices::List(vec![2, 0]), &gpus, &test).unwrap();
        assert_eq!(labels(&chosen), ["cuda:0"], "the listed devices only");

        // None passes: auto falls back to the CPU, cuda refuses to start naming each.
        let none = Devices::List(vec![1, 2]);
        assert!(choose(Kind::Auto, &none, &gpus, &test).unwrap().is_empty());
        let e = choose(Kind::Cuda, &none, &gpus, &test).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, WorkerError::NoBackend(_)), "{text}");
        assert!(
            text.contains("cuda:1: ") && text.contains("does not open"),
            "{text}"
        );
        assert!(
            text.contains("cuda:2: ") && text.contains("self-test"),
            "{text}"
        );

        // The CPU reference is tested in every mode and must pass.
        let cpu_wrong = root_check(&["cpu"]);
        for kind in [Kind::Cpu, Kind::Auto, Kind::Cuda] {
            let e = choose(kind, &Devices::All, &gpus, &cpu_wrong).unwrap_err();
            assert!(e.to_string().contains("the CPU reference failed"), "{e}");
        }
        assert!(choose(Kind::Cpu, &Devices::All, &gpus, &test)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn start_up_with_the_real_driver_and_the_kernels_self_test() {
        use config::{Backend as Kind, Devices};
        let test = kernel_self_test();
        let gpus = choose(Kind::Auto, &Devices::All, &Cuda, &test).unwrap();
        let found = tessera_kernels::cuda::device_count().unwrap_or(0);
        assert!(gpus.len() <= found);
        if found == 0 {
            let e = choose(Kind::Cuda, &Devices::All, &Cuda, &test).unwrap_err();
            assert!(e.to_string().contains("no GPU"), "{e}");
        }
    }

    fn stand_in_pool(gpus: usize, cpu_may_claim: bool, test: SelfTest) -> (Pool, Arc<Metrics>) {
        let metrics = Metrics::new();
        let devices = (0..gpus)
            .map(|i| Device {
                label: format!("cuda:{i}"),
                backend: Backend::Cpu,
            })
            .collect();
        (
            Pool::new(devices, cpu_may_claim, metrics.clone(), test),
            metrics,
        )
    }

    fn count(
        family: &prometheus_client::metrics::family::Family<
            crate::metrics::DeviceLabel,
            prometheus_client::metrics::counter::Counter,
        >,
        device: &str,
    ) -> u64 {
        family.get_or_create(&device_label(device)).get()
    }

    #[test]
    fn one_job_per_device_and_the_cpu_only_when_the_gpus_are_not_trusted() {
        let (pool, _) = stand_in_pool(2, true, root_check(&[]));
        let a = pool.try_acquire().unwrap();
        let b = pool.try_acquire().unwrap();
        assert_eq!(
            (a.device.label.as_str(), b.device.label.as_str()),
            ("cuda:0", "cuda:1")
        );
        assert!(
            pool.try_acquire().is_none(),
            "every GPU busy; the CPU is not used"
        );
        let waiting = pool.acquire();
        futures_util::pin_mut!(waiting);
        assert!(waiting.as_mut().now_or_never().is_none());
        drop(b);
        let c = waiting.now_or_never().expect("a freed device is handed on");
        assert_eq!(c.device.label, "cuda:1");
        drop((a, c));

        pool.set_on_cpu(true);
        let cpu = pool.try_acquire().unwrap();
        assert_eq!(cpu.device.label, "cpu");
        assert!(pool.try_acquire().is_none(), "the CPU holds one job too");
        drop(cpu);
        pool.set_on_cpu(false);
        assert_eq!(pool.try_acquire().unwrap().device.label, "cuda:0");

        // Without GPUs the CPU is the device, trusted or not.
        let (cpu_only, _) = pool_of_cpu();
        assert_eq!(cpu_only.try_acquire().unwrap().device.label, "cpu");
        cpu_only.set_on_cpu(true);
        assert_eq!(cpu_only.try_acquire().unwrap().device.label, "cpu");
    }

    fn pool_of_cpu() -> (Pool, Arc<Metrics>) {
        stand_in_pool(0, true, root_check(&[]))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_spread_over_idle_devices_gives_the_single_device_bytes() {
        let bench =
            Workload::Benchmark(tessera_kernels::benchmark::BenchmarkWorkload::get().clone());
        let chunks = bench.chunk_count() as u64;
        let expected = bench.run(&Backend::Cpu).unwrap();
        let (pool, metrics) = stand_in_pool(3, true, root_check(&[]));
        let computed = pool.compute(Arc::new(bench.clone())).await.unwrap();
        assert_eq!(computed.devices, ["cuda:0", "cuda:1", "cuda:2"]);
        assert_eq!(computed.output.root(), expected.root());
        assert_eq!(computed.output, expected, "same chunks, same order");
        let per_device: Vec<u64> = computed
            .devices
            .iter()
            .map(|d| count(&metrics.device_chunks, d))
            .collect();
        assert_eq!(per_device.iter().sum::<u64>(), chunks, "{per_device:?}");
        assert_eq!(count(&metrics.device_chunks, "cpu"), 0);

        // With one device busy, the job takes the two others.
        let busy = pool.try_acquire().unwrap();
        let computed = pool.compute(Arc::new(bench)).await.unwrap();
        assert_eq!(computed.devices, ["cuda:1", "cuda:2"]);
        assert_eq!(computed.output.root(), expected.root());
        drop(busy);
    }

    #[tokio::test]
    async fn a_one_chunk_job_runs_whole_on_one_device_and_is_counted_there() {
        let (pool, metrics) = stand_in_pool(2, true, root_check(&[]));
        let mut model = left_shift_mlp();
        model.rows_per_chunk = model.rows as u32;
        let w = Workload::MlpI8(QuantWorkload { model });
        assert_eq!(w.chunk_count(), 1);
        let computed = pool.compute(Arc::new(w)).await.unwrap();
        assert_eq!(computed.devices, ["cuda:0"]);
        assert_eq!(count(&metrics.device_jobs, "cuda:0"), 1);
        assert_eq!(count(&metrics.device_chunks, "cuda:0"), 1);
        assert_eq!(count(&metrics.device_jobs, "cuda:1"), 0);
        assert!(metrics
            .encode()
            .contains("tessera_worker_device_jobs_total{device=\"cuda:0\"} 1"));
    }

    #[tokio::test]
    async fn a_retest_that_passes_brings_the_gpus_back_and_one_that_fails_drops_them() {
        let (pool, _) = stand_in_pool(2, true, root_check(&["cuda:1"]));
        pool.set_on_cpu(true);
        pool.retest().await.unwrap();
        let held = pool.try_acquire().unwrap();
        assert_eq!(held.device.label, "cuda:0");
        assert!(
            pool.try_acquire().is_none(),
            "cuda:1 failed its re-test: not used again"
        );

        // cuda mode: with no GPU passing, claims stay stopped; jobs run on the CPU.
        let (strict, _) = stand_in_pool(1, false, root_check(&["cuda:0"]));
        strict.set_on_cpu(true);
        let e = strict.retest().await.unwrap_err();
        assert!(e.contains("cuda:0"), "{e}");
        assert_eq!(strict.try_acquire().unwrap().device.label, "cpu");

        // auto mode: the CPU takes over when no GPU is left.
        let (auto, _) = stand_in_pool(1, true, root_check(&["cuda:0"]));
        auto.retest().await.unwrap();
        assert_eq!(auto.try_acquire().unwrap().device.label, "cpu");
        // And a CPU that fails its re-test keeps claims stopped.
        let (bad_cpu, _) = stand_in_pool(0, true, root_check(&["cpu"]));
        assert!(bad_cpu.retest().await.unwrap_err().contains("CPU"));
    }
}
