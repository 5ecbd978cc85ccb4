//! The client's flows against the real program in LiteSVM (through `LiteChain`), with a real
//! local object store in a temporary directory. Failure cases check that nothing was sent and
//! no balance moved.
use std::future::Future;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use bytes::Bytes;
use tessera::state::{JobState, MarketParams, OperatorStatus};
use tessera_client::chain::TxOptions;
use tessera_client::flows::admin::{self, MarketChanges};
use tessera_client::flows::creator::{self, JobEvent, JobRequest, WaitFor};
use tessera_client::flows::{operator, Ctx, MarketInfo};
use tessera_client::output::Assembled;
use tessera_client::store::{self, Store};
use tessera_client::{Chain, ClientError};
use tessera_kernels::{Backend, KernelId, Workload};
use tessera_tests::chain::LiteChain;
use tessera_tests::{default_params, Env, Signer, TesseraError, User};

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

/// A small render scene (6 tiles, edge tiles smaller) that renders fast on the CPU.
fn scene() -> Vec<u8> {
    let mut s: serde_json::Value =
        serde_json::from_str(include_str!("../../kernels/scenes/cornell.json")).unwrap();
    s["width"] = 40.into();
    s["height"] = 24.into();
    s["samples_per_pixel"] = 2.into();
    s["max_bounces"] = 3.into();
    s["tile_size"] = 16.into();
    serde_json::to_vec(&s).unwrap()
}

struct Fixture {
    env: Env,
    dir: tempfile::TempDir,
    store: Store,
    creator: User,
}

impl Fixture {
    fn new() -> Self {
        Self::on(Env::new())
    }

    fn on(mut env: Env) -> Self {
        let creator = env.user(1_000_000_000);
        Fixture {
            env,
            dir: tempfile::tempdir().unwrap(),
            store: Store::new(),
            creator,
        }
    }

    fn base(&self) -> String {
        store::normalize_base(self.dir.path().to_str().unwrap()).unwrap()
    }

