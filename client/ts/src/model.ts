// The int8 kernels' model format (docs/kernels.md, "Quantized model format"): one safetensors
// file holding the input batch, the layers and their quantization parameters, checked in the
// client with the rules of the kernels' own parser (kernels/src/quant/model.rs, the safetensors
// crate's header checks, kernels/src/limits.rs), so a page refuses a model before anything is
// uploaded or signed; and the model root (programs/tessera-int8/src/model.rs), the commitment a
// `gemm-i8` or `mlp-i8` job posts in its `kernel_params`, which a worker recomputes and
// requires before it claims. client/fixtures/web.json holds model files with the Rust parser's
// verdicts and roots; the tests require the same here.
//
// Nothing of a model is copied: a checked model holds views into the file's bytes, and the
// root hashes it one row at a time.
import type { ReadonlyUint8Array } from '@solana/kit';
import { LEAF_PREFIX, rootFromLeaves, sha256 } from './merkle';

/** The kernels' limits on a model (kernels/src/limits.rs). */
export const MODEL_LIMITS = {
  maxModelBytes: 512 * 2 ** 20,
  maxLayers: 16,
  maxRows: 2 ** 20,
  maxFeatures: 16_384,
  maxActivations: 2 ** 28,
  maxWeights: 2 ** 26,
  maxAbsBias: 2 ** 30,
  maxMacs: 2 ** 42,
  /** A non-zero multiplier lies in [2^30, 2^31): a Q0.31 number in [0.5, 1). */
  minMultiplier: 2 ** 30,
  minShift: -31,
  maxShift: 7,
} as const;

/** The value of the `format` metadata entry. */
export const MODEL_FORMAT = 'tessera.qmlp.v1';
/** Rows per output chunk when the file does not say. */
export const DEFAULT_ROWS_PER_CHUNK = 64;
/** Domain-separation prefix of a model root (after the Merkle tree's 0x00 leaf and 0x01 node). */
export const MODEL_PREFIX = 0x02;

/** The int8 kernels, by their registry names. */
export type Int8Kernel = 'gemm-i8' | 'mlp-i8';

/** One layer of a checked model: its shape and views of its tensors in the file. */
export interface ModelLayer {
  /** Input features. */
  k: number;
  /** Output features. */
  n: number;
  outputZeroPoint: number;
  relu: boolean;
  /** `n × k` int8 weights, row-major. */
  weight: Uint8Array;
  /** `n` int32 (little-endian). */
  bias: Uint8Array;
  /** `n` int32, or 1 broadcast to all features. */
  multiplier: Uint8Array;
  /** `n` int32, or 1 broadcast to all features. */
  shift: Uint8Array;
}

/** A checked model: what a page shows about it, what the job posts, and views of its tensors. */
export interface QuantModelSummary {
  /** Input rows (the batch). */
  rows: number;
  rowsPerChunk: number;
  inputZeroPoint: number;
  layers: ModelLayer[];
  /** `rows × layers[0].k` int8 inputs, row-major. */
  input: Uint8Array;
  /** Output chunks (row blocks): the job's `chunk_count`. */
  chunkCount: number;
  /** Multiply-accumulates of the whole job. */
  macs: number;
  /** The job's work estimate: MACs / 1024, at least 1. */
  workUnits: number;
  /** Output features of the last layer. */
  outputFeatures: number;
  /** The kernel that runs it: `gemm-i8` for one layer, `mlp-i8` for more. */
  kernel: Int8Kernel;
}

export type ModelCheck = { ok: true; model: QuantModelSummary } | { ok: false; error: string };

class ModelError extends Error {}

function fail(message: string): never {
  throw new ModelError(message);
}

// ---- safetensors (the crate's header rules) ----

const DTYPE_BITS: Record<string, number> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};
const MAX_HEADER_SIZE = 100_000_000;
const U64_MAX = (1n << 64n) - 1n;

interface TensorInfo {
  dtype: string;
  shape: number[];
  /** Absolute offsets in the file. */
  start: number;
  end: number;
}

/** What a number written with a fraction or an exponent (`2.0`, `1e3`) reads as: serde_json
 * refuses it where an integer or a string is expected, and JSON.parse would make it an integer. */
