// The web app's end-to-end test, as a person uses it: a real headless Chromium (Debian's
// `chromium`, driven by playwright-core; no browser is downloaded) against a real local network
// (`tessera localnet`, serving the built app) with two real workers (`tessera-worker`).
//
// 1. A bad scene file is refused in the page before anything is uploaded or signed.
// 2. A creator picks the gallery's cornell.json, sees it checked against the market, signs and
//    submits it, watches it settle (account subscriptions), and the page shows the image with
//    every tile verified against the root on chain; its pixels equal the CPU reference render
//    (target/debug/examples/render) and the CLI's verified result (`tessera job result`).
// 3. A tile tampered with in the store is flagged in the page, and only that one.
// 4. An operator stakes and withdraws its earnings in the page.
// 5. The market's view shows the settlement, its fee and burn, and the operator's deposit and
//    withdrawal, decoded in the page from the program's events.
// 6. A malformed int8 model is refused in the page before anything is uploaded or signed; a
//    small gemm-i8 model (written here) is checked and hashed to its model root in the page,
//    submitted, computed by the workers (which claim it only when its kernel_params is the
//    model root they compute) and settled; the output the page verifies and offers as
//    safetensors is the CLI's verified result (`tessera job result`), byte for byte; a row block
//    altered in the store is then flagged by name.
// 7. A Wallet Standard wallet, installed in the page as an extension installs itself
//    (e2e/wallet-standard.mjs), is chosen in the wallet bar, connected, and signs a stake deposit
//    that lands on chain with its key as the signer; a wallet whose user declines leaves a
//    sentence in the page and nothing changed on chain.
//
// Screenshots of each step go to target/app-e2e/. Needs: app/dist (npm run build), the
// binaries target/debug/tessera, target/debug/tessera-worker and target/debug/examples/render,
// and target/deploy/tessera.so. CHROMIUM names the browser (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { base58, walletExtension, walletSpec } from './wallet-standard.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (p) => join(root, 'target', p);
const shots = join(root, 'target/app-e2e');
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const started = Date.now();

for (const [what, path] of [
  ['the built app (cd app && npm run build)', join(root, 'app/dist/index.html')],
  ['the CLI (cargo build -p tessera-cli)', bin('debug/tessera')],
  ['the worker (cargo build -p tessera-worker)', bin('debug/tessera-worker')],
  ['the CPU reference renderer (cargo build -p tessera-kernels --example render)', bin('debug/examples/render')],
  ['the program (scripts/build-program.sh)', bin('deploy/tessera.so')],
  ['Chromium (apt-get install chromium)', browserPath],
]) {
  if (!existsSync(path)) {
    console.error(`app e2e: ${what} is missing: ${path}`);
    process.exit(1);
  }
}

/** A free TCP port on 127.0.0.1 whose next port is free too (the websocket's). */
async function freePortPair() {
  const listen = (port) =>
    new Promise((ok) => {
      const s = createServer();
      s.once('error', () => ok(null));
      s.listen(port, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => ok(p));
      });
    });
  for (;;) {
    const p = await listen(0);
    if (p && p < 65534 && (await listen(p + 1))) return p;
  }
}

const children = [];
function start(name, cmd, args, opts) {
  const log = join(shots, `${name}.log`);
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks = [];
  child.stdout.on('data', (d) => chunks.push(d));
  child.stderr.on('data', (d) => chunks.push(d));
  child.on('exit', () => writeFileSync(log, Buffer.concat(chunks)));
  children.push(child);
  return { child, output: () => Buffer.concat(chunks).toString() };
}

