//! `tessera operator register | stake | unstake | withdraw | show` (operator).
use serde_json::json;
use solana_signature::Signature;
use solana_signer::Signer;
use tessera_client::amount::{format_amount, parse_amount};
use tessera_client::flows::operator;
use tessera_client::ClientError;

use super::{ata, Session};
use crate::args::OperatorCmd;
use crate::input::kernels_mask;
use crate::printer::kernel_names;

pub async fn run(cmd: &OperatorCmd, s: &Session) -> Result<(), ClientError> {
    let ctx = s.ctx();
    let m = s.market().await?;
    let d = m.decimals;
    let done = |what: String, sig: Signature| {
        s.printer.emit(
            || format!("{what}\n  signature {sig}"),
            json!({"done": what, "signature": sig.to_string()}),
        );
    };
    match cmd {
        OperatorCmd::Register {
            kernels,
            stake,
            token_account,
        } => {
            let me = s.signer();
            let mask = kernels_mask(kernels)?;
            let amount = stake
                .as_deref()
                .map(|a| parse_amount(a, d))
                .transpose()?
                .unwrap_or(0);
            let from = token_account.unwrap_or_else(|| ata(me, &m));
            let sig = operator::register(&ctx, &m, me, mask, &from, amount).await?;
            done(
                format!(
                    "registered {} with {} staked",
                    m.keys.operator(&me.pubkey()),
                    format_amount(amount, d)
                ),
                sig,
            );
        }
        OperatorCmd::Stake {
            amount,
            token_account,
        } => {
            let me = s.signer();
            let units = parse_amount(amount, d)?;
            let from = token_account.unwrap_or_else(|| ata(me, &m));
            let sig = operator::stake(&ctx, &m, me, &from, units).await?;
            done(format!("staked {}", format_amount(units, d)), sig);
        }
        OperatorCmd::Unstake { amount } => {
            let me = s.signer();
            let units = parse_amount(amount, d)?;
            let sig = operator::unstake(&ctx, &m, me, units).await?;
            done(
                format!(
                    "unbonding {} (withdrawable in {} s)",
                    format_amount(units, d),
                    m.state.params.unbonding_period
                ),
                sig,
            );
        }
        OperatorCmd::Withdraw { token_account } => {
            let me = s.signer();
            let to = token_account.unwrap_or_else(|| ata(me, &m));
            let sig = operator::withdraw(&ctx, &m, me, &to).await?;
            done(format!("withdrew to {to}"), sig);
        }
        OperatorCmd::Show { authority } => {
            let op = operator::show(&ctx, &m, authority).await?;
            let o = &op.state;
            s.printer.emit(
                || {
                    format!(
                        "operator {} ({:?})\n  authority {}\n  stake {}  bonded {}  free {}\n  \
                         unbonding {} (ready at unix {})  earned {}\n  kernels {}\n  \
                         completed {}  failed {}  slashed {}",
                        op.address,
                        o.status,
                        o.authority,
                        format_amount(o.stake, d),
                        format_amount(o.bonded, d),
                        format_amount(op.free_stake(), d),
                        format_amount(o.unbonding, d),
                        o.unbonding_ready_at,
                        format_amount(o.earned, d),
                        kernel_names(o.capabilities).join(","),
                        o.jobs_completed,
                        o.jobs_failed,
                        format_amount(o.slashed_total, d)
                    )
                },
                json!({
                    "operator": op.address.to_string(), "authority": o.authority.to_string(),
                    "status": format!("{:?}", o.status), "stake": o.stake, "bonded": o.bonded,
                    "free": op.free_stake(), "unbonding": o.unbonding,
                    "unbonding_ready_at": o.unbonding_ready_at, "earned": o.earned,
                    "kernels": kernel_names(o.capabilities), "jobs_completed": o.jobs_completed,
                    "jobs_failed": o.jobs_failed, "slashed_total": o.slashed_total,
                }),
            );
        }
    }
    Ok(())
}
