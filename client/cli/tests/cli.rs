//! The command line without a network: parsing, and every bad input refused locally (exit
//! code 1, one line on stderr saying what to do, nothing sent).
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use clap::error::ErrorKind;
use solana_keypair::Keypair;
use tessera_cli::args::{Command, JobCmd, MarketCmd, OperatorCmd, OutputFormat, Until};
use tessera_cli::commands::localnet::prepare_dir;
use tessera_cli::commands::market::apply_params;
use tessera_cli::input::{kernel_for, needs_keypair, prepare, program_id_warning};
use tessera_cli::Cli;
use tessera_client::{presets, ClientError};
use tessera_kernels::KernelId;

const MINT: &str = "So11111111111111111111111111111111111111112";
const MARKET: &str = "BwdYajiAZRLFf1FJAdnie478ocxP9fu3vBMHRcgWYiGv";
/// Nothing listens here: a command that got as far as the network would fail differently.
const NO_NODE: &str = "http://127.0.0.1:9";

fn parse(args: &[&str]) -> Cli {
    tessera_cli::args::try_parse_from(std::iter::once("tessera").chain(args.iter().copied()))
        .unwrap()
}

fn parse_err(args: &[&str]) -> ErrorKind {
    tessera_cli::args::try_parse_from(std::iter::once("tessera").chain(args.iter().copied()))
        .unwrap_err()
        .kind()
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn keypair(&self) -> PathBuf {
        let p = self.path("id.json");
        let bytes = Keypair::new().to_bytes().to_vec();
        std::fs::write(&p, serde_json::to_string(&bytes).unwrap()).unwrap();
        p
    }

    fn scene(&self, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
        let mut s: serde_json::Value =
            serde_json::from_str(include_str!("../../../kernels/scenes/cornell.json")).unwrap();
        edit(&mut s);
        let p = self.path("scene.json");
        std::fs::write(&p, serde_json::to_vec(&s).unwrap()).unwrap();
        p
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Parsing.
// ---------------------------------------------------------------------------------------------

#[test]
fn test_parse_submit_with_globals_anywhere() {
    let cli = parse(&[
        "job",
        "submit",
        "scene.json",
        "--reward",
        "1.5",
        "--replicas",
        "2",
        "-u",
        "d",
        "--market",
        MARKET,
        "--output",
        "json",
        "--wait",
        "--program-id",
        MINT,
    ]);
    assert_eq!(cli.url, "d");
    assert_eq!(cli.output, OutputFormat::Json);
    assert_eq!(cli.market.unwrap().to_string(), MARKET);
    assert_eq!(cli.program_id.unwrap().to_string(), MINT);
    match cli.command {
        Command::Job(JobCmd::Submit {
            input,
            reward,
            replicas,
            wait,
            claim_window,
            exec_timeout,
            kernel,
            ..
        }) => {
            assert_eq!(input, PathBuf::from("scene.json"));
            assert_eq!(reward, "1.5");
            assert_eq!(replicas, 2);
            assert!(wait);
            assert_eq!((claim_window, exec_timeout), (3_600, 600));
            assert_eq!(kernel, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn test_parse_defaults() {
    let cli = parse(&["market", "show"]);
    assert_eq!(cli.url, "localhost");
    assert_eq!(cli.output, OutputFormat::Human);
    assert_eq!(cli.keypair, None);
    assert!(matches!(cli.command, Command::Market(MarketCmd::Show)));
}

#[test]
fn test_parse_operator_and_market_commands() {
    let cli = parse(&[
        "operator",
        "register",
        "--kernels",
        "render,mlp-i8",
        "--stake",
        "10",
    ]);
    match cli.command {
        Command::Operator(OperatorCmd::Register { kernels, stake, .. }) => {
            assert_eq!(kernels, ["render", "mlp-i8"]);
            assert_eq!(stake.as_deref(), Some("10"));
        }
        other => panic!("{other:?}"),
    }
    let cli = parse(&[
        "market",
        "update",
        "--pause",
        "--burn-bps",
        "50",
        "--min-reward",
        "0.5",
    ]);
    match cli.command {
        Command::Market(MarketCmd::Update { pause, params, .. }) => {
            assert!(pause);
            assert_eq!(params.burn_bps, Some(50));
            assert_eq!(params.min_reward.as_deref(), Some("0.5"));
        }
        other => panic!("{other:?}"),
    }
    let cli = parse(&["job", "result", MINT, "--out", "x.png"]);
    assert!(matches!(cli.command, Command::Job(JobCmd::Result { .. })));
    let cli = parse(&["job", "close", MINT]);
    assert!(matches!(cli.command, Command::Job(JobCmd::Close { job }) if job.to_string() == MINT));
}

#[test]
fn test_parse_refusals() {
    assert_eq!(
        parse_err(&["job", "submit", "scene.json"]),
        ErrorKind::MissingRequiredArgument
    );
    assert_eq!(
        parse_err(&["job", "status", "not-a-key"]),
        ErrorKind::ValueValidation
    );
    assert_eq!(
        parse_err(&["job", "close", "not-a-key"]),
        ErrorKind::ValueValidation
    );
    assert_eq!(
        parse_err(&["--output", "yaml", "market", "show"]),
        ErrorKind::InvalidValue
    );
    assert_eq!(
        parse_err(&["market", "update", "--pause", "--resume"]),
        ErrorKind::ArgumentConflict
    );
    assert_eq!(
        parse_err(&["job", "submit", "x", "--reward", "1", "--replicas", "300"]),
        ErrorKind::ValueValidation
    );
    assert_eq!(
        parse_err(&["localnet", "--rpc-port", "99999"]),
        ErrorKind::ValueValidation
    );
    let Command::Localnet(l) = parse(&["localnet", "--operators", "3"]).command else {
        panic!("localnet")
    };
    assert_eq!((l.operators, l.rpc_port, l.ledger), (3, 8899, None));
    // The HTTP server for browsers (the store, the development keypairs, the web app).
    assert_eq!(
        (l.http_port, l.app.as_path()),
        (8898, Path::new("app/dist"))
    );
    let Command::Localnet(l) = parse(&["localnet", "--http-port", "0"]).command else {
        panic!("localnet")
    };
    assert_eq!(l.http_port, 0);
    assert_eq!(
        parse_err(&["localnet", "--reset"]),
        ErrorKind::MissingRequiredArgument
    );
    assert_eq!(
        parse_err(&["job", "status", MINT, "--until", "end"]),
        ErrorKind::MissingRequiredArgument
    );
    let cli = parse(&["job", "status", MINT, "--wait", "--until", "end"]);
    assert!(matches!(
        cli.command,
        Command::Job(JobCmd::Status {
            until: Until::End,
            ..
        })
    ));
}

/// `localnet --help` lists exactly the options `tessera localnet` uses: none of the cluster,
/// keypair, market or store options it makes for itself.
#[test]
fn test_localnet_help_lists_only_what_it_uses() {
    let mut cmd = tessera_cli::args::command();
    cmd.build();
    let localnet = cmd.find_subcommand_mut("localnet").unwrap();
    let help = localnet.render_long_help().to_string();
    let mut listed: Vec<&str> = help
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("-").map(|_| l)?;
            l.split([' ', ',', '='])
                .find(|w| w.starts_with("--"))
                .map(|w| w.trim_end_matches(['<', '>']))
        })
        .collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        [
            "--app",
            "--challenge-window",
            "--help",
            "--http-port",
            "--ledger",
            "--operators",
            "--output",
            "--program",
            "--reset",
            "--rpc-port",
            "--version",
        ],
        "{help}"
    );
    // The others are refused with one line naming the option.
    for (args, option) in [
        (vec!["localnet", "--market", MARKET], "--market"),
        (vec!["localnet", "-u", "d"], "--url"),
        (vec!["localnet", "--store", "/tmp/x"], "--store"),
        (vec!["localnet", "--program-id", MINT], "--program-id"),
        (vec!["localnet", "--keypair", "k.json"], "--keypair"),
    ] {
        let Command::Localnet(l) = parse(&args).command else {
            panic!()
        };
        let e = prepare_dir(&l).unwrap_err().to_string();
        assert!(e.contains(&format!("takes no {option}")), "{e}");
    }
}

/// A fresh start refuses a persistent ledger's directory; `--reset` clears a persistent one
/// (its ledger, keypairs, mint and operators' files) and nothing else.
#[test]
fn test_localnet_ledger_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    std::fs::create_dir_all(dir.join("operator-1")).unwrap();
    for f in [
        "ledger.sqlite",
        "mint.json",
        "admin.json",
        "creator.json",
        "operator-1.json",
        "operator-1.toml",
        "env",
        "notes.txt",
    ] {
        std::fs::write(dir.join(f), b"x").unwrap();
    }
    let d = s(&dir);
    let Command::Localnet(l) = parse(&["localnet", "--ledger", d]).command else {
        panic!()
    };
    assert_eq!(prepare_dir(&l).unwrap(), (dir.clone(), true));
    // Resuming keeps every file.
    assert!(dir.join("mint.json").exists() && dir.join("creator.json").exists());
    let Command::Localnet(l) = parse(&["localnet", "--ledger", d, "--reset"]).command else {
        panic!()
    };
    assert_eq!(prepare_dir(&l).unwrap(), (dir.clone(), true));
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["notes.txt"]);
}

/// The default, fresh ledger never starts over the files of a persistent one.
#[test]
fn test_a_fresh_localnet_refuses_a_persistent_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join(tessera_cli::commands::localnet::FRESH_DIR);
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::write(fresh.join("ledger.sqlite"), b"x").unwrap();
    let out = Process::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("localnet")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("holds a persistent ledger") && stderr.contains("--reset"),
        "{stderr}"
    );
    assert!(fresh.join("ledger.sqlite").exists());
}

