// The Merkle tree over a job's output, as programs/tessera-merkle defines it (the program, the
// worker and the Rust client use that crate; client/fixtures/web.json checks this copy):
//
// - leaf = sha256(0x00 ‖ chunk)
// - node = sha256(0x01 ‖ left ‖ right)
// - a level with an odd number of nodes carries its last node up unchanged;
// - the root of one leaf is that leaf; the root of no leaves is 32 zero bytes.
//
// Hashing is WebCrypto's (`crypto.subtle`), in browsers and in Node.js alike.
import type { ReadonlyUint8Array } from '@solana/kit';

export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;
/** The root of an output with no chunk. */
export const EMPTY_ROOT: Uint8Array = new Uint8Array(32);

/** sha256 of the concatenation of `parts`. */
export async function sha256(...parts: ReadonlyUint8Array[]): Promise<Uint8Array> {
  // One part is hashed as it is: a 512 MiB model is not copied into a message first.
  if (parts.length === 1) return new Uint8Array(await crypto.subtle.digest('SHA-256', parts[0] as Uint8Array<ArrayBuffer>));
  const message = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    message.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', message));
}

/** The leaf hash of one output chunk. */
export function leafHash(chunk: ReadonlyUint8Array): Promise<Uint8Array> {
  return sha256(Uint8Array.of(LEAF_PREFIX), chunk);
}

/** The hash of an inner node. */
export function nodeHash(left: ReadonlyUint8Array, right: ReadonlyUint8Array): Promise<Uint8Array> {
  return sha256(Uint8Array.of(NODE_PREFIX), left, right);
}

/** The root over leaf hashes. */
export async function rootFromLeaves(leaves: readonly ReadonlyUint8Array[]): Promise<Uint8Array> {
  if (leaves.length === 0) return EMPTY_ROOT.slice();
  let level: readonly ReadonlyUint8Array[] = leaves;
  while (level.length > 1) {
    const next: Promise<ReadonlyUint8Array>[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? nodeHash(level[i], level[i + 1]) : Promise.resolve(level[i]));
    }
    level = await Promise.all(next);
  }
  return Uint8Array.from(level[0]);
}

/** The root over raw chunks. */
export async function rootOfChunks(chunks: readonly ReadonlyUint8Array[]): Promise<Uint8Array> {
  return rootFromLeaves(await Promise.all(chunks.map((c) => leafHash(c))));
}

/** Whether two byte strings are equal. */
export function bytesEqual(a: ReadonlyUint8Array, b: ReadonlyUint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lower-case hex. */
export function toHex(bytes: ReadonlyUint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Bytes from hex (an even number of hex digits). */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error(`not hex: ${hex.slice(0, 16)}…`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
