// Checks the browser-facing parts of the TypeScript client against client/fixtures/web.json
// (written by the Rust client's tests/web_fixtures.rs): Merkle leaves and roots as
// programs/tessera-merkle computes them, a real render's tiles verified and assembled into the
// same image, and every scene file given the render kernel's verdict and chunk count.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import * as tessera from '../src';

type Fixtures = {
  merkle: { chunks: string[]; leaves: string[]; root: string }[];
  render: {
    scene: string;
    width: number;
    height: number;
    tileSize: number;
    tiles: string[];
    rects: [number, number, number, number][];
    root: string;
    imageSha256: string;
  };
  scenes: { name: string; text: string; ok: boolean; chunkCount?: number; error?: string }[];
};

const fixtures = JSON.parse(
  readFileSync(resolve(__dirname, '../../../fixtures/web.json'), 'utf8'),
) as Fixtures;
const { fromHex, toHex } = tessera;

describe('Merkle hashing (tessera-merkle)', () => {
  it('has cases from no chunk to odd levels', () => {
    assert.ok(fixtures.merkle.length >= 10);
  });
  for (const c of fixtures.merkle) {
    it(`${c.chunks.length} chunks: the same leaves and root`, async () => {
      const chunks = c.chunks.map(fromHex);
      const leaves = await Promise.all(chunks.map((ch) => tessera.leafHash(ch)));
      assert.deepEqual(leaves.map(toHex), c.leaves);
      assert.equal(toHex(await tessera.rootFromLeaves(leaves)), c.root);
      assert.equal(toHex(await tessera.rootOfChunks(chunks)), c.root);
    });
  }
  it('a changed chunk changes the root; a leaf is not a node', async () => {
    const c = fixtures.merkle.find((m) => m.chunks.length === 5)!;
    const chunks = c.chunks.map(fromHex);
    chunks[3] = Uint8Array.from([...chunks[3], 0]);
    assert.notEqual(toHex(await tessera.rootOfChunks(chunks)), c.root);
    const [a, b] = [fromHex(c.leaves[0]), fromHex(c.leaves[1])];
    // A leaf over the bytes of two leaves is not their node (domain separation).
    const joined = Uint8Array.from([...a, ...b]);
    assert.notEqual(toHex(await tessera.leafHash(joined)), toHex(await tessera.nodeHash(a, b)));
  });
});

describe('a render output (tiles, leaves, image)', () => {
  const r = fixtures.render;
  it('tile rectangles are the kernel\'s', () => {
    assert.equal(tessera.tileCount(r.width, r.height, r.tileSize), r.tiles.length);
    r.rects.forEach((rect, i) => assert.deepEqual(tessera.tileRect(r.width, r.height, r.tileSize, i), rect));
  });
  it('the leaves file is trusted only when it hashes to the root', async () => {
    const tiles = r.tiles.map(fromHex);
    const leaves = await Promise.all(tiles.map((t) => tessera.leafHash(t)));
    const file = Uint8Array.from(leaves.flatMap((l) => [...l]));
    const root = fromHex(r.root);
    const trusted = await tessera.trustedLeaves(file, tiles.length, root);
    assert.ok(trusted);
    for (let i = 0; i < tiles.length; i++) assert.ok(await tessera.chunkMatches(tiles[i], trusted[i]));
    // Altered, truncated, or counted for another job: refused.
    const altered = file.slice();
    altered[40] ^= 1;
    assert.equal(await tessera.trustedLeaves(altered, tiles.length, root), null);
    assert.equal(await tessera.trustedLeaves(file.subarray(0, file.length - 32), tiles.length, root), null);
    assert.equal(await tessera.trustedLeaves(file, tiles.length - 1, root), null);
    // A tampered tile does not match its leaf; the others still do.
    const tampered = tiles[2].slice();
    tampered[0] ^= 0xff;
    assert.equal(await tessera.chunkMatches(tampered, trusted[2]), false);
    assert.equal(await tessera.chunkMatches(tiles[1], trusted[2]), false);
  });
  it('the tiles assemble into the kernel\'s image', async () => {
    const image = tessera.assembleTiles(r.tiles.map(fromHex), r.width, r.height, r.tileSize);
    assert.equal(toHex(await tessera.sha256(new Uint8Array(image.buffer))), r.imageSha256);
    assert.throws(() => tessera.assembleTiles(r.tiles.slice(1).map(fromHex), r.width, r.height, r.tileSize), /5 tiles given/);
    const short = r.tiles.map(fromHex);
    short[5] = short[5].subarray(4);
    assert.throws(() => tessera.assembleTiles(short, r.width, r.height, r.tileSize), /tile 5 is 60 bytes/);
  });
});