#[test]
fn test_market_params_from_the_command_line() {
    let cli = parse(&[
        "market",
        "init",
        "--treasury",
        MINT,
        "--min-reward",
        "0.25",
        "--max-replicas",
        "2",
    ]);
    let Command::Market(MarketCmd::Init { params, .. }) = cli.command else {
        panic!()
    };
    let base = presets::mainnet(6);
    let p = apply_params(base, &params, 6).unwrap();
    assert_eq!(p.min_reward_per_replica, 250_000);
    assert_eq!(p.max_replicas, 2);
    assert_eq!(p.burn_bps, base.burn_bps);
    let cli = parse(&[
        "market",
        "init",
        "--treasury",
        MINT,
        "--min-reward",
        "0.0000001",
    ]);
    let Command::Market(MarketCmd::Init { params, .. }) = cli.command else {
        panic!()
    };
    assert!(matches!(
        apply_params(base, &params, 6),
        Err(ClientError::BadInput { .. })
    ));
}

#[test]
fn test_kernel_from_flag_or_extension() {
    assert_eq!(
        kernel_for(None, Path::new("a.json")).unwrap(),
        KernelId::Render
    );
    assert_eq!(
        kernel_for(None, Path::new("m.safetensors")).unwrap(),
        KernelId::MlpI8
    );
    assert_eq!(
        kernel_for(Some("gemm-i8"), Path::new("m.bin")).unwrap(),
        KernelId::GemmI8
    );
    assert!(kernel_for(None, Path::new("m.bin"))
        .unwrap_err()
        .to_string()
        .contains("--kernel"));
    assert!(kernel_for(Some("raytrace"), Path::new("a.json")).is_err());
}

