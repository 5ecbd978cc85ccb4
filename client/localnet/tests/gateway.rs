//! The store gateway (`tessera_localnet::http` with `StoreRoot::Remote`, what `tessera serve`
//! runs) in front of a real S3-compatible server (s3s-fs, SigV4): inputs uploaded through it
//! land in the bucket only under their own sha256, in one request or in parts; outputs are read
//! through it; the network summary, the allowed origins, and every refusal.
mod common;

use std::net::SocketAddr;

use common::{get_from, hex, put, send};
use sha2::{Digest, Sha256};
use tessera_client::store::{Capped, Store};
use tessera_localnet::http::{HttpConfig, HttpServer, Network, StoreRoot, MAX_UPLOAD};
use tessera_localnet::s3;

const BASE: &str = "s3://jobs/tessera";

struct Fixture {
    _tmp: tempfile::TempDir,
    /// The server's directory: the bucket `jobs` is `<root>/jobs`.
    root: std::path::PathBuf,
    store: Store,
    gateway: HttpServer,
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("s3");
    std::fs::create_dir_all(root.join("jobs")).unwrap();
    let s3_addr = s3::serve(&root, ([127, 0, 0, 1], 0).into()).await.unwrap();
    let store = Store::with_options(s3::options(s3_addr));
    let gateway = HttpServer::start(
        ([127, 0, 0, 1], 0).into(),
        HttpConfig {
            store: StoreRoot::Remote {
                base: BASE.into(),
                store: store.clone(),
            },
            network: Network::Summary(br#"{"market":"M","store":"s3://jobs/tessera"}"#.to_vec()),
            app: None,
            origins: vec!["https://app.example.com".into()],
        },
    )
    .await
    .unwrap();
    Fixture {
        _tmp: tmp,
        root,
        store,
        gateway,
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_reaches_the_bucket_under_its_own_hash_and_is_read_back() {
    let f = fixture().await;
    let addr = f.gateway.addr;
    let body = b"{\"width\": 8, \"height\": 8}".to_vec();
    let name = hex(&Sha256::digest(&body));
    let b = body.clone();
    let n = name.clone();
    let (stored, read) = blocking(move || {
        (
            put(addr, &format!("/store/inputs/{n}"), &b),
            get_from(
                addr,
                &format!("/store/inputs/{n}"),
                "https://app.example.com",
            ),
        )
    })
    .await;
    assert_eq!(stored.0, 201, "{}", String::from_utf8_lossy(&stored.2));
    // In the bucket, as the workers read it (s3:// with their credentials).
    let uri = format!("{BASE}/inputs/{name}");
    assert_eq!(f.store.get(&uri).await.unwrap().as_ref(), body.as_slice());
    // Through the gateway, for an allowed origin.
    assert_eq!((read.0, read.2.as_slice()), (200, body.as_slice()));
    assert!(
        read.1
            .contains("Access-Control-Allow-Origin: https://app.example.com"),
        "{}",
        read.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_input_is_uploaded_in_parts() {
    let f = fixture().await;
    let addr = f.gateway.addr;
    // Larger than one part (8 MiB): a multipart upload of three parts.
    let body: Vec<u8> = (0..(17u32 << 20) + 5)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let name = hex(&Sha256::digest(&body));
    let (b, n) = (body.clone(), name.clone());
    let stored = blocking(move || put(addr, &format!("/store/inputs/{n}"), &b)).await;
    assert_eq!(stored.0, 201, "{}", String::from_utf8_lossy(&stored.2));
    let got = f
        .store
        .get_at_most(&format!("{BASE}/inputs/{name}"), 1 << 30)
        .await
        .unwrap();
    let Capped::Read(got) = got else {
        panic!("too large?")
    };
    assert_eq!(got.len(), body.len());
    assert!(got.as_ref() == body.as_slice(), "the bytes differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_or_hostile_uploads_are_refused_and_leave_nothing() {
    let f = fixture().await;
    let addr = f.gateway.addr;
    let body = b"a scene".to_vec();
    let right = hex(&Sha256::digest(&body));
    let wrong = hex(&Sha256::digest(b"another scene"));
    let (b, w) = (body.clone(), wrong.clone());
    let results = blocking(move || {
        [
            put(addr, &format!("/store/inputs/{w}"), &b),
            put(addr, "/store/inputs/NOTHEX", &b),
            put(addr, "/store/out/x/chunk-0", b"tampered"),
            put(addr, "/store/inputs/../out/x/chunk-0", b"tampered"),
            send(
                addr,
                format!(
                    "PUT /store/inputs/{w} HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
                    MAX_UPLOAD + 1
                )
                .as_bytes(),
            ),
            send(
                addr,
                format!("PUT /store/inputs/{w} HTTP/1.1\r\n\r\n").as_bytes(),
            ),
            send(
                addr,
                format!("PUT /store/inputs/{w} HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort")
                    .as_bytes(),
            ),
        ]
    })
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    assert_eq!(statuses, [422, 400, 405, 400, 413, 411, 400]);
    assert!(
        String::from_utf8_lossy(&results[0].2).contains(&format!("the body's sha256 is {right}")),
        "{}",
        String::from_utf8_lossy(&results[0].2)
    );
    // The bucket holds nothing at all.
    let mut names = Vec::new();
    for e in walk(&f.root.join("jobs")) {
        names.push(e);
    }
    assert!(names.is_empty(), "{names:?}");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_are_read_through_it_and_nothing_else_is() {
    let f = fixture().await;
    let addr = f.gateway.addr;
    let out = format!("{BASE}/out/abc");
    f.store
        .put(
            &format!("{out}/chunk-0"),
            bytes::Bytes::from_static(b"tile zero"),
            &mut |_, _| {},
        )
        .await
        .unwrap();
    let results = blocking(move || {
        [
            get_from(addr, "/store/out/abc/chunk-0", "http://127.0.0.1:5173"),
            get_from(addr, "/store/out/abc/chunk-1", "http://127.0.0.1:5173"),
            get_from(
                addr,
                "/store/../jobs/tessera/out/abc/chunk-0",
                "http://127.0.0.1:5173",
            ),
            get_from(
                addr,
                "/store/out/%2e%2e/abc/chunk-0",
                "http://127.0.0.1:5173",
            ),
            get_from(addr, "/network.json", "https://evil.example"),
            get_from(addr, "/localnet.json", "https://app.example.com"),
            get_from(addr, "/keypairs/creator.json", "https://app.example.com"),
            get_from(addr, "/", "https://app.example.com"),
        ]
    })
    .await;
    assert_eq!(
        (results[0].0, results[0].2.as_slice()),
        (200, &b"tile zero"[..])
    );
    assert!(results[0]
        .1
        .contains("Access-Control-Allow-Origin: http://127.0.0.1:5173"));
    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    assert_eq!(statuses, [200, 404, 400, 400, 200, 404, 404, 404]);
    // The summary, but not to another site's page.
    assert_eq!(
        results[4].2,
        br#"{"market":"M","store":"s3://jobs/tessera"}"#
    );
    assert!(
        !results[4].1.contains("Access-Control-Allow-Origin"),
        "{}",
        results[4].1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_is_named_as_such() {
    // Credentials for a server that is not there.
    let dead: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut options = s3::options(dead);
    options.push(("aws_retry_max_retries".into(), "0".into()));
    options.push(("aws_retry_timeout".into(), "1s".into()));
    let gateway = HttpServer::start(
        ([127, 0, 0, 1], 0).into(),
        HttpConfig {
            store: StoreRoot::Remote {
                base: BASE.into(),
                store: Store::with_options(options),
            },
            network: Network::Summary(b"{}".to_vec()),
            app: None,
            origins: Vec::new(),
        },
    )
    .await
    .unwrap();
    let addr = gateway.addr;
    let body = b"x".to_vec();
    let name = hex(&Sha256::digest(&body));
    let (stored, read) = blocking(move || {
        (
            put(addr, &format!("/store/inputs/{name}"), &body),
            get_from(addr, "/store/out/abc/chunk-0", "http://localhost:5173"),
        )
    })
    .await;
    assert_eq!(stored.0, 502, "{}", String::from_utf8_lossy(&stored.2));
    assert!(String::from_utf8_lossy(&stored.2)
        .starts_with("cannot store the input: cannot write s3://jobs/tessera/inputs/"));
    assert_eq!(read.0, 502, "{}", String::from_utf8_lossy(&read.2));
}
