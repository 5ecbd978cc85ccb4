// Checks the int8 model code of the TypeScript client against client/fixtures/web.json (written
// by the Rust client's tests/web_fixtures.rs with the kernels' own parser): every model file gets
// the verdicts of gemm-i8 and mlp-i8, an accepted one the same chunk count, work units, header
// and model root (the job's kernel_params, which workers require), and its CPU reference output
// the same safetensors file as the Rust client's output::assemble.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import * as tessera from '../src';

type Verdict = { ok: boolean; error?: string };
type ModelFixture = {
  name: string;
  file: string;
  gemm: Verdict;
  mlp: Verdict;
  chunkCount?: number;
  workUnits?: number;
  header?: string;
  modelRoot?: string;
  kernel?: tessera.Int8Kernel;
  output?: { chunks: string[]; root: string; safetensors: string };
};

const models = (
  JSON.parse(readFileSync(resolve(__dirname, '../../../fixtures/web.json'), 'utf8')) as { models: ModelFixture[] }
).models;
const { fromHex, toHex } = tessera;

describe('int8 model files (the kernels\' checks)', () => {
  it('has one-layer, multi-layer and broadcast models, and some 40 refused files', () => {
    const accepted = models.filter((m) => m.mlp.ok).map((m) => m.name);
    for (const name of ['gemm one layer', 'mlp three layers', 'broadcast multiplier and shift']) assert.ok(accepted.includes(name));
    assert.ok(models.some((m) => m.mlp.ok && !m.gemm.ok), 'a model gemm-i8 refuses and mlp-i8 takes');
    assert.ok(models.filter((m) => !m.mlp.ok).length >= 40);
  });
  for (const m of models) {
    it(`${m.name}: ${m.mlp.ok ? `accepted (gemm-i8 ${m.gemm.ok ? 'too' : 'refuses it'}), ${m.chunkCount} chunks` : 'refused'}`, async () => {
      const bytes = fromHex(m.file);
      for (const [kernel, verdict] of [['gemm-i8', m.gemm], ['mlp-i8', m.mlp]] as const) {
        const got = tessera.checkModel(bytes, kernel);
        if (verdict.ok) {
          assert.ok(got.ok, got.ok ? '' : `${kernel} refused: ${got.error}; the kernel accepts it`);
        } else {
          assert.equal(got.ok, false, `${kernel} accepted; the kernel refuses it: ${verdict.error}`);
          assert.ok(got.error.length > 10);
        }
      }
      const got = tessera.checkModel(bytes);
      assert.equal(got.ok, m.mlp.ok);
      if (!got.ok) return;
      const model = got.model;
      assert.equal(model.kernel, m.kernel);
      assert.equal(model.chunkCount, m.chunkCount);
      assert.equal(model.workUnits, m.workUnits);
      assert.equal(toHex(tessera.modelHeader(model)), m.header);
      let last = 0;
      const root = await tessera.modelRoot(model, (done, total) => {
        assert.ok(done > last && done <= total);
        last = done;
      });
      assert.equal(toHex(root), m.modelRoot);
      assert.equal(last, model.rows + model.layers.reduce((s, l) => s + l.n, 0));
      // The CPU reference's output, checked and assembled as the Rust client does.
      const chunks = m.output!.chunks.map(fromHex);
      assert.equal(toHex(await tessera.rootOfChunks(chunks)), m.output!.root);
      assert.equal(toHex(tessera.int8OutputSafetensors(model, model.kernel, chunks)), m.output!.safetensors);
    });
  }
});

describe('the model root and the output file', () => {
  const fixture = (name: string) => models.find((m) => m.name === name)!;
  const check = (bytes: Uint8Array) => {
    const got = tessera.checkModel(bytes);
    assert.ok(got.ok, got.ok ? '' : got.error);
    return got.model;
  };
  it('holds views into the file, not copies', () => {
    const bytes = fromHex(fixture('mlp three layers').file);
    const model = check(bytes);
    for (const v of [model.input, ...model.layers.flatMap((l) => [l.weight, l.bias, l.multiplier, l.shift])]) {
      assert.equal(v.buffer, bytes.buffer);
    }
  });
  it('a changed weight, bias, multiplier, shift or input row changes the root', async () => {
    const f = fixture('gemm one layer');
    const bytes = fromHex(f.file);
    const model = check(bytes);
    const l = model.layers[0];
    for (const [what, v, i] of [
      ['input', model.input, 5],
      ['weight', l.weight, 17],
      ['bias', l.bias, 0],
      ['multiplier', l.multiplier, 4],
      ['shift', l.shift, 8],
    ] as const) {
      const copy = bytes.slice();
      copy[v.byteOffset - bytes.byteOffset + i] ^= 1;
      const changed = tessera.checkModel(copy);
      // A flipped low bit keeps the values in range, except where it leaves the allowed set.
      if (!changed.ok) continue;
      assert.notEqual(toHex(await tessera.modelRoot(changed.model)), f.modelRoot, what);
    }
  });
  it('a broadcast multiplier and shift hash as every feature\'s', async () => {
    const f = fixture('broadcast multiplier and shift');
    const model = check(fromHex(f.file));
    assert.equal(model.layers[0].multiplier.length, 4);
    assert.equal(model.rowsPerChunk, tessera.DEFAULT_ROWS_PER_CHUNK);
    // Written out per feature, the same root.
    const l = model.layers[0];
    const repeat = (v: Uint8Array) => Uint8Array.from({ length: 4 * l.n }, (_, i) => v[i % 4]);
    const full = { ...model, layers: [{ ...l, multiplier: repeat(l.multiplier), shift: repeat(l.shift) }] };
    assert.equal(toHex(await tessera.modelRoot(full)), f.modelRoot);
  });
  it('refuses files over the limit, and gemm-i8 a model of three layers', () => {
    const big = new Uint8Array(tessera.MODEL_LIMITS.maxModelBytes + 1);
    assert.match((tessera.checkModel(big) as { error: string }).error, /more than the limit/);
    const mlp = fromHex(fixture('mlp three layers').file);
    assert.match((tessera.checkModel(mlp, 'gemm-i8') as { error: string }).error, /exactly one layer/);
  });
  it('an output file refuses chunks of the wrong number or size', () => {
    const f = fixture('gemm one layer');
    const model = check(fromHex(f.file));
    const chunks = f.output!.chunks.map(fromHex);
    assert.throws(() => tessera.int8OutputSafetensors(model, 'gemm-i8', chunks.slice(1)), /4 chunks, the job has 5/);
    chunks[4] = chunks[4].subarray(1);
    assert.throws(() => tessera.int8OutputSafetensors(model, 'gemm-i8', chunks), /chunk 4 is 49 bytes, expected 50 \(5 rows × 10\)/);
  });
});
