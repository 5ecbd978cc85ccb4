//! The worker's configuration: a TOML file, overridden by `TESSERA_*` environment variables.
//!
//! Sources, later ones winning field by field:
//!
//! 1. the built-in defaults (every field has one, so a partial file is enough; only `market`
//!    must be given somewhere);
//! 2. the TOML file passed to [`Config::load`], if any (`tessera-worker.sample.toml` next to
//!    this crate lists every field with its default);
//! 3. environment variables: `TESSERA_` followed by the field name in capitals, with `__`
//!    between a table and its field:
//!
//! | variable                                | field                         |
//! |-----------------------------------------|-------------------------------|
//! | `TESSERA_RPC_URL`                       | `rpc_url`                     |
//! | `TESSERA_WS_URL`                        | `ws_url`                      |
//! | `TESSERA_KEYPAIR`                       | `keypair`                     |
//! | `TESSERA_MARKET`                        | `market`                      |
//! | `TESSERA_PROGRAM_ID`                    | `program_id`                  |
//! | `TESSERA_STORE`                         | `store`                       |
//! | `TESSERA_INPUT_STORES`                  | `input_stores`                |
//! | `TESSERA_DATA_DIR`                      | `data_dir`                    |
//! | `TESSERA_METRICS_ADDR`                  | `metrics_addr`                |
//! | `TESSERA_BACKEND`                       | `backend`                     |
//! | `TESSERA_DEVICES`                       | `devices`                     |
//! | `TESSERA_MAX_COMPUTE_FAILURES`          | `max_compute_failures`        |
//! | `TESSERA_SELF_TEST_RETRY_SECS`          | `self_test_retry_secs`        |
//! | `TESSERA_MAX_CONCURRENT_JOBS`           | `max_concurrent_jobs`         |
//! | `TESSERA_MIN_REWARD_PER_UNIT`           | `min_reward_per_unit`         |
//! | `TESSERA_MIN_EXEC_MARGIN_SECS`          | `min_exec_margin_secs`        |
//! | `TESSERA_WORK_UNITS_PER_SEC`            | `work_units_per_sec`          |
//! | `TESSERA_RESYNC_INTERVAL_SECS`          | `resync_interval_secs`        |
//! | `TESSERA_POLL_INTERVAL_MS`              | `poll_interval_ms`            |
//! | `TESSERA_CRANK`                         | `crank`                       |
//! | `TESSERA_CRANK_GRACE_SECS`              | `crank_grace_secs`            |
//! | `TESSERA_ARBITER`                       | `arbiter`                     |
//! | `TESSERA_PRIORITY_FEE_MICRO_LAMPORTS`   | `priority_fee_micro_lamports` |
//! | `TESSERA_VERIFY__ENABLED`               | `verify.enabled`              |
//! | `TESSERA_VERIFY__SAMPLE_RATE`           | `verify.sample_rate`          |
//! | `TESSERA_VERIFY__CHUNKS_PER_JOB`        | `verify.chunks_per_job`       |
//! | `TESSERA_VERIFY__BUDGET_SECS_PER_HOUR`  | `verify.budget_secs_per_hour` |
//!
//! Only these variables are read: other `TESSERA_*` variables (the `tessera` CLI's
//! `TESSERA_URL`, `TESSERA_OUTPUT`, `TESSERA_PRIORITY_FEE`, build switches, …) are ignored.
//! `TESSERA_KEYPAIR`, `TESSERA_MARKET`, `TESSERA_PROGRAM_ID` and `TESSERA_STORE` are the
//! CLI's names too, so one shell can drive both with the same operator key, market, program
//! and store. A market is named by its address (a mint may have several markets): a `mint`
//! key, which named the market before, is refused with the setting to use instead. An empty variable
//! unsets an optional field (`TESSERA_WS_URL=` derives the websocket URL again).
//!
//! A loaded configuration is validated ([`Config::validate`]); errors name the field and its
//! variable.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use url::Url;

/// The prefix of the environment variables the worker reads.
pub const ENV_PREFIX: &str = "TESSERA_";

/// Keys the environment may set, as figment names them after `__` became `.`.
const ENV_KEYS: &[&str] = &[
    "rpc_url",
    "ws_url",
    "keypair",
    "market",
    "program_id",
    "store",
    "input_stores",
    "data_dir",
    "metrics_addr",
    "backend",
    "devices",
    "max_compute_failures",
    "self_test_retry_secs",
    "max_concurrent_jobs",
    "min_reward_per_unit",
    "min_exec_margin_secs",
    "work_units_per_sec",
    "resync_interval_secs",
    "poll_interval_ms",
    "crank",
    "crank_grace_secs",
    "arbiter",
    "priority_fee_micro_lamports",
    "verify.enabled",
    "verify.sample_rate",
    "verify.chunks_per_job",
    "verify.budget_secs_per_hour",
];

/// Why an old `mint` key is refused: a mint no longer names one market.
const MINT_NAMES_NO_MARKET: &str = "a mint no longer names a market (a mint may have several, one \
     per founder): replace `mint` with `market = \"<address>\"`, the market's address \
     (`tessera market init` and `tessera localnet` print it)";

/// Default JSON-RPC endpoint: a local validator.
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8899";
/// Default keypair file, the Solana CLI's.
pub use tessera_client::paths::DEFAULT_KEYPAIR;
/// Default directory for the worker's state.
pub const DEFAULT_DATA_DIR: &str = "~/.local/share/tessera-worker";
/// Default address of the Prometheus endpoint.
pub const DEFAULT_METRICS_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9464);

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file given could not be read.
    #[error("cannot read the configuration file {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    /// The file or an environment variable does not parse, or names an unknown field.
    #[error("bad configuration: {0}")]
    Parse(String),
    /// A field parses but its value is not acceptable.
    #[error("invalid `{field}` (variable {}): {reason}", env_var(field))]
    Invalid { field: &'static str, reason: String },
}

/// The environment variable that sets `field` (`verify.enabled` -> `TESSERA_VERIFY__ENABLED`).
pub fn env_var(field: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        field.replace('.', "__").to_ascii_uppercase()
    )
}

/// Where results are computed. Every GPU used, and the CPU reference, must first pass the
/// start-up self-test (known workloads, known Merkle roots).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The GPUs of `devices` that pass the self-test; the CPU when none does.
    #[default]
    Auto,
    /// The CPU reference only.
    Cpu,
    /// The GPUs of `devices` that pass the self-test; the worker refuses to start when none
    /// does.
    Cuda,
}

