//! The deployment files under `deploy/` and the operator's guide agree with the worker:
//!
//! - `deploy/tessera-worker.service` parses (a strict parser here, and `systemd-analyze verify`
//!   where it is installed), starts the binary this crate builds with the configuration the
//!   guide installs, and keeps its hardening;
//! - `deploy/worker.toml` is a configuration the worker accepts, with the unit's state
//!   directory and the metrics address Prometheus scrapes;
//! - `deploy/prometheus.yml` and its rules parse and scrape the worker's default address;
//! - every metric the dashboard and the alerts query is one the worker exports (a metric renamed
//!   without them fails here);
//! - every log line `docs/operators.md` explains is one the worker or its kernels write.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;
use tessera_worker::config::{env_var, Config, DEFAULT_METRICS_ADDR};
use tessera_worker::metrics::{device_label, Metrics};

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the worker crate sits in the repository")
        .to_path_buf()
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// systemd unit files

/// One `Key=Value` assignment of a unit file, with the section it is in and its line.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Assignment {
    section: String,
    key: String,
    value: String,
    line: usize,
}

/// Parses a unit file the way systemd reads it (systemd.syntax(7)), strictly: sections
/// `[Name]`, `Key=Value` lines inside a section, `#` and `;` comments on their own lines,
/// blank lines, and a trailing `\` joining a line to the next. Anything else is an error
/// naming its line: a key outside a section, a line without `=`, a key with characters
/// systemd does not allow, an unterminated section header, a continuation at the end.
fn parse_unit(text: &str) -> Result<Vec<Assignment>, String> {
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    let mut lines = text.lines().enumerate();
    while let Some((i, raw)) = lines.next() {
        let number = i + 1;
        let mut line = raw.trim().to_string();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name
                .strip_suffix(']')
                .ok_or_else(|| format!("line {number}: unterminated section header {raw:?}"))?;
            if name.is_empty() || name.contains(['[', ']']) {
                return Err(format!("line {number}: bad section name {raw:?}"));
            }
            section = Some(name.to_string());
            continue;
        }
        // Continuations: comment lines inside are skipped, as systemd does.
        while line.ends_with('\\') {
            line.pop();
            line.push(' ');
            loop {
                let (_, next) = lines
                    .next()
                    .ok_or_else(|| format!("line {number}: continuation at the end of the file"))?;
                let next = next.trim();
                if next.starts_with('#') || next.starts_with(';') {
                    continue;
                }
                line.push_str(next);
                break;
            }
        }
        let section = section
            .clone()
            .ok_or_else(|| format!("line {number}: {raw:?} is outside any section"))?;
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {number}: {raw:?} is not Key=Value"))?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("line {number}: bad key {key:?}"));
        }
        out.push(Assignment {
            section,
            key: key.to_string(),
            value: value.trim().to_string(),
            line: number,
        });
    }
    Ok(out)
}

/// The parsed unit, by section and key. An empty assignment resets a list, as in systemd.
struct Unit(Vec<Assignment>);

impl Unit {
    fn values(&self, section: &str, key: &str) -> Vec<&str> {
        let mut values = Vec::new();
        for a in self
            .0
            .iter()
            .filter(|a| a.section == section && a.key == key)
        {
            if a.value.is_empty() {
                values.clear();
            } else {
                values.push(a.value.as_str());
            }
        }
        values
    }

    /// The one value of `key`, failing when it is missing or given twice.
    fn one(&self, section: &str, key: &str) -> &str {
        match self.values(section, key).as_slice() {
            [v] => v,
            [] => panic!("[{section}] {key}= is missing"),
            many => panic!("[{section}] {key}= is given {} times: {many:?}", many.len()),
        }
    }

    fn is_set(&self, section: &str, key: &str) -> bool {
        self.0.iter().any(|a| a.section == section && a.key == key)
    }
}

fn unit() -> Unit {
    Unit(parse_unit(&read("deploy/tessera-worker.service")).expect("the unit parses"))
}

