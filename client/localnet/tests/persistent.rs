//! A persistent ledger resumes: a restart reads the keypairs and the mint back (their files
//! untouched), finds the accounts where they were, and mints and airdrops nothing twice; a
//! fresh one makes new keypairs.
use std::path::Path;

use solana_signer::Signer;
use tessera_localnet::{Localnet, LocalnetConfig, LEDGER_FILE};

fn config(dir: &Path, persistent: bool) -> LocalnetConfig {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/deploy/tessera.so");
    let mut cfg = LocalnetConfig::new(program, dir);
    cfg.accounts = vec!["creator".into()];
    cfg.persistent = persistent;
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_ledger_resumes_with_its_keypairs_and_mint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let net = Localnet::start(config(dir, true)).await.unwrap();
    let creator = net.keypair("creator").pubkey();
    let mint = net.mint;
    let ata = net.token_account(&creator);
    let tokens = net
        .rpc()
        .get_token_account_balance(&ata)
        .await
        .unwrap()
        .amount;
    let files: Vec<Vec<u8>> = ["creator.json", "admin.json", "mint.json"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    net.stop();
    assert!(dir.join(LEDGER_FILE).exists());

    let net = Localnet::start(config(dir, true)).await.unwrap();
    assert_eq!(net.keypair("creator").pubkey(), creator);
    assert_eq!(net.mint, mint);
    for (f, before) in ["creator.json", "admin.json", "mint.json"]
        .iter()
        .zip(&files)
    {
        assert_eq!(&std::fs::read(dir.join(f)).unwrap(), before, "{f}");
    }
    assert!(
        net.exists(&mint).await.unwrap(),
        "the mint is on the ledger"
    );
    let after = net
        .rpc()
        .get_token_account_balance(&ata)
        .await
        .unwrap()
        .amount;
    assert_eq!(after, tokens, "nothing minted twice");
    net.stop();

    // A fresh ledger in another directory: new keys.
    let other = tempfile::tempdir().unwrap();
    let net = Localnet::start(config(other.path(), false)).await.unwrap();
    assert_ne!(net.keypair("creator").pubkey(), creator);
    assert!(!other.path().join(LEDGER_FILE).exists());
    net.stop();
}