/// Which CUDA devices the worker uses: `"all"` (every device the driver reports) or a list
/// of ordinals (`[0, 2]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "DevicesRepr", into = "DevicesRepr")]
pub enum Devices {
    #[default]
    All,
    /// These ordinals, in this order.
    List(Vec<usize>),
}

/// [`Devices`] as written: a word or a list.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
enum DevicesRepr {
    Word(String),
    List(Vec<usize>),
}

impl TryFrom<DevicesRepr> for Devices {
    type Error = String;

    fn try_from(r: DevicesRepr) -> Result<Self, String> {
        match r {
            DevicesRepr::Word(w) if w.trim().eq_ignore_ascii_case("all") => Ok(Devices::All),
            DevicesRepr::Word(w) => Err(format!(
                "\"{w}\" is not \"all\" or a list of device ordinals such as [0, 1]"
            )),
            DevicesRepr::List(v) => Ok(Devices::List(v)),
        }
    }
}

impl From<Devices> for DevicesRepr {
    fn from(d: Devices) -> Self {
        match d {
            Devices::All => DevicesRepr::Word("all".to_string()),
            Devices::List(v) => DevicesRepr::List(v),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Auto => "auto",
            Backend::Cpu => "cpu",
            Backend::Cuda => "cuda",
        })
    }
}

/// Checking other operators' revealed results: on by default, within a compute budget.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyConfig {
    /// Recompute samples of other operators' results and challenge wrong ones.
    pub enabled: bool,
    /// Fraction of revealed jobs checked, in `[0, 1]`.
    pub sample_rate: f64,
    /// Output chunks recomputed per checked job (at least 1).
    pub chunks_per_job: u32,
    /// Most seconds spent verifying in any hour (the default, 180, is 5 % of one device's
    /// time); no new check starts while the last hour's checks took that long.
    pub budget_secs_per_hour: u64,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            enabled: true,
            sample_rate: 1.0,
            chunks_per_job: 2,
            budget_secs_per_hour: 180,
        }
    }
}

/// The worker's configuration. See the [module documentation](self) for its sources.
///
/// [`Config::default`] is every field's default; it has no `market`, so it does not pass
/// [`Config::validate`] until one is set.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// JSON-RPC endpoint (`http://` or `https://`).
    pub rpc_url: String,
    /// Websocket (pubsub) endpoint; `None` derives it from `rpc_url` as the Solana CLI does
    /// (see [`Config::ws_url`]).
    pub ws_url: Option<String>,
    /// The operator's keypair file; a leading `~/` is the home directory.
    pub keypair: PathBuf,
    /// The market's address, base58 (`tessera market init` and `tessera localnet` print it).
    /// Required.
    pub market: String,
    /// The program's id, base58: the deployment the market lives in. Defaults to the id this
    /// worker was built with (the local networks' id, `3GwP…`, unless built for another).
    pub program_id: String,
    /// Object store the results are written to: a directory, or a `file://`, `s3://`,
    /// `gs://`, `az://` or `https://` URL. Defaults to `file://<data_dir>/store` (left empty
    /// while parsing, filled in once `data_dir` is known).
    #[serde(default)]
    pub store: String,
    /// More object stores to look in for inputs posted relative to a store
    /// (`inputs/<sha256>`, what `tessera job submit` posts for a local directory), after
    /// `store`: directories or URLs, as `store`. An input posted as a URL is read from there.
    pub input_stores: Vec<String>,
    /// Directory of the worker's state database.
    pub data_dir: PathBuf,
    /// Address of the Prometheus `/metrics` endpoint; `None` (written `"off"`) disables it.
    #[serde(with = "metrics_addr_serde")]
    pub metrics_addr: Option<SocketAddr>,
    /// Where results are computed.
    pub backend: Backend,
    /// The CUDA devices to use (`backend` `auto` or `cuda`).
    pub devices: Devices,
    /// Compute failures in a row after which no new job is claimed until the self-test passes
    /// again (at least 1). A lost GPU (a sticky driver error) stops claims at once.
    pub max_compute_failures: u32,
    /// Seconds before the self-test is first re-run once claims have stopped (at least 1);
    /// the wait doubles after each failed re-run, up to ten minutes.
    pub self_test_retry_secs: u64,
    /// Jobs held at once: claimed and not yet delivered (at least 1). Each device computes one
    /// job at a time; a job's chunks are spread over the devices idle when it starts.
    pub max_concurrent_jobs: u32,
    /// Smallest reward, in base units of the mint per million work units, worth claiming.
    pub min_reward_per_unit: f64,
    /// Seconds, besides the estimated compute time, a job's `exec_timeout` must leave for the
    /// claim, the upload and the delivery; a job that leaves less is not claimed (a deadline
    /// no worker can meet only farms no-show slashes).
    pub min_exec_margin_secs: u64,
    /// Work units per second this worker is assumed to compute, for the estimate above, until
    /// it has computed a job of the kernel (then its measured rate is used). Cautious: the CPU
    /// reference does several million.
    pub work_units_per_sec: f64,
    /// Seconds between two full resyncs of the program's accounts (at least 1).
    pub resync_interval_secs: u64,
    /// Milliseconds between two checks for due steps and cranks (at least 50).
    pub poll_interval_ms: u64,
    /// Send the finalize, timeout and expire cranks that fall due.
    pub crank: bool,
    /// Seconds between two turns of the crank order: a job's own operators crank first, in
    /// slot order, one turn apart; other workers after them. 0 sends every crank at once.
    pub crank_grace_secs: u64,
    /// Rule disputed jobs when the keypair is the market's arbiter.
    pub arbiter: bool,
    /// Priority fee in micro-lamports per compute unit; `None` sends none.
    pub priority_fee_micro_lamports: Option<u64>,
    /// Checking other operators' results.
    pub verify: VerifyConfig,
}

