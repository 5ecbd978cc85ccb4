// The app's pure parts, in Node.js: where a posted URI is read from (the one mapping of store
// URIs), and token amounts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAmount, parseAmount } from '../src/amount.js';
import { inputLocation, parseNetwork, readableUrl } from '../src/config.js';

const cfg = { store: 'file:///home/me/.tessera/localnet/store', storeHttp: 'http://127.0.0.1:8898/store' };
const hash = 'ab'.repeat(32);
// The program's MAX_URI_LEN (client/ts's generated constants; the page passes that one).
const MAX_URI_LEN = 128;

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
    assert.deepEqual(inputLocation(hash, cfg, MAX_URI_LEN), { put: `${cfg.storeHttp}/inputs/${hash}`, posted: `inputs/${hash}` });
  });
  it("posts an input in a remote store by its full URL, and refuses one too long for a job", () => {
    const s3 = { store: 's3://jobs/tessera', storeHttp: 'https://app.example.com/store' };
    assert.deepEqual(inputLocation(hash, s3, MAX_URI_LEN), {
      put: `https://app.example.com/store/inputs/${hash}`,
      posted: `s3://jobs/tessera/inputs/${hash}`,
    });
    // 128 bytes at most: a base of 56 bytes is the longest that fits.
    const longest = { store: `s3://${'b'.repeat(51)}`, storeHttp: s3.storeHttp };
    assert.equal(inputLocation(hash, longest, MAX_URI_LEN).posted.length, 128);
    assert.throws(() => inputLocation(hash, { ...longest, store: `${longest.store}x` }, MAX_URI_LEN), /longer than the 128 bytes/);
  });
  it('reads an output in a remote store through the gateway', () => {
    const s3 = { store: 's3://jobs/tessera', storeHttp: 'https://app.example.com/store' };
    assert.equal(readableUrl('s3://jobs/tessera/out/ab/leaves', s3), 'https://app.example.com/store/out/ab/leaves');
    assert.throws(() => readableUrl('s3://other/out/ab/leaves', s3), /cannot read/);
  });
});

describe('network.json: a local network and a cluster behind `tessera serve`', () => {
  const base = {
    rpc_url: 'http://127.0.0.1:8899',
    ws_url: 'ws://127.0.0.1:8900',
    program: '3GwPgwpMXNQBsUo81Gzg8zVGSNJmA5NzVCxjwvJCZ5sd',
    market: 'BwdYajiAZRLFf1FJAdnie478ocxP9fu3vBMHRcgWYiGv',
  };
  it('takes a local network with its store server and development keypairs', () => {
    const c = parseNetwork(
      {
        ...base,
        store: 'file:///tmp/l/store/',
        store_http: 'http://127.0.0.1:8898/store',
        http_url: 'http://127.0.0.1:8898',
        keypairs: { admin: 'a', creator: 'c', 'operator-1': 'o' },
      },
      new URL('http://127.0.0.1:8898/network.json'),
    );
    assert.equal(c.chain, 'solana:localnet');
    assert.equal(c.store, 'file:///tmp/l/store');
    assert.equal(c.keypairsUrl, 'http://127.0.0.1:8898/keypairs');
    // The admin's key is never offered as a wallet.
    assert.deepEqual(c.keypairs, ['creator', 'operator-1']);
  });
  it('takes a cluster: the store through the server it came from, no development wallet', () => {
    const c = parseNetwork(
      { ...base, cluster: 'devnet', store: 's3://jobs/tessera', store_http: null, http_url: null, keypairs: {} },
      new URL('https://app.example.com/network.json'),
    );
    assert.equal(c.chain, 'solana:devnet');
    assert.equal(c.storeHttp, 'https://app.example.com/store');
    assert.equal(c.keypairsUrl, null);
    assert.deepEqual(c.keypairs, []);
  });
  it('refuses a summary whose addresses are not addresses', () => {
    assert.throws(() =>
      parseNetwork({ ...base, market: 'not-an-address', store: 's3://b', store_http: null, http_url: null }, new URL('https://x/')),
    );
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
