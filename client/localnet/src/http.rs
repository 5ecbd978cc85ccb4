//! The HTTP server for browsers: what a web app needs to upload a job's input and read its
//! output, learn the network's addresses, and the app itself. It runs in two places:
//!
//! - **a local network** (`tessera localnet`, on 127.0.0.1): its store directory, its summary
//!   and its development keypairs;
//! - **in front of a real cluster's store** (`tessera serve`): a gateway to any object store
//!   the client opens (`s3://`, `gs://`, `az://`, `file://`), with the cluster's summary.
//!
//! | request | what it does |
//! |---|---|
//! | `GET /store/<path>` | a blob under the store (`out/<id>/chunk-<i>`, `out/<id>/leaves`, `inputs/<sha256>`) |
//! | `PUT /store/inputs/<sha256 hex>` | stores an input; refused unless the body's sha256 is its name |
//! | `GET /network.json` | the network's summary (URLs, program, market, store; on a local network `<dir>/localnet.json`, also at `/localnet.json`) |
//! | `GET /keypairs/<name>.json` | a local network's keypair (`admin`, `creator`, `operator-N`): its development wallet |
//! | `GET /`, `GET /<file>` | the web app's files (`app/dist`), when one is given |
//!
//! A path is a list of `[A-Za-z0-9._-]` names, none of them `.` or `..`: nothing outside the
//! store, the app and the keypairs can be named, and a file reached through a symbolic link that
//! leads out of them is refused too. Writes are content-addressed: an input is streamed to a
//! temporary file while it is hashed, and reaches the store only under its own sha256, so a
//! browser can neither overwrite a worker's output nor put other bytes under an input's name.
//! (That is why a real cluster's store is reached through this gateway rather than by
//! presigned URLs: a presigned PUT binds the object's name, not its bytes, and a holder of one
//! could replace a content-addressed input that other jobs name.) Cross-origin requests are
//! answered for pages served from 127.0.0.1 or localhost (the app's development server) and
//! for the origins the server is given.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::{PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use tessera_client::store::{Capped, Store, PART_SIZE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest input a browser may upload: the largest any kernel accepts (a model).
pub const MAX_UPLOAD: u64 = tessera_kernels::limits::MAX_MODEL_BYTES as u64;
/// Largest blob read through the gateway from an object store (a page reads outputs: chunks and
/// leaves, far smaller); a larger one is refused with a sentence, not streamed.
pub const MAX_GATEWAY_READ: u64 = 64 << 20;
/// Largest request head (request line and headers).
const MAX_HEAD: usize = 16 << 10;

/// What the server serves.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Where `/store/…` reads and writes.
    pub store: StoreRoot,
    /// What `/network.json` says, and whether keypairs are served.
    pub network: Network,
    /// The web app's built files (`index.html` and its assets), if any.
    pub app: Option<PathBuf>,
    /// Origins, besides pages on this machine, that may call the server from a browser
    /// (`https://app.example.com`).
    pub origins: Vec<String>,
}

/// The store behind `/store/…`.
#[derive(Clone, Debug)]
pub enum StoreRoot {
    /// A directory, served from disk (a local network's store, its workers' `file://` store).
    Dir(PathBuf),
    /// An object store by its base URL (`s3://bucket/prefix`), opened with `store`'s options
    /// (credentials, endpoint, region: `Store::from_env`).
    Remote { base: String, store: Store },
}

/// The network the server describes.
#[derive(Clone, Debug)]
pub enum Network {
    /// A local network: `<dir>/localnet.json` and the keypair files in `dir` named `keypairs`.
    Localnet { dir: PathBuf, keypairs: Vec<String> },
    /// A cluster's summary, as JSON.
    Summary(Vec<u8>),
}

/// `dir` when the web app has been built there (its `index.html` is there), to serve at `/`.
pub fn built_app(dir: &Path) -> Option<PathBuf> {
    dir.join("index.html").is_file().then(|| dir.to_path_buf())
}