async function until(what, f, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * A gemm-i8 model file (docs/kernels.md, "Quantized model format"): `rows` rows of `k` features
 * to `n`, in chunks of 8 rows, with a broadcast multiplier and shift; pseudo-random values.
 */
function gemmModel({ rows = 40, k = 32, n = 12, shift = -8 } = {}) {
  let x = 12345;
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0), x >>> 16);
  const i8 = (len) => Buffer.from(Array.from({ length: len }, () => next() & 0xff));
  const i32 = (values) => {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((v, i) => b.writeInt32LE(v, 4 * i));
    return b;
  };
  const tensors = [
    ['input', 'I8', [rows, k], i8(rows * k)],
    ['layers.0.weight', 'I8', [n, k], i8(n * k)],
    ['layers.0.bias', 'I32', [n], i32(Array.from({ length: n }, () => (next() % 4001) - 2000))],
    ['layers.0.multiplier', 'I32', [1], i32([1518500250])],
    ['layers.0.shift', 'I32', [1], i32([shift])],
  ];
  const header = {
    __metadata__: {
      format: 'tessera.qmlp.v1',
      layers: '1',
      input_zero_point: '3',
      rows_per_chunk: '8',
      'layers.0.output_zero_point': '-2',
      'layers.0.relu': 'false',
    },
  };
  let offset = 0;
  for (const [name, dtype, shape, data] of tensors) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.length] };
    offset += data.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...tensors.map((t) => t[3])]);
}

let work, dir, net, browser, page, jobAddress;
const step = async (name, on = page) => on.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const text = (id) => page.textContent(`[data-testid="${id}"]`);