/// A systemd time span (`90`, `90s`, `10min`, `1h 30min`) in seconds.
fn timespan_secs(text: &str) -> u64 {
    let mut total = 0;
    for word in text.split_whitespace() {
        let split = word
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(word.len());
        let (n, unit) = word.split_at(split);
        let n: u64 = n
            .parse()
            .unwrap_or_else(|_| panic!("{text:?} is not a time span"));
        total += n * match unit {
            "" | "s" | "sec" => 1,
            "m" | "min" => 60,
            "h" | "hr" => 3600,
            other => panic!("unit {other:?} of {text:?} is not handled here"),
        };
    }
    total
}

/// The file name of the binary this crate builds.
fn worker_binary_name() -> String {
    Path::new(env!("CARGO_BIN_EXE_tessera-worker"))
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

/// Where the unit runs the worker from.
const INSTALLED_BINARY: &str = "/usr/local/bin/tessera-worker";
/// The configuration file the unit passes, as the guide installs it.
const INSTALLED_CONFIG: &str = "/etc/tessera-worker/worker.toml";

#[test]
fn the_strict_unit_parser_refuses_what_systemd_would_not_read() {
    for bad in [
        "ExecStart=/bin/true\n",
        "[Service]\nExecStart /bin/true\n",
        "[Service\nExecStart=/bin/true\n",
        "[Service]\nExec Start=/bin/true\n",
        "[Service]\nExecStart=/bin/true \\\n",
    ] {
        assert!(parse_unit(bad).is_err(), "{bad:?} parsed");
    }
    let parsed = parse_unit("# c\n[Service]\nExecStart=/bin/a \\\n  # skipped\n  --b\nX=\n")
        .expect("parses");
    let words: Vec<&str> = parsed[0].value.split_whitespace().collect();
    assert_eq!(words, ["/bin/a", "--b"]);
    assert_eq!(parsed[1].value, "");
    assert_eq!(timespan_secs("1h 30min"), 5400);
}

#[test]
fn the_unit_starts_the_installed_worker_with_the_installed_configuration() {
    let unit = unit();
    for section in ["Unit", "Service", "Install"] {
        assert!(
            unit.0.iter().any(|a| a.section == section),
            "no [{section}] section"
        );
    }
    for a in &unit.0 {
        assert!(
            ["Unit", "Service", "Install"].contains(&a.section.as_str()),
            "line {}: unexpected section [{}]",
            a.line,
            a.section
        );
    }

    let exec: Vec<&str> = unit
        .one("Service", "ExecStart")
        .split_whitespace()
        .collect();
    assert_eq!(exec[0], INSTALLED_BINARY);
    assert_eq!(
        Path::new(exec[0]).file_name().unwrap().to_string_lossy(),
        worker_binary_name(),
        "ExecStart must run the binary `cargo install --path worker` installs"
    );
    let config_arg = exec
        .windows(2)
        .find(|w| w[0] == "--config" || w[0] == "-c")
        .map(|w| w[1])
        .expect("ExecStart passes --config");
    assert_eq!(config_arg, INSTALLED_CONFIG);
    // Every flag the unit passes is one the binary accepts.
    let help = Command::new(env!("CARGO_BIN_EXE_tessera-worker"))
        .arg("--help")
        .output()
        .expect("run tessera-worker --help");
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in exec.iter().filter(|w| w.starts_with("--")) {
        assert!(
            help.contains(flag),
            "tessera-worker does not know {flag}:\n{help}"
        );
    }
    assert!(unit
        .values("Unit", "After")
        .iter()
        .any(|v| v.split_whitespace().any(|u| u == "network-online.target")));
    assert_eq!(unit.one("Install", "WantedBy"), "multi-user.target");
}

#[test]
fn the_unit_is_hardened_and_stops_gracefully() {
    let unit = unit();
    let s = "Service";
    // A dedicated user, never root.
    let user = unit.one(s, "User");
    assert!(!user.is_empty() && user != "root" && user != "0", "{user}");
    assert!(!unit.is_set(s, "DynamicUser") || unit.one(s, "DynamicUser") == "no");

    // Restarts on failure, with a delay that grows.
    assert_eq!(unit.one(s, "Restart"), "on-failure");
    assert!(timespan_secs(unit.one(s, "RestartSec")) >= 1);
    assert!(unit.one(s, "RestartSteps").parse::<u32>().unwrap() >= 1);
    assert!(
        timespan_secs(unit.one(s, "RestartMaxDelaySec")) > timespan_secs(unit.one(s, "RestartSec"))
    );

    // State under /var/lib, writable, and the configuration's data_dir.
    let state = unit.one(s, "StateDirectory");
    let state_path = format!("/var/lib/{state}");
    assert!(
        unit.values(s, "ReadWritePaths")
            .iter()
            .any(|v| v.split_whitespace().any(|p| p == state_path)),
        "ReadWritePaths must hold {state_path}"
    );

    for (key, want) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("DevicePolicy", "closed"),
        ("KillSignal", "SIGTERM"),
        ("Type", "exec"),
    ] {
        assert_eq!(unit.one(s, key), want, "{key}");
    }
    assert!(
        unit.values(s, "CapabilityBoundingSet").is_empty(),
        "no capabilities"
    );
    // The GPUs stay reachable: PrivateDevices would hide them.
    assert!(!unit.is_set(s, "PrivateDevices"));
    let devices = unit.values(s, "DeviceAllow");
    for needed in ["nvidiactl", "nvidia-uvm", "nvidia-frontend"] {
        assert!(
            devices
                .iter()
                .any(|d| d.split_whitespace().next().unwrap().ends_with(needed)),
            "DeviceAllow lacks {needed}: {devices:?}"
        );
    }
    assert!(devices.iter().all(|d| d.ends_with(" rw")), "{devices:?}");

    // Overrides from an optional environment file.
    let env_file = unit.one(s, "EnvironmentFile");
    assert!(env_file.starts_with("-/etc/tessera-worker/"), "{env_file}");

    // The keypair comes in as a credential the worker is pointed at.
    let credential = unit.one(s, "LoadCredential");
    let (name, source) = credential.split_once(':').expect("NAME:PATH");
    assert!(source.starts_with("/etc/tessera-worker/"), "{source}");
    assert!(
        unit.values(s, "Environment")
            .contains(&format!("TESSERA_KEYPAIR=%d/{name}").as_str()),
        "TESSERA_KEYPAIR must point at the credential {name}"
    );

    // Time for the steps under way to finish after SIGTERM: more than the systemd default.
    let stop = timespan_secs(unit.one(s, "TimeoutStopSec"));
    assert!((120..=3600).contains(&stop), "TimeoutStopSec = {stop} s");
}

