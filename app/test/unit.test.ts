// The app's pure parts, in Node.js: where a posted URI is read from (the one mapping of store
// URIs), and token amounts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAmount, parseAmount } from '../src/amount.js';
import { inputLocation, readableUrl } from '../src/config.js';

const cfg = { store: 'file:///home/me/.tessera/localnet/store', storeHttp: 'http://127.0.0.1:8898/store' };
const hash = 'ab'.repeat(32);

describe('readableUrl: a posted URI, read by the browser', () => {
  it('reads an input posted relative to the store from the store over HTTP', () => {
    assert.equal(readableUrl(`inputs/${hash}`, cfg), `${cfg.storeHttp}/inputs/${hash}`);
    // Only the exact content address is relative.
    assert.throws(() => readableUrl(`inputs/${hash.slice(2)}`, cfg), /cannot read/);
    assert.throws(() => readableUrl(`inputs/../${hash}`, cfg), /cannot read/);
  });
  it("maps a worker's output under the local store to its HTTP address", () => {
    assert.equal(
      readableUrl(`${cfg.store}/out/0123456789abcdef0123456789abcdef/chunk-3`, cfg),
      `${cfg.storeHttp}/out/0123456789abcdef0123456789abcdef/chunk-3`,
    );
  });
  it('refuses a path that leads out of the store, and places it cannot read', () => {
    assert.throws(() => readableUrl(`${cfg.store}/../creator.json`, cfg), /not a plain path/);
    assert.throws(() => readableUrl(`${cfg.store}/out//x`, cfg), /not a plain path/);
    assert.throws(() => readableUrl(`${cfg.store}/out/%2e%2e/x`, cfg), /not a plain path/);
    assert.throws(() => readableUrl(`${cfg.store}-other/out/x`, cfg), /cannot read/);
    assert.throws(() => readableUrl('file:///etc/passwd', cfg), /cannot read/);
    assert.throws(() => readableUrl('s3://bucket/out/x', cfg), /cannot read/);
  });
  it('reads http(s) URLs as they are', () => {
    assert.equal(readableUrl('https://bucket.example/out/x/leaves', cfg), 'https://bucket.example/out/x/leaves');
  });
  it('uploads an input at its content address and posts it relative to the store', () => {
    assert.deepEqual(inputLocation(hash, cfg), { put: `${cfg.storeHttp}/inputs/${hash}`, posted: `inputs/${hash}` });
  });
});

describe('token amounts', () => {
  it('parses tokens into base units', () => {
    assert.equal(parseAmount('1', 6), 1_000_000n);
    assert.equal(parseAmount(' 1.5 ', 6), 1_500_000n);
    assert.equal(parseAmount('0.000001', 6), 1n);
    assert.equal(parseAmount('18446744073709.551615', 6), 18_446_744_073_709_551_615n);
    assert.equal(parseAmount('2.', 6), 2_000_000n);
  });
  it('refuses what is not an amount', () => {
    for (const bad of ['', '-1', '1e3', '0.0000001', 'one', '1,5', '.5', '0x10']) assert.equal(parseAmount(bad, 6), null, bad);
  });
  it('formats base units without trailing zeros', () => {
    assert.equal(formatAmount(1_950_000n, 6), '1.95');
    assert.equal(formatAmount(2_000_000n, 6), '2');
    assert.equal(formatAmount(1n, 6), '0.000001');
    assert.equal(formatAmount(0n, 6), '0');
    assert.equal(formatAmount(-500_000n, 6), '-0.5');
    assert.equal(formatAmount(123n, 0), '123');
    for (const n of [0n, 1n, 999_999n, 1_000_001n, 12_345_678_901n]) assert.equal(parseAmount(formatAmount(n, 6), 6), n);
  });
});
