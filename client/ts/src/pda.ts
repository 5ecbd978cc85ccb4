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
  GAME_SEED,
  JOB_SEED,
  MARKET_SEED,
  MAX_REPLICAS,
  OPERATOR_SEED,
  RECORD_SEED,
  STAKE_VAULT_SEED,
} from './generated/constants';
import { TESSERA_PROGRAM_ADDRESS } from './generated/programs';
import type { Accuser } from './generated/types';

/**
 * Which deployment of the program: `programId` defaults to the IDL's address
 * (`TESSERA_PROGRAM_ADDRESS`, the local networks' id, whose keypair is public). On devnet or
 * mainnet-beta pass the deployed program's id. (`programAddress` is the same option under the
 * generated builders' name.)
 */
export type ProgramConfig = { programId?: Address; programAddress?: Address };

/** The program id a config names (the IDL's address by default). */
export function programIdOf(config: ProgramConfig = {}): Address {
  return config.programId ?? config.programAddress ?? TESSERA_PROGRAM_ADDRESS;
}

type Config = ProgramConfig;

function derive(seeds: Uint8Array[], config: Config): Promise<ProgramDerivedAddress> {
  return getProgramDerivedAddress({ programAddress: programIdOf(config), seeds });
}

const key = (a: Address) => new Uint8Array(getAddressEncoder().encode(a));

/**
 * The market `founder` (the admin that created it) created for `mint`:
 * `["market", mint, founder]`. A mint has one market per founder; name a market by its address.
 */
export function marketPda(
  mint: Address,
  founder: Address,
  config: Config = {},
): Promise<ProgramDerivedAddress> {
  return derive([MARKET_SEED, key(mint), key(founder)], config);
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

/**
 * An operator key's track record in a market: `["record", market, authority]`. Created at its
 * first registration and never closed; `register_operator` and `withdraw_stake` take it.
 */
export function recordPda(
  market: Address,
  authority: Address,
  config: Config = {},
): Promise<ProgramDerivedAddress> {
  return derive([RECORD_SEED, key(market), key(authority)], config);
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
 * An accuser's id in a game's seeds (the program's `Accuser::id`): its slot, or MAX_REPLICAS +
 * its challenge's index.
 */
export function accuserId(accuser: Accuser): number {
  return accuser.__kind === 'Slot' ? accuser.slot : MAX_REPLICAS + accuser.index;
}

/**
 * A referee game of a job: `["game", job, [defender slot], [accuser id]]` (see `accuserId`).
 */
export function gamePda(
  job: Address,
  defenderSlot: number,
  accuser: Accuser,
  config: Config = {},
): Promise<ProgramDerivedAddress> {
  return derive(
    [GAME_SEED, key(job), Uint8Array.of(defenderSlot), Uint8Array.of(accuserId(accuser))],
    config,
  );
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

/** The addresses every instruction of one market needs, as the Rust client's `MarketKeys`. */
export type MarketKeys = {
  programId: Address;
  mint: Address;
  founder: Address;
  market: Address;
  stakeVault: Address;
  feeVault: Address;
  eventAuthority: Address;
};

/**
 * The keys of the market `founder` created for `mint`, in the program `config` names. With
 * another program than the IDL's, pass `eventAuthority` to the generated builders and
 * `{ programAddress: keys.programId }` as their config.
 */
export async function marketKeys(
  mint: Address,
  founder: Address,
  config: Config = {},
): Promise<MarketKeys> {
  const programId = programIdOf(config);
  const [market] = await marketPda(mint, founder, { programId });
  return {
    programId,
    mint,
    founder,
    market,
    stakeVault: (await stakeVaultPda(market, { programId }))[0],
    feeVault: (await feeVaultPda(market, { programId }))[0],
    eventAuthority: (await eventAuthorityPda({ programId }))[0],
  };
}