// ---------------------------------------------------------------------------------------------
// Bad input, refused before any network access.
// ---------------------------------------------------------------------------------------------

fn prepare_err(args: &[&str]) -> String {
    let e = prepare(&parse(args)).err().expect("expected a refusal");
    assert!(
        matches!(
            e,
            ClientError::BadInput { .. } | ClientError::Keypair { .. }
        ),
        "{e}"
    );
    e.to_string()
}

#[test]
fn test_missing_input_file_is_refused() {
    let f = Files::new();
    let kp = f.keypair();
    let e = prepare_err(&[
        "-k",
        s(&kp),
        "--market",
        MARKET,
        "job",
        "submit",
        s(&f.path("nope.json")),
        "--reward",
        "1",
    ]);
    assert!(
        e.contains("nope.json") && e.contains("check the path"),
        "{e}"
    );
}

#[test]
fn test_malformed_scene_is_refused() {
    let f = Files::new();
    let kp = f.keypair();
    let scene = f.scene(|s| s["samples_per_pixel"] = 0.into());
    let e = prepare_err(&[
        "-k",
        s(&kp),
        "--market",
        MARKET,
        "job",
        "submit",
        s(&scene),
        "--reward",
        "1",
    ]);
    assert!(e.contains("is not a valid render job input"), "{e}");
    let garbage = f.path("garbage.json");
    std::fs::write(&garbage, b"{ not json").unwrap();
    let e = prepare_err(&[
        "-k",
        s(&kp),
        "--market",
        MARKET,
        "job",
        "submit",
        s(&garbage),
        "--reward",
        "1",
    ]);
    assert!(e.contains("fix the input file"), "{e}");
}