    /// Files under the store directory.
    fn stored_files(&self) -> usize {
        fn walk(p: &std::path::Path) -> usize {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| {
                            if e.path().is_dir() {
                                walk(&e.path())
                            } else {
                                1
                            }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(self.dir.path())
    }
}

fn request(input: Vec<u8>, reward: u64) -> JobRequest {
    JobRequest {
        job_id: Some(1),
        kernel: KernelId::Render,
        input,
        reward_per_replica: reward,
        replicas: 1,
        claim_window: 3_600,
        exec_timeout: 600,
    }
}

async fn market(chain: &LiteChain<'_>, address: &Pubkey) -> MarketInfo {
    Ctx::new(chain).market(address).await.unwrap()
}

/// Submits the small scene through the flow; returns (job, scene bytes).
fn submit_scene(f: &mut Fixture, reward: u64) -> (Pubkey, Vec<u8>) {
    let input = scene();
    let base = f.base();
    let market_address = f.env.keys.market;
    let chain = LiteChain::new(&mut f.env.svm);
    let s = block_on(async {
        let m = market(&chain, &market_address).await;
        creator::submit_job(
            &Ctx::new(&chain),
            &f.store,
            &base,
            &m,
            &f.creator.key,
            &f.creator.token,
            &request(input.clone(), reward),
            &mut |_, _| {},
        )
        .await
    })
    .unwrap();
    (s.job, input)
}

/// An operator claims `job`, renders it on the CPU, stores the output with the client's
/// layout and submits the root. Returns (output chunks, output_uri).
fn deliver(f: &mut Fixture, op: &User, job: Pubkey, input: &[u8]) -> (Vec<Vec<u8>>, String) {
    f.env.claim(op, job).expect("claim");
    let out = Workload::parse(KernelId::Render, input)
        .unwrap()
        .run(&Backend::Cpu)
        .unwrap();
    let uri = store::output_uri(
        &f.base(),
        &job,
        &f.env.keys.operator(&op.pubkey()),
        &[9; 32],
    );
    block_on(f.store.put_output(&uri, &out.chunks, &mut |_, _| {})).unwrap();
    let ix = f
        .env
        .keys
        .submit_result(op.pubkey(), job, out.root(), uri.clone());
    f.env.send(&[ix], &[&op.key]).expect("submit_result");
    (out.chunks, uri)
}

// ---------------------------------------------------------------------------------------------
// Creator: submit, list, wait, cancel, result.
// ---------------------------------------------------------------------------------------------

#[test]
fn test_submit_uploads_and_creates_job() {
    let mut f = Fixture::new();
    let before = f.env.balance(&f.creator.token);
    let (job_key, input) = submit_scene(&mut f, 50_000);
    let job = f.env.job(&job_key);
    let hash = creator::sha256(&input);
    assert_eq!(job.input_hash, hash);
    // A local directory is posted relative to the store, whatever its depth: the input
    // lies at <base>/inputs/<sha256>.
    assert_eq!(job.input_uri(), format!("inputs/{}", store::hex(&hash)));
    assert_eq!(job.input_uri(), store::relative_input_uri(&hash));
    assert_eq!(job.kernel, KernelId::Render.id());
    assert_eq!(job.chunk_count, 6);
    assert_eq!(job.reward_per_replica, 50_000);
    assert_eq!(job.state(), JobState::Open);
    assert_eq!(f.env.balance(&f.creator.token), before - 50_000);
    let stored = block_on(f.store.get(&store::input_uri(&f.base(), &hash))).unwrap();
    assert_eq!(stored.as_ref(), input.as_slice());
}

/// Submits `req` with its input in the store at `base`.
fn submit_at(f: &mut Fixture, base: &str, req: &JobRequest) -> Result<Pubkey, ClientError> {
    let market_address = f.env.keys.market;
    let chain = LiteChain::new(&mut f.env.svm);
    block_on(async {
        let m = market(&chain, &market_address).await;
        creator::submit_job(
            &Ctx::new(&chain),
            &f.store,
            base,
            &m,
            &f.creator.key,
            &f.creator.token,
            req,
            &mut |_, _| {},
        )
        .await
    })
    .map(|s| s.job)
}

/// A store directory deep enough that its absolute input URI passes the program's 128-byte
/// limit: the input is posted relative to the store, and the result is fetched from it.
#[test]
fn test_a_deep_local_store_is_posted_relative_and_read_back() {
    let mut f = Fixture::new();
    let deep = f
        .dir
        .path()
        .join("a-checkout".repeat(4))
        .join("of-tessera".repeat(4));
    std::fs::create_dir_all(&deep).unwrap();
    let base = store::normalize_base(deep.to_str().unwrap()).unwrap();
    let input = scene();
    let hash = creator::sha256(&input);
    assert!(store::input_uri(&base, &hash).len() > store::MAX_URI_LEN);
    let job = submit_at(&mut f, &base, &request(input.clone(), 50_000)).unwrap();
    assert_eq!(
        f.env.job(&job).input_uri(),
        store::relative_input_uri(&hash)
    );
    let op = f.env.operator(10_000_000);
    deliver(&mut f, &op, job, &input);

    let elsewhere = tempfile::tempdir().unwrap();
    let elsewhere = store::normalize_base(elsewhere.path().to_str().unwrap()).unwrap();
    let chain = LiteChain::new(&mut f.env.svm);
    let fetch = |bases: Vec<String>| {
        block_on(creator::fetch_result(
            &Ctx::new(&chain),
            &f.store,
            &bases,
            &job,
            &mut |_, _| {},
        ))
    };
    // Not in a store that lacks it: every place tried is named.
    let e = fetch(vec![elsewhere.clone()]).unwrap_err().to_string();
    assert!(e.contains(&format!("{elsewhere}/inputs/")), "{e}");
    assert!(e.contains("does not exist"), "{e}");
    let e = fetch(vec![]).unwrap_err().to_string();
    assert!(e.contains("no store is given"), "{e}");
    // Found in the second store named.
    let result = fetch(vec![elsewhere, base]).unwrap();
    assert_eq!(result.chunks.len(), 6);
}

/// A remote store is posted in full, so an over-long bucket or prefix is refused before
/// anything is uploaded, sent or escrowed.
#[test]
fn test_a_remote_store_too_long_for_the_chain_sends_nothing() {
    let mut f = Fixture::new();
    let before = f.env.balance(&f.creator.token);
    let base = format!("s3://bucket/{}", "p".repeat(60));
    let e = submit_at(&mut f, &base, &request(scene(), 50_000)).unwrap_err();
    assert!(matches!(e, ClientError::BadInput { .. }), "{e}");
    assert!(
        e.to_string().contains("the program takes at most 128"),
        "{e}"
    );
    assert!(e.to_string().contains("shorter bucket or prefix"), "{e}");
    assert_eq!(f.env.balance(&f.creator.token), before);
    assert!(f
        .env
        .svm
        .get_account(&f.env.keys.job(&f.creator.key.pubkey(), 1))
        .is_none());
    // A short one fits: the URI posted names the bucket.
    let short = store::posted_input_uri("s3://bucket/t", &[1; 32]);
    assert_eq!(short, format!("s3://bucket/t/inputs/{}", "01".repeat(32)));
}

#[test]
fn test_submit_and_cancel_on_a_token_2022_market() {
    let mut f = Fixture::on(Env::with(anchor_spl::token_2022::ID, default_params()));
    let market_address = f.env.keys.market;
    let before = f.env.balance(&f.creator.token);
    let (job_key, _) = submit_scene(&mut f, 50_000);
    assert_eq!(f.env.balance(&f.creator.token), before - 50_000);
    let chain = LiteChain::new(&mut f.env.svm);
    block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        assert_eq!(m.keys.token_program, anchor_spl::token_2022::ID);
        assert_eq!(m.decimals, tessera_tests::DECIMALS);
        creator::cancel_job(&ctx, &m, &f.creator.key, &job_key, &f.creator.token).await
    })
    .unwrap();
    assert_eq!(f.env.balance(&f.creator.token), before);
}

