// Challenges are committed before they are revealed (commit_challenge, then reveal_challenge),
// so that nobody can copy a verifier's challenge: the commitment binds the challenge to the
// challenger's operator account.
import { getAddressEncoder, getU32Encoder, type Address, type ReadonlyUint8Array } from '@solana/kit';
import { sha256 } from './merkle';

/** What a challenge says: the chunk (or `WHOLE_ROOT`), the challenger's hash, the operators'
 * leaf (chunk challenges). */
export interface ChallengeClaim {
  chunk: number;
  hash: ReadonlyUint8Array;
  operatorLeaf: ReadonlyUint8Array;
}

/**
 * The commitment `commit_challenge` takes: `sha256(chunk (u32 LE) ‖ hash ‖ operatorLeaf ‖
 * challenger ‖ salt)`, where `challenger` is the challenger's operator account (a PDA), as the
 * program's `Challenge::commitment_of`. Keep `salt` (32 random bytes) until `reveal_challenge`.
 */
export async function challengeCommitment(
  claim: ChallengeClaim,
  challenger: Address,
  salt: ReadonlyUint8Array,
): Promise<Uint8Array> {
  return sha256(
    getU32Encoder().encode(claim.chunk),
    claim.hash,
    claim.operatorLeaf,
    getAddressEncoder().encode(challenger),
    salt,
  );
}