/// A running server; it stops when dropped.
pub struct HttpServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    /// Binds `addr` (port 0: a free port) and serves `cfg` on the current runtime.
    pub async fn start(addr: SocketAddr, cfg: HttpConfig) -> std::io::Result<HttpServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let cfg = Arc::new(cfg);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let cfg = cfg.clone();
                tokio::spawn(async move {
                    let _ = handle(stream, &cfg).await;
                });
            }
        });
        Ok(HttpServer { addr, task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The store's base URL over HTTP: `<url>/store`. An output URI `<store base>/<path>` that
    /// a worker posts is read at `<store url>/<path>`.
    pub fn store_url(&self) -> String {
        format!("{}/store", self.url())
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A parsed request head.
struct Head {
    method: String,
    path: String,
    content_length: Option<u64>,
    origin: Option<String>,
}

/// A response.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Reply {
    fn json(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json",
            body,
        }
    }

    fn text(status: u16, message: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: (message.into() + "\n").into_bytes(),
        }
    }
}

async fn handle(mut stream: TcpStream, cfg: &HttpConfig) -> std::io::Result<()> {
    let (head, rest) = match read_head(&mut stream).await? {
        Ok(parsed) => parsed,
        Err(reply) => return write_reply(&mut stream, None, "GET", reply).await,
    };
    let reply = route(&head, rest, &mut stream, cfg).await;
    let origin = head
        .origin
        .as_deref()
        .and_then(|o| allowed_origin(o, &cfg.origins));
    write_reply(&mut stream, origin, &head.method, reply).await
}

/// Reads the request head; returns it with the body bytes read past it.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Result<(Head, Vec<u8>), Reply>> {
    let mut buf = Vec::with_capacity(1024);
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Ok(Err(Reply::text(431, "request head too large")));
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let rest = buf[end + 4..].to_vec();
    let Ok(text) = std::str::from_utf8(&buf[..end]) else {
        return Ok(Err(Reply::text(400, "the request head is not UTF-8")));
    };
    let mut lines = text.split("\r\n");
    let mut request = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target)) = (request.next(), request.next()) else {
        return Ok(Err(Reply::text(400, "bad request line")));
    };
    let mut head = Head {
        method: method.to_string(),
        path: target.split(['?', '#']).next().unwrap_or("").to_string(),
        content_length: None,
        origin: None,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => match value.parse() {
                Ok(n) => head.content_length = Some(n),
                Err(_) => return Ok(Err(Reply::text(400, "bad Content-Length"))),
            },
            "transfer-encoding" => {
                return Ok(Err(Reply::text(
                    411,
                    "send the body with a Content-Length (no chunked encoding)",
                )))
            }
            "origin" => head.origin = Some(value.to_string()),
            _ => {}
        }
    }
    Ok(Ok((head, rest)))
}

/// The names of a request path under its prefix: each `[A-Za-z0-9._-]+`, none `.` or `..`.
/// `None` for anything else (traversal, encoded characters, empty names).
pub fn safe_names(path: &str) -> Option<Vec<&str>> {
    let names: Vec<&str> = path.split('/').collect();
    let ok = names.iter().all(|n| {
        !n.is_empty()
            && *n != "."
            && *n != ".."
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    });
    ok.then_some(names)
}