#[test]
fn test_default_job_ids_are_cheap_and_never_collide() {
    let mut f = Fixture::new();
    let base = f.base();
    let market_address = f.env.keys.market;
    let mut req = request(scene(), 50_000);
    req.job_id = None;
    let chain = LiteChain::new(&mut f.env.svm);
    let jobs: Vec<_> = block_on(async {
        let m = market(&chain, &market_address).await;
        let mut out = vec![];
        // Back to back, within the same few milliseconds: the second must move on.
        for _ in 0..3 {
            let s = creator::submit_job(
                &Ctx::new(&chain),
                &f.store,
                &base,
                &m,
                &f.creator.key,
                &f.creator.token,
                &req,
                &mut |_, _| {},
            )
            .await
            .unwrap();
            out.push((s.job_id, s.job));
        }
        out
    });
    let ids: std::collections::HashSet<u64> = jobs.iter().map(|j| j.0).collect();
    assert_eq!(ids.len(), 3, "{jobs:?}");
    for (id, job) in jobs {
        let m = f.env.keys.market;
        assert_eq!(
            tessera_client::pda::cheap_job_id(&m, &f.creator.pubkey(), id),
            id
        );
        assert_eq!(f.env.job(&job).job_id, id);
    }
}

#[test]
fn test_list_jobs_by_market_and_creator() {
    let mut f = Fixture::new();
    let (job_key, _) = submit_scene(&mut f, 50_000);
    let other = f.env.user(1_000_000);
    let other_job = f.env.create_job(&other, 9, 1, 10_000);
    let market_address = f.env.keys.market;
    let me = f.creator.pubkey();
    let chain = LiteChain::new(&mut f.env.svm);
    let (all, mine) = block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        (
            creator::list_jobs(&ctx, &m.address(), None).await.unwrap(),
            creator::list_jobs(&ctx, &m.address(), Some(&me))
                .await
                .unwrap(),
        )
    });
    let keys: Vec<Pubkey> = all.iter().map(|(k, _)| *k).collect();
    assert_eq!(all.len(), 2);
    assert!(keys.contains(&job_key) && keys.contains(&other_job));
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].0, job_key);
}

#[test]
fn test_result_downloads_verifies_and_assembles_png() {
    let mut f = Fixture::new();
    let (job, input) = submit_scene(&mut f, 50_000);
    let op = f.env.operator(10_000_000);
    let (chunks, uri) = deliver(&mut f, &op, job, &input);
    let bases = [f.base()];
    let chain = LiteChain::new(&mut f.env.svm);
    let mut progress = Vec::new();
    let result = block_on(creator::fetch_result(
        &Ctx::new(&chain),
        &f.store,
        &bases,
        &job,
        &mut |d, t| progress.push((d, t)),
    ))
    .unwrap();
    let scene = tessera_kernels::render::Scene::from_json(&input).unwrap();
    let expected =
        tessera_kernels::render::tiles_to_png(&chunks, scene.width, scene.height, scene.tile_size)
            .unwrap();
    assert_eq!(result.assembled, Assembled::Png(expected));
    assert_eq!(result.output_uri, uri);
    assert_eq!(result.chunks, chunks);
    assert_eq!(progress.last(), Some(&(6, 6)));
    assert_eq!(chain.sent(), 0, "reading a result sends nothing");
}

#[test]
fn test_wait_reports_progress_until_result() {
    let mut f = Fixture::new();
    let (job, input) = submit_scene(&mut f, 50_000);
    let op = f.env.operator(10_000_000);
    let op_account = f.env.keys.operator(&op.pubkey());
    deliver(&mut f, &op, job, &input);
    let chain = LiteChain::new(&mut f.env.svm);
    let mut events = Vec::new();
    let j = block_on(creator::wait_for_job(
        &Ctx::new(&chain),
        &job,
        WaitFor::Result,
        Duration::from_secs(5),
        Duration::from_millis(10),
        &mut |e| events.push(e.clone()),
    ))
    .unwrap();
    assert_eq!(j.state(), JobState::Revealed);
    assert_eq!(events[0], JobEvent::State(JobState::Revealed));
    assert!(matches!(events[1], JobEvent::Revealed { slot: 0, root } if root == j.agreed_root));
    // The events between two views name each step.
    let mut claimed = j;
    claimed.set_state(JobState::Claimed);
    claimed.assignments[0].set_status(tessera::state::SlotStatus::Claimed);
    let steps = creator::changes(None, &claimed);
    assert_eq!(
        steps,
        vec![
            JobEvent::State(JobState::Claimed),
            JobEvent::Claimed {
                slot: 0,
                operator: op_account
            }
        ]
    );
    assert!(creator::changes(Some(&j), &j).is_empty());
}