#[test]
fn systemd_analyze_verifies_the_unit() {
    let Ok(version) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    };
    let version = String::from_utf8_lossy(&version.stdout);
    let major: u32 = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let dir = tempfile::tempdir().unwrap();
    let verify = |text: &str| -> Vec<String> {
        let path = dir.path().join("tessera-worker.service");
        // The built binary stands in for the installed one, so that the check of ExecStart
        // looks at a real executable.
        let text = text.replace(INSTALLED_BINARY, env!("CARGO_BIN_EXE_tessera-worker"));
        std::fs::write(&path, text).unwrap();
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .expect("run systemd-analyze verify");
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .chain(String::from_utf8_lossy(&out.stdout).lines())
            .map(str::to_string)
            .filter(|l| !l.trim().is_empty())
            .collect()
    };
    let unit = read("deploy/tessera-worker.service");
    let complaints: Vec<String> = verify(&unit)
        .into_iter()
        // Added in systemd 254; older versions ignore them with this line.
        .filter(|l| {
            !(major < 254
                && (l.contains("Unknown key 'RestartSteps'")
                    || l.contains("Unknown key 'RestartMaxDelaySec'")
                    || l.contains("Unknown key name 'RestartSteps'")
                    || l.contains("Unknown key name 'RestartMaxDelaySec'")))
        })
        .collect();
    assert!(
        complaints.is_empty(),
        "systemd-analyze {major} complains about deploy/tessera-worker.service:\n{}",
        complaints.join("\n")
    );
    // The check is live here: a bad value is reported.
    let broken = unit.replace("Restart=on-failure", "Restart=sometimes");
    assert!(
        verify(&broken).iter().any(|l| l.contains("sometimes")),
        "systemd-analyze did not report a bad Restart= value"
    );
}