/// `root/<names…>` if that file exists inside `root` once links are resolved.
fn file_under(root: &Path, names: &[&str]) -> Option<PathBuf> {
    let path = names.iter().fold(root.to_path_buf(), |p, n| p.join(n));
    let real = std::fs::canonicalize(&path).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    (real.starts_with(&root) && real.is_file()).then_some(real)
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "wasm" => "application/wasm",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn read_file(path: &Path, content_type: &'static str) -> Reply {
    match std::fs::read(path) {
        Ok(body) => Reply {
            status: 200,
            content_type,
            body,
        },
        Err(e) => Reply::text(500, format!("cannot read the file: {e}")),
    }
}

async fn route(head: &Head, rest: Vec<u8>, stream: &mut TcpStream, cfg: &HttpConfig) -> Reply {
    let method = head.method.as_str();
    if method == "OPTIONS" {
        return Reply {
            status: 204,
            content_type: "text/plain",
            body: Vec::new(),
        };
    }
    let path = head.path.as_str();
    if method == "PUT" {
        let Some(name) = path.strip_prefix("/store/inputs/") else {
            return Reply::text(
                405,
                "only inputs are written: PUT /store/inputs/<sha256 of the body, hex>",
            );
        };
        return put_input(head, rest, stream, &cfg.store, name).await;
    }
    if method != "GET" && method != "HEAD" {
        return Reply::text(405, format!("{method} is not served here (GET, HEAD, PUT)"));
    }
    match (&cfg.network, path) {
        (Network::Localnet { dir, .. }, "/localnet.json" | "/network.json") => {
            return match std::fs::read(dir.join("localnet.json")) {
                Ok(body) => Reply::json(body),
                Err(_) => Reply::text(503, "the local network is still starting"),
            };
        }
        (Network::Summary(json), "/network.json") => return Reply::json(json.clone()),
        _ => {}
    }
    if let Some(file) = path.strip_prefix("/keypairs/") {
        let found = match &cfg.network {
            Network::Localnet { dir, keypairs } => file
                .strip_suffix(".json")
                .is_some_and(|name| keypairs.iter().any(|k| k == name))
                .then(|| file_under(dir, &[file]))
                .flatten(),
            Network::Summary(_) => None,
        };
        return match found {
            Some(p) => read_file(&p, "application/json"),
            None => Reply::text(404, format!("no keypair {file} is served here")),
        };
    }
    if let Some(rel) = path.strip_prefix("/store/") {
        let Some(names) = safe_names(rel) else {
            return Reply::text(400, format!("{path} is not a path in the store"));
        };
        return match &cfg.store {
            StoreRoot::Dir(dir) => match file_under(dir, &names) {
                Some(p) => read_file(&p, "application/octet-stream"),
                None => Reply::text(404, format!("{path} does not exist")),
            },
            StoreRoot::Remote { base, store } => {
                let uri = format!("{base}/{}", names.join("/"));
                match store.find_at_most(&uri, MAX_GATEWAY_READ).await {
                    Ok(Some(Capped::Read(body))) => Reply {
                        status: 200,
                        content_type: "application/octet-stream",
                        body: body.to_vec(),
                    },
                    Ok(Some(Capped::TooLarge { bytes })) => Reply::text(
                        413,
                        format!(
                            "{path} is {bytes} bytes; this gateway passes at most \
                             {MAX_GATEWAY_READ}: read it from the store itself"
                        ),
                    ),
                    Ok(None) => Reply::text(404, format!("{path} does not exist")),
                    Err(e) => Reply::text(502, format!("the store failed: {e}")),
                }
            }
        };
    }
    let Some(app) = &cfg.app else {
        return Reply::text(404, format!("{path} does not exist (no app is served)"));
    };
    let rel = match path.trim_start_matches('/') {
        "" => "index.html",
        rel => rel,
    };
    let Some(names) = safe_names(rel) else {
        return Reply::text(400, format!("{path} is not a path of the app"));
    };
    match file_under(app, &names) {
        Some(p) => read_file(&p, content_type(rel)),
        None => Reply::text(404, format!("{path} does not exist")),
    }
}

/// Stores the body at `inputs/<name>` once its sha256 is `name`. The body goes to a temporary
/// file first while it is hashed (beside the input in a store directory, else in the system's
/// temporary directory), and reaches the store only once its hash is checked: renamed into
/// place in a directory, uploaded in parts to an object store. A reader never sees a partial
/// or a wrong input.
async fn put_input(
    head: &Head,
    rest: Vec<u8>,
    stream: &mut TcpStream,
    store: &StoreRoot,
    name: &str,
) -> Reply {
    if name.len() != 64 || !name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Reply::text(
            400,
            "an input is stored under its sha256, 64 lower-case hex digits",
        );
    }
    let Some(len) = head.content_length else {
        return Reply::text(411, "send a Content-Length");
    };
    if len > MAX_UPLOAD {
        return Reply::text(
            413,
            format!("{len} bytes; an input is at most {MAX_UPLOAD} bytes"),
        );
    }
    let staging = match store {
        StoreRoot::Dir(dir) => {
            let dir = dir.join("inputs");
            std::fs::create_dir_all(&dir).and_then(|()| {
                tempfile::Builder::new()
                    .prefix(&format!(".{name}."))
                    .suffix(".part")
                    .tempfile_in(&dir)
            })
        }
        StoreRoot::Remote { .. } => tempfile::Builder::new()
            .prefix(".tessera-upload-")
            .tempfile(),
    };
    let part = match staging {
        Ok(file) => file,
        Err(e) => return Reply::text(500, format!("cannot stage the upload: {e}")),
    };
    let (file, part) = part.into_parts();
    let hash = match receive(tokio::fs::File::from_std(file), rest, stream, len).await {
        Ok(h) => h,
        Err(e) => return Reply::text(400, format!("the upload failed: {e}")),
    };
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    if hex != name {
        return Reply::text(
            422,
            format!(
                "the body's sha256 is {hex}, not {name}: an input is stored under its own hash"
            ),
        );
    }
    let stored = match store {
        StoreRoot::Dir(dir) => part
            .persist(dir.join("inputs").join(name))
            .map_err(|e| (500, e.error.to_string())),
        StoreRoot::Remote { base, store } => {
            upload(store, &format!("{base}/inputs/{name}"), &part, len)
                .await
                .map_err(|e| (502, e))
        }
    };
    match stored {
        Ok(()) => Reply::text(201, format!("stored inputs/{name}")),
        Err((status, e)) => Reply::text(status, format!("cannot store the input: {e}")),
    }
}

