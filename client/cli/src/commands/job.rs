//! `tessera job submit | status | list | cancel | close | result` (creator).
use std::path::{Path, PathBuf};
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use tessera_client::amount::{format_amount, parse_amount};
use tessera_client::flows::creator::{self, JobEvent, JobRequest, WaitFor};
use tessera_client::flows::Ctx;
use tessera_client::state::{Job, Market};
use tessera_client::store::hex;
use tessera_client::ClientError;

use super::{ata, Session};
use crate::args::{JobCmd, Until};
use crate::input::JobInput;
use crate::printer::{job_json, kernel_name, print_job};

/// How often a job is polled while waiting.
const POLL: Duration = Duration::from_secs(2);

/// Runs a job command; `input` is `job submit`'s input, read and parsed by `input::prepare`.
pub async fn run(cmd: &JobCmd, s: &Session, input: Option<JobInput>) -> Result<(), ClientError> {
    let ctx = s.ctx();
    match cmd {
        JobCmd::Submit {
            reward,
            replicas,
            claim_window,
            exec_timeout,
            job_id,
            token_account,
            wait,
            until,
            out,
            timeout,
            ..
        } => {
            let m = s.market().await?;
            let me = s.signer();
            let JobInput {
                bytes,
                kernel,
                workload,
            } = input.expect("input::prepare reads the input of job submit");
            let req = JobRequest {
                job_id: *job_id,
                kernel,
                input: bytes,
                reward_per_replica: parse_amount(reward, m.decimals)?,
                replicas: *replicas,
                claim_window: *claim_window,
                exec_timeout: *exec_timeout,
            };
            let from = token_account.unwrap_or_else(|| ata(me, &m));
            let bar = s.printer.bar(
                req.input.len() as u64,
                "upload {bar:30} {bytes}/{total_bytes}",
            );
            let submitted = creator::submit_parsed_job(
                &ctx,
                &s.store,
                &s.store_base,
                &m,
                me,
                &from,
                &req,
                &workload,
                &mut |d, t| {
                    bar.set_length(t);
                    bar.set_position(d)
                },
            )
            .await;
            bar.finish_and_clear();
            let sub = submitted?;
            s.printer.emit(
                || {
                    format!(
                        "job {}\n  id {}  kernel {kernel}  chunks {}  escrowed {}\n  input {} (sha256 {})\n  uploaded to {}\n  signature {}",
                        sub.job,
                        sub.job_id,
                        sub.chunk_count,
                        format_amount(sub.escrowed, m.decimals),
                        sub.input_uri,
                        hex(&sub.input_hash),
                        sub.input_location,
                        sub.signature
                    )
                },
                json!({
                    "job": sub.job.to_string(), "job_id": sub.job_id, "kernel": kernel.name(),
                    "chunk_count": sub.chunk_count, "escrowed": sub.escrowed,
                    "input_uri": sub.input_uri, "input_location": sub.input_location,
                    "input_hash": hex(&sub.input_hash),
                    "signature": sub.signature.to_string(),
                }),
            );
            if *wait {
                let j = wait_job(s, &ctx, &sub.job, *until, *timeout).await?;
                print_job(&s.printer, &sub.job, &j, Some(m.decimals));
                fetch_and_write(s, &ctx, &sub.job, out.as_deref()).await?;
            }
        }
        JobCmd::Status {
            job,
            wait,
            until,
            timeout,
        } => {
            let j = if *wait {
                wait_job(s, &ctx, job, *until, *timeout).await?
            } else {
                creator::job(&ctx, job).await?
            };
            let decimals = decimals_of(&ctx, &j).await;
            print_job(&s.printer, job, &j, decimals);
        }
        JobCmd::List { creator } => {
            let m = s.market().await?;
            let jobs = creator::list_jobs(&ctx, &m.address(), creator.as_ref()).await?;
            s.printer.emit(
                || {
                    if jobs.is_empty() {
                        return "no jobs".to_string();
                    }
                    jobs.iter()
                        .map(|(k, j)| {
                            format!(
                                "{k}  {:<9} {:<9} {}×{} reward",
                                format!("{:?}", j.state()),
                                kernel_name(j.kernel),
                                j.replicas,
                                format_amount(j.reward_per_replica, m.decimals)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                },
                Value::Array(jobs.iter().map(|(k, j)| job_json(k, j)).collect()),
            );
        }
        JobCmd::Cancel { job, token_account } => {
            let m = s.market().await?;
            let me = s.signer();
            let to = token_account.unwrap_or_else(|| ata(me, &m));
            let sig = creator::cancel_job(&ctx, &m, me, job, &to).await?;
            s.printer.emit(
                || format!("cancelled {job}; escrow refunded to {to}\n  signature {sig}"),
                json!({"job": job.to_string(), "refunded_to": to.to_string(), "signature": sig.to_string()}),
            );
        }
        JobCmd::Close { job } => {
            let m = s.market().await?;
            let me = s.signer();
            let (sig, rent) = creator::close_job(&ctx, &m, me, job).await?;
            s.printer.emit(
                || format!("closed {job}; {rent} lamports of rent returned\n  signature {sig}"),
                json!({"job": job.to_string(), "rent": rent, "signature": sig.to_string()}),
            );
        }
        JobCmd::Result { job, out } => fetch_and_write(s, &ctx, job, out.as_deref()).await?,
    }
    Ok(())
}

/// The decimals of a job's mint, when its market and mint can be read.
async fn decimals_of(ctx: &Ctx<'_>, j: &Job) -> Option<u8> {
    let market: Market = tessera_client::chain::fetch(ctx.chain, &j.market)
        .await
        .ok()??;
    ctx.mint(&market.mint).await.ok().map(|(_, d)| d)
}

/// Follows a job until its result is known, printing each change.
async fn wait_job(
    s: &Session,
    ctx: &Ctx<'_>,
    job: &Pubkey,
    until: Until,
    timeout: u64,
) -> Result<Job, ClientError> {
    let spinner = s.printer.bar(0, "{spinner} {elapsed} {msg}");
    spinner.enable_steady_tick(Duration::from_millis(200));
    spinner.set_message("waiting for the job");
    let result = creator::wait_for_job(
        ctx,
        job,
        match until {
            Until::Result => WaitFor::Result,
            Until::End => WaitFor::End,
        },
        Duration::from_secs(timeout),
        POLL,
        &mut |e| {
            let line = match e {
                JobEvent::State(state) => format!("job is {state:?}"),
                JobEvent::Claimed { slot, operator } => {
                    format!("slot {slot} claimed by {operator}")
                }
                JobEvent::Committed { slot } => format!("slot {slot} committed"),
                JobEvent::Revealed { slot, root } => {
                    format!("slot {slot} delivered root {}", hex(root))
                }
                JobEvent::Failed { slot } => format!("slot {slot} failed"),
            };
            spinner.println(&line);
            spinner.set_message(line);
        },
    )
    .await;
    spinner.finish_and_clear();
    result
}

/// Downloads a job's output, verifies every chunk against its root, and writes the assembled
/// file to `out` (default `<job>.<png|safetensors|bin>`).
async fn fetch_and_write(
    s: &Session,
    ctx: &Ctx<'_>,
    job: &Pubkey,
    out: Option<&Path>,
) -> Result<(), ClientError> {
    let bar = s.printer.bar(0, "download {bar:30} {pos}/{len} chunks");
    let result = creator::fetch_result(
        ctx,
        &s.store,
        std::slice::from_ref(&s.store_base),
        job,
        &mut |d, t| {
            bar.set_length(t);
            bar.set_position(d)
        },
    )
    .await;
    bar.finish_and_clear();
    let r = result?;
    let path = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(format!("{job}.{}", r.assembled.extension())));
    std::fs::write(&path, r.assembled.bytes()).map_err(|e| {
        ClientError::bad_input(
            format!("cannot write {}: {e}", path.display()),
            "pass a writable --out path",
        )
    })?;
    s.printer.emit(
        || {
            format!(
                "verified {} chunks against root {}\nwrote {} ({} bytes)",
                r.chunks.len(),
                hex(&r.job.agreed_root),
                path.display(),
                r.assembled.bytes().len()
            )
        },
        json!({
            "job": job.to_string(), "root": hex(&r.job.agreed_root), "chunks": r.chunks.len(),
            "output_uri": r.output_uri, "file": path.display().to_string(),
            "bytes": r.assembled.bytes().len(),
        }),
    );
    Ok(())
}