const NOT_AN_INTEGER = '\u0000tessera: a number with a fraction or an exponent';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON.parse, with every number that has a fraction or an exponent read as `NOT_AN_INTEGER`. */
function parseHeaderJson(text: string): Json {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      // Skip the string, escapes included.
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const token = /^-?[0-9]*(\.[0-9]*)?([eE][+-]?[0-9]*)?/.exec(text.slice(i, i + 400))![0];
      if (/[.eE]/.test(token)) {
        out += text.slice(from, i) + JSON.stringify(NOT_AN_INTEGER);
        from = i + token.length;
      }
      i += Math.max(0, token.length - 1);
    }
  }
  return JSON.parse(out + text.slice(from)) as Json;
}

function isUsize(v: Json): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number(U64_MAX);
}

function sf(message: string): never {
  fail(`the model is not a valid safetensors file: ${message}`);
}

/** The header of a safetensors file, checked as the safetensors crate checks it. */
function readSafetensors(bytes: Uint8Array): { metadata: Map<string, string> | null; tensors: Map<string, TensorInfo> } {
  if (bytes.length < 8) sf('header too small');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) sf('header too large');
  const n = Number(n64);
  if (8 + n > bytes.length) sf('invalid header length');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    sf('invalid UTF-8 in header');
  }
  let header: Json;
  try {
    header = parseHeaderJson(text);
  } catch (e) {
    sf(`invalid JSON in header: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) sf('invalid JSON in header: not an object');
  let metadata: Map<string, string> | null = null;
  const infos: [string, { dtype: string; shape: number[]; offsets: [number, number] }][] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (value === null) continue;
      if (typeof value !== 'object' || Array.isArray(value)) sf('invalid JSON in header: `__metadata__` is not a map');
      metadata = new Map();
      for (const [k, v] of Object.entries(value as { [key: string]: Json })) {
        if (typeof v !== 'string' || v === NOT_AN_INTEGER) sf(`invalid JSON in header: metadata entry \`${k}\` is not a string`);
        metadata.set(k, v);
      }
      continue;
    }
    if (value === null || typeof value !== 'object') sf(`invalid JSON in header: tensor \`${name}\` is not described`);
    // serde reads a struct from a map of its fields or from a list of exactly its fields.
    if (Array.isArray(value) && value.length !== 3) sf(`invalid JSON in header: tensor \`${name}\` is a list of ${value.length} fields, not 3`);
    const [dtype, shape, offsets] = Array.isArray(value) ? value : [value.dtype, value.shape, value.data_offsets];
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BITS)) sf(`invalid JSON in header: tensor \`${name}\` has no known dtype`);
    if (!Array.isArray(shape) || !shape.every(isUsize)) sf(`invalid JSON in header: tensor \`${name}\` has no valid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isUsize)) {
      sf(`invalid JSON in header: tensor \`${name}\` has no valid data_offsets`);
    }
    infos.push([name, { dtype, shape: shape as number[], offsets: offsets as [number, number] }]);
  }
  infos.sort(([, a], [, b]) => a.offsets[0] - b.offsets[0] || a.offsets[1] - b.offsets[1]);
  let start = 0;
  const tensors = new Map<string, TensorInfo>();
  for (const [name, info] of infos) {
    const [s, e] = info.offsets;
    if (s !== start || e < s) sf(`invalid offset for tensor \`${name}\``);
    start = e;
    let elements = 1n;
    for (const d of info.shape) {
      elements *= BigInt(d);
      if (elements > U64_MAX) sf('overflow computing buffer size from shape and/or element type');
    }
    const bits = elements * BigInt(DTYPE_BITS[info.dtype]);
    if (bits > U64_MAX) sf('overflow computing buffer size from shape and/or element type');
    if (bits % 8n !== 0n) sf('a sub-byte tensor does not end at a byte boundary');
    if (BigInt(e - s) !== bits / 8n) sf('invalid shape, data type, or offset for tensor');
    tensors.set(name, { dtype: info.dtype, shape: info.shape, start: 8 + n + s, end: 8 + n + e });
  }
  if (start + 8 + n !== bytes.length) sf('incomplete metadata, file not fully covered');
  return { metadata, tensors };
}

// ---- the model's rules (kernels/src/quant/model.rs) ----

// Rust's `str::trim`: Unicode White_Space.
const RUST_TRIM = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/**
 * Checks a model file with the int8 kernels' rules. With `kernel`, also that kernel's: `gemm-i8`
 * takes exactly one layer. Without, the kernel is `gemm-i8` for one layer and `mlp-i8` for more.
 */