/// Writes the `len` bytes of the body (`rest`, then the stream) to `file`; returns their sha256.
async fn receive(
    mut file: tokio::fs::File,
    rest: Vec<u8>,
    stream: &mut TcpStream,
    len: u64,
) -> std::io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut got = rest.len().min(len as usize) as u64;
    hasher.update(&rest[..got as usize]);
    file.write_all(&rest[..got as usize]).await?;
    let mut buf = vec![0u8; 64 << 10];
    while got < len {
        let want = buf.len().min((len - got) as usize);
        let n = stream.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).await?;
        got += n as u64;
    }
    file.flush().await?;
    Ok(hasher.finalize().into())
}

/// Uploads the `len`-byte file at `path` to `uri`: in one request up to `PART_SIZE`, else in
/// parts of that size (never more than a few parts in memory).
async fn upload(store: &Store, uri: &str, path: &Path, len: u64) -> Result<(), String> {
    let (objects, location) = store.open(uri).map_err(|e| e.to_string())?;
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| e.to_string())?;
    let fault = |e: object_store::Error| format!("cannot write {uri}: {e}");
    if len <= PART_SIZE as u64 {
        let mut body = Vec::with_capacity(len as usize);
        file.read_to_end(&mut body)
            .await
            .map_err(|e| e.to_string())?;
        objects
            .put(&location, PutPayload::from(body))
            .await
            .map_err(fault)?;
        return Ok(());
    }
    let upload = objects.put_multipart(&location).await.map_err(fault)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut buf = vec![0u8; PART_SIZE];
    loop {
        let n = file.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        writer.wait_for_capacity(2).await.map_err(fault)?;
        writer.write(&buf[..n]);
    }
    writer.finish().await.map_err(fault)?;
    Ok(())
}

/// The `Access-Control-Allow-Origin` for `origin`: itself when it is a page on this machine
/// (`http://127.0.0.1:<port>`, `http://localhost:<port>`) or one of `others`, else none.
pub fn allowed_origin<'a>(origin: &'a str, others: &[String]) -> Option<&'a str> {
    if others.iter().any(|o| o == origin) {
        return Some(origin);
    }
    let host = origin.strip_prefix("http://")?;
    let host = host.split_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            ""
        }
    });
    matches!(host, "127.0.0.1" | "localhost").then_some(origin)
}

async fn write_reply(
    stream: &mut TcpStream,
    origin: Option<&str>,
    method: &str,
    reply: Reply,
) -> std::io::Result<()> {
    let reason = match reply.status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    if let Some(origin) = origin {
        head.push_str(&format!(
            "Access-Control-Allow-Origin: {origin}\r\nVary: Origin\r\n\
             Access-Control-Allow-Methods: GET, HEAD, PUT, OPTIONS\r\n\
             Access-Control-Allow-Headers: Content-Type\r\n"
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    if method != "HEAD" {
        stream.write_all(&reply.body).await?;
    }
    stream.flush().await?;
    stream.shutdown().await
}
