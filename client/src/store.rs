//! Blobs in an object store, and the one definition of where Tessera puts them.
//!
//! A store is named by a URL (`object_store::parse_url_opts`): `file:///abs/dir` (or a plain
//! local path) by default, `s3://bucket/prefix`, `gs://bucket/prefix`,
//! `az://container/prefix` and `https://host/prefix` for real deployments. Cloud credentials
//! come from the usual environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`).
//!
//! Layout under a base URL (the creator's store for inputs, the operator's for outputs):
//!
//! ```text
//! <base>/inputs/<sha256 of the input, hex>           the input blob (content-addressed)
//! <base>/out/<sha256(job ‖ operator account ‖ nonce), first 16 bytes, hex>
//!                                                    an output_uri, as posted on chain
//! <output_uri>/chunk-<i>                             output chunk i (i = 0, 1, …, decimal)
//! <output_uri>/leaves                                the chunks' Merkle leaves, 32 bytes each
//! ```
//!
//! `leaves` lets a reader check each chunk on its own and name the one that is wrong; the
//! leaves themselves are checked against the root committed on chain before they are trusted.
//!
//! An input is posted on chain in one of two forms ([`posted_input_uri`]):
//!
//! - **a URL** (`s3://bucket/inputs/<hex>`, `https://…`): the one place every reader fetches
//!   it from;
//! - **relative to a store**, `inputs/<sha256 of the input, hex>` (71 bytes, however deep the
//!   store's directory): content-addressed, so a reader looks for it under each store it
//!   knows (a worker: its own store, then its `input_stores`; the CLI: its `--store`) and
//!   takes the first copy found ([`input_locations`]). Only this exact form is relative: it
//!   must name the job's own input hash, so it can never point anywhere else.
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use url::Url;

use crate::error::ClientError;

/// Longest URI the program accepts (`MAX_URI_LEN`).
pub const MAX_URI_LEN: usize = tessera::constants::MAX_URI_LEN as usize;
/// Blobs larger than this are uploaded in parts of this size (progress per part).
pub const PART_SIZE: usize = 8 << 20;

/// Where the input with sha256 `hash` lives under `base`.
pub fn input_uri(base: &str, hash: &[u8; 32]) -> String {
    format!("{}/inputs/{}", base.trim_end_matches('/'), hex(hash))
}

/// The store-relative, content-addressed form of an input URI: `inputs/<sha256 hex>`.
pub fn relative_input_uri(hash: &[u8; 32]) -> String {
    format!("inputs/{}", hex(hash))
}

/// The URI a creator posts for an input stored under `base`. A local directory (`file://`)
/// names a place on the creator's machine only, so the input is posted relative to the store
/// ([`relative_input_uri`]): every reader finds it by its hash in the stores it reads, and its
/// length does not depend on the directory's. A remote store is named in full, so that any
/// reader can fetch it from there.
pub fn posted_input_uri(base: &str, hash: &[u8; 32]) -> String {
    if base.starts_with("file:") {
        relative_input_uri(hash)
    } else {
        input_uri(base, hash)
    }
}

/// Where a reader looks for an input posted as `uri` whose sha256 is `hash`: a URL names
/// one place; the relative form names `inputs/<hex>` under each of `bases`, in order. Any
/// other text is refused: a relative URI must be the content address of the job's own input.
pub fn input_locations(
    uri: &str,
    hash: &[u8; 32],
    bases: &[String],
) -> Result<Vec<String>, ClientError> {
    if let Ok(url) = Url::parse(uri) {
        if url.scheme().len() > 1 {
            return Ok(vec![uri.to_string()]);
        }
    }
    if uri != relative_input_uri(hash) {
        return Err(ClientError::bad_input(
            format!("the input URI \"{uri}\" is neither a URL nor inputs/<the job's input sha256>"),
            "the job cannot be read: its creator must post a URL or the content address",
        ));
    }
    if bases.is_empty() {
        return Err(ClientError::bad_input(
            format!("the input {uri} is relative to a store, and no store is given"),
            "name the store it was uploaded to (--store, or the worker's input_stores)",
        ));
    }
    Ok(bases.iter().map(|base| input_uri(base, hash)).collect())
}

/// The `output_uri` an operator posts for its result of `job` (its operator account): named
/// by a hash of both and of the operator's secret `nonce` (random, one per claim), short
/// enough for the chain (see [`check_output_base`]). Without the nonce the address is not
/// derivable from the job, so a co-replica cannot read the output before the reveal posts it
/// and copy it instead of computing (commit–reveal holds as long as the store does not list
/// its `out/` prefix to others).
pub fn output_uri(base: &str, job: &Pubkey, operator: &Pubkey, nonce: &[u8; 32]) -> String {
    let id = tessera_merkle::sha256(&[job.as_ref(), operator.as_ref(), nonce]);
    format!("{}/out/{}", base.trim_end_matches('/'), hex(&id[..16]))
}