#[test]
fn test_cancel_refunds_the_escrow() {
    let mut f = Fixture::new();
    let before = f.env.balance(&f.creator.token);
    let (job, _) = submit_scene(&mut f, 50_000);
    let market_address = f.env.keys.market;
    let chain = LiteChain::new(&mut f.env.svm);
    block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        creator::cancel_job(&ctx, &m, &f.creator.key, &job, &f.creator.token).await
    })
    .unwrap();
    assert_eq!(f.env.job(&job).state(), JobState::Cancelled);
    assert_eq!(f.env.balance(&f.creator.token), before);
}

#[test]
fn test_close_returns_the_rent_of_an_ended_job_and_refuses_others_without_sending() {
    let mut f = Fixture::new();
    let (job, _) = submit_scene(&mut f, 50_000);
    let stranger = f.env.user(0);
    let market_address = f.env.keys.market;
    let rent = f.env.svm.get_account(&job).unwrap().lamports;
    let chain = LiteChain::new(&mut f.env.svm);
    let close = |who: &tessera_tests::Keypair| {
        block_on(async {
            let ctx = Ctx::new(&chain);
            let m = ctx.market(&market_address).await.unwrap();
            creator::close_job(&ctx, &m, who, &job).await
        })
    };
    // Open: refused before anything is sent.
    let sent = chain.sent();
    let e = close(&f.creator.key).unwrap_err();
    assert!(e.to_string().contains("only an ended job"), "{e}");
    assert_eq!(chain.sent(), sent);
    block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        creator::cancel_job(&ctx, &m, &f.creator.key, &job, &f.creator.token).await
    })
    .unwrap();
    let sent = chain.sent();
    let e = close(&stranger.key).unwrap_err();
    assert!(e.to_string().contains("was created by"), "{e}");
    assert_eq!(chain.sent(), sent);
    let (_, returned) = close(&f.creator.key).unwrap();
    assert_eq!(returned, rent);
    assert!(f.env.svm.get_account(&job).is_none_or(|a| a.lamports == 0));
}

#[test]
fn test_send_retries_when_the_blockhash_expires() {
    let mut f = Fixture::new();
    let market_address = f.env.keys.market;
    let op = f.env.user(1_000_000);
    let chain = LiteChain::new(&mut f.env.svm);
    chain.expire_next(2);
    block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        operator::register(&ctx, &m, &op.key, u32::MAX, &op.token, 0).await
    })
    .unwrap();
    assert_eq!(chain.sent(), 1);
}

// ---------------------------------------------------------------------------------------------
// Operator: register, stake, unstake, withdraw.
// ---------------------------------------------------------------------------------------------

#[test]
fn test_operator_register_stake_unstake_withdraw_move_exact_amounts() {
    let mut f = Fixture::new();
    let market_address = f.env.keys.market;
    let op = f.env.user(5_000_000);
    let vault = f.env.keys.stake_vault;
    let vault_before = f.env.balance(&vault);
    {
        let chain = LiteChain::new(&mut f.env.svm);
        block_on(async {
            let ctx = Ctx::new(&chain);
            let m = ctx.market(&market_address).await.unwrap();
            operator::register(&ctx, &m, &op.key, u32::MAX, &op.token, 2_000_000).await?;
            operator::stake(&ctx, &m, &op.key, &op.token, 1_000_000).await?;
            operator::unstake(&ctx, &m, &op.key, 500_000).await
        })
        .unwrap();
        assert_eq!(chain.sent(), 3);
    }
    assert_eq!(f.env.balance(&op.token), 2_000_000);
    assert_eq!(f.env.balance(&vault), vault_before + 3_000_000);
    let o = f.env.operator_of(&op);
    assert_eq!((o.stake, o.unbonding, o.bonded), (2_500_000, 500_000, 0));
    assert_eq!(o.status, OperatorStatus::Active);

    f.env.warp(default_params().unbonding_period);
    let chain = LiteChain::new(&mut f.env.svm);
    let info = block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        operator::withdraw(&ctx, &m, &op.key, &op.token).await?;
        operator::show(&ctx, &m, &op.pubkey()).await
    })
    .unwrap();
    assert_eq!(info.state.unbonding, 0);
    assert_eq!(info.free_stake(), 2_500_000);
    assert_eq!(f.env.balance(&op.token), 2_500_000);
    assert_eq!(f.env.balance(&vault), vault_before + 2_500_000);
}

// ---------------------------------------------------------------------------------------------
// Admin: init, update, pause.
// ---------------------------------------------------------------------------------------------

#[test]
fn test_market_init_update_and_pause() {
    let mut env = Env::bare(anchor_spl::token::ID);
    let admin = env.admin.insecure_clone();
    let arbiter = env.arbiter.pubkey();
    let (mint, treasury) = (env.keys.mint, env.keys.treasury);
    let chain = LiteChain::new(&mut env.svm);
    let m = block_on(async {
        let ctx = Ctx::new(&chain);
        let (address, _) =
            admin::init_market(&ctx, &admin, &mint, &treasury, &arbiter, default_params()).await?;
        let m = ctx.market(&address).await?;
        assert_eq!(
            address,
            tessera_client::pda::market(&mint, &admin.pubkey()).0
        );
        assert_eq!(m.state.founder, admin.pubkey());
        let params = MarketParams {
            burn_bps: 200,
            ..m.state.params
        };
        let changes = MarketChanges {
            params: Some(params),
            paused: Some(true),
            ..MarketChanges::default()
        };
        admin::update_market(&ctx, &m, &admin, &changes).await?;
        ctx.market(&address).await
    })
    .unwrap();
    assert_eq!(chain.sent(), 2);
    assert_eq!(m.state.params.burn_bps, 200);
    assert!(m.state.paused);
    assert_eq!(m.state.admin, admin.pubkey());
    assert_eq!(m.decimals, tessera_tests::DECIMALS);
}