impl Default for Config {
    fn default() -> Self {
        let data_dir = PathBuf::from(DEFAULT_DATA_DIR);
        Config {
            rpc_url: DEFAULT_RPC_URL.to_string(),
            ws_url: None,
            keypair: PathBuf::from(DEFAULT_KEYPAIR),
            market: String::new(),
            program_id: tessera_client::PROGRAM_ID.to_string(),
            store: default_store(&data_dir),
            input_stores: Vec::new(),
            data_dir,
            metrics_addr: Some(DEFAULT_METRICS_ADDR),
            backend: Backend::Auto,
            devices: Devices::All,
            max_compute_failures: 3,
            self_test_retry_secs: 30,
            max_concurrent_jobs: 2,
            min_reward_per_unit: 0.0,
            min_exec_margin_secs: 10,
            work_units_per_sec: 2_000_000.0,
            resync_interval_secs: 10,
            poll_interval_ms: 500,
            crank: true,
            crank_grace_secs: 2,
            arbiter: false,
            priority_fee_micro_lamports: None,
            verify: VerifyConfig::default(),
        }
    }
}

impl Config {
    /// Loads the configuration: defaults, then the TOML file at `path` (when given; it must
    /// exist), then the `TESSERA_*` environment variables; then validates it.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_with_prefix(path, ENV_PREFIX)
    }

    /// [`Config::load`] with another variable prefix.
    fn load_with_prefix(path: Option<&Path>, prefix: &str) -> Result<Config, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = path {
            match std::fs::metadata(path) {
                Ok(meta) if meta.is_file() => {}
                Ok(_) => {
                    return Err(ConfigError::Read {
                        path: path.to_path_buf(),
                        reason: "not a file".to_string(),
                    })
                }
                Err(e) => {
                    return Err(ConfigError::Read {
                        path: path.to_path_buf(),
                        reason: e.to_string(),
                    })
                }
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(env_source(prefix));
        Self::extract(figment)
    }

    /// Parses a TOML document over the defaults (no environment) and validates the result.
    pub fn from_toml_str(toml: &str) -> Result<Config, ConfigError> {
        Self::extract(Figment::from(Toml::string(toml)))
    }

    fn extract(figment: Figment) -> Result<Config, ConfigError> {
        if figment.find_value("mint").is_ok() {
            return Err(ConfigError::Invalid {
                field: "mint",
                reason: MINT_NAMES_NO_MARKET.to_string(),
            });
        }
        let mut config: Config = figment.extract().map_err(|e| {
            ConfigError::Parse(e.into_iter().map(describe).collect::<Vec<_>>().join("; "))
        })?;
        config.fill_in();
        config.validate()?;
        Ok(config)
    }

    /// Gives empty optional fields their defaults: an empty `ws_url` is `None`, an empty
    /// `store` follows `data_dir`.
    fn fill_in(&mut self) {
        if self.ws_url.as_deref().is_some_and(|s| s.trim().is_empty()) {
            self.ws_url = None;
        }
        if self.store.trim().is_empty() {
            self.store = default_store(&self.data_dir);
        }
    }

    /// Checks every field, naming the first one that is not acceptable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn invalid(field: &'static str, reason: impl Into<String>) -> ConfigError {
            ConfigError::Invalid {
                field,
                reason: reason.into(),
            }
        }

        let rpc = endpoint(&self.rpc_url, &["http", "https"]).map_err(|why| {
            invalid(
                "rpc_url",
                format!(
                    "\"{}\" is not an http:// or https:// URL: {why}",
                    self.rpc_url
                ),
            )
        })?;
        match &self.ws_url {
            Some(ws) => {
                endpoint(ws, &["ws", "wss"]).map_err(|why| {
                    invalid(
                        "ws_url",
                        format!("\"{ws}\" is not a ws:// or wss:// URL: {why}"),
                    )
                })?;
            }
            None if rpc.port() == Some(u16::MAX) => {
                return Err(invalid(
                    "ws_url",
                    "rpc_url uses port 65535, so the websocket port (one more) cannot be derived: set ws_url",
                ));
            }
            None => {}
        }
        if self.keypair.as_os_str().is_empty() {
            return Err(invalid("keypair", "empty path"));
        }
        if self.market.trim().is_empty() {
            return Err(invalid(
                "market",
                "required: the market's address (base58, printed by `tessera market init` and `tessera localnet`), in the configuration file or the variable",
            ));
        }
        self.market_pubkey()?;
        self.program_id_pubkey()?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "empty path"));
        }
        check_store_location(&self.store).map_err(|why| invalid("store", why))?;
        for store in &self.input_stores {
            check_store_location(store).map_err(|why| invalid("input_stores", why))?;
        }
        // Output URIs under the store go on chain, where their length is bounded.
        tessera_client::store::check_output_base(&self.store_base())
            .map_err(|e| invalid("store", e.to_string()))?;
        if matches!(&self.devices, Devices::List(v) if v.is_empty()) {
            return Err(invalid(
                "devices",
                "an empty list: name at least one device, or \"all\"",
            ));
        }
        if let Devices::List(v) = &self.devices {
            if let Some(d) = v
                .iter()
                .enumerate()
                .find_map(|(i, d)| v[..i].contains(d).then_some(d))
            {
                return Err(invalid("devices", format!("device {d} is listed twice")));
            }
        }
        if self.max_compute_failures < 1 {
            return Err(invalid("max_compute_failures", "must be at least 1"));
        }
        if self.self_test_retry_secs < 1 {
            return Err(invalid("self_test_retry_secs", "must be at least 1"));
        }
        if self.max_concurrent_jobs < 1 {
            return Err(invalid("max_concurrent_jobs", "must be at least 1"));
        }
        if !self.min_reward_per_unit.is_finite() || self.min_reward_per_unit < 0.0 {
            return Err(invalid(
                "min_reward_per_unit",
                format!(
                    "must be a finite number >= 0, got {}",
                    self.min_reward_per_unit
                ),
            ));
        }
        if !self.work_units_per_sec.is_finite() || self.work_units_per_sec <= 0.0 {
            return Err(invalid(
                "work_units_per_sec",
                format!(
                    "must be a finite number > 0, got {}",
                    self.work_units_per_sec
                ),
            ));
        }
        if self.resync_interval_secs < 1 {
            return Err(invalid("resync_interval_secs", "must be at least 1"));
        }
        if self.poll_interval_ms < 50 {
            return Err(invalid(
                "poll_interval_ms",
                format!("must be at least 50, got {}", self.poll_interval_ms),
            ));
        }
        let rate = self.verify.sample_rate;
        if !(0.0..=1.0).contains(&rate) {
            return Err(invalid(
                "verify.sample_rate",
                format!("must be between 0 and 1, got {rate}"),
            ));
        }
        if self.verify.chunks_per_job < 1 {
            return Err(invalid("verify.chunks_per_job", "must be at least 1"));
        }
        if self.verify.budget_secs_per_hour > 3_600 {
            return Err(invalid(
                "verify.budget_secs_per_hour",
                format!(
                    "must be at most 3600 (an hour), got {}",
                    self.verify.budget_secs_per_hour
                ),
            ));
        }
        Ok(())
    }

    /// The websocket endpoint: `ws_url` when set, otherwise derived from `rpc_url` the way
    /// the Solana CLI does it: `http` becomes `ws`, `https` becomes `wss`, and an explicit
    /// port is incremented (`http://127.0.0.1:8899` -> `ws://127.0.0.1:8900`).
    pub fn ws_url(&self) -> String {
        match self.ws_url.as_deref().map(str::trim) {
            Some(ws) if !ws.is_empty() => ws.to_string(),
            _ => derive_ws_url(&self.rpc_url),
        }
    }

    /// The keypair file, `~/` expanded.
    pub fn keypair_path(&self) -> PathBuf {
        expand_home(&self.keypair)
    }

    /// The state directory, `~/` expanded.
    pub fn data_dir(&self) -> PathBuf {
        expand_home(&self.data_dir)
    }

    /// The object store's base URL, without a trailing `/`: a directory (or a
    /// `file://~/…` URL) becomes an absolute `file://` URL, other URLs stay as they are.
    pub fn store_base(&self) -> String {
        let store = self.store.trim();
        let local = match store.split_once("://") {
            Some((scheme, rest))
                if scheme.eq_ignore_ascii_case("file")
                    && (rest == "~" || rest.starts_with("~/")) =>
            {
                rest
            }
            Some(_) => return store.trim_end_matches('/').to_string(),
            None => store,
        };
        let path = expand_home(Path::new(local));
        let path = path.to_string_lossy();
        tessera_client::store::normalize_base(&path)
            .unwrap_or_else(|_| format!("file://{}", path.trim_end_matches('/')))
    }

    /// Where inputs posted relative to a store are looked for, in order: [`Config::store_base`],
    /// then each of `input_stores` (made absolute as `store` is), without repeats.
    pub fn input_bases(&self) -> Vec<String> {
        let mut bases = vec![self.store_base()];
        for store in &self.input_stores {
            let base = Config {
                store: store.clone(),
                ..Config::default()
            }
            .store_base();
            if !bases.contains(&base) {
                bases.push(base);
            }
        }
        bases
    }

    /// The market's address (validated configurations always have one).
    pub fn market_pubkey(&self) -> Result<Pubkey, ConfigError> {
        Pubkey::from_str(self.market.trim()).map_err(|_| ConfigError::Invalid {
            field: "market",
            reason: format!("\"{}\" is not a base58 address", self.market),
        })
    }

    /// The program's id.
    pub fn program_id_pubkey(&self) -> Result<Pubkey, ConfigError> {
        Pubkey::from_str(self.program_id.trim()).map_err(|_| ConfigError::Invalid {
            field: "program_id",
            reason: format!("\"{}\" is not a base58 address", self.program_id),
        })
    }
}