describe('scene files (the render kernel\'s checks)', () => {
  it('has gallery scenes, accepted and refused ones', () => {
    assert.ok(fixtures.scenes.some((s) => s.name === 'cornell.json' && s.ok));
    assert.ok(fixtures.scenes.filter((s) => !s.ok).length >= 30);
  });
  for (const s of fixtures.scenes) {
    it(`${s.name}: ${s.ok ? `accepted, ${s.chunkCount} chunks` : 'refused'}`, () => {
      const got = tessera.checkScene(s.text);
      if (s.ok) {
        assert.ok(got.ok, got.ok ? '' : `refused: ${got.error}; the kernel accepts it`);
        assert.equal(got.scene.chunkCount, s.chunkCount);
      } else {
        assert.equal(got.ok, false, `accepted; the kernel refuses it: ${s.error}`);
        assert.ok(got.error.length > 10);
      }
      // The same verdict from the file's bytes.
      assert.equal(tessera.checkScene(new TextEncoder().encode(s.text)).ok, s.ok);
    });
  }
  it('refuses bytes that are not UTF-8 and files over the limit', () => {
    assert.match((tessera.checkScene(Uint8Array.of(0xff, 0xfe)) as { error: string }).error, /not UTF-8/);
    const big = new Uint8Array(tessera.SCENE_LIMITS.maxSceneBytes + 1);
    assert.match((tessera.checkScene(big) as { error: string }).error, /more than the limit/);
  });
});

describe('events (decoded from the IDL)', () => {
  type EventFixture = { name: string; bytes: string; data: Record<string, unknown> };
  const events = (fixtures as unknown as { events: EventFixture[] }).events;
  const idl = JSON.parse(readFileSync(resolve(__dirname, '../../../idl/tessera.json'), 'utf8')) as tessera.EventIdl;
  const { decodeEvent, decodeEventInstruction } = tessera.eventDecoder(idl);
  // As the fixtures write them: 64-bit integers as decimal strings, bytes in hex.
  const plain = (v: unknown): unknown =>
    typeof v === 'bigint'
      ? v.toString()
      : v instanceof Uint8Array
        ? toHex(v)
        : Array.isArray(v)
          ? v.map(plain)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
            : v;
  it('has events with enums, vectors of structs, signed and 64-bit fields', () => {
    assert.deepEqual(events.map((e) => e.name), ['JobCreated', 'JobClaimed', 'JobSettled', 'StakeWithdrawn']);
  });
  for (const e of events) {
    it(`${e.name}: the program's bytes decode to its fields`, () => {
      const bytes = fromHex(e.bytes);
      const got = decodeEvent(bytes);
      assert.ok(got);
      assert.equal(got.name, e.name);
      assert.deepEqual(plain(got.data), e.data);
      // As the data of an emit_cpi! self-invocation.
      const ix = Uint8Array.from([...tessera.EVENT_IX_TAG, ...bytes]);
      assert.deepEqual(plain(decodeEventInstruction(ix)?.data), e.data);
      // Truncated or padded bytes are refused; another instruction's data is no event.
      assert.throws(() => decodeEvent(bytes.subarray(0, bytes.length - 1)), /truncated/);
      assert.throws(() => decodeEvent(Uint8Array.from([...bytes, 0])), /left over/);
      assert.equal(decodeEventInstruction(bytes), null);
    });
  }
  it('every event of the IDL has a type the decoder reads', () => {
    const names = new Set((idl.types ?? []).map((t) => t.name));
    for (const e of idl.events ?? []) assert.ok(names.has(e.name), e.name);
    assert.equal(decodeEvent(new Uint8Array(16)), null);
  });
});