// ---------------------------------------------------------------------------------------------
// the configuration the unit starts with

/// The setting that names the worker's market, which `deploy/worker.toml` leaves to the
/// operator: `market` (its address) where the configuration has one, else `mint`.
fn market_setting() -> &'static str {
    let fields = serde_json::to_value(Config::default()).expect("a configuration serializes");
    ["market", "mint"]
        .into_iter()
        .find(|k| fields.get(k).is_some())
        .expect("the configuration names its market by `market` or `mint`")
}

/// `deploy/worker.toml` with its market filled in, as an operator completes it.
fn deploy_config() -> Config {
    let text = read("deploy/worker.toml");
    Config::from_toml_str(&format!(
        "{} = \"So11111111111111111111111111111111111111112\"\n{text}",
        market_setting()
    ))
    .expect("deploy/worker.toml with its market is a valid configuration")
}

#[test]
fn the_deploy_configuration_fits_the_unit_and_prometheus() {
    let text = read("deploy/worker.toml");
    // Without its market it is refused, naming the setting and its variable.
    let key = market_setting();
    let e = Config::from_toml_str(&text).unwrap_err().to_string();
    assert!(e.contains(key) && e.contains(&env_var(key)), "{e}");
    assert!(
        text.contains(&format!("# {key} = ")),
        "deploy/worker.toml shows `{key}`"
    );

    let cfg = deploy_config();
    let unit = unit();
    assert_eq!(
        cfg.data_dir,
        PathBuf::from(format!(
            "/var/lib/{}",
            unit.one("Service", "StateDirectory")
        ))
    );
    assert_eq!(cfg.metrics_addr, Some(DEFAULT_METRICS_ADDR));
    assert_eq!(cfg.metrics_addr.unwrap().to_string(), prometheus_target());
    // The unit's credential gives the keypair; the file leaves it alone.
    assert!(!text.lines().any(|l| l.trim_start().starts_with("keypair")));
    assert!(Path::new(INSTALLED_CONFIG).ends_with("worker.toml"));
}

// ---------------------------------------------------------------------------------------------
// Prometheus and Grafana

