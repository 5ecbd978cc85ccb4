//! An S3-compatible object store on this machine (feature `s3-server`), for tests and for trying
//! `tessera serve` by hand: `s3s-fs` (the S3 protocol over a directory, each bucket a
//! subdirectory) behind `s3s`'s SigV4 authentication, with one key. A real S3 server, not a
//! stand-in: the client, the worker and the gateway reach it through the same `object_store`
//! code as they reach AWS.
use std::net::SocketAddr;
use std::path::Path;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// The access key the server takes.
pub const ACCESS_KEY: &str = "tessera-test";
/// Its secret.
pub const SECRET_KEY: &str = "tessera-test-secret";

/// Serves the buckets under `root` on `addr` (port 0: a free one) on the current runtime
/// until the runtime stops; returns the address it listens on.
pub async fn serve(root: &Path, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let fs = s3s_fs::FileSystem::new(root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let http = Builder::new(TokioExecutor::new());
        while let Ok((socket, _)) = listener.accept().await {
            let conn = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    Ok(addr)
}

/// The object store options (`Store::with_options`, or the same names upper-cased in the
/// environment) that reach the server at `addr`.
pub fn options(addr: SocketAddr) -> Vec<(String, String)> {
    [
        ("aws_endpoint", format!("http://{addr}")),
        ("aws_access_key_id", ACCESS_KEY.to_string()),
        ("aws_secret_access_key", SECRET_KEY.to_string()),
        ("aws_region", "us-east-1".to_string()),
        ("aws_allow_http", "true".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