// ---------------------------------------------------------------------------------------------
// Failures: nothing is sent, nothing moves, and the error says what is wrong.
// ---------------------------------------------------------------------------------------------

/// Runs a submit through the flow and checks that nothing was sent, stored or moved.
fn submit_fails(f: &mut Fixture, req: JobRequest) -> ClientError {
    let before = f.env.balance(&f.creator.token);
    let base = f.base();
    let market_address = f.env.keys.market;
    let chain = LiteChain::new(&mut f.env.svm);
    let err = block_on(async {
        let m = market(&chain, &market_address).await;
        creator::submit_job(
            &Ctx::new(&chain),
            &f.store,
            &base,
            &m,
            &f.creator.key,
            &f.creator.token,
            &req,
            &mut |_, _| {},
        )
        .await
    })
    .unwrap_err();
    assert_eq!(chain.sent(), 0, "a transaction was sent: {err}");
    assert_eq!(f.env.balance(&f.creator.token), before);
    assert_eq!(f.stored_files(), 0, "something was uploaded: {err}");
    err
}

#[test]
fn test_submit_reward_below_minimum_sends_nothing() {
    let mut f = Fixture::new();
    let min = default_params().min_reward_per_replica;
    let e = submit_fails(&mut f, request(scene(), min - 1));
    assert!(matches!(e, ClientError::BadInput { .. }), "{e}");
    assert!(e.to_string().contains("below the market's minimum"), "{e}");
    assert!(e.to_string().contains("--reward"), "{e}");
}

#[test]
fn test_submit_malformed_scene_sends_nothing() {
    let mut f = Fixture::new();
    let mut bad: serde_json::Value = serde_json::from_slice(&scene()).unwrap();
    bad["width"] = 0.into();
    let e = submit_fails(&mut f, request(serde_json::to_vec(&bad).unwrap(), 50_000));
    assert!(e.to_string().contains("not a valid render job"), "{e}");
    let e = submit_fails(&mut f, request(b"{not json".to_vec(), 50_000));
    assert!(matches!(e, ClientError::BadInput { .. }), "{e}");
}

#[test]
fn test_submit_missing_file_is_bad_input() {
    let f = Fixture::new();
    let e = creator::read_input(&f.dir.path().join("nope.json")).unwrap_err();
    assert!(matches!(e, ClientError::BadInput { .. }));
    assert!(e.to_string().contains("nope.json"), "{e}");
    assert!(e.to_string().contains("check the path"), "{e}");
}

#[test]
fn test_submit_without_enough_tokens_sends_nothing() {
    let mut f = Fixture::new();
    let mut req = request(scene(), 600_000_000);
    req.replicas = 2;
    let e = submit_fails(&mut f, req);
    assert!(matches!(e, ClientError::InsufficientFunds { .. }), "{e}");
}

#[test]
fn test_submit_bad_replicas_and_timeout_send_nothing() {
    let mut f = Fixture::new();
    let mut req = request(scene(), 50_000);
    req.replicas = 4;
    let e = submit_fails(&mut f, req);
    assert!(e.to_string().contains("--replicas"), "{e}");
    let mut req = request(scene(), 50_000);
    req.exec_timeout = default_params().max_exec_timeout + 1;
    let e = submit_fails(&mut f, req);
    assert!(e.to_string().contains("--exec-timeout"), "{e}");
}

#[test]
fn test_submit_existing_job_id_sends_nothing() {
    let mut f = Fixture::new();
    submit_scene(&mut f, 50_000);
    let files = f.stored_files();
    let before = f.env.balance(&f.creator.token);
    let base = f.base();
    let market_address = f.env.keys.market;
    let chain = LiteChain::new(&mut f.env.svm);
    let e = block_on(async {
        let m = market(&chain, &market_address).await;
        creator::submit_job(
            &Ctx::new(&chain),
            &f.store,
            &base,
            &m,
            &f.creator.key,
            &f.creator.token,
            &request(scene(), 50_000),
            &mut |_, _| {},
        )
        .await
    })
    .unwrap_err();
    assert_eq!(chain.sent(), 0);
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(f.env.balance(&f.creator.token), before);
    assert_eq!(f.stored_files(), files);
}