fn yaml(relative: &str) -> Yaml {
    serde_yaml::from_str(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The scrape job of the worker in `deploy/prometheus.yml`.
fn worker_scrape_job() -> Yaml {
    let config = yaml("deploy/prometheus.yml");
    let jobs = config["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs is a list");
    let job = jobs
        .iter()
        .find(|j| j["job_name"].as_str() == Some(JOB))
        .unwrap_or_else(|| panic!("no scrape job {JOB}"))
        .clone();
    job
}

/// The job name the dashboard and the rules select.
const JOB: &str = "tessera-worker";

/// The one target of the worker's scrape job.
fn prometheus_target() -> String {
    let job = worker_scrape_job();
    let targets: Vec<&str> = job["static_configs"]
        .as_sequence()
        .expect("static_configs")
        .iter()
        .flat_map(|c| c["targets"].as_sequence().expect("targets").iter())
        .map(|t| t.as_str().expect("a target is a string"))
        .collect();
    assert_eq!(targets.len(), 1, "{targets:?}");
    targets[0].to_string()
}

#[test]
fn prometheus_scrapes_the_workers_default_metrics_address() {
    let job = worker_scrape_job();
    assert_eq!(prometheus_target(), DEFAULT_METRICS_ADDR.to_string());
    // /metrics is Prometheus' default path; when given it must be the worker's.
    if let Some(path) = job.get("metrics_path") {
        assert_eq!(path.as_str(), Some("/metrics"));
    }
    let config = yaml("deploy/prometheus.yml");
    for file in config["rule_files"].as_sequence().expect("rule_files") {
        let file = file.as_str().unwrap();
        assert!(
            root().join("deploy").join(file).is_file(),
            "rule file {file} is not shipped in deploy/"
        );
    }
}

/// Every alerting rule of the files `deploy/prometheus.yml` loads: (name, expression).
fn alert_rules() -> Vec<(String, String)> {
    let config = yaml("deploy/prometheus.yml");
    let mut rules = Vec::new();
    for file in config["rule_files"].as_sequence().unwrap() {
        let file = format!("deploy/{}", file.as_str().unwrap());
        let doc = yaml(&file);
        for group in doc["groups"].as_sequence().expect("groups") {
            assert!(
                group["name"].as_str().is_some(),
                "{file}: a group without a name"
            );
            for rule in group["rules"].as_sequence().expect("rules") {
                let name = rule["alert"].as_str().expect("an alert name").to_string();
                let expr = rule["expr"].as_str().expect("an expr").to_string();
                let severity = rule["labels"]["severity"].as_str();
                assert!(
                    matches!(severity, Some("critical" | "warning" | "info")),
                    "{name}: severity {severity:?}"
                );
                assert!(
                    rule["annotations"]["summary"].as_str().is_some(),
                    "{name} has no summary"
                );
                if let Some(f) = rule.get("for") {
                    timespan_secs(f.as_str().expect("for is a duration"));
                }
                rules.push((name, expr));
            }
        }
    }
    rules
}

fn dashboard() -> Json {
    serde_json::from_str(&read("deploy/grafana-dashboard.json"))
        .expect("deploy/grafana-dashboard.json is JSON")
}

/// Every PromQL expression of the dashboard's panels: (panel title, expression).
fn dashboard_queries(dash: &Json) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for panel in dash["panels"].as_array().expect("panels") {
        if panel["type"] == "row" {
            continue;
        }
        let title = panel["title"].as_str().expect("a title").to_string();
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {title} queries nothing");
        for t in targets {
            out.push((title.clone(), t["expr"].as_str().expect("expr").to_string()));
        }
    }
    out
}

/// The metric names (`tessera_worker_…`) an expression uses.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("tessera_worker_") {
        let preceded = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        if !preceded {
            names.insert(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    names
}

/// The series names the worker's `/metrics` shows, with a sample in every labelled family.
fn exported_series() -> BTreeSet<String> {
    let metrics = Metrics::new();
    let cpu = device_label("cpu");
    metrics.device_jobs.get_or_create(&cpu).inc();
    metrics.device_chunks.get_or_create(&cpu).inc();
    metrics.device_seconds.get_or_create(&cpu).inc_by(1.0);
    metrics.device_failures.get_or_create(&cpu).inc();
    let text = metrics.encode();
    let series: BTreeSet<String> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            l.split(['{', ' '])
                .next()
                .expect("a sample line starts with its name")
                .to_string()
        })
        .collect();
    // Every family declared shows a sample (none was left out of the set above).
    let declared = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
    let families: BTreeSet<&str> = series
        .iter()
        .map(|s| s.strip_suffix("_total").unwrap_or(s))
        .collect();
    assert_eq!(families.len(), declared, "a family has no sample:\n{text}");
    series
}

/// The names of `used` that the worker does not export.
fn unknown(used: &BTreeSet<String>, exported: &BTreeSet<String>) -> Vec<String> {
    used.difference(exported).cloned().collect()
}

#[test]
fn the_metric_check_catches_a_name_the_worker_does_not_export() {
    let exported = exported_series();
    assert!(exported.contains("tessera_worker_jobs_claimed_total"));
    assert!(exported.contains("tessera_worker_device_compute_seconds_total"));
    assert!(exported.contains("tessera_worker_stake"));
    // A counter queried without its `_total`, and a name that was never exported.
    let used = metric_names(
        "rate(tessera_worker_jobs_claimed[5m]) + tessera_worker_stake + tessera_worker_gone_total",
    );
    assert_eq!(
        unknown(&used, &exported),
        ["tessera_worker_gone_total", "tessera_worker_jobs_claimed"]
    );
    assert!(metric_names("my_tessera_worker_x").is_empty());
}

