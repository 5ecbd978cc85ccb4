// Program-derived addresses of Tessera. The seeds are the IDL's constants (src/generated/
// constants.ts, generated from client/idl/tessera.json), the same constants the program and the
// Rust client (tessera_client::pda) use.
import {
  getAddressEncoder,
  getProgramDerivedAddress,
  getU64Encoder,
  type Address,
  type ProgramDerivedAddress,
} from '@solana/kit';
import {
  ESCROW_SEED,
  EVENT_AUTHORITY_SEED,
  FEE_VAULT_SEED,
  JOB_SEED,
  MARKET_SEED,
  OPERATOR_SEED,
  STAKE_VAULT_SEED,
} from './generated/constants';
import { TESSERA_PROGRAM_ADDRESS } from './generated/programs';

type Config = { programAddress?: Address };

function derive(seeds: Uint8Array[], config: Config): Promise<ProgramDerivedAddress> {
  return getProgramDerivedAddress({
    programAddress: config.programAddress ?? TESSERA_PROGRAM_ADDRESS,
    seeds,
  });
}

const key = (a: Address) => new Uint8Array(getAddressEncoder().encode(a));

/** The market of a mint: `["market", mint]`. */
export function marketPda(mint: Address, config: Config = {}): Promise<ProgramDerivedAddress> {
  return derive([MARKET_SEED, key(mint)], config);
}

/** A market's stake vault (token account): `["stake_vault", market]`. */
export function stakeVaultPda(market: Address, config: Config = {}): Promise<ProgramDerivedAddress> {
  return derive([STAKE_VAULT_SEED, key(market)], config);
}

/**
 * A market's fee vault (token account): `["fee_vault", market]`. Settlements pay the protocol
 * fee into it; `collect_fees` (anyone) sends its balance to the market's treasury.
 */
export function feeVaultPda(market: Address, config: Config = {}): Promise<ProgramDerivedAddress> {
  return derive([FEE_VAULT_SEED, key(market)], config);
}

/** An operator of a market: `["operator", market, authority]`. */
export function operatorPda(
  market: Address,
  authority: Address,
  config: Config = {},
): Promise<ProgramDerivedAddress> {
  return derive([OPERATOR_SEED, key(market), key(authority)], config);
}

/** A job: `["job", market, creator, job_id (u64 little-endian)]`. */
export function jobPda(
  market: Address,
  creator: Address,
  jobId: bigint | number,
  config: Config = {},
): Promise<ProgramDerivedAddress> {
  const id = new Uint8Array(getU64Encoder().encode(jobId));
  return derive([JOB_SEED, key(market), key(creator), id], config);
}

/** A job's escrow (token account): `["escrow", job]`. */
export function escrowPda(job: Address, config: Config = {}): Promise<ProgramDerivedAddress> {
  return derive([ESCROW_SEED, key(job)], config);
}

/**
 * The first job id from `start` on whose job and escrow PDAs both have bump 255, as the Rust
 * client's `pda::cheap_job_id`: `create_job` searches both canonical bumps on chain at 1 500
 * compute units per bump tried, so at such an id it costs its minimum. One id in four qualifies.
 */
export async function cheapJobId(
  market: Address,
  creator: Address,
  start: bigint | number,
  config: Config = {},
): Promise<bigint> {
  for (let id = BigInt(start); ; id++) {
    const [job, bump] = await jobPda(market, creator, id, config);
    if (bump === 255 && (await escrowPda(job, config))[1] === 255) return id;
  }
}

/** The authority the program signs its events with (Anchor's `emit_cpi!`). */
export function eventAuthorityPda(config: Config = {}): Promise<ProgramDerivedAddress> {
  return derive([EVENT_AUTHORITY_SEED], config);
}