#[test]
fn test_unreadable_keypair_is_refused() {
    let f = Files::new();
    let scene = f.scene(|_| {});
    let e = prepare_err(&[
        "-k",
        s(&f.path("missing.json")),
        "--market",
        MARKET,
        "job",
        "submit",
        s(&scene),
        "--reward",
        "1",
    ]);
    assert!(
        e.contains("keypair file")
            && e.contains(s(&f.path("missing.json")))
            && e.contains("solana-keygen new"),
        "{e}"
    );
    let bad = f.path("bad.json");
    std::fs::write(&bad, b"[1,2,3]").unwrap();
    let e = prepare_err(&["-k", s(&bad), "operator", "stake", "1", "--market", MARKET]);
    assert!(
        e.contains("keypair file") && e.contains(s(&bad)) && e.contains("found 3"),
        "{e}"
    );
}

#[test]
fn test_bad_amounts_kernels_and_missing_mint_are_refused() {
    let f = Files::new();
    let kp = f.keypair();
    let scene = f.scene(|_| {});
    let e = prepare_err(&[
        "-k",
        s(&kp),
        "--market",
        MARKET,
        "job",
        "submit",
        s(&scene),
        "--reward",
        "1,5",
    ]);
    assert!(e.contains("not a token amount"), "{e}");
    let e = prepare_err(&[
        "-k",
        s(&kp),
        "--market",
        MARKET,
        "operator",
        "unstake",
        "1e6",
    ]);
    assert!(e.contains("not a token amount"), "{e}");
    let e = prepare_err(&[
        "-k",
        s(&kp),
        "--market",
        MARKET,
        "operator",
        "register",
        "--kernels",
        "render,warp",
    ]);
    assert!(e.contains("unknown kernel \"warp\""), "{e}");
    let e = prepare_err(&["-k", s(&kp), "job", "submit", s(&scene), "--reward", "1"]);
    assert!(e.contains("--market"), "{e}");
    // A mint named a market before a mint could have several.
    let e = prepare_err(&["-k", s(&kp), "--mint", MINT, "operator", "unstake", "1"]);
    assert!(e.contains("a mint no longer names a market"), "{e}");
    assert!(e.contains("--market"), "{e}");
    // `market init` takes the mint.
    let e = prepare_err(&[
        "-k",
        s(&kp),
        "--market",
        MARKET,
        "market",
        "init",
        "--treasury",
        MINT,
    ]);
    assert!(e.contains("--mint"), "{e}");
    assert!(prepare(&parse(&[
        "-k",
        s(&kp),
        "--mint",
        MINT,
        "market",
        "init",
        "--treasury",
        MINT
    ]))
    .is_ok());
}

/// Read-only commands read no keypair (not even a broken one given with -k): they name what
/// they show by its address.
#[test]
fn test_read_only_commands_take_no_keypair() {
    let read_only: [&[&str]; 5] = [
        &["market", "show"],
        &["job", "list"],
        &["job", "list", "--creator", MINT],
        &["job", "status", MINT],
        &["operator", "show", MINT],
    ];
    for args in read_only {
        let mut with_market = vec!["-k", "/nope", "--market", MARKET];
        with_market.extend_from_slice(args);
        let cli = parse(&with_market);
        assert!(!needs_keypair(&cli.command), "{args:?}");
        let p = prepare(&cli).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(p.keypair.is_none(), "{args:?}");
    }
    // `operator show` names the operator by its authority's address.
    assert_eq!(
        parse_err(&["operator", "show"]),
        ErrorKind::MissingRequiredArgument
    );
    // The binary, with no keypair anywhere, gets as far as the network.
    let home = tempfile::tempdir().unwrap();
    for args in read_only {
        let out = Process::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["-u", NO_NODE, "--market", MARKET])
            .args(args)
            .env("HOME", home.path())
            .env_remove("TESSERA_KEYPAIR")
            .env_remove("TESSERA_URL")
            .env_remove("TESSERA_MARKET")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("keypair"), "{args:?}: {stderr}");
    }
}