#[test]
fn test_result_rejects_a_tampered_chunk_naming_it() {
    let mut f = Fixture::new();
    let (job, input) = submit_scene(&mut f, 50_000);
    let op = f.env.operator(10_000_000);
    let (_, uri) = deliver(&mut f, &op, job, &input);
    let tampered = store::chunk_uri(&uri, 4);
    block_on(f.store.put(
        &tampered,
        Bytes::from(vec![0u8; 16 * 16 * 4]),
        &mut |_, _| {},
    ))
    .unwrap();
    let bases = [f.base()];
    let chain = LiteChain::new(&mut f.env.svm);
    let e = block_on(creator::fetch_result(
        &Ctx::new(&chain),
        &f.store,
        &bases,
        &job,
        &mut |_, _| {},
    ))
    .unwrap_err();
    match &e {
        ClientError::ChunkMismatch { index, uri } => {
            assert_eq!(*index, 4);
            assert_eq!(uri, &tampered);
        }
        other => panic!("expected a chunk mismatch, got {other}"),
    }
    assert!(e.to_string().starts_with("chunk 4 at "), "{e}");
}

#[test]
fn test_result_rejects_tampered_leaves_and_missing_chunks() {
    let mut f = Fixture::new();
    let (job, input) = submit_scene(&mut f, 50_000);
    let op = f.env.operator(10_000_000);
    let (chunks, uri) = deliver(&mut f, &op, job, &input);
    let base = f.base();
    // Leaves that do not hash to the committed root.
    block_on(f.store.put(
        &store::leaves_uri(&uri),
        Bytes::from(vec![1u8; 6 * 32]),
        &mut |_, _| {},
    ))
    .unwrap();
    let bases = [f.base()];
    let chain = LiteChain::new(&mut f.env.svm);
    let e = block_on(creator::fetch_result(
        &Ctx::new(&chain),
        &f.store,
        &bases,
        &job,
        &mut |_, _| {},
    ))
    .unwrap_err();
    assert!(matches!(e, ClientError::Output(_)), "{e}");
    assert!(e.to_string().contains("leaves"), "{e}");
    // No leaves file and one chunk altered: the whole output is refused.
    std::fs::remove_file(
        f.dir
            .path()
            .join(store::leaves_uri(&uri).trim_start_matches(&format!("{base}/"))),
    )
    .unwrap();
    let mut bad = chunks[0].clone();
    bad[0] ^= 1;
    block_on(
        f.store
            .put(&store::chunk_uri(&uri, 0), Bytes::from(bad), &mut |_, _| {}),
    )
    .unwrap();
    let e = block_on(creator::fetch_result(
        &Ctx::new(&chain),
        &f.store,
        &bases,
        &job,
        &mut |_, _| {},
    ))
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("do not hash to the job's committed root"),
        "{e}"
    );
    // A chunk missing from the store.
    std::fs::remove_dir_all(f.dir.path().join("out")).unwrap();
    let e = block_on(creator::fetch_result(
        &Ctx::new(&chain),
        &f.store,
        &bases,
        &job,
        &mut |_, _| {},
    ))
    .unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
}

#[test]
fn test_result_of_an_open_job_is_bad_input() {
    let mut f = Fixture::new();
    let (job, _) = submit_scene(&mut f, 50_000);
    let bases = [f.base()];
    let chain = LiteChain::new(&mut f.env.svm);
    let e = block_on(creator::fetch_result(
        &Ctx::new(&chain),
        &f.store,
        &bases,
        &job,
        &mut |_, _| {},
    ))
    .unwrap_err();
    assert!(e.to_string().contains("no agreed result (Open)"), "{e}");
}

#[test]
fn test_wait_times_out_with_the_last_state() {
    let mut f = Fixture::new();
    let (job, _) = submit_scene(&mut f, 50_000);
    let chain = LiteChain::new(&mut f.env.svm);
    let mut events = Vec::new();
    let e = block_on(creator::wait_for_job(
        &Ctx::new(&chain),
        &job,
        WaitFor::End,
        Duration::from_millis(50),
        Duration::from_millis(10),
        &mut |ev| events.push(ev.clone()),
    ))
    .unwrap_err();
    assert!(
        matches!(&e, ClientError::Timeout { state, .. } if state == "Open"),
        "{e}"
    );
    assert_eq!(events, vec![JobEvent::State(JobState::Open)]);
}

#[test]
fn test_cancel_of_a_claimed_job_sends_nothing() {
    let mut f = Fixture::new();
    let (job, _) = submit_scene(&mut f, 50_000);
    let op = f.env.operator(10_000_000);
    f.env.claim(&op, job).unwrap();
    let before = f.env.balance(&f.creator.token);
    let market_address = f.env.keys.market;
    let chain = LiteChain::new(&mut f.env.svm);
    let e = block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        creator::cancel_job(&ctx, &m, &f.creator.key, &job, &f.creator.token).await
    })
    .unwrap_err();
    assert_eq!(chain.sent(), 0);
    assert!(e.to_string().contains("has claims"), "{e}");
    assert_eq!(f.env.balance(&f.creator.token), before);
}