/// One figment error, naming the key and where its value came from (the file, or the
/// variable).
fn describe(e: figment::Error) -> String {
    let mut text = e.kind.to_string().trim_end().to_string();
    let key = e.path.join(".");
    let env_prefix = e.metadata.as_ref().and_then(|md| {
        md.name
            .contains("environment variable")
            .then(|| md.name.split('`').nth(1).unwrap_or(ENV_PREFIX).to_string())
    });
    match env_prefix {
        Some(prefix) if !key.is_empty() => {
            text += &format!(
                " in {prefix}{}",
                key.replace('.', "__").to_ascii_uppercase()
            );
        }
        _ => {
            if !key.is_empty() {
                text += &format!(" for `{key}`");
            }
            if let Some(md) = &e.metadata {
                match &md.source {
                    Some(source) => text += &format!(" in {source}"),
                    None => text += &format!(" in the {}", md.name),
                }
            }
        }
    }
    text
}

/// The environment source: `<prefix><FIELD>` for the known fields only, `__` nesting.
fn env_source(prefix: &str) -> Env {
    Env::prefixed(prefix).split("__").only(ENV_KEYS)
}

/// Checks a store location (`store`, an entry of `input_stores`): a directory, or a URL that
/// names a place.
fn check_store_location(store: &str) -> Result<(), String> {
    let store = store.trim();
    if store.is_empty() {
        return Err("an empty location".into());
    }
    if store.contains("://") {
        let url = Url::parse(store).map_err(|e| format!("\"{store}\" is not a URL: {e}"))?;
        let host = url.host_str().unwrap_or("");
        if url.scheme() == "file" && !(host.is_empty() || host == "~") {
            return Err(format!(
                "\"{store}\": a file:// URL needs an absolute path (file:///dir)"
            ));
        }
        if host.is_empty() && url.path().trim_matches('/').is_empty() {
            return Err(format!("\"{store}\" names no location"));
        }
    }
    Ok(())
}

/// `file://<data_dir>/store`, or `<data_dir>/store` when `data_dir` is relative (a
/// directory, made absolute by [`Config::store_base`]).
fn default_store(data_dir: &Path) -> String {
    let dir = data_dir.to_string_lossy();
    let dir = dir.trim_end_matches('/');
    if data_dir.is_absolute() || dir == "~" || dir.starts_with("~/") {
        format!("file://{dir}/store")
    } else {
        format!("{dir}/store")
    }
}

/// `path` with a leading `~` (alone or followed by `/`) replaced by `$HOME`; unchanged when
/// `HOME` is not set.
pub use tessera_client::paths::expand_home;

