//! Staging a fraud proof for the referee: a buffer account created at its full size, written
//! in pieces, closed once the proof is sent (see `crate::referee` for the proof itself); and
//! reading a job's referee games.
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::Ctx;
use crate::error::ClientError;
use crate::ix::{buffer_space, create_buffer_account, MarketKeys, BUFFER_WRITE_BYTES};

/// The Rent sysvar's address.
const RENT_SYSVAR_ID: Pubkey =
    Pubkey::from_str_const("SysvarRent111111111111111111111111111111111");
/// Bytes the runtime counts for every account besides its data.
const ACCOUNT_STORAGE_OVERHEAD: u64 = 128;

/// The lamports that keep an account of `space` bytes rent-exempt, from the chain's Rent
/// sysvar (`lamports_per_byte_year` u64, `exemption_threshold` f64, little-endian).
pub async fn rent_exempt_minimum(ctx: &Ctx<'_>, space: usize) -> Result<u64, ClientError> {
    let account = ctx
        .chain
        .get_account(&RENT_SYSVAR_ID)
        .await?
        .ok_or_else(|| ClientError::Rpc("the node has no Rent sysvar".into()))?;
    let field = |at: usize| -> Option<[u8; 8]> { account.data.get(at..at + 8)?.try_into().ok() };
    let (Some(per_byte), Some(threshold)) = (field(0), field(8)) else {
        return Err(ClientError::Rpc("the Rent sysvar is malformed".into()));
    };
    let bytes = ACCOUNT_STORAGE_OVERHEAD + space as u64;
    Ok(((bytes * u64::from_le_bytes(per_byte)) as f64 * f64::from_le_bytes(threshold)) as u64)
}

/// Creates a buffer owned by `payer` holding `bytes` (one transaction to create it, one per
/// [`BUFFER_WRITE_BYTES`] written); returns its address.
pub async fn stage(
    ctx: &Ctx<'_>,
    keys: &MarketKeys,
    payer: &Keypair,
    bytes: &[u8],
) -> Result<Pubkey, ClientError> {
    let buffer = Keypair::new();
    let lamports = rent_exempt_minimum(ctx, buffer_space(bytes.len())).await?;
    let create = create_buffer_account(
        &keys.program_id,
        &payer.pubkey(),
        &buffer.pubkey(),
        bytes.len(),
        lamports,
    );
    let init = keys.init_buffer(payer.pubkey(), buffer.pubkey());
    ctx.chain
        .send_transaction(&[create, init], &[payer, &buffer], &ctx.tx)
        .await?;
    for (i, piece) in bytes.chunks(BUFFER_WRITE_BYTES).enumerate() {
        let ix = keys.write_buffer(
            payer.pubkey(),
            buffer.pubkey(),
            (i * BUFFER_WRITE_BYTES) as u32,
            piece.to_vec(),
        );
        ctx.chain.send_transaction(&[ix], &[payer], &ctx.tx).await?;
    }
    Ok(buffer.pubkey())
}

/// Closes `buffer`; its rent goes back to `payer`, its authority.
pub async fn close(
    ctx: &Ctx<'_>,
    keys: &MarketKeys,
    payer: &Keypair,
    buffer: &Pubkey,
) -> Result<(), ClientError> {
    let ix = keys.close_buffer(payer.pubkey(), *buffer);
    ctx.chain.send_transaction(&[ix], &[payer], &ctx.tx).await?;
    Ok(())
}

/// The referee games of `job` (at `job_address`) still open, with their accounts: every pair
/// of a defender slot and an accuser (another slot, or a challenger) is looked up at once.
pub async fn games(
    ctx: &Ctx<'_>,
    keys: &MarketKeys,
    job_address: &Pubkey,
    job: &crate::state::Job,
) -> Result<Vec<(Pubkey, crate::state::Game)>, ClientError> {
    if job.open_games == 0 {
        return Ok(Vec::new());
    }
    let pdas = keys.pdas();
    let accusers: Vec<u8> = (0..job.replicas)
        .chain(
            job.challengers()
                .map(|(i, _)| tessera::instructions::Accuser::Challenger { index: i as u8 }.id()),
        )
        .collect();
    let addresses: Vec<Pubkey> = (0..job.replicas)
        .flat_map(|d| {
            accusers
                .iter()
                .filter(move |&&a| a != d)
                .map(move |&a| (d, a))
        })
        .map(|(d, a)| pdas.game(job_address, d, a).0)
        .collect();
    let accounts = ctx.chain.get_multiple_accounts(&addresses).await?;
    Ok(addresses
        .into_iter()
        .zip(accounts)
        .filter_map(|(address, account)| {
            let account = account.filter(|a| a.lamports > 0)?;
            Some((
                address,
                crate::decode::<crate::state::Game>(&account.data).ok()?,
            ))
        })
        .collect())
}