#[test]
fn every_metric_the_dashboard_and_the_alerts_use_is_exported() {
    let exported = exported_series();
    let mut used_by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let dash = dashboard();
    let queries = dashboard_queries(&dash);
    let rules = alert_rules();
    for (whose, expr) in queries.iter().chain(&rules) {
        for name in metric_names(expr) {
            used_by.entry(name).or_default().push(whose.clone());
        }
    }
    let used: BTreeSet<String> = used_by.keys().cloned().collect();
    let missing: Vec<String> = unknown(&used, &exported)
        .into_iter()
        .map(|m| format!("{m} (used by {})", used_by[&m].join(", ")))
        .collect();
    assert!(
        missing.is_empty(),
        "not exported by the worker (rename them in deploy/ too):\n{}\nexported: {exported:?}",
        missing.join("\n")
    );
    // The dashboard shows most of what the worker exports, and the alerts watch the worst.
    assert!(
        used.len() >= exported.len() - 2,
        "unused: {:?}",
        exported.difference(&used)
    );
    for (alert, metric) in [
        ("TesseraWorkerDown", "up"),
        (
            "TesseraWorkerNoJobsCompleted",
            "tessera_worker_jobs_completed_total",
        ),
        (
            "TesseraWorkerTransactionFailuresRising",
            "tessera_worker_tx_failed_total",
        ),
        (
            "TesseraWorkerClaimsSuspended",
            "tessera_worker_claims_suspended",
        ),
        (
            "TesseraWorkerDeliveriesGivenUp",
            "tessera_worker_deliveries_given_up_total",
        ),
    ] {
        let (_, expr) = rules
            .iter()
            .find(|(n, _)| n == alert)
            .unwrap_or_else(|| panic!("no alert {alert}"));
        assert!(expr.contains(metric), "{alert}: {expr}");
    }
    // `up` and the selectors name the scrape job.
    for (whose, expr) in queries.iter().chain(&rules) {
        if expr.contains("job=") {
            assert!(expr.contains(&format!("job=\"{JOB}\"")), "{whose}: {expr}");
        }
    }
}

#[test]
fn the_dashboard_is_well_formed() {
    let dash = dashboard();
    assert_eq!(dash["uid"], "tessera-worker");
    assert!(dash["title"].as_str().is_some());
    let variables: BTreeSet<&str> = dash["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .map(|v| v["name"].as_str().expect("a variable name"))
        .collect();
    let mut ids = BTreeSet::new();
    for panel in dash["panels"].as_array().unwrap() {
        let title = panel["title"].as_str().unwrap_or("?");
        assert!(
            ids.insert(panel["id"].as_u64().expect("an id")),
            "{title}: id taken"
        );
        let grid = &panel["gridPos"];
        let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
        assert!(
            x + w <= 24 && grid["h"].as_u64().unwrap() > 0,
            "{title}: {grid}"
        );
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
        for t in panel["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap();
            for (at, _) in expr.match_indices('$') {
                let name: String = expr[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    variables.contains(name.as_str()),
                    "{title}: ${name} is not defined"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the operator's guide

/// The text of every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn the_guide_explains_log_lines_the_worker_writes() {
    let guide = read("docs/operators.md");
    let start = guide
        .find("What the logs say\n")
        .expect("docs/operators.md has a \"What the logs say\" section");
    let section = &guide[start..];
    let section = section.split("\n## ").next().unwrap();
    let mut code = String::new();
    sources(&root().join("worker/src"), &mut code);
    sources(&root().join("kernels/src"), &mut code);
    let mut checked = 0;
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap().trim();
        let message = first
            .strip_prefix('`')
            .and_then(|m| m.split('`').next())
            .expect("a message in backticks");
        // `…` stands for a value the line fills in: each piece must be in the sources.
        for piece in message.split('…').map(str::trim).filter(|p| !p.is_empty()) {
            assert!(
                code.contains(piece),
                "docs/operators.md explains {message:?}, but no source writes {piece:?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} log lines explained");
    // And the guide points at every file it ships.
    for file in [
        "deploy/tessera-worker.service",
        "deploy/worker.toml",
        "deploy/prometheus.yml",
        "deploy/tessera-worker.rules.yml",
        "deploy/grafana-dashboard.json",
        "worker/tessera-worker.sample.toml",
    ] {
        assert!(
            guide.contains(file),
            "docs/operators.md does not mention {file}"
        );
        assert!(root().join(file).is_file(), "{file} is missing");
    }
}