before(async () => {
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'tessera-app-e2e-'));
  dir = join(work, '.tessera/localnet');
  const rpcPort = await freePortPair();
  const httpPort = (await freePortPair()) + 1;
  const ln = start(
    'localnet',
    bin('debug/tessera'),
    ['localnet', '--rpc-port', String(rpcPort), '--http-port', String(httpPort), '--program', bin('deploy/tessera.so'), '--app', join(root, 'app/dist')],
    { cwd: work, env: { ...process.env, RUST_LOG: 'warn' } },
  );
  await until('tessera localnet to start', () => existsSync(join(dir, 'localnet.json')) || ln.child.exitCode !== null, 120_000);
  assert.equal(ln.child.exitCode, null, `tessera localnet exited:\n${ln.output()}`);
  net = JSON.parse(readFileSync(join(dir, 'localnet.json'), 'utf8'));
  assert.ok(net.app_url, 'the local network serves the app');
  for (const i of [1, 2]) {
    const metrics = await freePortPair();
    start(`worker-${i}`, bin('debug/tessera-worker'), ['--config', join(dir, `operator-${i}.toml`)], {
      cwd: work,
      env: { ...process.env, TESSERA_METRICS_ADDR: `127.0.0.1:${metrics}`, RUST_LOG: 'info' },
    });
  }
  browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${net.app_url}?wallet=creator`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  for (const c of children.reverse()) c.kill('SIGINT');
  await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))));
  if (work) rmSync(work, { recursive: true, force: true });
  console.log(`app e2e: ${((Date.now() - started) / 1000).toFixed(0)} s in all; screenshots in ${shots}`);
});

/** A JSON-RPC call to the local network. */
async function rpc(method, params) {
  const r = await fetch(net.rpc_url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const { result, error } = await r.json();
  if (error) throw new Error(`${method}: ${error.message}`);
  return result;
}

const inputsInStore = () => (existsSync(join(dir, 'store/inputs')) ? readdirSync(join(dir, 'store/inputs')) : []);

describe('the web app on a local network with two workers', () => {
  it('refuses a bad scene file before anything is uploaded or signed', async () => {
    const cornell = JSON.parse(readFileSync(join(root, 'kernels/scenes/cornell.json'), 'utf8'));
    for (const [name, bad, reason] of [
      ['wide-angle.json', { ...cornell, camera: { ...cornell.camera, vfov: 180 } }, /camera\.vfov is 180, outside the allowed range 1\.\.=179/],
      ['typo.json', { ...cornell, colour: [1, 0, 0] }, /unknown field "colour"/],
      ['dangling.json', { ...cornell, spheres: [{ center: [0, 0, 0], radius: 1, material: 42 }] }, /refers to material 42, but the scene has only 6/],
    ]) {
      await page.setInputFiles('[data-testid="scene-file"]', { name, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bad)) });
      await page.waitForFunction((n) => document.querySelector('[data-testid="scene-summary"]').textContent.startsWith(n), name);
      assert.match(await text('scene-summary'), reason);
      assert.match(await text('scene-summary'), /cannot be submitted/);
      await page.waitForFunction(() => document.querySelector('[data-testid="checks"] li.bad'));
      assert.equal(await page.isDisabled('[data-testid="submit"]'), true);
    }
    // A click on the disabled button does nothing either.
    await page.click('[data-testid="submit"]', { force: true });
    await page.waitForTimeout(500);
    assert.equal(await text('signed-count'), '0', 'nothing was signed');
    assert.deepEqual(inputsInStore(), [], 'nothing was uploaded');
    await step('01-bad-scene-refused');
  });

  it('submits a render in the page, watches it settle, and shows the image verified tile by tile', async () => {
    await page.click('button[data-scene="cornell.json"]');
    await page.waitForFunction(() => !document.querySelector('[data-testid="submit"]').disabled, null, { timeout: 30_000 });
    const checks = await text('checks');
    assert.match(checks, /The scene is valid: 16 tiles/);
    assert.match(checks, /Price: 2 tokens into the job's escrow/);
    await step('02-creator-checked');
    await page.click('[data-testid="submit"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="job-address"]')?.textContent, null, { timeout: 30_000 });
    jobAddress = await text('job-address');
    assert.equal(await text('signed-count'), '1');
    // Live, from the subscription: the state goes through its steps to Settled.
    const seen = new Set();
    await until(
      'the job to settle',
      async () => {
        const s = await text('job-state');
        if (s && !seen.has(s)) {
          seen.add(s);
          await step(`03-job-${s.toLowerCase()}`);
        }
        const banner = await page.textContent('#banner');
        assert.equal(banner, '', `the page shows an error: ${banner}`);
        return s === 'Settled';
      },
      240_000,
    );
    assert.ok(seen.has('Revealed'), `the page showed the reveal before the settlement (saw ${[...seen]})`);
    await page.waitForFunction(() => /All 16 tiles match/.test(document.querySelector('[data-testid="verify-summary"]').textContent), null, {
      timeout: 30_000,
    });
    assert.equal(await page.locator('.bad-tile').count(), 0);
    assert.equal(await page.isDisabled('[data-testid="download"]'), false);
    await step('04-creator-verified');

    // The page's pixels equal the CPU reference render and the CLI's verified result.
    const reference = join(work, 'reference.png');
    execFileSync(bin('debug/examples/render'), [join(root, 'kernels/scenes/cornell.json'), reference, 'cpu']);
    const cliResult = join(work, 'cli.png');
    execFileSync(bin('debug/tessera'), ['--url', net.rpc_url, '--market', net.market, '--store', net.store, 'job', 'result', jobAddress, '--out', cliResult]);
    for (const [name, file] of [['the CPU reference render', reference], ['tessera job result', cliResult]]) {
      const diff = await page.evaluate(async (b64) => {
        const png = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const bmp = await createImageBitmap(new Blob([png], { type: 'image/png' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const c = new OffscreenCanvas(bmp.width, bmp.height);
        const cx = c.getContext('2d');
        cx.drawImage(bmp, 0, 0);
        const want = cx.getImageData(0, 0, bmp.width, bmp.height).data;
        const canvas = document.querySelector('[data-testid="image"]');
        const got = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        if (canvas.width !== bmp.width || canvas.height !== bmp.height) return `size ${canvas.width}×${canvas.height} vs ${bmp.width}×${bmp.height}`;
        let differ = 0;
        for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) differ++;
        return differ;
      }, readFileSync(file).toString('base64'));
      assert.equal(diff, 0, `the page's image differs from ${name} (${diff} bytes)`);
    }
  });

  it('flags a tile tampered with in the store, and only that one', async () => {
    // Tile 5 of every output in the store (both replicas'), one byte changed.
    const outs = readdirSync(join(dir, 'store/out'));
    assert.ok(outs.length >= 1);
    for (const o of outs) {
      const file = join(dir, 'store/out', o, 'chunk-5');
      const bytes = readFileSync(file);
      bytes[100] ^= 0x5a;
      writeFileSync(file, bytes);
    }
    await page.click('[data-testid="verify"]');
    await page.waitForFunction(() => /do not match/.test(document.querySelector('[data-testid="verify-summary"]').textContent), null, {
      timeout: 30_000,
    });
    assert.match(await text('verify-summary'), /1 of 16 tiles do not match the root on chain: tile 5 /);
    assert.deepEqual(await page.locator('.bad-tile').evaluateAll((els) => els.map((e) => e.dataset.tile)), ['5']);
    assert.equal(await page.isDisabled('[data-testid="download"]'), true);
    await step('05-tampered-tile-flagged');
  });

  it('lets an operator stake and withdraw its earnings', async () => {
    await page.selectOption('[data-testid="dev-wallet"]', 'operator-1');
    await page.waitForFunction(() => /operator-1/.test(document.querySelector('[data-testid="wallet-address"]').textContent));
    await page.click('button[data-view="operator"]');
    await page.waitForSelector('[data-testid="earned"]', { timeout: 30_000 });
    const num = async (id) => Number(await text(id));
    await until('operator-1 to hold earnings', async () => (await page.click('button[data-view="operator"]'), (await num('earned')) > 0), 30_000);
    const before = { stake: await num('stake'), earned: await num('earned'), wallet: await num('wallet-balance'), done: await num('jobs-completed') };
    assert.ok(before.done >= 1, 'the settled job counts for operator-1');
    await step('06-operator');
    // An amount that is not one is refused before signing; one the program refuses reads as
    // the program's sentence, not a log.
    const signed = await text('signed-count');
    await page.fill('[data-testid="amount"]', '-3');
    await page.click('[data-testid="unstake"]');
    await page.waitForFunction(() => /Nothing was signed/.test(document.querySelector('[data-testid="operator-status"]').textContent));
    assert.equal(await text('signed-count'), signed);
    await page.fill('[data-testid="amount"]', '1000000');
    await page.click('[data-testid="unstake"]');
    await page.waitForFunction(() => document.querySelector('#banner').textContent !== '', null, { timeout: 30_000 });
    const sentence = await page.textContent('#banner');
    assert.match(sentence, /^Requesting unstake was refused by the program: Not enough free stake: deposit more stake or wait until live claims settle\.$/);
    await step('06-operator-error-sentence');
    await page.fill('[data-testid="amount"]', '5');
    await page.click('[data-testid="deposit"]');
    await until('the stake to grow by 5', async () => (await num('stake')) === before.stake + 5, 30_000);
    assert.match(await text('operator-status'), /Staking: done/);
    const staked = await num('wallet-balance');
    assert.equal(staked, before.wallet - 5);
    await page.click('[data-testid="withdraw"]');
    await until('the earnings to be withdrawn', async () => (await num('earned')) === 0, 30_000);
    assert.equal(Math.round((await num('wallet-balance')) * 1e6), Math.round((staked + before.earned) * 1e6));
    assert.equal(await page.textContent('#banner'), '');
    await step('07-operator-withdrawn');
  });

  it("shows the market's settlements, fees and burns from the program's events", async () => {
    await page.click('button[data-view="market"]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="settled-count"]')?.textContent) >= 1, null, { timeout: 30_000 });
    const num = async (id) => Number(await text(id));
    // The job escrowed 2 tokens (2 replicas × 1): paid, fee and burned add up to them.
    const [paid, fees, burned] = [await num('paid-total'), await num('fees-total'), await num('burned-total')];
    assert.ok(fees > 0 && burned > 0, `fees ${fees}, burned ${burned}`);
    assert.equal(Math.round((paid + fees + burned) * 1e6), 2e6);
    // The events of this run, decoded in the page: the job's and the operator's.
    await page.waitForSelector('tr[data-event="StakeWithdrawn"]', { timeout: 30_000 });
    const names = await page.locator('tr[data-event]').evaluateAll((rows) => rows.map((r) => r.dataset.event));
    for (const n of ['JobCreated', 'JobClaimed', 'JobSettled', 'StakeDeposited', 'StakeWithdrawn']) assert.ok(names.includes(n), `${n} in ${names}`);
    const settledRow = await page.textContent('tr[data-event="JobSettled"]');
    assert.ok(settledRow.includes(`${jobAddress.slice(0, 4)}…${jobAddress.slice(-4)}`), settledRow);
    assert.equal(await page.textContent('#banner'), '');
    await step('08-market');
  });

  it('refuses a malformed int8 model unsigned, and settles a gemm-i8 model whose output the page verifies', async () => {
    await page.selectOption('[data-testid="dev-wallet"]', 'creator');
    await page.waitForFunction(() => /creator/.test(document.querySelector('[data-testid="wallet-address"]').textContent));
    await page.click('button[data-view="creator"]');
    const signed = await text('signed-count');
    const uploaded = inputsInStore();
    // A shift out of range: refused with the kernels' sentence, nothing uploaded or signed.
    await page.setInputFiles('[data-testid="model-file"]', {
      name: 'bad-shift.safetensors',
      mimeType: 'application/octet-stream',
      buffer: gemmModel({ shift: 9 }),
    });
    await page.waitForFunction(() => document.querySelector('[data-testid="scene-summary"]').textContent.startsWith('bad-shift.safetensors'));
    assert.match(await text('scene-summary'), /cannot be submitted: tensor `layers\.0\.shift` element 0 is 9, outside -31\.\.=7/);
    await page.waitForFunction(() => document.querySelector('[data-testid="checks"] li.bad'));
    assert.equal(await page.isDisabled('[data-testid="submit"]'), true);
    await page.click('[data-testid="submit"]', { force: true });
    await page.waitForTimeout(500);
    assert.equal(await text('signed-count'), signed, 'nothing was signed');
    assert.deepEqual(inputsInStore(), uploaded, 'nothing was uploaded');
    await step('09-bad-model-refused');

    // A good one: checked, hashed to its model root, submitted.
    await page.setInputFiles('[data-testid="model-file"]', { name: 'gemm.safetensors', mimeType: 'application/octet-stream', buffer: gemmModel() });
    await page.waitForFunction(() => document.querySelector('[data-testid="scene-summary"]').dataset.modelRoot, null, { timeout: 30_000 });
    assert.match(await text('scene-summary'), /^gemm\.safetensors: gemm-i8, 1 layer \(32 → 12 features\), 40 rows in 5 chunks of 8 rows, 15 work units/);
    await page.waitForFunction(() => !document.querySelector('[data-testid="submit"]').disabled, null, { timeout: 30_000 });
    assert.match(await text('checks'), /The model is valid for gemm-i8: 5 chunks, 15 work units/);
    await step('10-model-checked');
    await page.click('[data-testid="submit"]');
    await page.waitForFunction((old) => {
      const a = document.querySelector('[data-testid="job-address"]')?.textContent;
      return a && a !== old;
    }, jobAddress, { timeout: 30_000 });
    const modelJob = await text('job-address');
    assert.equal(Number(await text('signed-count')), Number(signed) + 1);
    await until(
      'the model job to settle',
      async () => {
        const banner = await page.textContent('#banner');
        assert.equal(banner, '', `the page shows an error: ${banner}`);
        return (await text('job-state')) === 'Settled';
      },
      240_000,
    );
    await page.waitForFunction(() => /All 5 chunks match/.test(document.querySelector('[data-testid="verify-summary"]').textContent), null, {
      timeout: 30_000,
    });
    assert.match(await text('verify-summary'), /the output is 40 × 12 int8 values \(gemm-i8\)/);
    assert.equal(await page.locator('[data-testid="tensor-values"] tr').count(), 4);
    await step('11-model-verified');

    // The page's file is the CLI's verified result, byte for byte.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download"]')]);
    assert.equal(download.suggestedFilename(), `tessera-job-${modelJob}.safetensors`);
    const fromPage = join(work, 'page.safetensors');
    await download.saveAs(fromPage);
    const fromCli = join(work, 'cli.safetensors');
    execFileSync(bin('debug/tessera'), ['--url', net.rpc_url, '--market', net.market, '--store', net.store, 'job', 'result', modelJob, '--out', fromCli]);
    const [a, b] = [readFileSync(fromPage), readFileSync(fromCli)];
    assert.equal(a.length, 8 + a.readUInt32LE(0) + 40 * 12);
    assert.ok(a.equals(b), `the page's safetensors (${a.length} bytes) differ from tessera job result's (${b.length} bytes)`);

    // Row block 2 altered in the store (both replicas'): flagged by name, nothing to download.
    const outs = readdirSync(join(dir, 'store/out')).filter((o) => !existsSync(join(dir, 'store/out', o, 'chunk-5')));
    assert.equal(outs.length, 2, `the model job's two outputs among ${readdirSync(join(dir, 'store/out'))}`);
    for (const o of outs) {
      const file = join(dir, 'store/out', o, 'chunk-2');
      const bytes = readFileSync(file);
      bytes[7] ^= 0x01;
      writeFileSync(file, bytes);
    }
    await page.click('[data-testid="verify"]');
    await page.waitForFunction(() => /do not match/.test(document.querySelector('[data-testid="verify-summary"]').textContent), null, {
      timeout: 30_000,
    });
    assert.match(await text('verify-summary'), /1 of 5 chunks do not match the root on chain: chunk 2 /);
    assert.deepEqual(await page.locator('.bad-chunk').evaluateAll((els) => els.map((e) => e.dataset.chunk)), ['2']);
    assert.equal(await page.isDisabled('[data-testid="download"]'), true);
    await step('12-model-tampered-chunk-flagged');
  });

  it('connects a Wallet Standard wallet that signs a stake deposit on chain; a declined signature changes nothing', async () => {
    // This browser has no wallet installed: connecting one says so.
    assert.equal(await page.isHidden('[data-testid="standard-wallet"]'), true);
    await page.click('[data-testid="connect-wallet"]');
    await page.waitForFunction(() => /^No Solana wallet is installed in this browser/.test(document.querySelector('#banner').textContent));

    // A browser with a wallet extension: it registers before the app loads, holding operator-2's key.
    const good = walletSpec(join(dir, 'operator-2.json'), 'Tessera Test Wallet');
    const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
    await context.addInitScript(walletExtension, [good]);
    const p = await context.newPage();
    p.on('pageerror', (e) => console.error('page error:', e.message));
    await p.goto(`${net.app_url}#operator`);
    await p.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const ptext = (id) => p.textContent(`[data-testid="${id}"]`);
    const num = async (id) => Number(await ptext(id));
    assert.deepEqual(await p.locator('[data-testid="standard-wallet"] option').allTextContents(), ['Tessera Test Wallet']);
    await p.selectOption('[data-testid="standard-wallet"]', 'Tessera Test Wallet');
    await p.click('[data-testid="connect-wallet"]');
    await p.waitForFunction((a) => document.querySelector('[data-testid="wallet-address"]').textContent === `Tessera Test Wallet ${a}`, good.address);
    await p.waitForSelector('[data-testid="stake"]', { timeout: 30_000 });
    const tokens = async () => {
      const { value } = await rpc('getTokenAccountsByOwner', [good.address, { mint: net.mint }, { encoding: 'jsonParsed', commitment: 'confirmed' }]);
      assert.equal(value.length, 1);
      const { amount, decimals } = value[0].account.data.parsed.info.tokenAmount;
      return { account: value[0].pubkey, amount: BigInt(amount), unit: 10n ** BigInt(decimals) };
    };
    const before = { stake: await num('stake'), wallet: await num('wallet-balance'), tokens: await tokens() };
    await p.fill('[data-testid="amount"]', '3');
    await p.click('[data-testid="deposit"]');
    await until('the stake to grow by 3', async () => (await num('stake')) === before.stake + 3, 30_000);
    assert.match(await ptext('operator-status'), /Staking: done/);
    assert.equal(await p.textContent('#banner'), '');
    await until('the wallet balance to drop by 3', async () => (await num('wallet-balance')) === before.wallet - 3, 10_000);
    // The wallet was asked once and signed once; its signature is the transaction's on chain,
    // a deposit with the wallet's key as its one signer (and fee payer).
    const seen = await p.evaluate(() => window.testWalletExtension.seen['Tessera Test Wallet']);
    assert.equal(seen.connects, 1);
    assert.equal(seen.signCalls, 1);
    assert.equal(seen.signatures.length, 1);
    assert.equal(await ptext('signed-count'), '1');
    const signature = base58(seen.signatures[0]);
    const tx = await rpc('getTransaction', [signature, { encoding: 'json', commitment: 'confirmed', maxSupportedTransactionVersion: 0 }]);
    assert.ok(tx, `transaction ${signature} is on chain`);
    assert.equal(tx.meta.err, null);
    assert.deepEqual(tx.transaction.signatures, [signature]);
    assert.equal(tx.transaction.message.header.numRequiredSignatures, 1);
    assert.equal(tx.transaction.message.accountKeys[0], good.address);
    assert.ok(tx.meta.logMessages.includes('Program log: Instruction: DepositStake'), tx.meta.logMessages.join('\n'));
    const after = await tokens();
    assert.equal(after.amount, before.tokens.amount - 3n * before.tokens.unit);
    await step('13-standard-wallet-staked', p);
    // The wallet's user switches accounts in the extension, then disconnects: the page follows.
    const other = walletSpec(join(dir, 'operator-1.json'), 'unused').address;
    await p.evaluate((a) => window.testWalletExtension.control['Tessera Test Wallet'].switchTo(a), other);
    await p.waitForFunction((a) => document.querySelector('[data-testid="wallet-address"]').textContent === `Tessera Test Wallet ${a}`, other);
    await p.evaluate(() => window.testWalletExtension.control['Tessera Test Wallet'].disconnect());
    await p.waitForFunction(() => document.querySelector('[data-testid="wallet-address"]').textContent === 'no wallet');
    assert.equal(await p.textContent('#banner'), 'Tessera Test Wallet disconnected: connect a wallet again to sign.');

    // A second wallet announces itself after the app started; its user declines to sign.
    const declining = walletSpec(join(dir, 'operator-2.json'), 'Declining Wallet', { decline: true });
    await p.evaluate((s) => window.testWalletExtension.register(s), declining);
    await p.waitForFunction(() => document.querySelectorAll('[data-testid="standard-wallet"] option').length === 2);
    await p.selectOption('[data-testid="standard-wallet"]', 'Declining Wallet');
    await p.click('[data-testid="connect-wallet"]');
    await p.waitForFunction((a) => document.querySelector('[data-testid="wallet-address"]').textContent === `Declining Wallet ${a}`, good.address);
    const history = async () => (await rpc('getSignaturesForAddress', [after.account, { commitment: 'confirmed' }])).map((s) => s.signature);
    const seenBefore = await history();
    assert.equal(seenBefore[0], signature, 'the deposit is the latest transaction of the wallet\'s token account');
    await p.click('[data-testid="deposit"]');
    await p.waitForFunction(() => document.querySelector('#banner').textContent !== '', null, { timeout: 30_000 });
    assert.equal(await p.textContent('#banner'), 'Staking was cancelled: Declining Wallet declined to sign, so no transaction was sent.');
    assert.equal(await ptext('operator-status'), '');
    const declined = await p.evaluate(() => window.testWalletExtension.seen['Declining Wallet']);
    assert.equal(declined.signCalls, 1);
    assert.equal(declined.signatures.length, 0);
    assert.equal(await ptext('signed-count'), '2', 'the app asked for the signature');
    // Nothing changed on chain: the tokens, the stake, the token account's history.
    assert.equal((await tokens()).amount, after.amount);
    assert.deepEqual(await history(), seenBefore);
    await p.click('button[data-view="operator"]');
    await until('the page to read the stake again', async () => (await num('stake')) === before.stake + 3, 10_000);
    assert.equal(await num('wallet-balance'), before.wallet - 3);
    await step('14-standard-wallet-declined', p);
    await context.close();
  });
});