export function checkModel(bytes: Uint8Array, kernel?: Int8Kernel): ModelCheck {
  try {
    const model = parseModel(bytes);
    if (kernel === 'gemm-i8' && model.layers.length !== 1) {
      fail(`kernel gemm-i8 takes a model of exactly one layer (use mlp-i8 for more); this one has ${model.layers.length}`);
    }
    if (kernel) model.kernel = kernel;
    return { ok: true, model };
  } catch (e) {
    if (e instanceof ModelError) return { ok: false, error: e.message };
    throw e;
  }
}

function parseModel(bytes: Uint8Array): QuantModelSummary {
  const L = MODEL_LIMITS;
  if (bytes.length > L.maxModelBytes) {
    fail(`the model is ${bytes.length} bytes long, more than the limit of ${L.maxModelBytes} bytes`);
  }
  const st = readSafetensors(bytes);
  const m = st.metadata ?? new Map<string, string>();
  const meta = (key: string): string => {
    const v = m.get(key);
    if (v === undefined) fail(`the model lacks the metadata entry \`${key}\``);
    return v;
  };
  const metaInt = (key: string, min: number, max: number): number => {
    const s = meta(key);
    const t = s.replace(RUST_TRIM, '');
    const bad = (reason: string): never => fail(`metadata entry \`${key}\` = ${JSON.stringify(s)} is invalid: ${reason}`);
    if (!/^[+-]?\d+$/.test(t)) bad('not an integer');
    const v = BigInt(t);
    if (v < -(1n << 63n) || v >= 1n << 63n) bad('not an integer');
    if (v < BigInt(min) || v > BigInt(max)) bad(`outside ${min}..=${max}`);
    return Number(v);
  };
  const metaBool = (key: string): boolean => {
    const s = meta(key);
    if (s === 'true') return true;
    if (s === 'false') return false;
    return fail(`metadata entry \`${key}\` = ${JSON.stringify(s)} is invalid: expected \`true\` or \`false\``);
  };
  const limit = (what: string, value: number, min: number, max: number) => {
    if (value < min || value > max) fail(`the model has ${value} ${what}, outside the allowed range ${min}..=${max}`);
  };
  const tensor = (name: string, dtype: string): TensorInfo => {
    const t = st.tensors.get(name);
    if (!t) fail(`the model lacks the tensor \`${name}\``);
    if (t.dtype !== dtype) fail(`tensor \`${name}\` has dtype ${t.dtype}, expected ${dtype}`);
    return t;
  };
  const shapeError = (name: string, expected: string, found: number[]): never =>
    fail(`tensor \`${name}\` has shape [${found.join(', ')}], expected ${expected}`);

  const format = meta('format');
  if (format !== MODEL_FORMAT) {
    fail(`metadata entry \`format\` = ${JSON.stringify(format)} is invalid: expected \`${MODEL_FORMAT}\``);
  }
  const nLayers = metaInt('layers', 1, L.maxLayers);
  const inputZeroPoint = metaInt('input_zero_point', -128, 127);
  const rowsPerChunk = m.has('rows_per_chunk') ? metaInt('rows_per_chunk', 1, L.maxRows) : DEFAULT_ROWS_PER_CHUNK;

  // Shapes first: every size is known to be in range before any value is read.
  const input = tensor('input', 'I8');
  if (input.shape.length !== 2) shapeError('input', '[rows, features]', input.shape);
  const [rows, k0] = input.shape;
  limit('input rows', rows, 1, L.maxRows);
  let k = k0;
  const dims: [number, number][] = [];
  for (let i = 0; i < nLayers; i++) {
    const name = `layers.${i}.weight`;
    const w = tensor(name, 'I8');
    if (w.shape.length !== 2 || w.shape[1] !== k) shapeError(name, `[out_features, ${k}]`, w.shape);
    const n = w.shape[0];
    limit('input features', k, 1, L.maxFeatures);
    limit('output features', n, 1, L.maxFeatures);
    limit('weights in one layer', n * k, 1, L.maxWeights);
    limit('activations in one layer', rows * Math.max(k, n), 1, L.maxActivations);
    dims.push([k, n]);
    k = n;
  }
  const macs = dims.reduce((s, [k, n]) => s + rows * k * n, 0);
  if (macs > L.maxMacs) fail(`the model has ${macs} multiply-accumulates, outside the allowed range 1..=${L.maxMacs}`);
  const known = new Set(['input', ...dims.flatMap((_, i) => ['weight', 'bias', 'multiplier', 'shift'].map((t) => `layers.${i}.${t}`))]);
  if (st.tensors.size !== known.size) {
    const extra = [...st.tensors.keys()].find((name) => !known.has(name));
    if (extra !== undefined) fail(`the model has the unexpected tensor \`${extra}\``);
  }

  const view = (t: TensorInfo) => bytes.subarray(t.start, t.end);
  const dataView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  /** An I32 vector of `n` elements (or `[1]` when `broadcast`), each checked by `ok`. */
  const i32Vec = (name: string, n: number, broadcast: boolean, ok: (v: number) => boolean, min: number, max: number) => {
    const t = tensor(name, 'I32');
    const fits = (t.shape.length === 1 && t.shape[0] === n) || (broadcast && t.shape.length === 1 && t.shape[0] === 1);
    if (!fits) shapeError(name, broadcast ? `[${n}] or [1]` : `[${n}]`, t.shape);
    for (let j = 0; j < t.shape[0]; j++) {
      const v = dataView.getInt32(t.start + 4 * j, true);
      if (!ok(v)) fail(`tensor \`${name}\` element ${j} is ${v}, outside ${min}..=${max}`);
    }
    return view(t);
  };
  const layers: ModelLayer[] = dims.map(([k, n], i) => {
    const weight = view(tensor(`layers.${i}.weight`, 'I8'));
    const bias = i32Vec(`layers.${i}.bias`, n, false, (b) => Math.abs(b) <= L.maxAbsBias, -L.maxAbsBias, L.maxAbsBias);
    const multiplier = i32Vec(`layers.${i}.multiplier`, n, true, (x) => x === 0 || x >= L.minMultiplier, L.minMultiplier, 2 ** 31 - 1);
    const shift = i32Vec(`layers.${i}.shift`, n, true, (s) => s >= L.minShift && s <= L.maxShift, L.minShift, L.maxShift);
    const outputZeroPoint = metaInt(`layers.${i}.output_zero_point`, -128, 127);
    const relu = metaBool(`layers.${i}.relu`);
    return { k, n, outputZeroPoint, relu, weight, bias, multiplier, shift };
  });
  return {
    rows,
    rowsPerChunk,
    inputZeroPoint,
    layers,
    input: view(input),
    chunkCount: Math.ceil(rows / rowsPerChunk),
    macs,
    workUnits: Math.max(1, Math.floor(macs / 1024)),
    outputFeatures: layers[layers.length - 1].n,
    kernel: layers.length === 1 ? 'gemm-i8' : 'mlp-i8',
  };
}