#[test]
fn test_unstake_more_than_free_stake_sends_nothing() {
    let mut f = Fixture::new();
    let market_address = f.env.keys.market;
    let op = f.env.operator(2_000_000);
    let before = f.env.operator_of(&op);
    let chain = LiteChain::new(&mut f.env.svm);
    let e = block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        operator::unstake(&ctx, &m, &op.key, 2_000_001).await
    })
    .unwrap_err();
    assert_eq!(chain.sent(), 0);
    assert!(matches!(e, ClientError::InsufficientFunds { .. }), "{e}");
    assert!(e.to_string().contains("only 2 of the stake is free"), "{e}");
    let after = f.env.operator_of(&op);
    assert_eq!(
        (after.stake, after.unbonding),
        (before.stake, before.unbonding)
    );
}

#[test]
fn test_withdraw_before_unbonding_ends_sends_nothing() {
    let mut f = Fixture::new();
    let market_address = f.env.keys.market;
    let op = f.env.operator(2_000_000);
    let chain = LiteChain::new(&mut f.env.svm);
    let (nothing, early) = block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        let nothing = operator::withdraw(&ctx, &m, &op.key, &op.token)
            .await
            .unwrap_err();
        operator::unstake(&ctx, &m, &op.key, 1_000_000)
            .await
            .unwrap();
        let early = operator::withdraw(&ctx, &m, &op.key, &op.token)
            .await
            .unwrap_err();
        (nothing, early)
    });
    assert_eq!(chain.sent(), 1, "only the unstake was sent");
    assert!(
        nothing.to_string().contains("request an unstake first"),
        "{nothing}"
    );
    assert!(early.to_string().contains("is unbonding until"), "{early}");
    assert_eq!(f.env.balance(&op.token), 0);
}

#[test]
fn test_operator_errors_before_registration_and_twice() {
    let mut f = Fixture::new();
    let market_address = f.env.keys.market;
    let op = f.env.operator(1_000_000);
    let stranger = f.env.user(1_000_000);
    let chain = LiteChain::new(&mut f.env.svm);
    let (twice, unregistered, zero) = block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        (
            operator::register(&ctx, &m, &op.key, u32::MAX, &op.token, 0)
                .await
                .unwrap_err(),
            operator::stake(&ctx, &m, &stranger.key, &stranger.token, 10)
                .await
                .unwrap_err(),
            operator::stake(&ctx, &m, &op.key, &op.token, 0)
                .await
                .unwrap_err(),
        )
    });
    assert_eq!(chain.sent(), 0);
    assert!(twice.to_string().contains("already registered"), "{twice}");
    assert!(
        matches!(
            unregistered,
            ClientError::AccountNotFound {
                what: "operator",
                ..
            }
        ),
        "{unregistered}"
    );
    assert!(unregistered.to_string().contains("register first"));
    assert!(zero.to_string().contains("zero"), "{zero}");
}

#[test]
fn test_market_update_refusals_send_nothing() {
    let mut f = Fixture::new();
    let (mint, market_address) = (f.env.keys.mint, f.env.keys.market);
    let admin = f.env.admin.insecure_clone();
    let stranger = f.creator.key.insecure_clone();
    let chain = LiteChain::new(&mut f.env.svm);
    let (not_admin, bad_params, nothing, exists) = block_on(async {
        let ctx = Ctx::new(&chain);
        let m = ctx.market(&market_address).await.unwrap();
        let pause = MarketChanges {
            paused: Some(true),
            ..MarketChanges::default()
        };
        let bad = MarketChanges {
            params: Some(MarketParams {
                protocol_fee_bps: 10_001,
                ..m.state.params
            }),
            ..MarketChanges::default()
        };
        (
            admin::update_market(&ctx, &m, &stranger, &pause)
                .await
                .unwrap_err(),
            admin::update_market(&ctx, &m, &admin, &bad)
                .await
                .unwrap_err(),
            admin::update_market(&ctx, &m, &admin, &MarketChanges::default())
                .await
                .unwrap_err(),
            admin::init_market(
                &ctx,
                &admin,
                &mint,
                &m.state.treasury,
                &admin.pubkey(),
                m.state.params,
            )
            .await
            .unwrap_err(),
        )
    });
    assert_eq!(chain.sent(), 0);
    assert!(
        not_admin.to_string().contains("is not the admin"),
        "{not_admin}"
    );
    assert!(
        bad_params.to_string().contains("basis-point value exceeds"),
        "{bad_params}"
    );
    assert!(
        nothing.to_string().contains("nothing to change"),
        "{nothing}"
    );
    assert!(
        exists.to_string().contains(&format!(
            "already created a market for mint {mint}, at {market_address}"
        )),
        "{exists}"
    );
}

