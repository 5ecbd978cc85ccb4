// The creator's view: pick or upload a scene or an int8 model, see it checked against the market
// (a model also hashed to its model root, the job's kernel_params), sign and submit, watch the
// job live (account subscription), and see its output verified chunk by chunk against the Merkle
// root committed on chain: a render's image, or an int8 job's output tensor as safetensors.
import { type Address } from '@solana/kit';
import {
  checkModel,
  checkScene,
  cheapJobId,
  chunkMatches,
  chunkUri,
  decodeJobData,
  escrowPda,
  getCancelJobInstruction,
  getCloseJobInstruction,
  getCreateJobInstructionAsync,
  int8OutputSafetensors,
  jobPda,
  JobState,
  KERNEL_GEMM_I8,
  KERNEL_MLP_I8,
  KERNEL_RENDER,
  leavesUri,
  marketKeys,
  modelRoot,
  outputChunkRows,
  placeTile,
  sha256,
  SlotStatus,
  tileRect,
  toHex,
  trustedLeaves,
  bytesEqual,
  uriText,
  type Int8Kernel,
  type Job,
  type QuantModelSummary,
  type SceneSummary,
  MAX_URI_LEN,
} from '@tessera/client';
import { accountData, chainNow, explain, formatAmount, loadMarket, parseAmount, send, tokenAccount, tokenBalance, type Chain, type MarketInfo } from './chain';
import { fetchBytes, inputLocation, readableUrl } from './config';
import { banner, byId, h, seconds, shortAddress } from './ui';
import type { Wallet } from './wallet';