// ---- the model root (programs/tessera-int8/src/model.rs) ----

const HEADER_TAG = new TextEncoder().encode(MODEL_FORMAT);

/**
 * The model's header in the commitment: "tessera.qmlp.v1" ‖ rows u32 ‖ rows_per_chunk u32 ‖ L u8
 * ‖ input_zero_point i8 ‖ per layer: k u32 ‖ n u32 ‖ output_zero_point i8 ‖ relu u8 (little-endian).
 */
export function modelHeader(model: QuantModelSummary): Uint8Array {
  const out = new Uint8Array(HEADER_TAG.length + 10 + 10 * model.layers.length);
  const dv = new DataView(out.buffer);
  out.set(HEADER_TAG);
  let at = HEADER_TAG.length;
  dv.setUint32(at, model.rows, true);
  dv.setUint32(at + 4, model.rowsPerChunk, true);
  dv.setUint8(at + 8, model.layers.length);
  dv.setInt8(at + 9, model.inputZeroPoint);
  at += 10;
  for (const l of model.layers) {
    dv.setUint32(at, l.k, true);
    dv.setUint32(at + 4, l.n, true);
    dv.setInt8(at + 8, l.outputZeroPoint);
    dv.setUint8(at + 9, l.relu ? 1 : 0);
    at += 10;
  }
  return out;
}

/** Leaves hashed at once: a batch's rows are copied (behind their prefix) into one buffer of at
 * most this many bytes, then hashed together. */
const BATCH_BYTES = 4 << 20;

/**
 * `count` leaves of `rowBytes` bytes each, `sha256(0x00 ‖ row i)`, the row written by `fill(i,
 * into)` (`into` is `rowBytes` long). Rows are hashed a batch at a time.
 */