/// A market is named by its address: a mint's address (what named a market before) or an
/// account of another program is refused with what to pass instead.
#[test]
fn test_a_market_is_loaded_by_its_address_only() {
    let mut f = Fixture::new();
    let (mint, market_address) = (f.env.keys.mint, f.env.keys.market);
    let chain = LiteChain::new(&mut f.env.svm);
    let (by_mint, other_program, m) = block_on(async {
        let ctx = Ctx::new(&chain);
        (
            ctx.market(&mint).await.unwrap_err(),
            Ctx::new(&chain)
                .with_program_id(Pubkey::new_unique())
                .market(&market_address)
                .await
                .unwrap_err(),
            ctx.market(&market_address).await.unwrap(),
        )
    });
    assert!(by_mint.to_string().contains("is not a market"), "{by_mint}");
    assert!(by_mint.to_string().contains("--market"), "{by_mint}");
    assert!(
        other_program
            .to_string()
            .contains("is not a market of program"),
        "{other_program}"
    );
    assert_eq!((m.keys.mint, m.keys.market), (mint, market_address));
    assert_eq!(m.keys.founder, f.env.admin.pubkey());
}

/// A transaction the program refuses maps to the Tessera error and its message.
#[test]
fn test_program_error_maps_to_variant_and_message() {
    let mut f = Fixture::new();
    let mut args = f
        .env
        .job_args(7, 1, default_params().min_reward_per_replica - 1);
    args.input_uri = "file:///x".into();
    let ix = f
        .env
        .keys
        .create_job(f.creator.pubkey(), f.creator.token, args);
    let chain = LiteChain::new(&mut f.env.svm);
    let e = block_on(chain.send_transaction(&[ix], &[&f.creator.key], &TxOptions::default()))
        .unwrap_err();
    assert_eq!(chain.sent(), 1);
    match &e {
        ClientError::Program {
            error,
            code,
            message,
            logs,
        } => {
            assert!(matches!(error, TesseraError::RewardTooLow));
            assert_eq!(*code, 6000 + TesseraError::RewardTooLow as u32);
            assert_eq!(
                message,
                "The reward per replica is below the market's minimum."
            );
            assert!(!logs.is_empty());
        }
        other => panic!("expected a program error, got {other}"),
    }
    assert!(e.to_string().contains("(RewardTooLow, error 6021)"), "{e}");
}

#[test]
fn test_send_gives_up_when_every_blockhash_expires() {
    let mut f = Fixture::new();
    let op = f.env.user(1_000_000);
    let ix = f.env.keys.register_operator(op.pubkey(), u32::MAX);
    let chain = LiteChain::new(&mut f.env.svm);
    chain.expire_next(3);
    let e = block_on(chain.send_transaction(&[ix], &[&op.key], &TxOptions::default())).unwrap_err();
    assert!(
        matches!(e, ClientError::BlockhashExpired { attempts: 3 }),
        "{e}"
    );
    assert_eq!(chain.sent(), 0);
    assert!(f
        .env
        .account::<tessera::state::Operator>(&f.env.keys.operator(&op.pubkey()))
        .is_none());
}

/// The referee's staging flow: a buffer funded at the chain's own rent-exempt minimum (read
/// from the Rent sysvar), written in pieces, read back byte for byte, and closed with its rent
/// returned.
#[test]
fn test_staging_a_fraud_proof_writes_every_byte_and_returns_the_rent() {
    use tessera_client::flows::referee;
    let mut f = Fixture::new();
    let payer = f.env.cranker();
    let bytes: Vec<u8> = (0..2_500u32).map(|i| (i * 7) as u8).collect();
    let space = tessera_client::ix::buffer_space(bytes.len());
    let expected_rent = f.env.svm.minimum_balance_for_rent_exemption(space);
    let keys = f.env.keys;
    let chain = LiteChain::new(&mut f.env.svm);
    let ctx = Ctx::new(&chain);
    assert_eq!(
        block_on(referee::rent_exempt_minimum(&ctx, space)).unwrap(),
        expected_rent
    );
    let buffer = block_on(referee::stage(&ctx, &keys, &payer, &bytes)).unwrap();
    // One transaction to create it, three to write 2 500 bytes 960 at a time.
    assert_eq!(chain.sent(), 4);
    let account = f.env.svm.get_account(&buffer).unwrap();
    assert_eq!(account.lamports, expected_rent);
    assert_eq!(
        &account.data[tessera::state::BUFFER_DATA_OFFSET..],
        bytes.as_slice()
    );
    let before = f.env.svm.get_balance(&payer.pubkey()).unwrap();
    let chain = LiteChain::new(&mut f.env.svm);
    block_on(referee::close(&Ctx::new(&chain), &keys, &payer, &buffer)).unwrap();
    assert!(f
        .env
        .svm
        .get_account(&buffer)
        .is_none_or(|a| a.lamports == 0));
    assert_eq!(
        f.env.svm.get_balance(&payer.pubkey()).unwrap(),
        before + expected_rent - 5_000
    );
}

/// A market with no arbiter takes only the jobs the program referees: a render job is refused
/// before anything is uploaded, sent or escrowed, with the reason and the way out.
#[test]
fn test_submit_to_a_market_without_an_arbiter_refuses_unrefereed_kernels() {
    let env = Env::without_arbiter();
    let mut f = Fixture::on(env);
    let e = submit_fails(&mut f, request(scene(), 50_000));
    assert!(e.to_string().contains("has no arbiter"), "{e}");
    assert!(e.to_string().contains("render"), "{e}");
}