/// `tessera serve`: its options, no keypair, a market required, a chain it cannot tell refused
/// before it listens, and a market that is not there named before it serves anything.
#[test]
fn test_serve_parses_and_refuses_what_it_cannot_serve() {
    let cli = parse(&[
        "--url",
        "devnet",
        "--market",
        MARKET,
        "--store",
        "s3://jobs/tessera",
        "serve",
        "--listen",
        "0.0.0.0:9000",
        "--allow-origin",
        "https://app.example.com",
        "--allow-origin",
        "https://other.example.com",
        "--chain",
        "devnet",
    ]);
    let Command::Serve(args) = &cli.command else {
        panic!("not serve: {:?}", cli.command)
    };
    assert_eq!(args.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(
        args.allow_origin,
        ["https://app.example.com", "https://other.example.com"]
    );
    assert_eq!(args.chain.as_deref(), Some("devnet"));
    assert!(!needs_keypair(&cli.command));
    assert_eq!(
        parse_err(&["serve", "--chain", "mainnet-beta"]),
        ErrorKind::InvalidValue
    );
    assert_eq!(
        parse_err(&["serve", "--listen", "localhost"]),
        ErrorKind::ValueValidation
    );
    assert!(prepare_err(&["serve"]).contains("--market"));
    // The binary: a cluster whose chain its URL does not tell, then a node that is not there.
    let home = tempfile::tempdir().unwrap();
    for (url, expect) in [
        ("https://rpc.example.invalid", "pass --chain"),
        (NO_NODE, "cannot reach the RPC node"),
    ] {
        let out = Process::new(env!("CARGO_BIN_EXE_tessera"))
            .args([
                "-u",
                url,
                "--market",
                MARKET,
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .env("HOME", home.path())
            .env_remove("TESSERA_URL")
            .env_remove("TESSERA_MARKET")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{url}: {stderr}");
        assert!(stderr.contains(expect), "{url}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{url}: {stderr}");
    }
}

/// On devnet or mainnet-beta, the local networks' program id (its keypair is public) gets one
/// warning line saying so and what to pass; another id, or a local cluster, gets none.
#[test]
fn test_the_local_program_id_on_a_public_cluster_is_warned_about() {
    let local = tessera_client::LOCAL_PROGRAM_ID;
    for url in [
        "devnet",
        "d",
        "mainnet-beta",
        "m",
        "https://api.devnet.solana.com",
    ] {
        let w = program_id_warning(url, &local).unwrap_or_else(|| panic!("{url}"));
        assert_eq!(w.lines().count(), 1, "{w}");
        assert!(w.starts_with("warning: "), "{w}");
        assert!(w.contains(&local.to_string()), "{w}");
        assert!(w.contains("for local networks only"), "{w}");
        assert!(
            w.contains("pass the deployed program's id with --program-id"),
            "{w}"
        );
    }
    assert!(program_id_warning("m", &local)
        .unwrap()
        .contains("on mainnet-beta"));
    for url in ["localhost", "l", "t", "http://127.0.0.1:8899", "not a url"] {
        assert_eq!(program_id_warning(url, &local), None, "{url}");
    }
    let deployed = MARKET.parse().unwrap();
    assert_eq!(program_id_warning("devnet", &deployed), None);
    assert_eq!(program_id_warning("mainnet-beta", &deployed), None);
}

/// The binary: exit code 1 and one line on stderr saying what to do, before any network.
#[test]
fn test_binary_exits_non_zero_with_one_line() {
    let f = Files::new();
    let kp = f.keypair();
    let scene = f.scene(|s| s["width"] = 0.into());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "-u",
                NO_NODE,
                "-k",
                s(&kp),
                "--market",
                MARKET,
                "job",
                "submit",
                s(&scene),
                "--reward",
                "1",
            ],
            "not a valid render job input",
        ),
        (
            vec![
                "-u",
                NO_NODE,
                "-k",
                s(&kp),
                "--market",
                MARKET,
                "job",
                "submit",
                "/nope/scene.json",
                "--reward",
                "1",
            ],
            "check the path",
        ),
        (
            vec![
                "-u",
                NO_NODE,
                "-k",
                "/nope/id.json",
                "--market",
                MARKET,
                "operator",
                "stake",
                "1",
            ],
            "solana-keygen new",
        ),
        (
            vec!["-u", "mainnet", "--market", MARKET, "market", "show"],
            "pass --url",
        ),
    ];
    for (args, hint) in cases {
        let out = Process::new(env!("CARGO_BIN_EXE_tessera"))
            .args(&args)
            .env_remove("TESSERA_URL")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(hint),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// `market init --no-arbiter` asks for a market with no arbiter; it cannot be combined with
/// `--arbiter`.
#[test]
fn test_market_init_without_an_arbiter() {
    let cli = parse(&["market", "init", "--treasury", MINT, "--no-arbiter"]);
    let Command::Market(MarketCmd::Init {
        arbiter,
        no_arbiter,
        ..
    }) = cli.command
    else {
        panic!()
    };
    assert_eq!((arbiter, no_arbiter), (None, true));
    assert_eq!(
        parse_err(&[
            "market",
            "init",
            "--treasury",
            MINT,
            "--no-arbiter",
            "--arbiter",
            MINT
        ]),
        ErrorKind::ArgumentConflict
    );
}