async function leaves(
  count: number,
  rowBytes: number,
  fill: (i: number, into: Uint8Array) => void,
  progress: (hashed: number) => void,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const stride = rowBytes + 1;
  const batch = Math.max(1, Math.floor(BATCH_BYTES / stride));
  const buffer = new Uint8Array(Math.min(batch, count) * stride);
  for (let first = 0; first < count; first += batch) {
    const last = Math.min(count, first + batch);
    const pending: Promise<ArrayBuffer>[] = [];
    for (let i = first; i < last; i++) {
      const message = buffer.subarray((i - first) * stride, (i - first + 1) * stride);
      message[0] = LEAF_PREFIX;
      fill(i, message.subarray(1));
      pending.push(crypto.subtle.digest('SHA-256', message));
    }
    for (const d of await Promise.all(pending)) out.push(new Uint8Array(d));
    progress(last - first);
  }
  return out;
}

/**
 * The model root, the job's `kernel_params` for `gemm-i8` and `mlp-i8`:
 *
 *     sha256(0x02 ‖ header ‖ input_root ‖ layer_root_0 ‖ … ‖ layer_root_{L−1})
 *
 * with the input root the Merkle root (tessera-merkle) over the input rows, leaf
 * `sha256(0x00 ‖ x[m, 0..k0))`, and a layer's root the Merkle root over its features, leaf
 * `sha256(0x00 ‖ w[n, 0..k) ‖ bias[n] ‖ multiplier[n] ‖ shift[n])` (int32 little-endian, a
 * broadcast multiplier or shift repeated). `onProgress(done, total)` counts rows hashed.
 */
export async function modelRoot(model: QuantModelSummary, onProgress?: (done: number, total: number) => void): Promise<Uint8Array> {
  const total = model.rows + model.layers.reduce((s, l) => s + l.n, 0);
  let done = 0;
  const progress = (hashed: number) => {
    done += hashed;
    onProgress?.(done, total);
  };
  const k0 = model.layers[0].k;
  const inputLeaves = await leaves(model.rows, k0, (m, into) => into.set(model.input.subarray(m * k0, (m + 1) * k0)), progress);
  const layerRoots: Uint8Array[] = [];
  for (const l of model.layers) {
    // A broadcast multiplier or shift (4 bytes) is every feature's.
    const at = (v: Uint8Array, j: number) => (v.length === 4 ? v : v.subarray(4 * j, 4 * j + 4));
    const featureLeaves = await leaves(
      l.n,
      l.k + 12,
      (j, into) => {
        into.set(l.weight.subarray(j * l.k, (j + 1) * l.k));
        into.set(at(l.bias, j), l.k);
        into.set(at(l.multiplier, j), l.k + 4);
        into.set(at(l.shift, j), l.k + 8);
      },
      progress,
    );
    layerRoots.push(await rootFromLeaves(featureLeaves));
  }
  return sha256(Uint8Array.of(MODEL_PREFIX), modelHeader(model), await rootFromLeaves(inputLeaves), ...layerRoots);
}

// ---- the output ----

/** Rows `[start, end)` of output chunk `index`. */
export function outputChunkRows(model: Pick<QuantModelSummary, 'rows' | 'rowsPerChunk'>, index: number): [number, number] {
  const start = index * model.rowsPerChunk;
  return [start, Math.min(start + model.rowsPerChunk, model.rows)];
}

/**
 * The output of an int8 job as a safetensors file: one I8 tensor `output`, `[rows,
 * outputFeatures]`, the verified chunks one after the other, with the metadata `format` =
 * `tessera.output.v1` and `kernel`: the same bytes as the Rust client's `output::assemble`
 * (client/src/output.rs). Throws if a chunk is not its row block's size.
 */
export function int8OutputSafetensors(
  model: Pick<QuantModelSummary, 'rows' | 'rowsPerChunk' | 'outputFeatures' | 'chunkCount'>,
  kernel: Int8Kernel,
  chunks: readonly ReadonlyUint8Array[],
): Uint8Array {
  const features = model.outputFeatures;
  if (chunks.length !== model.chunkCount) throw new Error(`${chunks.length} chunks, the job has ${model.chunkCount}`);
  chunks.forEach((c, i) => {
    const [s, e] = outputChunkRows(model, i);
    if (c.length !== (e - s) * features) {
      throw new Error(`chunk ${i} is ${c.length} bytes, expected ${(e - s) * features} (${e - s} rows × ${features})`);
    }
  });
  const size = model.rows * features;
  const json =
    `{"__metadata__":{"format":"tessera.output.v1","kernel":"${kernel}"},` +
    `"output":{"dtype":"I8","shape":[${model.rows},${features}],"data_offsets":[0,${size}]}}`;
  const header = new TextEncoder().encode(json.padEnd(Math.ceil(json.length / 8) * 8, ' '));
  const out = new Uint8Array(8 + header.length + size);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
