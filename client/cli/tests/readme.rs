//! The documentation's commands work as written: every `tessera …` line of the README's and
//! the operator guide's shell blocks parses with every option its command requires, and what
//! `tessera localnet` prints and writes for a newcomer to copy does too.
use std::path::Path;

use tessera_cli::args::{Command, JobCmd};
use tessera_cli::commands::localnet::{env_file, submit_hint};
use tessera_cli::Cli;

/// Stands for every `$VAR` and `$(…)` of the documents: an address parses wherever one goes.
const ADDRESS: &str = "BwdYajiAZRLFf1FJAdnie478ocxP9fu3vBMHRcgWYiGv";

/// The commands of the ```sh blocks of `doc` that run `tessera` (continuation lines joined,
/// comments, `&` and `$(…)`/`$VAR` replaced), with their line numbers.
fn tessera_lines(doc: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("```") {
            in_sh = t == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let (start, mut text) = match pending.take() {
            Some((n, before)) => (n, before + " " + t),
            None => (i + 1, t.to_string()),
        };
        if let Some(stripped) = text.strip_suffix('\\') {
            pending = Some((start, stripped.trim_end().to_string()));
            continue;
        }
        if let Some(hash) = text.find(" #") {
            text.truncate(hash);
        }
        let text = text.trim().trim_end_matches('&').trim().to_string();
        // A command after `VAR=$(` is a command too.
        let cmd = match text.find("$(tessera ") {
            Some(at) => text[at + 2..].trim_end_matches(')').to_string(),
            None => text,
        };
        if cmd.starts_with("tessera ") && !cmd.starts_with("tessera --version") {
            out.push((start, substitute(&cmd)));
        }
    }
    out
}

/// `$(…)` and `$VAR` replaced by an address.
fn substitute(cmd: &str) -> String {
    let mut s = cmd.to_string();
    while let Some(at) = s.find("$(") {
        let end = s[at..].find(')').map_or(s.len(), |e| at + e + 1);
        s.replace_range(at..end, ADDRESS);
    }
    while let Some(at) = s.find('$') {
        let end = s[at + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(s.len(), |e| at + 1 + e);
        s.replace_range(at..end, ADDRESS);
    }
    s
}

fn parses(what: &str, cmd: &str) -> Cli {
    tessera_cli::args::try_parse_from(cmd.split_whitespace())
        .unwrap_or_else(|e| panic!("{what}: `{cmd}` does not parse:\n{e}"))
}

fn doc(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap()
}

#[test]
fn every_documented_command_parses_as_written() {
    for path in ["README.md", "docs/operators.md"] {
        let lines = tessera_lines(&doc(path));
        assert!(lines.len() >= 4, "{path}: {lines:?}");
        for (n, cmd) in lines {
            parses(&format!("{path}:{n}"), &cmd);
        }
    }
}

/// Every `job submit` of the README gives a reward and names its market, so that it runs as
/// written (the market from --market or the localnet's settings file).
#[test]
fn the_readme_submits_jobs_with_everything_they_need() {
    let readme = doc("README.md");
    let submits: Vec<_> = tessera_lines(&readme)
        .into_iter()
        .filter(|(_, c)| c.contains(" job submit "))
        .collect();
    assert!(submits.len() >= 2, "{submits:?}");
    for (n, cmd) in submits {
        let cli = parses(&format!("README.md:{n}"), &cmd);
        assert!(
            matches!(cli.command, Command::Job(JobCmd::Submit { .. })),
            "README.md:{n}"
        );
    }
}

/// The submit command `tessera localnet` prints is complete: copied as it is, it parses and
/// names the reward, the market, the store and the creator's keypair.
#[test]
fn the_localnet_submit_hint_is_complete() {
    let market = ADDRESS.parse().unwrap();
    let hint = submit_hint(
        "http://127.0.0.1:8899",
        Path::new("/x/.tessera/localnet/creator.json"),
        &market,
        "file:///x/.tessera/localnet/store",
    );
    let cli = parses("the localnet hint", &hint);
    assert_eq!(cli.market, Some(market));
    assert_eq!(
        cli.store.as_deref(),
        Some("file:///x/.tessera/localnet/store")
    );
    assert_eq!(
        cli.keypair.as_deref(),
        Some(Path::new("/x/.tessera/localnet/creator.json"))
    );
    let Command::Job(JobCmd::Submit { reward, input, .. }) = cli.command else {
        panic!("{hint}")
    };
    assert_eq!(reward, "1");
    assert_eq!(input, Path::new("kernels/scenes/cornell.json"));
}

/// The settings file names the cluster, the creator's keypair, the market and the store in
/// the variables the CLI reads, and the addresses by name.
#[test]
fn the_localnet_settings_file_sets_what_the_cli_reads() {
    let market = ADDRESS.parse().unwrap();
    let op = anchor_lang::prelude::Pubkey::new_unique();
    let text = env_file(
        "http://127.0.0.1:8899",
        Path::new("/it's/creator.json"),
        &market,
        "file:///s",
        &[("operator-1".into(), op)],
    );
    // The workers read TESSERA_* too: a worker started from that shell must keep its own key.
    assert!(!text.contains("TESSERA_KEYPAIR"), "{text}");
    for line in [
        "export TESSERA_URL='http://127.0.0.1:8899'".to_string(),
        "export CREATOR_KEYPAIR='/it'\\''s/creator.json'".to_string(),
        format!("export TESSERA_MARKET={ADDRESS}"),
        "export TESSERA_STORE='file:///s'".to_string(),
        format!("export OPERATOR_1={op}"),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}