/// `url` parsed, when its scheme is one of `schemes` and it names a host; else why not.
fn endpoint(url: &str, schemes: &[&str]) -> Result<Url, String> {
    let parsed = Url::parse(url.trim()).map_err(|e| e.to_string())?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(format!("the scheme is {}", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("it names no host".to_string());
    }
    Ok(parsed)
}

/// The Solana CLI's websocket URL for a JSON-RPC URL (its `compute_websocket_url`): `http`
/// becomes `ws`, `https` becomes `wss`, an explicit port (not the scheme's default) is
/// incremented. A URL without a path keeps none.
fn derive_ws_url(rpc_url: &str) -> String {
    let rpc_url = rpc_url.trim();
    let Ok(mut url) = Url::parse(rpc_url) else {
        return rpc_url.to_string();
    };
    let ws = if url.scheme() == "https" { "wss" } else { "ws" };
    if url.set_scheme(ws).is_err() {
        return rpc_url.to_string();
    }
    if let Some(port) = url.port() {
        // Cannot fail: the URL has a host (http and https URLs always do).
        let _ = url.set_port(Some(port.saturating_add(1)));
    }
    let text = url.to_string();
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    match text.strip_suffix('/') {
        Some(without) if bare && !rpc_url.ends_with('/') => without.to_string(),
        _ => text,
    }
}

/// `metrics_addr` as a string: an address, or `"off"` (also `""`, `"none"`, `"disabled"`)
/// for none.
mod metrics_addr_serde {
    use std::fmt;
    use std::net::SocketAddr;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(addr: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
        match addr {
            Some(addr) => s.collect_str(addr),
            None => s.serialize_str("off"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
        d.deserialize_any(AddrVisitor)
    }

    struct AddrVisitor;

    impl<'de> Visitor<'de> for AddrVisitor {
        type Value = Option<SocketAddr>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an address such as \"127.0.0.1:9464\", or \"off\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let v = v.trim();
            if v.is_empty()
                || ["off", "none", "disabled"]
                    .iter()
                    .any(|w| v.eq_ignore_ascii_case(w))
            {
                return Ok(None);
            }
            v.parse().map(Some).map_err(|_| {
                E::custom(format!(
                    "\"{v}\" is not an address such as \"127.0.0.1:9464\" (or \"off\")"
                ))
            })
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            match v {
                false => Ok(None),
                true => Err(E::invalid_value(de::Unexpected::Bool(true), &self)),
            }
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../tessera-worker.sample.toml");
    const MARKET: &str = "BwdYajiAZRLFf1FJAdnie478ocxP9fu3vBMHRcgWYiGv";

    fn with_market(toml: &str) -> String {
        format!("market = \"{MARKET}\"\n{toml}")
    }

    fn defaults() -> Config {
        Config {
            market: MARKET.to_string(),
            ..Config::default()
        }
    }

    fn invalid_field(toml: &str) -> &'static str {
        match Config::from_toml_str(&with_market(toml)) {
            Err(ConfigError::Invalid { field, .. }) => field,
            other => panic!("expected an invalid field for {toml:?}, got {other:?}"),
        }
    }

    #[test]
    fn sample_is_the_defaults() {
        assert_eq!(Config::from_toml_str(SAMPLE).unwrap(), defaults());
    }

    #[test]
    fn sample_mentions_every_field() {
        let setting = |key: &str| {
            SAMPLE.lines().any(|l| {
                let l = l.trim_start();
                let l = l.strip_prefix('#').unwrap_or(l).trim_start();
                l.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with('='))
            })
        };
        let json = serde_json::to_value(Config::default()).unwrap();
        for (key, value) in json.as_object().unwrap() {
            if let Some(table) = value.as_object() {
                assert!(SAMPLE.contains(&format!("[{key}]")), "[{key}] missing");
                for key in table.keys() {
                    assert!(setting(key), "{key} missing from the sample");
                }
            } else {
                assert!(setting(key), "{key} missing from the sample");
            }
        }
    }

    #[test]
    fn defaults_fill_a_partial_file() {
        let config = Config::from_toml_str(&with_market("max_concurrent_jobs = 4")).unwrap();
        assert_eq!(
            config,
            Config {
                max_concurrent_jobs: 4,
                ..defaults()
            }
        );
        assert_eq!(config.rpc_url, "http://127.0.0.1:8899");
        assert_eq!(config.metrics_addr, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(config.store, "file://~/.local/share/tessera-worker/store");
        assert_eq!(config.verify, VerifyConfig::default());
        // Every worker checks others by default, within 5 % of an hour.
        assert!(config.verify.enabled);
        assert_eq!(config.verify.budget_secs_per_hour, 180);
    }

    #[test]
    fn every_field_parses() {
        let config = Config::from_toml_str(&with_market(
            r#"
            rpc_url = "https://rpc.example.com/key"
            ws_url = "wss://ws.example.com/key"
            keypair = "/keys/operator.json"
            program_id = "11111111111111111111111111111111"
            store = "s3://bucket/results/"
            input_stores = ["https://inputs.example.com/market", "/srv/shared/"]
            data_dir = "/var/lib/tessera"
            metrics_addr = "0.0.0.0:9000"
            backend = "cuda"
            devices = [1, 0]
            max_compute_failures = 5
            self_test_retry_secs = 60
            max_concurrent_jobs = 8
            min_reward_per_unit = 12.5
            min_exec_margin_secs = 4
            work_units_per_sec = 1e8
            resync_interval_secs = 30
            poll_interval_ms = 250
            crank = false
            crank_grace_secs = 5
            arbiter = true
            priority_fee_micro_lamports = 5000

            [verify]
            enabled = false
            sample_rate = 0.25
            chunks_per_job = 3
            budget_secs_per_hour = 600
            "#,
        ))
        .unwrap();
        assert_eq!(
            config,
            Config {
                rpc_url: "https://rpc.example.com/key".into(),
                ws_url: Some("wss://ws.example.com/key".into()),
                keypair: "/keys/operator.json".into(),
                market: MARKET.into(),
                program_id: "11111111111111111111111111111111".into(),
                store: "s3://bucket/results/".into(),
                input_stores: vec![
                    "https://inputs.example.com/market".into(),
                    "/srv/shared/".into()
                ],
                data_dir: "/var/lib/tessera".into(),
                metrics_addr: Some("0.0.0.0:9000".parse().unwrap()),
                backend: Backend::Cuda,
                devices: Devices::List(vec![1, 0]),
                max_compute_failures: 5,
                self_test_retry_secs: 60,
                max_concurrent_jobs: 8,
                min_reward_per_unit: 12.5,
                min_exec_margin_secs: 4,
                work_units_per_sec: 1e8,
                resync_interval_secs: 30,
                poll_interval_ms: 250,
                crank: false,
                crank_grace_secs: 5,
                arbiter: true,
                priority_fee_micro_lamports: Some(5000),
                verify: VerifyConfig {
                    enabled: false,
                    sample_rate: 0.25,
                    chunks_per_job: 3,
                    budget_secs_per_hour: 600,
                },
            }
        );
        assert_eq!(config.ws_url(), "wss://ws.example.com/key");
        assert_eq!(config.store_base(), "s3://bucket/results");
        assert_eq!(
            config.input_bases(),
            [
                "s3://bucket/results",
                "https://inputs.example.com/market",
                "file:///srv/shared"
            ]
        );
        assert_eq!(config.data_dir(), PathBuf::from("/var/lib/tessera"));
        assert_eq!(config.keypair_path(), PathBuf::from("/keys/operator.json"));
        assert_eq!(config.market_pubkey().unwrap().to_string(), MARKET);
    }

    #[test]
    fn integers_are_accepted_for_fractions() {
        let config = Config::from_toml_str(&with_market(
            "min_reward_per_unit = 3\n[verify]\nsample_rate = 0",
        ))
        .unwrap();
        assert_eq!(config.min_reward_per_unit, 3.0);
        assert_eq!(config.verify.sample_rate, 0.0);
    }

    #[test]
    fn metrics_can_be_turned_off() {
        for off in ["off", "OFF", "none", "disabled", ""] {
            let toml = with_market(&format!("metrics_addr = \"{off}\""));
            assert_eq!(Config::from_toml_str(&toml).unwrap().metrics_addr, None);
        }
        let toml = with_market("metrics_addr = false");
        assert_eq!(Config::from_toml_str(&toml).unwrap().metrics_addr, None);
        let toml = with_market("metrics_addr = \"[::1]:9100\"");
        assert_eq!(
            Config::from_toml_str(&toml).unwrap().metrics_addr,
            Some("[::1]:9100".parse().unwrap())
        );
        let err = Config::from_toml_str(&with_market("metrics_addr = \"localhost\"")).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Parse(m) if m.contains("\"localhost\" is not an address")),
            "{err}"
        );
    }

    #[test]
    fn unknown_and_mistyped_fields_are_refused() {
        let err = Config::from_toml_str(&with_market("max_jobs = 3")).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Parse(m) if m.contains("max_jobs")),
            "{err}"
        );
        let err = Config::from_toml_str(&with_market("[verify]\nrate = 0.5")).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Parse(m) if m.contains("rate")),
            "{err}"
        );
        let err = Config::from_toml_str(&with_market("backend = \"opencl\"")).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Parse(m) if m.contains("opencl")),
            "{err}"
        );
        let err = Config::from_toml_str(&with_market("devices = \"some\"")).unwrap_err();
        assert!(matches!(err, ConfigError::Parse(_)), "{err}");
        let err = Config::from_toml_str(&with_market("devices = [-1]")).unwrap_err();
        assert!(matches!(err, ConfigError::Parse(_)), "{err}");
        let err = Config::from_toml_str(&with_market("max_concurrent_jobs = \"two\"")).unwrap_err();
        assert!(matches!(err, ConfigError::Parse(_)), "{err}");
        let err = Config::from_toml_str("rpc_url = ").unwrap_err();
        assert!(matches!(err, ConfigError::Parse(_)), "{err}");
    }

    #[test]
    fn market_is_required_and_checked() {
        let err = Config::from_toml_str("").unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { field: "market", reason } if reason.contains("required")),
            "{err}"
        );
        assert!(err.to_string().contains("TESSERA_MARKET"), "{err}");
        let err = Config::from_toml_str("market = \"not-a-key\"").unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { field: "market", reason } if reason.contains("base58")),
            "{err}"
        );
        assert!(Config::default().validate().is_err());
        assert!(defaults().validate().is_ok());
    }

    /// A `mint` key named the market before a mint could have several: it is refused with
    /// the setting to use instead, even next to a `market`.
    #[test]
    fn an_old_mint_key_is_refused_with_the_setting_to_use() {
        for toml in [
            "mint = \"So11111111111111111111111111111111111111112\"".to_string(),
            with_market("mint = \"So11111111111111111111111111111111111111112\""),
        ] {
            let err = Config::from_toml_str(&toml).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { field: "mint", .. }),
                "{err}"
            );
            let text = err.to_string();
            assert!(text.contains("a mint no longer names a market"), "{text}");
            assert!(text.contains("market = \"<address>\""), "{text}");
        }
    }

    #[test]
    fn the_program_id_defaults_to_the_built_one_and_is_checked() {
        let config = Config::from_toml_str(&with_market("")).unwrap();
        assert_eq!(
            config.program_id_pubkey().unwrap(),
            tessera_client::PROGRAM_ID
        );
        let config = Config::from_toml_str(&with_market(
            "program_id = \"11111111111111111111111111111111\"",
        ))
        .unwrap();
        assert_eq!(config.program_id_pubkey().unwrap(), Pubkey::default());
        assert_eq!(invalid_field("program_id = \"not-a-key\""), "program_id");
    }

    #[test]
    fn bounds_are_checked() {
        assert_eq!(
            invalid_field("max_concurrent_jobs = 0"),
            "max_concurrent_jobs"
        );
        assert_eq!(
            invalid_field("min_reward_per_unit = -1.0"),
            "min_reward_per_unit"
        );
        assert_eq!(
            invalid_field("min_reward_per_unit = nan"),
            "min_reward_per_unit"
        );
        assert_eq!(
            invalid_field("min_reward_per_unit = inf"),
            "min_reward_per_unit"
        );
        assert_eq!(
            invalid_field("resync_interval_secs = 0"),
            "resync_interval_secs"
        );
        assert_eq!(invalid_field("poll_interval_ms = 49"), "poll_interval_ms");
        assert_eq!(invalid_field("devices = []"), "devices");
        assert_eq!(invalid_field("devices = [0, 1, 0]"), "devices");
        assert_eq!(
            invalid_field("max_compute_failures = 0"),
            "max_compute_failures"
        );
        assert_eq!(
            invalid_field("self_test_retry_secs = 0"),
            "self_test_retry_secs"
        );
        assert_eq!(
            invalid_field("[verify]\nsample_rate = 1.5"),
            "verify.sample_rate"
        );
        assert_eq!(
            invalid_field("[verify]\nsample_rate = -0.1"),
            "verify.sample_rate"
        );
        assert_eq!(
            invalid_field("[verify]\nsample_rate = nan"),
            "verify.sample_rate"
        );
        assert_eq!(
            invalid_field("[verify]\nchunks_per_job = 0"),
            "verify.chunks_per_job"
        );
        assert_eq!(
            invalid_field("[verify]\nbudget_secs_per_hour = 3601"),
            "verify.budget_secs_per_hour"
        );
        assert_eq!(invalid_field("rpc_url = \"localhost:8899\""), "rpc_url");
        assert_eq!(invalid_field("rpc_url = \"ftp://host\""), "rpc_url");
        assert_eq!(invalid_field("rpc_url = \"http://\""), "rpc_url");
        assert_eq!(invalid_field("rpc_url = \"http://host:port\""), "rpc_url");
        assert_eq!(invalid_field("ws_url = \"http://host:8900\""), "ws_url");
        assert_eq!(invalid_field("rpc_url = \"http://host:65535\""), "ws_url");
        assert_eq!(invalid_field("keypair = \"\""), "keypair");
        assert_eq!(invalid_field("data_dir = \"\""), "data_dir");
        assert_eq!(invalid_field("store = \"file://relative/dir\""), "store");
        assert_eq!(invalid_field("store = \"s3://\""), "store");
        assert_eq!(invalid_field("store = \"://x\""), "store");
        assert_eq!(invalid_field("store = \"s3://bu cket/x\""), "store");
        assert_eq!(invalid_field("input_stores = [\"\"]"), "input_stores");
        assert_eq!(
            invalid_field("input_stores = [\"file://relative/dir\"]"),
            "input_stores"
        );
        assert_eq!(invalid_field("input_stores = [\"s3://\"]"), "input_stores");

        let err = Config::from_toml_str(&with_market("[verify]\nsample_rate = 2")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid `verify.sample_rate` (variable TESSERA_VERIFY__SAMPLE_RATE): \
             must be between 0 and 1, got 2"
        );
        // The bounds themselves are fine.
        Config::from_toml_str(&with_market(
            "max_concurrent_jobs = 1\nresync_interval_secs = 1\npoll_interval_ms = 50\n\
             [verify]\nsample_rate = 1.0\nchunks_per_job = 1",
        ))
        .unwrap();
    }

    #[test]
    fn bad_urls_are_refused_with_the_reason() {
        let reason = |toml: &str| match Config::from_toml_str(&with_market(toml)) {
            Err(ConfigError::Invalid { field, reason }) => format!("{field}: {reason}"),
            other => panic!("expected an invalid field for {toml:?}, got {other:?}"),
        };
        let r = reason("rpc_url = \"http://exa mple.com\"");
        assert!(r.starts_with("rpc_url: ") && r.contains("invalid"), "{r}");
        let r = reason("rpc_url = \"https://\"");
        assert!(r.starts_with("rpc_url: "), "{r}");
        let r = reason("rpc_url = \"http://host:99999\"");
        assert!(r.starts_with("rpc_url: ") && r.contains("port"), "{r}");
        let r = reason("rpc_url = \"ws://host:8900\"");
        assert!(r.contains("the scheme is ws"), "{r}");
        let r = reason("rpc_url = \"mailto:ops@example.com\"");
        assert!(r.starts_with("rpc_url: "), "{r}");
        let r = reason("rpc_url = \"unix:/run/rpc.sock\"");
        assert!(r.contains("the scheme is unix"), "{r}");
        let r = reason("ws_url = \"wss://\"");
        assert!(r.starts_with("ws_url: "), "{r}");
        let r = reason("ws_url = \"https://host\"");
        assert!(r.contains("the scheme is https"), "{r}");
        let r = reason("ws_url = \"ws://[::1\"");
        assert!(r.starts_with("ws_url: "), "{r}");
        // Output URIs must fit on chain: a long store location is refused up front.
        let long = format!("store = \"s3://bucket/{}\"", "p".repeat(100));
        let r = reason(&long);
        assert!(r.starts_with("store: ") && r.contains("bytes"), "{r}");
        let fits = format!("store = \"s3://bucket/{}\"", "p".repeat(40));
        Config::from_toml_str(&with_market(&fits)).unwrap();
    }

    #[test]
    fn ws_url_is_derived_like_the_solana_cli() {
        let ws = |rpc: &str| {
            Config {
                rpc_url: rpc.to_string(),
                ..defaults()
            }
            .ws_url()
        };
        assert_eq!(ws("http://127.0.0.1:8899"), "ws://127.0.0.1:8900");
        assert_eq!(ws("http://localhost:8899/"), "ws://localhost:8900/");
        assert_eq!(
            ws("https://api.devnet.solana.com"),
            "wss://api.devnet.solana.com"
        );
        assert_eq!(
            ws("https://rpc.example.com:8443/key?x=1"),
            "wss://rpc.example.com:8444/key?x=1"
        );
        assert_eq!(
            ws("HTTPS://rpc.example.com:443/k"),
            "wss://rpc.example.com/k"
        );
        assert_eq!(ws("http://[::1]:8899"), "ws://[::1]:8900");
        assert_eq!(ws("http://user@host:1/"), "ws://user@host:2/");
        let explicit = Config {
            ws_url: Some("ws://elsewhere:1234".into()),
            ..defaults()
        };
        assert_eq!(explicit.ws_url(), "ws://elsewhere:1234");
        // An empty ws_url is no ws_url.
        let config = Config::from_toml_str(&with_market("ws_url = \"\"")).unwrap();
        assert_eq!(config.ws_url, None);
        assert_eq!(config.ws_url(), "ws://127.0.0.1:8900");
    }

    #[test]
    fn home_is_expanded() {
        let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
            return;
        };
        let home = PathBuf::from(home);
        let config = defaults();
        assert_eq!(config.keypair_path(), home.join(".config/solana/id.json"));
        assert_eq!(config.data_dir(), home.join(".local/share/tessera-worker"));
        assert_eq!(
            config.store_base(),
            tessera_client::store::normalize_base(
                &home
                    .join(".local/share/tessera-worker/store")
                    .to_string_lossy()
            )
            .unwrap()
        );
        assert!(config.store_base().starts_with("file:///"));
        assert_eq!(expand_home(Path::new("~")), home);
        assert_eq!(
            expand_home(Path::new("~other/x")),
            PathBuf::from("~other/x")
        );
        assert_eq!(
            expand_home(Path::new("/abs/~/x")),
            PathBuf::from("/abs/~/x")
        );
    }

    #[test]
    fn store_follows_data_dir() {
        let config = Config::from_toml_str(&with_market("data_dir = \"/srv/tw\"")).unwrap();
        assert_eq!(config.store, "file:///srv/tw/store");
        assert_eq!(config.store_base(), "file:///srv/tw/store");

        let config = Config::from_toml_str(&with_market("data_dir = \"state/\"")).unwrap();
        assert_eq!(config.store, "state/store");
        let base = config.store_base();
        assert!(
            base.starts_with("file:///") && base.ends_with("/state/store"),
            "{base}"
        );

        let config = Config::from_toml_str(&with_market(
            "data_dir = \"/srv/tw\"\nstore = \"/data/results/\"",
        ))
        .unwrap();
        assert_eq!(config.store_base(), "file:///data/results");
        let config =
            Config::from_toml_str(&with_market("store = \"file:///data/results/\"")).unwrap();
        assert_eq!(config.store_base(), "file:///data/results");
    }

    #[test]
    fn env_var_names() {
        assert_eq!(env_var("rpc_url"), "TESSERA_RPC_URL");
        assert_eq!(
            env_var("verify.chunks_per_job"),
            "TESSERA_VERIFY__CHUNKS_PER_JOB"
        );
        for key in ENV_KEYS {
            assert!(env_var(key).starts_with(ENV_PREFIX));
        }
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.toml");
        let err = Config::load_with_prefix(Some(&path), "TESSERA_TEST_ABSENT_").unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
        assert!(err.to_string().contains("absent.toml"), "{err}");
        let err = Config::load_with_prefix(Some(dir.path()), "TESSERA_TEST_ABSENT_").unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }

    #[test]
    fn parse_errors_name_the_key_and_its_source() {
        const P: &str = "TESSERA_TEST_BAD_";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, with_market("poll_interval_ms = \"soon\"")).unwrap();
        let err = Config::load_with_prefix(Some(&path), P).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ConfigError::Parse(_)), "{text}");
        assert!(text.contains("`poll_interval_ms`"), "{text}");
        assert!(text.contains("bad.toml"), "{text}");

        std::fs::write(&path, with_market("")).unwrap();
        std::env::set_var(format!("{P}VERIFY__CHUNKS_PER_JOB"), "many");
        let err = Config::load_with_prefix(Some(&path), P).unwrap_err();
        std::env::remove_var(format!("{P}VERIFY__CHUNKS_PER_JOB"));
        let text = err.to_string();
        assert!(
            text.contains("TESSERA_TEST_BAD_VERIFY__CHUNKS_PER_JOB"),
            "{text}"
        );
    }

    /// Variables under a prefix of this test's own, so that no other test sees them.
    #[test]
    fn environment_overrides_the_file() {
        const P: &str = "TESSERA_TEST_ENV_";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.toml");
        std::fs::write(
            &path,
            "market = \"11111111111111111111111111111111\"\nmax_concurrent_jobs = 3\n\
             poll_interval_ms = 900\n[verify]\nchunks_per_job = 5\n",
        )
        .unwrap();
        let set = |k: &str, v: &str| std::env::set_var(format!("{P}{k}"), v);
        set("MARKET", MARKET);
        // The CLI's mint variable is not the worker's: a shell may set it for `market init`.
        set("MINT", MARKET);
        set("RPC_URL", "https://rpc.example.com");
        set("WS_URL", "");
        set("KEYPAIR", "/keys/op.json");
        set("MAX_CONCURRENT_JOBS", "6");
        set("MIN_REWARD_PER_UNIT", "7");
        set("METRICS_ADDR", "[::1]:9100");
        set("BACKEND", "cpu");
        set("DEVICES", "[2, 3]");
        set("INPUT_STORES", "[/srv/a, \"s3://b/c\"]");
        set("MAX_COMPUTE_FAILURES", "4");
        set("CRANK", "false");
        set("ARBITER", "true");
        set("PRIORITY_FEE_MICRO_LAMPORTS", "1000");
        set("VERIFY__ENABLED", "false");
        set("VERIFY__SAMPLE_RATE", "0.5");
        set("VERIFY__BUDGET_SECS_PER_HOUR", "90");
        // Other tools' variables, and unknown ones, are ignored.
        set("URL", "devnet");
        set("BLESS", "1");
        set("OUTPUT", "json");
        set("PRIORITY_FEE", "99");
        set("VERIFY", "{bogus=1}");
        set("VERIFY__BOGUS", "1");

        let config = Config::load_with_prefix(Some(&path), P);
        for (k, _) in std::env::vars() {
            if k.starts_with(P) {
                std::env::remove_var(k);
            }
        }
        let config = config.unwrap();
        assert_eq!(
            config,
            Config {
                rpc_url: "https://rpc.example.com".into(),
                keypair: "/keys/op.json".into(),
                max_concurrent_jobs: 6,
                min_reward_per_unit: 7.0,
                metrics_addr: Some("[::1]:9100".parse().unwrap()),
                backend: Backend::Cpu,
                devices: Devices::List(vec![2, 3]),
                input_stores: vec!["/srv/a".into(), "s3://b/c".into()],
                max_compute_failures: 4,
                poll_interval_ms: 900,
                crank: false,
                arbiter: true,
                priority_fee_micro_lamports: Some(1000),
                verify: VerifyConfig {
                    enabled: false,
                    sample_rate: 0.5,
                    chunks_per_job: 5,
                    budget_secs_per_hour: 90,
                },
                ..defaults()
            }
        );
        assert_eq!(config.ws_url(), "wss://rpc.example.com");
    }

    #[test]
    fn load_without_a_file_uses_the_environment() {
        const P: &str = "TESSERA_TEST_NOFILE_";
        std::env::set_var(format!("{P}MARKET"), MARKET);
        std::env::set_var(format!("{P}METRICS_ADDR"), "off");
        let config = Config::load_with_prefix(None, P);
        std::env::remove_var(format!("{P}MARKET"));
        std::env::remove_var(format!("{P}METRICS_ADDR"));
        assert_eq!(
            config.unwrap(),
            Config {
                metrics_addr: None,
                ..defaults()
            }
        );
        let err = Config::load_with_prefix(None, P).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    field: "market",
                    ..
                }
            ),
            "{err}"
        );
    }
}