const gallery = import.meta.glob('../../kernels/scenes/*.json', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;

interface Picked {
  name: string;
  bytes: Uint8Array;
  kind: 'scene' | 'model';
  scene: SceneSummary | null;
  model: QuantModelSummary | null;
  /** A model's root (the job's `kernel_params`), once hashed. */
  root: Uint8Array | null;
  error: string | null;
}

const INT8_KERNELS: Record<number, Int8Kernel> = { [KERNEL_GEMM_I8]: 'gemm-i8', [KERNEL_MLP_I8]: 'mlp-i8' };

export function creatorView(chain: Chain, wallet: () => Wallet | null): HTMLElement & { refresh(): Promise<unknown> } {
  let picked: Picked | null = null;
  let market: MarketInfo | null = null;
  let watching: AbortController | null = null;

  const sceneButtons = Object.entries(gallery).map(([path, text]) => {
    const name = path.split('/').pop()!;
    const b = h('button', { 'data-scene': name, class: 'scene' }, name);
    b.onclick = () => pick(name, new TextEncoder().encode(text));
    return b;
  });
  const fileInput = h('input', { type: 'file', accept: '.json,application/json', 'data-testid': 'scene-file' });
  fileInput.onchange = async () => {
    const f = fileInput.files?.[0];
    if (f) pick(f.name, new Uint8Array(await f.arrayBuffer()));
  };
  const modelInput = h('input', { type: 'file', accept: '.safetensors', 'data-testid': 'model-file' });
  modelInput.onchange = async () => {
    const f = modelInput.files?.[0];
    if (f) pickModel(f.name, new Uint8Array(await f.arrayBuffer()));
  };
  /** The verified output of an int8 job, as a safetensors file, once every chunk matched. */
  let tensorFile: { name: string; bytes: Uint8Array } | null = null;
  const field = (id: string, label: string, value: string, hint: string) =>
    h('label', {}, label, h('input', { 'data-testid': id, value, size: '10' }), h('small', {}, hint));
  const root = h(
    'div',
    { class: 'creator' },
    h(
      'section',
      { class: 'card' },
      h('h2', {}, '1. Input'),
      h('p', {}, 'A scene from the gallery (kernels/scenes): ', ...sceneButtons),
      h('p', {}, h('label', {}, 'or a scene file of your own: ', fileInput)),
      h('p', {}, h('label', {}, 'or an int8 model (safetensors; gemm-i8 for one layer, mlp-i8 for more): ', modelInput)),
      h('div', { 'data-testid': 'scene-summary', class: 'summary' }, 'No input yet.'),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, '2. Terms, checked against the market'),
      h(
        'div',
        { class: 'fields' },
        field('reward', 'Reward per replica ', '1', ' tokens'),
        field('replicas', 'Replicas ', '2', ''),
        field('exec-timeout', 'Execution timeout ', '600', ' s'),
        field('claim-window', 'Claim window ', '3600', ' s'),
      ),
      h('ul', { 'data-testid': 'checks', class: 'checks' }),
      h('button', { 'data-testid': 'submit', class: 'primary', disabled: true }, 'Sign and submit'),
      h('div', { 'data-testid': 'submit-status', class: 'status' }),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, '3. Job'),
      h(
        'p',
        {},
        h('label', {}, 'Watch a job by address: ', h('input', { 'data-testid': 'job-input', size: '44' })),
        ' ',
        h('button', { 'data-testid': 'watch' }, 'Watch'),
      ),
      h(
        'div',
        { 'data-testid': 'job', hidden: true },
        h('p', {}, 'Job ', h('code', { 'data-testid': 'job-address' }), ' — ', h('b', { 'data-testid': 'job-state' })),
        h('ol', { class: 'timeline', 'data-testid': 'timeline' }),
        h(
          'div',
          { class: 'picture' },
          h('canvas', { 'data-testid': 'image', width: '1', height: '1' }),
          h('div', { class: 'overlay', 'data-testid': 'overlay' }),
        ),
        h('div', { 'data-testid': 'tensor', class: 'tensor', hidden: true }),
        h('div', { 'data-testid': 'verify-summary', class: 'summary' }),
        h(
          'p',
          {},
          h('button', { 'data-testid': 'verify' , disabled: true }, 'Verify again'),
          ' ',
          h('button', { 'data-testid': 'download', disabled: true }, 'Download PNG'),
          ' ',
          h('button', { 'data-testid': 'cancel', disabled: true }, 'Cancel job'),
          ' ',
          h('button', { 'data-testid': 'close', disabled: true }, 'Close job'),
        ),
      ),
    ),
  );

  const $ = <T extends HTMLElement = HTMLElement>(id: string) => byId<T>(root, id);
  const input = (id: string) => $<HTMLInputElement>(id);
  for (const id of ['reward', 'replicas', 'exec-timeout', 'claim-window']) input(id).oninput = () => void refresh();

  function pick(name: string, bytes: Uint8Array) {
    const checked = checkScene(bytes);
    picked = checked.ok
      ? { name, bytes, kind: 'scene', scene: checked.scene, model: null, root: null, error: null }
      : { name, bytes, kind: 'scene', scene: null, model: null, root: null, error: checked.error };
    for (const b of sceneButtons) b.classList.toggle('selected', b.dataset.scene === name);
    // One input at a time: the model file chosen before is no longer it.
    modelInput.value = '';
    const summary = $('scene-summary');
    delete summary.dataset.modelRoot;
    summary.className = checked.ok ? 'summary ok' : 'summary error';
    summary.textContent = checked.ok
      ? `${name}: ${checked.scene.width}×${checked.scene.height} pixels, ${checked.scene.samplesPerPixel} samples per pixel, ` +
        `${checked.scene.chunkCount} tiles of ${checked.scene.tileSize} pixels (${checked.scene.rays} rays at most).`
      : `${name} cannot be submitted: ${checked.error}. Fix the file (docs/kernels.md describes the format) and choose it again.`;
    void refresh();
  }

  /** A model file: checked with the kernels' rules, then hashed to its model root. */
  function pickModel(name: string, bytes: Uint8Array) {
    const checked = checkModel(bytes);
    const mine: Picked = checked.ok
      ? { name, bytes, kind: 'model', scene: null, model: checked.model, root: null, error: null }
      : { name, bytes, kind: 'model', scene: null, model: null, root: null, error: checked.error };
    picked = mine;
    for (const b of sceneButtons) b.classList.remove('selected');
    fileInput.value = '';
    const summary = $('scene-summary');
    delete summary.dataset.modelRoot;
    summary.className = checked.ok ? 'summary ok' : 'summary error';
    if (!checked.ok) {
      summary.textContent = `${name} cannot be submitted: ${checked.error}. Fix the file (docs/kernels.md, "Quantized model format") and choose it again.`;
      void refresh();
      return;
    }
    const m = checked.model;
    const widths = [m.layers[0].k, ...m.layers.map((l) => l.n)].join(' → ');
    const about =
      `${name}: ${m.kernel}, ${m.layers.length} layer${m.layers.length > 1 ? 's' : ''} (${widths} features), ` +
      `${m.rows} rows in ${m.chunkCount} chunks of ${m.rowsPerChunk} rows, ${m.workUnits} work units ` +
      `(${m.macs.toLocaleString('en')} multiply-accumulates).`;
    summary.textContent = `${about} Hashing the model root…`;
    void refresh();
    void modelRoot(m, (done, total) => {
      if (picked === mine) summary.textContent = `${about} Hashing the model root: ${Math.floor((100 * done) / total)} %…`;
    }).then(
      (hash) => {
        if (picked !== mine) return;
        mine.root = hash;
        summary.textContent = `${about} Model root ${toHex(hash)}.`;
        summary.dataset.modelRoot = toHex(hash);
        void refresh();
      },
      (e: unknown) => {
        if (picked !== mine) return;
        mine.error = `its model root could not be hashed: ${(e as Error).message}`;
        summary.className = 'summary error';
        summary.textContent = `${name} cannot be submitted: ${mine.error}.`;
        void refresh();
      },
    );
  }

  type Check = { ok: boolean; text: string };
  interface Plan {
    checks: Check[];
    reward: bigint;
    replicas: number;
    execTimeout: bigint;
    claimWindow: bigint;
  }

  /** Every check that can be made before signing; `ok` only when all pass. */
  async function plan(): Promise<Plan> {
    const checks: Check[] = [];
    const w = wallet();
    market = await loadMarket(chain);
    const p = market.state.params;
    const d = market.state.decimals;
    checks.push(
      w ? { ok: true, text: `Signing as ${w.label} (${shortAddress(w.address)}).` } : { ok: false, text: 'Connect a wallet first.' },
    );
    checks.push(
      !picked
        ? { ok: false, text: 'Pick a scene or a model.' }
        : picked.error !== null
          ? { ok: false, text: `The ${picked.kind} is refused: ${picked.error}.` }
          : picked.scene
            ? { ok: true, text: `The scene is valid: ${picked.scene.chunkCount} tiles.` }
            : picked.model && picked.root
              ? {
                  ok: true,
                  text:
                    `The model is valid for ${picked.model.kernel}: ${picked.model.chunkCount} chunks, ${picked.model.workUnits} work units; ` +
                    `its model root ${toHex(picked.root).slice(0, 16)}… goes into the job's kernel_params.`,
                }
              : { ok: false, text: 'The model root is being hashed…' },
    );
    checks.push(
      market.state.paused
        ? { ok: false, text: 'The market is paused and takes no new jobs: wait until its admin resumes it.' }
        : { ok: true, text: 'The market takes new jobs.' },
    );
    const reward = parseAmount(input('reward').value, d);
    const minReward = p.minRewardPerReplica > 0n ? p.minRewardPerReplica : 1n;
    checks.push(
      reward === null
        ? { ok: false, text: `The reward must be an amount of tokens with at most ${d} decimals.` }
        : reward < minReward
          ? { ok: false, text: `A reward of ${formatAmount(reward, d)} is below the market's minimum of ${formatAmount(minReward, d)}: raise it.` }
          : { ok: true, text: `Reward ${formatAmount(reward, d)} per replica (the market's minimum is ${formatAmount(minReward, d)}).` },
    );
    const replicas = Number(input('replicas').value);
    checks.push(
      Number.isInteger(replicas) && replicas >= 1 && replicas <= p.maxReplicas
        ? { ok: true, text: `${replicas} replica${replicas > 1 ? 's' : ''} (the market allows 1 to ${p.maxReplicas}).` }
        : { ok: false, text: `Replicas must be 1 to ${p.maxReplicas}.` },
    );
    const exec = /^\d+$/.test(input('exec-timeout').value.trim()) ? BigInt(input('exec-timeout').value.trim()) : -1n;
    const chunks = picked?.scene?.chunkCount ?? picked?.model?.chunkCount ?? 0;
    const unit = picked?.kind === 'model' ? 'chunks' : 'tiles';
    const minExec = p.minExecTimeout + (BigInt(p.minExecMsPerChunk) * BigInt(chunks) + 999n) / 1000n;
    checks.push(
      exec >= minExec && exec <= p.maxExecTimeout
        ? { ok: true, text: `Execution timeout ${seconds(exec)} (the market allows ${seconds(minExec)} to ${seconds(p.maxExecTimeout)} for ${chunks} ${unit}).` }
        : { ok: false, text: `The execution timeout must be ${minExec} to ${p.maxExecTimeout} seconds for ${chunks} ${unit}.` },
    );
    const claim = /^\d+$/.test(input('claim-window').value.trim()) ? BigInt(input('claim-window').value.trim()) : 0n;
    checks.push(
      claim > 0n
        ? { ok: true, text: `Operators may claim it for ${seconds(claim)}.` }
        : { ok: false, text: 'The claim window must be a whole number of seconds above zero.' },
    );
    if (w && reward !== null && Number.isInteger(replicas)) {
      const escrow = reward * BigInt(replicas);
      const balance = await tokenBalance(chain, await tokenAccount(market, w.address));
      checks.push(
        balance >= escrow
          ? { ok: true, text: `Price: ${formatAmount(escrow, d)} tokens into the job's escrow (you hold ${formatAmount(balance, d)}).` }
          : { ok: false, text: `The job needs ${formatAmount(escrow, d)} tokens in escrow and the wallet holds ${formatAmount(balance, d)}: top it up or lower the reward.` },
      );
    }
    return { checks, reward: reward ?? 0n, replicas, execTimeout: exec, claimWindow: claim };
  }

  async function refresh(): Promise<Plan | null> {
    try {
      const p = await plan();
      $('checks').replaceChildren(...p.checks.map((c) => h('li', { class: c.ok ? 'ok' : 'bad' }, c.text)));
      $<HTMLButtonElement>('submit').disabled = !p.checks.every((c) => c.ok);
      return p;
    } catch (e) {
      banner(explain(e, 'Reading the market'));
      return null;
    }
  }

  $('submit').onclick = async () => {
    const button = $<HTMLButtonElement>('submit');
    const status = $('submit-status');
    button.disabled = true;
    banner(null);
    try {
      // Checked again right before signing: nothing is uploaded or signed unless all pass.
      const p = await refresh();
      const w = wallet();
      const model = picked?.model ?? null;
      const chunkCount = picked?.scene?.chunkCount ?? (picked?.root ? model?.chunkCount : undefined);
      if (!p || !w || !market || !picked || picked.error !== null || chunkCount === undefined || !p.checks.every((c) => c.ok)) {
        status.textContent = 'Nothing was signed: fix what is marked above.';
        return;
      }
      const hash = await sha256(picked.bytes);
      const where = inputLocation(toHex(hash), chain.cfg, MAX_URI_LEN);
      status.textContent = `Uploading ${picked.name} (${picked.bytes.length} bytes) to the store…`;
      const put = await fetch(where.put, { method: 'PUT', body: picked.bytes as BufferSource });
      if (!put.ok) throw new Error(`the store refused the upload: ${(await put.text()).trim()}`);
      const config = { programId: chain.cfg.programId };
      const jobId = await cheapJobId(market.address, w.address, Date.now(), config);
      const [job] = await jobPda(market.address, w.address, jobId, config);
      const keys = await marketKeys(market.state.mint, market.state.founder, config);
      const now = await chainNow(chain);
      const ix = await getCreateJobInstructionAsync(
        {
          creator: w.signer,
          market: market.address,
          job,
          creatorToken: await tokenAccount(market, w.address),
          mint: market.state.mint,
          tokenProgram: market.tokenProgram,
          eventAuthority: keys.eventAuthority,
          jobId,
          kernel: model ? (model.kernel === 'gemm-i8' ? KERNEL_GEMM_I8 : KERNEL_MLP_I8) : KERNEL_RENDER,
          // A model's root, which the workers recompute and require; zeros for a render.
          kernelParams: model && picked.root ? picked.root : new Uint8Array(32),
          inputUri: where.posted,
          inputHash: hash,
          chunkCount,
          replicas: p.replicas,
          rewardPerReplica: p.reward,
          claimDeadline: now + p.claimWindow,
          execTimeout: p.execTimeout,
        },
        { programAddress: chain.cfg.programId },
      );
      status.textContent = 'Waiting for the wallet to sign…';
      const signature = await send(chain, w.signer, [ix]);
      status.textContent = `Submitted: job ${job} (transaction ${shortAddress(signature)}).`;
      input('job-input').value = job;
      void watch(job);
    } catch (e) {
      status.textContent = '';
      banner(explain(e, 'Submitting the job'));
    } finally {
      button.disabled = false;
      void refresh();
    }
  };

  $('watch').onclick = () => {
    const text = input('job-input').value.trim();
    try {
      void watch(text as Address);
    } catch {
      banner(`${text} is not an address.`);
    }
  };

  // ---- the job, live ----

  let current: { address: Address; job: Job | null } | null = null;
  let verifiedRoot: string | null = null;

  async function watch(address: Address) {
    watching?.abort();
    const abort = new AbortController();
    watching = abort;
    current = { address, job: null };
    verifiedRoot = null;
    $('job').hidden = false;
    $('job-address').textContent = address;
    $('verify-summary').textContent = '';
    $('overlay').replaceChildren();
    try {
      // Subscribe first, then read: no change can fall between the two.
      const stream = await chain.subs
        .accountNotifications(address, { commitment: 'confirmed', encoding: 'base64' })
        .subscribe({ abortSignal: abort.signal });
      const first = await accountData(chain, address);
      if (abort.signal.aborted) return;
      show(first ? decodeJobData(first.data) : null);
      for await (const n of stream) {
        const data = n.value?.data?.[0];
        const bytes = data ? Uint8Array.from(atob(data), (c) => c.charCodeAt(0)) : new Uint8Array();
        show(bytes.length > 0 ? decodeJobData(bytes) : null);
      }
    } catch (e) {
      if (!abort.signal.aborted) banner(explain(e, 'Watching the job'));
    }
  }

  const STEPS = ['posted', 'claimed', 'computing', 'committed', 'revealed', 'challenge window', 'settled'] as const;

  function stepsOf(job: Job, now: number): Record<(typeof STEPS)[number], 'done' | 'now' | 'todo' | 'skipped'> {
    const s = job.state;
    const live = job.assignments.slice(0, job.replicas);
    const claimed = live.filter((a) => a.status !== SlotStatus.Empty).length;
    const ended = s === JobState.Settled;
    const revealed = s === JobState.Revealed || s === JobState.Disputed || ended;
    const committed = s === JobState.Committed || revealed;
    const inWindow = revealed && !ended && now < Number(job.challengeDeadline);
    return {
      posted: 'done',
      claimed: claimed > 0 || committed ? 'done' : s === JobState.Open ? 'now' : 'todo',
      computing: committed ? 'done' : claimed > 0 ? 'now' : 'todo',
      committed: job.replicas === 1 && revealed ? 'skipped' : committed ? 'done' : 'todo',
      revealed: revealed ? 'done' : 'todo',
      'challenge window': ended ? 'done' : inWindow ? 'now' : revealed ? 'done' : 'todo',
      settled: ended ? 'done' : 'todo',
    };
  }

  function show(job: Job | null) {
    if (!current) return;
    current.job = job;
    const state = $('job-state');
    if (!job) {
      state.textContent = 'Closed';
      $('timeline').replaceChildren(h('li', { class: 'done' }, 'The job account is closed (its rent went back to the creator).'));
      for (const id of ['cancel', 'close']) $<HTMLButtonElement>(id).disabled = true;
      return;
    }
    state.textContent = JobState[job.state];
    drawTimeline();
    const live = job.assignments.slice(0, job.replicas);
    const me = wallet()?.address;
    $<HTMLButtonElement>('cancel').disabled = !(job.state === JobState.Open && job.creator === me && live.every((a) => a.status === SlotStatus.Empty));
    $<HTMLButtonElement>('close').disabled = !(
      [JobState.Settled, JobState.Expired, JobState.Cancelled].includes(job.state) && job.creator === me
    );
    if ((job.state === JobState.Revealed || job.state === JobState.Settled) && verifiedRoot !== toHex(job.agreedRoot)) {
      verifiedRoot = toHex(job.agreedRoot);
      void verify(job);
    }
  }

  function drawTimeline() {
    const job = current?.job;
    if (!job) return;
    const now = Date.now() / 1000;
    const steps = stepsOf(job, now);
    $('timeline').replaceChildren(
      ...STEPS.map((name) => {
        let text: string = name;
        if (name === 'claimed') {
          const n = job.assignments.slice(0, job.replicas).filter((a) => a.status !== SlotStatus.Empty).length;
          text = `claimed (${n}/${job.replicas})`;
        }
        if (name === 'challenge window' && steps[name] === 'now') {
          text = `challenge window (${Math.max(0, Math.ceil(Number(job.challengeDeadline) - now))} s left)`;
        }
        if (name === 'committed' && steps[name] === 'skipped') text = 'committed (one replica: submitted directly)';
        return h('li', { class: steps[name], 'data-step': name }, text);
      }),
    );
  }
  // The countdown only: the job's state comes from the subscription.
  setInterval(drawTimeline, 1000);

  /** Reads the output and checks every chunk against the root on chain: a render's tiles drawn
   * as they come, an int8 job's row blocks assembled into its output tensor. */
  async function verify(job: Job) {
    const summary = $('verify-summary');
    const overlay = $('overlay');
    const download = $<HTMLButtonElement>('download');
    const int8 = INT8_KERNELS[job.kernel];
    download.disabled = true;
    download.textContent = int8 ? 'Download safetensors' : 'Download PNG';
    tensorFile = null;
    $<HTMLButtonElement>('verify').disabled = true;
    $('tensor').hidden = !int8;
    root.querySelector<HTMLElement>('.picture')!.hidden = Boolean(int8);
    summary.className = 'summary';
    summary.textContent = 'Verifying the output against the root on chain…';
    overlay.replaceChildren();
    $('tensor').replaceChildren();
    try {
      if (job.kernel !== KERNEL_RENDER && !int8) throw new Error(`this page shows the outputs of render, gemm-i8 and mlp-i8 jobs, not of kernel ${job.kernel}`);
      const slot = job.assignments
        .slice(0, job.replicas)
        .find((a) => a.status === SlotStatus.Revealed && bytesEqual(a.root, job.agreedRoot));
      if (!slot) throw new Error('no replica delivered the agreed root');
      // The input, from the store, checked against the input hash on chain.
      const input = await fetchBytes(readableUrl(uriText(job.inputUri), chain.cfg));
      if (!input || !bytesEqual(await sha256(input), job.inputHash)) {
        throw new Error("the job's input in the store is missing or is not the one the job names (its sha256 differs)");
      }
      const outputUri = uriText(slot.outputUri);
      const leavesFile = await fetchBytes(readableUrl(leavesUri(outputUri), chain.cfg));
      const leaves = leavesFile && (await trustedLeaves(leavesFile, job.chunkCount, job.agreedRoot));
      if (!leaves) throw new Error('the stored leaves do not hash to the root on chain: the output was altered or is not this job\'s');
      const chunk = async (i: number) => {
        const bytes = await fetchBytes(readableUrl(chunkUri(outputUri, i), chain.cfg));
        return { bytes, ok: bytes !== null && (await chunkMatches(bytes, leaves[i])) };
      };
      if (int8) await verifyTensor(job, int8, input, chunk);
      else await verifyImage(job, input, chunk);
    } catch (e) {
      summary.className = 'summary error';
      summary.textContent = `The output cannot be verified: ${(e as Error).message}.`;
    } finally {
      $<HTMLButtonElement>('verify').disabled = false;
    }
  }

  type ChunkReader = (i: number) => Promise<{ bytes: Uint8Array | null; ok: boolean }>;

  async function verifyImage(job: Job, input: Uint8Array, chunk: ChunkReader) {
    const summary = $('verify-summary');
    const canvas = $<HTMLCanvasElement>('image');
    const overlay = $('overlay');
    const checked = checkScene(input);
    if (!checked.ok) throw new Error(`the job's scene does not parse: ${checked.error}`);
    const { width, height, tileSize } = checked.scene;
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const image = ctx.createImageData(width, height);
    const bad: number[] = [];
    for (let i = 0; i < job.chunkCount; i++) {
      const { bytes: tile, ok } = await chunk(i);
      const [x, y, w, hgt] = tileRect(width, height, tileSize, i);
      if (tile && tile.length === w * hgt * 4) placeTile(image.data, width, height, tileSize, i, tile);
      if (!ok) {
        bad.push(i);
        overlay.append(
          h(
            'div',
            {
              class: 'bad-tile',
              'data-tile': String(i),
              title: `tile ${i} does not match its leaf`,
              style: `left:${(100 * x) / width}%;top:${(100 * y) / height}%;width:${(100 * w) / width}%;height:${(100 * hgt) / height}%`,
            },
            `tile ${i}`,
          ),
        );
      }
    }
    ctx.putImageData(image, 0, 0);
    if (bad.length === 0) {
      summary.className = 'summary ok';
      summary.textContent = `All ${job.chunkCount} tiles match the Merkle root on chain (${toHex(job.agreedRoot).slice(0, 16)}…), checked in this browser.`;
      $<HTMLButtonElement>('download').disabled = false;
    } else {
      summary.className = 'summary error';
      summary.textContent =
        `${bad.length} of ${job.chunkCount} tiles do not match the root on chain: tile ${bad.join(', ')} ` +
        '(tampered or corrupt in the store; marked in red). Do not use this image; a verifier can challenge it.';
    }
  }

  /** An int8 job: every row block checked against its leaf, then the output tensor assembled
   * into the safetensors file the Rust client writes (`tessera job result`). */
  async function verifyTensor(job: Job, kernel: Int8Kernel, input: Uint8Array, chunk: ChunkReader) {
    const summary = $('verify-summary');
    const tensor = $('tensor');
    const checked = checkModel(input, kernel);
    if (!checked.ok) throw new Error(`the job's model does not parse: ${checked.error}`);
    const model = checked.model;
    if (model.chunkCount !== job.chunkCount) {
      throw new Error(`the job posts ${job.chunkCount} chunks, its model has ${model.chunkCount}`);
    }
    const chunks: Uint8Array[] = [];
    const bad: number[] = [];
    for (let i = 0; i < job.chunkCount; i++) {
      const { bytes, ok } = await chunk(i);
      chunks.push(bytes ?? new Uint8Array());
      if (!ok) {
        bad.push(i);
        const [s, e] = outputChunkRows(model, i);
        tensor.append(h('p', { class: 'bad-chunk', 'data-chunk': String(i) }, `chunk ${i} (rows ${s} to ${e - 1}) does not match its leaf`));
      }
    }
    if (bad.length > 0) {
      summary.className = 'summary error';
      summary.textContent =
        `${bad.length} of ${job.chunkCount} chunks do not match the root on chain: chunk ${bad.join(', ')} ` +
        '(tampered or corrupt in the store; marked in red). Do not use this output; a verifier can challenge it.';
      return;
    }
    const file = int8OutputSafetensors(model, kernel, chunks);
    tensorFile = { name: `tessera-job-${current?.address ?? 'output'}.safetensors`, bytes: file };
    // The first rows, as a glimpse of the tensor.
    const n = model.outputFeatures;
    const shown = Math.min(4, model.rows);
    const cols = Math.min(16, n);
    const values = new Int8Array(file.buffer, file.byteOffset + file.length - model.rows * n, shown * n);
    tensor.append(
      h(
        'table',
        { class: 'values', 'data-testid': 'tensor-values' },
        ...Array.from({ length: shown }, (_, r) =>
          h(
            'tr',
            {},
            h('th', {}, `row ${r}`),
            ...Array.from({ length: cols }, (_, c) => h('td', {}, String(values[r * n + c]))),
            cols < n ? h('td', {}, '…') : null,
          ),
        ),
      ),
    );
    summary.className = 'summary ok';
    summary.textContent =
      `All ${job.chunkCount} chunks match the Merkle root on chain (${toHex(job.agreedRoot).slice(0, 16)}…), checked in this browser: ` +
      `the output is ${model.rows} × ${n} int8 values (${kernel}).`;
    $<HTMLButtonElement>('download').disabled = false;
  }

  $('verify').onclick = () => {
    if (current?.job) void verify(current.job);
  };
  const save = (blob: Blob, name: string) => {
    const a = h('a', { href: URL.createObjectURL(blob), download: name });
    a.click();
    // Revoked once the browser has surely started reading it.
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  };
  $('download').onclick = () => {
    if (tensorFile) {
      save(new Blob([tensorFile.bytes as BlobPart], { type: 'application/octet-stream' }), tensorFile.name);
      return;
    }
    $<HTMLCanvasElement>('image').toBlob((blob) => {
      if (blob) save(blob, `tessera-job-${current?.address ?? 'image'}.png`);
    }, 'image/png');
  };
  $('cancel').onclick = async () => {
    const w = wallet();
    const job = current?.job;
    if (!w || !job || !current || !market) return;
    try {
      const [escrow] = await escrowPda(current.address, { programId: chain.cfg.programId });
      const keys = await marketKeys(market.state.mint, market.state.founder, { programId: chain.cfg.programId });
      const ix = getCancelJobInstruction(
        {
          signer: w.signer,
          job: current.address,
          market: market.address,
          escrow,
          mint: market.state.mint,
          creator: job.creator,
          creatorToken: await tokenAccount(market, job.creator),
          tokenProgram: market.tokenProgram,
          eventAuthority: keys.eventAuthority,
        },
        { programAddress: chain.cfg.programId },
      );
      await send(chain, w.signer, [ix]);
    } catch (e) {
      banner(explain(e, 'Cancelling the job'));
    }
  };
  $('close').onclick = async () => {
    const w = wallet();
    if (!w || !current || !market) return;
    try {
      const keys = await marketKeys(market.state.mint, market.state.founder, { programId: chain.cfg.programId });
      const ix = getCloseJobInstruction(
        { creator: w.signer, job: current.address, eventAuthority: keys.eventAuthority },
        { programAddress: chain.cfg.programId },
      );
      await send(chain, w.signer, [ix]);
    } catch (e) {
      banner(explain(e, 'Closing the job'));
    }
  };

  void refresh();
  return Object.assign(root, { refresh });
}
