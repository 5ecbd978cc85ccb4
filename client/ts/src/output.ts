// A job's output in its store, checked against the root committed on chain, as the Rust client
// does (client/src/output.rs) and with the same layout (client/src/store.rs):
//
//   <output_uri>/chunk-<i>   output chunk i (a render's tile: RGBA8 pixels, rows top to bottom)
//   <output_uri>/leaves      the chunks' Merkle leaves, 32 bytes each
//
// Nothing read from a store is trusted: the leaves must hash to the committed root, and each
// chunk to its leaf; a chunk that does not is reported by index, so a page can show which.
import type { ReadonlyUint8Array } from '@solana/kit';
import { bytesEqual, leafHash, rootFromLeaves } from './merkle';

/** Where chunk `index` of the output at `outputUri` lives. */
export function chunkUri(outputUri: string, index: number): string {
  return `${outputUri.replace(/\/+$/, '')}/chunk-${index}`;
}

/** Where the Merkle leaves of the output at `outputUri` live. */
export function leavesUri(outputUri: string): string {
  return `${outputUri.replace(/\/+$/, '')}/leaves`;
}

/**
 * The leaves file checked against `root`: its 32-byte leaves when it holds `chunkCount` of
 * them hashing to `root`, else `null` (altered, truncated, or another job's).
 */
export async function trustedLeaves(
  leaves: ReadonlyUint8Array,
  chunkCount: number,
  root: ReadonlyUint8Array,
): Promise<Uint8Array[] | null> {
  if (leaves.length !== chunkCount * 32) return null;
  const list = Array.from({ length: chunkCount }, (_, i) => Uint8Array.from(leaves.subarray(i * 32, i * 32 + 32)));
  return bytesEqual(await rootFromLeaves(list), root) ? list : null;
}

/** Whether `chunk` is the chunk whose leaf is `leaf`. */
export async function chunkMatches(chunk: ReadonlyUint8Array, leaf: ReadonlyUint8Array): Promise<boolean> {
  return bytesEqual(await leafHash(chunk), leaf);
}

/** Where tile `index` lies in a `width × height` image cut in `tileSize` tiles: `[x, y, w, h]`
 * (row-major tile order; the right and bottom tiles may be smaller). */
export function tileRect(width: number, height: number, tileSize: number, index: number): [number, number, number, number] {
  const across = Math.ceil(width / tileSize);
  const x = (index % across) * tileSize;
  const y = Math.floor(index / across) * tileSize;
  return [x, y, Math.min(tileSize, width - x), Math.min(tileSize, height - y)];
}

/** Number of tiles of an image. */
export function tileCount(width: number, height: number, tileSize: number): number {
  return Math.ceil(width / tileSize) * Math.ceil(height / tileSize);
}

/** Copies tile `index` (RGBA8) into the row-major RGBA8 `image`; throws if its size is wrong. */
export function placeTile(
  image: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  tileSize: number,
  index: number,
  tile: ReadonlyUint8Array,
): void {
  const [x, y, w, h] = tileRect(width, height, tileSize, index);
  if (tile.length !== w * h * 4) {
    throw new Error(`tile ${index} is ${tile.length} bytes, a ${w}×${h} RGBA8 tile is ${w * h * 4}`);
  }
  for (let r = 0; r < h; r++) {
    image.set(tile.subarray(r * w * 4, (r + 1) * w * 4), ((y + r) * width + x) * 4);
  }
}

/** Assembles tiles (in order) into a row-major RGBA8 image. */
export function assembleTiles(
  tiles: readonly ReadonlyUint8Array[],
  width: number,
  height: number,
  tileSize: number,
): Uint8ClampedArray {
  const count = tileCount(width, height, tileSize);
  if (tiles.length !== count) {
    throw new Error(`${tiles.length} tiles given, a ${width}×${height} image in tiles of ${tileSize} has ${count}`);
  }
  const image = new Uint8ClampedArray(width * height * 4);
  tiles.forEach((t, i) => placeTile(image, width, height, tileSize, i, t));
  return image;
}