/// Checks that output URIs under `base` fit in the `MAX_URI_LEN` bytes the program accepts,
/// so that an operator learns it before it claims anything rather than at its reveal.
pub fn check_output_base(base: &str) -> Result<(), ClientError> {
    let longest = output_uri(base, &Pubkey::default(), &Pubkey::default(), &[0; 32]).len();
    if longest > MAX_URI_LEN {
        return Err(ClientError::bad_input(
            format!(
                "output URIs under {base} are {longest} bytes; the program accepts {MAX_URI_LEN}"
            ),
            "use a shorter store location (at most 91 bytes)",
        ));
    }
    Ok(())
}

/// Where chunk `index` of the output at `output_uri` lives.
pub fn chunk_uri(output_uri: &str, index: u32) -> String {
    format!("{}/chunk-{index}", output_uri.trim_end_matches('/'))
}

/// Where the Merkle leaves of the output at `output_uri` live.
pub fn leaves_uri(output_uri: &str) -> String {
    format!("{}/leaves", output_uri.trim_end_matches('/'))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Turns a `--store` value into a base URL: URLs stay as they are (without a trailing `/`),
/// a local path becomes an absolute `file://` URL.
pub fn normalize_base(location: &str) -> Result<String, ClientError> {
    let location = location.trim();
    if location.is_empty() {
        return Err(ClientError::bad_input(
            "the store location is empty",
            "pass --store with a directory or a file://, s3://, gs://, az:// or https:// URL",
        ));
    }
    if let Ok(url) = Url::parse(location) {
        if url.scheme().len() > 1 {
            return Ok(location.trim_end_matches('/').to_string());
        }
    }
    let path = std::path::absolute(location).map_err(|e| {
        ClientError::bad_input(
            format!("bad store path {location}: {e}"),
            "pass an existing directory",
        )
    })?;
    let url = Url::from_directory_path(&path).map_err(|_| {
        ClientError::bad_input(
            format!("bad store path {location}"),
            "pass an absolute directory",
        )
    })?;
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// A blob read with a size limit ([`Store::get_at_most`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capped {
    /// The whole blob.
    Read(Bytes),
    /// The blob is larger than the limit: `bytes` is its size, or what had been read when the
    /// read passed the limit.
    TooLarge { bytes: u64 },
}

/// Opens object stores by URL, with options (credentials, regions) applied to every store.
#[derive(Clone, Debug, Default)]
pub struct Store {
    options: Vec<(String, String)>,
}

impl Store {
    /// A store without options (enough for local files and public HTTP).
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with these options (`aws_endpoint`, `aws_region`, …: the object store
    /// builders' names, lower-case).
    pub fn with_options(options: Vec<(String, String)>) -> Self {
        Store { options }
    }

    /// A store configured from the environment: every `AWS_*`, `GOOGLE_*` and `AZURE_*`
    /// variable, as the object store builders name their options.
    pub fn from_env() -> Self {
        let options = std::env::vars()
            .filter(|(k, _)| {
                ["AWS_", "GOOGLE_", "AZURE_"]
                    .iter()
                    .any(|p| k.starts_with(p))
            })
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        Store { options }
    }

    /// The store and the path inside it that `uri` names.
    pub fn open(&self, uri: &str) -> Result<(Arc<dyn ObjectStore>, Path), ClientError> {
        let url = Url::parse(uri).map_err(|e| {
            ClientError::bad_input(
                format!("\"{uri}\" is not a URL: {e}"),
                "use a file://, s3://, gs://, az:// or https:// URL",
            )
        })?;
        let mut options = self.options.clone();
        // The HTTP store speaks only https unless told otherwise, and then fails every request
        // with a bare "builder error". A plain http:// URL is taken as meant: what is read is
        // checked anyway (an input against its sha256, an output against its Merkle root).
        if url.scheme() == "http" {
            options.push(("allow_http".to_string(), "true".to_string()));
        }
        let (store, path) = object_store::parse_url_opts(&url, options)
            .map_err(|e| ClientError::Store(format!("cannot open {uri}: {e}")))?;
        Ok((Arc::from(store), path))
    }

    /// Writes `bytes` at `uri`; `progress(done, total)` after every part.
    pub async fn put(
        &self,
        uri: &str,
        bytes: Bytes,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<(), ClientError> {
        let (store, path) = self.open(uri)?;
        let total = bytes.len() as u64;
        progress(0, total);
        let wrap = |e: object_store::Error| ClientError::Store(format!("cannot write {uri}: {e}"));
        if bytes.len() <= PART_SIZE {
            store
                .put(&path, PutPayload::from_bytes(bytes))
                .await
                .map_err(wrap)?;
        } else {
            let upload = store.put_multipart(&path).await.map_err(wrap)?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            let mut done = 0u64;
            for part in bytes.chunks(PART_SIZE) {
                writer.wait_for_capacity(4).await.map_err(wrap)?;
                writer.write(part);
                done += part.len() as u64;
                progress(done, total);
            }
            writer.finish().await.map_err(wrap)?;
        }
        progress(total, total);
        Ok(())
    }

    /// Reads the blob at `uri`.
    pub async fn get(&self, uri: &str) -> Result<Bytes, ClientError> {
        let (store, path) = self.open(uri)?;
        let result = store.get(&path).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => {
                ClientError::Store(format!("{uri} does not exist"))
            }
            e => ClientError::Store(format!("cannot read {uri}: {e}")),
        })?;
        result
            .bytes()
            .await
            .map_err(|e| ClientError::Store(format!("cannot read {uri}: {e}")))
    }

    /// Reads the blob at `uri` if it is at most `max` bytes, in bounded memory: its size is
    /// asked first (`head`), so a larger blob is refused without reading any of it; the read
    /// then streams into one buffer of that size and stops as soon as it passes `max` (a blob
    /// that grew in between).
    pub async fn get_at_most(&self, uri: &str, max: u64) -> Result<Capped, ClientError> {
        self.find_at_most(uri, max)
            .await?
            .ok_or_else(|| ClientError::Store(format!("{uri} does not exist")))
    }

    /// Reads the input posted as `uri` with sha256 `hash` ([`input_locations`]: the URL, or
    /// the first of `bases` that holds it), as [`Store::get_at_most`] reads. A store that
    /// fails is skipped if a later one holds the input; the error names every place tried.
    pub async fn get_input_at_most(
        &self,
        uri: &str,
        hash: &[u8; 32],
        bases: &[String],
        max: u64,
    ) -> Result<Capped, ClientError> {
        let locations = input_locations(uri, hash, bases)?;
        let mut faults = Vec::new();
        for location in &locations {
            match self.find_at_most(location, max).await {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => faults.push(format!("{location} does not exist")),
                Err(e) => faults.push(e.to_string()),
            }
        }
        Err(ClientError::Store(match locations.as_slice() {
            [_] => faults.remove(0),
            _ => format!(
                "input {uri} is in none of the stores: {}",
                faults.join("; ")
            ),
        }))
    }

    /// [`Store::get_at_most`], with `None` for a blob that does not exist.
    pub async fn find_at_most(&self, uri: &str, max: u64) -> Result<Option<Capped>, ClientError> {
        let (store, path) = self.open(uri)?;
        let fault = |e: object_store::Error, what: &str| {
            ClientError::Store(format!("cannot {what} {uri}: {e}"))
        };
        let size = match store.head(&path).await {
            Ok(meta) => meta.size,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(fault(e, "read the size of")),
        };
        if size > max {
            return Ok(Some(Capped::TooLarge { bytes: size }));
        }
        let mut stream = match store.get(&path).await {
            Ok(result) => result.into_stream(),
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(fault(e, "read")),
        };
        let mut blob = BytesMut::with_capacity(size as usize);
        while let Some(part) = stream.next().await {
            let part = part.map_err(|e| fault(e, "read"))?;
            let read = blob.len() as u64 + part.len() as u64;
            if read > max {
                return Ok(Some(Capped::TooLarge { bytes: read }));
            }
            blob.extend_from_slice(&part);
        }
        Ok(Some(Capped::Read(blob.freeze())))
    }

    /// Writes an output under `output_uri`: every chunk and the leaves (the worker's side of
    /// the layout). `progress(done, total)` counts chunks.
    pub async fn put_output<C: AsRef<[u8]>>(
        &self,
        output_uri: &str,
        chunks: &[C],
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<(), ClientError> {
        let total = chunks.len() as u64;
        let mut leaves = Vec::with_capacity(chunks.len() * 32);
        for (i, chunk) in chunks.iter().enumerate() {
            let chunk = chunk.as_ref();
            leaves.extend_from_slice(&tessera_merkle::leaf_hash(chunk));
            self.put(
                &chunk_uri(output_uri, i as u32),
                Bytes::copy_from_slice(chunk),
                &mut |_, _| {},
            )
            .await?;
            progress(i as u64 + 1, total);
        }
        self.put(&leaves_uri(output_uri), Bytes::from(leaves), &mut |_, _| {})
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let job = Pubkey::new_from_array([1; 32]);
        let op = Pubkey::new_from_array([2; 32]);
        assert_eq!(
            input_uri("file:///s/", &[0xab; 32]),
            format!("file:///s/inputs/{}", "ab".repeat(32))
        );
        let out = output_uri("s3://b/p", &job, &op, &[3; 32]);
        assert!(out.starts_with("s3://b/p/out/"));
        assert_eq!(out.len(), "s3://b/p/out/".len() + 32);
        assert_ne!(
            out,
            output_uri("s3://b/p", &op, &job, &[3; 32]),
            "one per (job, operator)"
        );
        // Not derivable from public job data: another nonce, another address, and nothing
        // of the job and operator alone appears in it.
        assert_ne!(out, output_uri("s3://b/p", &job, &op, &[4; 32]));
        let public = tessera_merkle::sha256(&[job.as_ref(), op.as_ref()]);
        assert!(!out.contains(&hex(&public[..16])), "{out}");
        assert!(!out.contains(&hex(&public[..4])), "{out}");
        assert_eq!(chunk_uri(&out, 12), format!("{out}/chunk-12"));
        assert_eq!(leaves_uri("file:///o/"), "file:///o/leaves");
        // The longest layout still fits on chain with a short base.
        assert!(out.len() <= MAX_URI_LEN);
        assert!(check_output_base(&format!("file:///{}", "d".repeat(83))).is_ok());
        assert!(check_output_base(&format!("file:///{}", "d".repeat(84))).is_err());
    }

    #[test]
    fn bases() {
        assert_eq!(normalize_base("s3://bucket/x/").unwrap(), "s3://bucket/x");
        assert_eq!(normalize_base("/tmp/store").unwrap(), "file:///tmp/store");
        assert!(normalize_base("rel/dir").unwrap().starts_with("file:///"));
        assert!(normalize_base("  ").is_err());
    }

    /// A one-shot HTTP server answering every request with `body` (HEAD without it).
    async fn serve_once(body: &'static [u8], requests: usize) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for _ in 0..requests {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = vec![0u8; 4096];
                let n = socket.read(&mut request).await.unwrap();
                let head = String::from_utf8_lossy(&request[..n]).starts_with("HEAD");
                let header = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Wed, 02 Dec 2026 00:00:00 GMT\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                socket.write_all(header.as_bytes()).await.unwrap();
                if !head {
                    socket.write_all(body).await.unwrap();
                }
                socket.shutdown().await.unwrap();
            }
        });
        format!("http://{addr}")
    }

    /// A plain http:// location is read (it used to fail with "builder error"), and an
    /// unreachable one says it cannot connect.
    #[tokio::test]
    async fn plain_http_is_read_and_its_faults_are_named() {
        let base = serve_once(b"scene", 3).await;
        let uri = format!("{base}/inputs/x");
        let store = Store::new();
        assert_eq!(store.get(&uri).await.unwrap(), Bytes::from_static(b"scene"));
        assert_eq!(
            store.get_at_most(&uri, 5).await.unwrap(),
            Capped::Read(Bytes::from_static(b"scene"))
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = store
            .get(&format!("http://127.0.0.1:{port}/x"))
            .await
            .unwrap_err()
            .to_string();
        assert!(!e.contains("builder error"), "{e}");
        assert!(e.contains("error sending request"), "{e}");
    }

    #[tokio::test]
    async fn local_round_trip_with_parts() {
        let dir = tempfile::tempdir().unwrap();
        let base = normalize_base(dir.path().to_str().unwrap()).unwrap();
        let store = Store::new();
        let blob = Bytes::from(vec![5u8; PART_SIZE + 10]);
        let uri = input_uri(&base, &[1; 32]);
        let mut calls = Vec::new();
        store
            .put(&uri, blob.clone(), &mut |d, t| calls.push((d, t)))
            .await
            .unwrap();
        assert_eq!(store.get(&uri).await.unwrap(), blob);
        assert_eq!(calls.first(), Some(&(0, blob.len() as u64)));
        assert_eq!(calls.last(), Some(&(blob.len() as u64, blob.len() as u64)));
        assert!(calls.len() >= 3, "{calls:?}");
        let size = blob.len() as u64;
        assert_eq!(
            store.get_at_most(&uri, size).await.unwrap(),
            Capped::Read(blob.clone())
        );
        assert_eq!(
            store.get_at_most(&uri, size - 1).await.unwrap(),
            Capped::TooLarge { bytes: size }
        );
        let e = store
            .get_at_most(&format!("{base}/nope"), 1)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        let missing = store.get(&format!("{base}/nope")).await.unwrap_err();
        assert!(missing.to_string().contains("does not exist"), "{missing}");
        assert!(store.get("not a url").await.is_err());
    }
}
