//! Seeds and limits, shared with the client (`tessera_client::pda`) and exported in the IDL.
use anchor_lang::prelude::*;

/// Seed of the market PDA: `["market", mint, founder]` (the admin that created it).
#[constant]
pub const MARKET_SEED: &[u8] = b"market";
/// Seed of the stake vault PDA: `["stake_vault", market]`.
#[constant]
pub const STAKE_VAULT_SEED: &[u8] = b"stake_vault";
/// Seed of an operator PDA: `["operator", market, authority]`.
#[constant]
pub const OPERATOR_SEED: &[u8] = b"operator";
/// Seed of an operator's track record: `["record", market, authority]` (never closed).
#[constant]
pub const RECORD_SEED: &[u8] = b"record";
/// Seed of a job PDA: `["job", market, creator, job_id (u64 LE)]`.
#[constant]
pub const JOB_SEED: &[u8] = b"job";
/// Seed of a job's escrow token account PDA: `["escrow", job]`.
#[constant]
pub const ESCROW_SEED: &[u8] = b"escrow";
/// Seed of the fee vault PDA: `["fee_vault", market]`, where protocol fees accrue until
/// `collect_fees` sends them to the treasury.
#[constant]
pub const FEE_VAULT_SEED: &[u8] = b"fee_vault";

/// 100 % in basis points.
#[constant]
pub const BPS_DENOMINATOR: u16 = 10_000;
/// Most replicas a job may ask for.
#[constant]
pub const MAX_REPLICAS: u8 = 3;
/// Longest `input_uri` / `output_uri`, in bytes.
#[constant]
pub const MAX_URI_LEN: u32 = 128;
/// Kernel ids are bits of the operator's `capabilities` (u32).
#[constant]
pub const MAX_KERNEL_ID: u8 = 31;
/// Kernel id of the path tracer (a JSON scene in, RGBA8 tiles out).
#[constant]
pub const KERNEL_RENDER: u8 = 1;
/// Kernel id of one quantized int8 matrix product.
#[constant]
pub const KERNEL_GEMM_I8: u8 = 2;
/// Kernel id of a chain of quantized int8 layers with ReLU.
#[constant]
pub const KERNEL_MLP_I8: u8 = 3;
/// Kernel id of the fixed scoring workload.
#[constant]
pub const KERNEL_BENCHMARK: u8 = 4;
/// The kernels a job may name, as a capability mask (bit `id`): `create_job` refuses any
/// other, since no worker could ever claim it. `tessera_kernels::KernelId` has the same ids
/// (checked by the client's tests).
#[constant]
pub const KNOWN_KERNELS: u32 =
    (1 << KERNEL_RENDER) | (1 << KERNEL_GEMM_I8) | (1 << KERNEL_MLP_I8) | (1 << KERNEL_BENCHMARK);
/// The kernels whose disputes the program settles itself, as a capability mask: `gemm-i8` by
/// one fraud proof (`prove_fraud`), `mlp-i8` by games (`open_game`) between replicas that
/// disagree or between a challenger and each replica. A market with no arbiter (the default
/// key) takes jobs of these kernels only.
#[constant]
pub const REFEREE_KERNELS: u32 = (1 << KERNEL_GEMM_I8) | (1 << KERNEL_MLP_I8);
/// Seed prefix of a referee game PDA: `[GAME_SEED, job, defender slot, accuser slot]`.
#[constant]
pub const GAME_SEED: &[u8] = b"game";
/// Longest Merkle proof a chunk challenge may carry (2^20 chunks).
#[constant]
pub const MAX_PROOF_LEN: u8 = 20;
/// Most challenges a job takes (each from another operator, in commitment order).
#[constant]
pub const MAX_CHALLENGERS: u8 = 3;
/// `Challenge::chunk` value meaning "the whole root is challenged".
#[constant]
pub const WHOLE_ROOT: u32 = u32::MAX;

/// Most chunks one audit checks (`MarketParams::audit_chunks`).
#[constant]
pub const MAX_AUDIT_CHUNKS: u8 = 4;

/// Longest window, period or claim horizon a market or job may set (30 days, in seconds).
#[constant]
pub const MAX_WINDOW: i64 = 30 * 24 * 3600;

/// Most a job's tokens (escrow and bonds) can stay locked, counted from its creation: the claim
/// horizon, then (for a claim just before it) the execution timeout, the reveal window, the
/// challenge window and the challenge window again (an audit drawn at its end restarts it), the
/// challenges' reveal window, the audit's reveal window and the dispute window, then a referee
/// game opened at the dispute deadline, whose four moves each take up to the reveal window:
/// twelve windows of at most `MAX_WINDOW`. After it, a permissionless instruction settles the
/// job whatever its state (360 days).
#[constant]
pub const MAX_JOB_LIFETIME: i64 = 12 * MAX_WINDOW;

/// How long a new arbiter waits before it takes over (longer than any job can live, so that no
/// job created under one arbiter can be ruled by the next: jobs also keep the arbiter they were
/// created under).
#[constant]
pub const ARBITER_CHANGE_DELAY: i64 = MAX_JOB_LIFETIME + 24 * 3600;
const _: () = assert!(ARBITER_CHANGE_DELAY > MAX_JOB_LIFETIME);

/// Most `protocol_fee_bps + burn_bps` may take of a reward (20 %).
#[constant]
pub const MAX_FEE_AND_BURN_BPS: u16 = 2_000;

/// Largest bond a market may ask per claim, relative to the reward (`collateral_bps`, 5×).
#[constant]
pub const MAX_COLLATERAL_BPS: u16 = 50_000;
