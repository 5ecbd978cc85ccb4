// Checked decoding of Tessera's accounts from raw bytes. The generated decoders (getJobDecoder,
// decodeJob, fetchJob, ...) read the fields without checking the 8-byte discriminator; these
// helpers check it first, as the program does, so bytes of another account type are rejected.
import { SolanaError, type ReadonlyUint8Array } from '@solana/kit';
import {
  GAME_DISCRIMINATOR,
  getGameDecoder,
  getJobDecoder,
  getMarketDecoder,
  getOperatorDecoder,
  getOperatorRecordDecoder,
  getProofBufferDecoder,
  JOB_DISCRIMINATOR,
  MARKET_DISCRIMINATOR,
  OPERATOR_DISCRIMINATOR,
  OPERATOR_RECORD_DISCRIMINATOR,
  PROOF_BUFFER_DISCRIMINATOR,
  type Game,
  type Job,
  type Market,
  type Operator,
  type OperatorRecord,
  type ProofBuffer,
} from './generated/accounts';
import type { ClaimJobInstructionDataArgs } from './generated/instructions';
import { identifyTesseraAccount, TesseraAccount } from './generated/programs';

function checkDiscriminator(name: string, data: ReadonlyUint8Array, expected: ReadonlyUint8Array) {
  if (data.length < expected.length || expected.some((b, i) => data[i] !== b)) {
    throw new Error(`not a ${name} account: wrong or missing discriminator`);
  }
}

/** Decodes the data of a Market account; throws on another account type or truncated data. */
export function decodeMarketData(data: ReadonlyUint8Array): Market {
  checkDiscriminator('Market', data, MARKET_DISCRIMINATOR);
  return getMarketDecoder().decode(data);
}

/** Decodes the data of an Operator account; throws on another account type or truncated data. */
export function decodeOperatorData(data: ReadonlyUint8Array): Operator {
  checkDiscriminator('Operator', data, OPERATOR_DISCRIMINATOR);
  return getOperatorDecoder().decode(data);
}

/** Decodes the data of an OperatorRecord account (an operator key's track record in a market);
 * throws on another account type or truncated data. */
export function decodeOperatorRecordData(data: ReadonlyUint8Array): OperatorRecord {
  checkDiscriminator('OperatorRecord', data, OPERATOR_RECORD_DISCRIMINATOR);
  return getOperatorRecordDecoder().decode(data);
}

/** Decodes the data of a Job account; throws on another account type or truncated data. */
export function decodeJobData(data: ReadonlyUint8Array): Job {
  checkDiscriminator('Job', data, JOB_DISCRIMINATOR);
  return getJobDecoder().decode(data);
}

/** Decodes the data of a Game account (a referee game between two replicas of an mlp-i8 job);
 * throws on another account type or truncated data. */
export function decodeGameData(data: ReadonlyUint8Array): Game {
  checkDiscriminator('Game', data, GAME_DISCRIMINATOR);
  return getGameDecoder().decode(data);
}

/** Decodes the header of a ProofBuffer (bytes staged for the referee; the staged data follows
 * it); throws on another account type or truncated data. */
export function decodeProofBufferData(data: ReadonlyUint8Array): ProofBuffer {
  checkDiscriminator('ProofBuffer', data, PROOF_BUFFER_DISCRIMINATOR);
  return getProofBufferDecoder().decode(data);
}

export type DecodedTesseraAccount =
  | { type: 'Market'; data: Market }
  | { type: 'Operator'; data: Operator }
  | { type: 'OperatorRecord'; data: OperatorRecord }
  | { type: 'Job'; data: Job }
  | { type: 'Game'; data: Game }
  | { type: 'ProofBuffer'; data: ProofBuffer };

/** Decodes any Tessera account, identified by its discriminator (e.g. getProgramAccounts). */
export function decodeTesseraAccount(data: ReadonlyUint8Array): DecodedTesseraAccount {
  let kind: TesseraAccount;
  try {
    kind = identifyTesseraAccount(data);
  } catch (e) {
    if (e instanceof SolanaError) {
      throw new Error('not a Tessera account: unknown discriminator');
    }
    throw e;
  }
  switch (kind) {
    case TesseraAccount.Market:
      return { type: 'Market', data: decodeMarketData(data) };
    case TesseraAccount.Operator:
      return { type: 'Operator', data: decodeOperatorData(data) };
    case TesseraAccount.OperatorRecord:
      return { type: 'OperatorRecord', data: decodeOperatorRecordData(data) };
    case TesseraAccount.Job:
      return { type: 'Job', data: decodeJobData(data) };
    case TesseraAccount.Game:
      return { type: 'Game', data: decodeGameData(data) };
    case TesseraAccount.ProofBuffer:
      return { type: 'ProofBuffer', data: decodeProofBufferData(data) };
    default:
      throw new Error(`not a Tessera account: unhandled type ${TesseraAccount[kind]}`);
  }
}

/**
 * The text of a URI stored in a Job (`inputUri`, an assignment's `outputUri`): UTF-8, padded
 * with NUL bytes to MAX_URI_LEN ("" for a slot that has delivered nothing).
 */
export function uriText(bytes: ReadonlyUint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder('utf-8', { fatal: true }).decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/**
 * The terms a claim of `job` carries (`claim_job`'s arguments), as the Rust client's
 * `Job::claim_terms`: the input hash, reward, execution timeout and chunk count of the job as
 * read, and the job's bond as the most the claim may lock. The program refuses the claim
 * (`TermsChanged`) if the job no longer has these terms when the claim lands, so read them from
 * the job the operator vetted:
 *
 *     getClaimJobInstruction({ authority, market, operator, job: address, ...claimTerms(job) })
 */
export function claimTerms(job: Job): ClaimJobInstructionDataArgs {
  return {
    inputHash: job.inputHash,
    rewardPerReplica: job.rewardPerReplica,
    execTimeout: job.execTimeout,
    chunkCount: job.chunkCount,
    maxBond: job.terms.bond,
  };
}

/** An assignment's `status` byte (the program's `SlotStatus`). */
export enum SlotStatus {
  /** Free to claim. */
  Empty = 0,
  /** Claimed; result not yet submitted or committed. */
  Claimed = 1,
  /** Commitment posted (replicas ≥ 2). */
  Committed = 2,
  /** Root delivered (submitted or revealed). */
  Revealed = 3,
  /** Missed its deadline after the job could no longer be reopened. */
  Failed = 4,
}
