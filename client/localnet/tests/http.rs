//! The local network's store over HTTP (`tessera_localnet::http`): reads under the store, the
//! content-addressed input upload, the keypairs and summary, the app's files, and every way
//! out of those directories refused.
mod common;

use common::{get_from, hex, put, send};
use sha2::{Digest, Sha256};
use tessera_localnet::http::{
    allowed_origin, safe_names, HttpConfig, HttpServer, Network, StoreRoot,
};

fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String, Vec<u8>) {
    get_from(addr, path, "http://127.0.0.1:5173")
}

struct Fixture {
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    server: HttpServer,
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let dir = root.join("localnet");
    let store = dir.join("store");
    let app = root.join("app");
    std::fs::create_dir_all(store.join("out/abc")).unwrap();
    std::fs::create_dir_all(app.join("assets")).unwrap();
    std::fs::write(store.join("out/abc/chunk-0"), b"tile zero").unwrap();
    std::fs::write(dir.join("localnet.json"), br#"{"market":"M"}"#).unwrap();
    std::fs::write(dir.join("creator.json"), b"[1,2,3]").unwrap();
    std::fs::write(dir.join("mint.json"), b"[9,9,9]").unwrap();
    std::fs::write(root.join("secret"), b"outside").unwrap();
    std::fs::write(app.join("index.html"), b"<!doctype html>app").unwrap();
    std::fs::write(app.join("assets/main.js"), b"console.log(1)").unwrap();
    let server = HttpServer::start(
        ([127, 0, 0, 1], 0).into(),
        HttpConfig {
            store: StoreRoot::Dir(store.clone()),
            network: Network::Localnet {
                dir: dir.clone(),
                keypairs: vec!["creator".into(), "operator-1".into()],
            },
            app: Some(app),
            origins: Vec::new(),
        },
    )
    .await
    .unwrap();
    Fixture {
        _tmp: tmp,
        root,
        server,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_the_store_the_summary_the_keypairs_and_the_app() {
    let f = fixture().await;
    let addr = f.server.addr;
    assert_eq!(f.server.store_url(), format!("http://{addr}/store"));
    let (status, head, body) =
        tokio::task::spawn_blocking(move || get(addr, "/store/out/abc/chunk-0"))
            .await
            .unwrap();
    assert_eq!(status, 200, "{head}");
    assert_eq!(body, b"tile zero");
    // A page on this machine may read it across origins.
    assert!(
        head.contains("Access-Control-Allow-Origin: http://127.0.0.1:5173"),
        "{head}"
    );
    let results = tokio::task::spawn_blocking(move || {
        [
            get(addr, "/localnet.json"),
            get(addr, "/network.json"),
            get(addr, "/keypairs/creator.json"),
            get(addr, "/"),
            get(addr, "/assets/main.js"),
            get(addr, "/store/out/abc/chunk-1"),
            get(addr, "/keypairs/operator-1.json"),
        ]
    })
    .await
    .unwrap();
    // The summary, under both names.
    for r in &results[..2] {
        assert_eq!((r.0, r.2.as_slice()), (200, &br#"{"market":"M"}"#[..]));
    }
    assert_eq!(
        (results[2].0, results[2].2.as_slice()),
        (200, &b"[1,2,3]"[..])
    );
    assert_eq!(results[3].0, 200);
    assert!(results[3].1.contains("text/html"), "{}", results[3].1);
    assert_eq!(results[3].2, b"<!doctype html>app");
    assert!(results[4].1.contains("text/javascript"), "{}", results[4].1);
    // Missing files: a tile not written, a keypair named but not on disk.
    assert_eq!(results[5].0, 404);
    assert_eq!(results[6].0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outside_the_directories_is_served() {
    let f = fixture().await;
    let addr = f.server.addr;
    // A link inside the store that leads out of it.
    #[cfg(unix)]
    std::os::unix::fs::symlink(f.root.join("secret"), f.root.join("localnet/store/link")).unwrap();
    let results = tokio::task::spawn_blocking(move || {
        [
            "/store/../creator.json",
            "/store/out/../../creator.json",
            "/store/%2e%2e/creator.json",
            "/store//etc/passwd",
            "/store/./out/abc/chunk-0",
            "/store/link",
            "/keypairs/mint.json",
            "/keypairs/../secret",
            "/../secret",
            "/assets/../../secret",
        ]
        .map(|p| (p, get(addr, p)))
    })
    .await
    .unwrap();
    for (path, (status, _, body)) in results {
        assert!(status == 400 || status == 404, "{path}: {status}");
        assert_ne!(body, b"outside", "{path}");
        assert_ne!(body, b"[1,2,3]", "{path}");
        assert_ne!(body, b"[9,9,9]", "{path}");
    }
    // Cross-origin reads are for pages on this machine only.
    let (_, head, _) = tokio::task::spawn_blocking(move || {
        send(
            addr,
            b"GET /localnet.json HTTP/1.1\r\nOrigin: https://evil.example\r\n\r\n",
        )
    })
    .await
    .unwrap();
    assert!(!head.contains("Access-Control-Allow-Origin"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_is_stored_under_its_own_hash_only() {
    let f = fixture().await;
    let addr = f.server.addr;
    let store = f.root.join("localnet/store");
    let body = b"{\"width\": 8}".to_vec();
    let name = hex(&Sha256::digest(&body));
    let other = hex(&Sha256::digest(b"something else"));
    let (b, n, o) = (body.clone(), name.clone(), other.clone());
    let results = tokio::task::spawn_blocking(move || {
        [
            put(addr, &format!("/store/inputs/{o}"), &b),
            put(addr, &format!("/store/inputs/{n}"), &b),
            put(addr, "/store/out/abc/chunk-0", b"tampered"),
            put(addr, "/store/inputs/../out/abc/chunk-0", b"tampered"),
            put(addr, "/store/inputs/NOTHEX", &b),
            get(addr, &format!("/store/inputs/{n}")),
        ]
    })
    .await
    .unwrap();
    // The wrong name is refused and leaves nothing behind.
    assert_eq!(
        results[0].0,
        422,
        "{:?}",
        String::from_utf8_lossy(&results[0].2)
    );
    assert!(!store.join("inputs").join(&other).exists());
    assert_eq!(results[1].0, 201);
    assert_eq!(
        std::fs::read(store.join("inputs").join(&name)).unwrap(),
        body
    );
    // Outputs are not writable, by any path.
    assert_eq!(results[2].0, 405);
    assert_eq!(results[3].0, 400);
    assert_eq!(results[4].0, 400);
    assert_eq!(
        std::fs::read(store.join("out/abc/chunk-0")).unwrap(),
        b"tile zero"
    );
    assert_eq!(results[5].0, 200);
    assert_eq!(results[5].2, body);
    // No temporary file is left in the inputs directory.
    let left: Vec<String> = std::fs::read_dir(store.join("inputs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, [name]);
}

#[test]
fn names_and_origins() {
    assert_eq!(
        safe_names("out/abc/chunk-0"),
        Some(vec!["out", "abc", "chunk-0"])
    );
    for bad in [
        "", "a//b", "../a", "a/..", "./a", "a/%2e", "a\\b", "/a", "a/",
    ] {
        assert_eq!(safe_names(bad), None, "{bad}");
    }
    let none: &[String] = &[];
    assert_eq!(
        allowed_origin("http://127.0.0.1:5173", none),
        Some("http://127.0.0.1:5173")
    );
    assert_eq!(
        allowed_origin("http://localhost", none),
        Some("http://localhost")
    );
    let app = ["https://app.example.com".to_string()];
    assert_eq!(
        allowed_origin("https://app.example.com", &app),
        Some("https://app.example.com")
    );
    for bad in [
        "https://evil.example",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil:80",
        "http://127.0.0.1:80@evil",
        "null",
        "https://app.example.com.evil",
        "http://app.example.com",
    ] {
        assert_eq!(allowed_origin(bad, &app), None, "{bad}");
    }
}
