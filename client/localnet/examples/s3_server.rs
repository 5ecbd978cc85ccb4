//! An S3-compatible object store on 127.0.0.1, for the web app's browser test and for trying
//! `tessera serve` by hand: `cargo run -p tessera-localnet --features s3-server --example s3_server -- <dir> [port]`.
//! Each subdirectory of `<dir>` is a bucket. It prints one line of JSON with its endpoint and
//! key, as `AWS_*` variables for the client, the CLI and the worker, then serves until killed.
use tessera_localnet::s3;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next() else {
        eprintln!("usage: s3_server <dir> [port]");
        std::process::exit(2);
    };
    let port: u16 = match args.next().map(|p| p.parse()) {
        None => 0,
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("bad port: {e}");
            std::process::exit(2);
        }
    };
    std::fs::create_dir_all(&root)?;
    let addr = s3::serve(root.as_ref(), ([127, 0, 0, 1], port).into()).await?;
    let env: serde_json::Map<String, serde_json::Value> = s3::options(addr)
        .into_iter()
        .map(|(k, v)| (k.to_ascii_uppercase(), v.into()))
        .collect();
    println!("{}", serde_json::Value::Object(env));
    std::future::pending::<()>().await;
    Ok(())
}
