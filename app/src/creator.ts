// The creator's view: pick or upload a scene, see it checked against the market, sign and
// submit, watch the job live (account subscription), and see its image verified tile by tile
// against the Merkle root committed on chain.
import { type Address } from '@solana/kit';
import {
  checkScene,
  cheapJobId,
  chunkMatches,
  chunkUri,
  decodeJobData,
  escrowPda,
  getCancelJobInstruction,
  getCloseJobInstruction,
  getCreateJobInstructionAsync,
  jobPda,
  JobState,
  KERNEL_RENDER,
  leavesUri,
  marketKeys,
  placeTile,
  sha256,
  SlotStatus,
  tileRect,
  toHex,
  trustedLeaves,
  bytesEqual,
  uriText,
  type Job,
  type SceneSummary,
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
  scene: SceneSummary | null;
  error: string | null;
}

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
  const field = (id: string, label: string, value: string, hint: string) =>
    h('label', {}, label, h('input', { 'data-testid': id, value, size: '10' }), h('small', {}, hint));
  const root = h(
    'div',
    { class: 'creator' },
    h(
      'section',
      { class: 'card' },
      h('h2', {}, '1. Scene'),
      h('p', {}, 'From the gallery (kernels/scenes): ', ...sceneButtons),
      h('p', {}, h('label', {}, 'or a scene file of your own: ', fileInput)),
      h('div', { 'data-testid': 'scene-summary', class: 'summary' }, 'No scene yet.'),
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
      ? { name, bytes, scene: checked.scene, error: null }
      : { name, bytes, scene: null, error: checked.error };
    for (const b of sceneButtons) b.classList.toggle('selected', b.dataset.scene === name);
    const summary = $('scene-summary');
    summary.className = checked.ok ? 'summary ok' : 'summary error';
    summary.textContent = checked.ok
      ? `${name}: ${checked.scene.width}×${checked.scene.height} pixels, ${checked.scene.samplesPerPixel} samples per pixel, ` +
        `${checked.scene.chunkCount} tiles of ${checked.scene.tileSize} pixels (${checked.scene.rays} rays at most).`
      : `${name} cannot be submitted: ${checked.error}. Fix the file (docs/kernels.md describes the format) and choose it again.`;
    void refresh();
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
      picked?.scene
        ? { ok: true, text: `The scene is valid: ${picked.scene.chunkCount} tiles.` }
        : { ok: false, text: picked ? `The scene is refused: ${picked.error}.` : 'Pick a scene.' },
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
    const chunks = picked?.scene?.chunkCount ?? 0;
    const minExec = p.minExecTimeout + (BigInt(p.minExecMsPerChunk) * BigInt(chunks) + 999n) / 1000n;
    checks.push(
      exec >= minExec && exec <= p.maxExecTimeout
        ? { ok: true, text: `Execution timeout ${seconds(exec)} (the market allows ${seconds(minExec)} to ${seconds(p.maxExecTimeout)} for ${chunks} tiles).` }
        : { ok: false, text: `The execution timeout must be ${minExec} to ${p.maxExecTimeout} seconds for ${chunks} tiles.` },
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
      if (!p || !w || !market || !picked?.scene || !p.checks.every((c) => c.ok)) {
        status.textContent = 'Nothing was signed: fix what is marked above.';
        return;
      }
      const hash = await sha256(picked.bytes);
      const where = inputLocation(toHex(hash), chain.cfg);
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
          kernel: KERNEL_RENDER,
          kernelParams: new Uint8Array(32),
          inputUri: where.posted,
          inputHash: hash,
          chunkCount: picked.scene.chunkCount,
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

  /** Reads the output and checks every tile against the root on chain, drawing each. */
  async function verify(job: Job) {
    const summary = $('verify-summary');
    const canvas = $<HTMLCanvasElement>('image');
    const overlay = $('overlay');
    $<HTMLButtonElement>('download').disabled = true;
    $<HTMLButtonElement>('verify').disabled = true;
    summary.className = 'summary';
    summary.textContent = 'Verifying the output against the root on chain…';
    overlay.replaceChildren();
    try {
      const slot = job.assignments
        .slice(0, job.replicas)
        .find((a) => a.status === SlotStatus.Revealed && bytesEqual(a.root, job.agreedRoot));
      if (!slot) throw new Error('no replica delivered the agreed root');
      // The scene, from the store, checked against the input hash on chain.
      const input = await fetchBytes(readableUrl(uriText(job.inputUri), chain.cfg));
      if (!input || !bytesEqual(await sha256(input), job.inputHash)) {
        throw new Error("the job's input in the store is missing or is not the one the job names (its sha256 differs)");
      }
      const checked = checkScene(input);
      if (!checked.ok) throw new Error(`the job's scene does not parse: ${checked.error}`);
      const { width, height, tileSize } = checked.scene;
      const outputUri = uriText(slot.outputUri);
      const leavesFile = await fetchBytes(readableUrl(leavesUri(outputUri), chain.cfg));
      const leaves = leavesFile && (await trustedLeaves(leavesFile, job.chunkCount, job.agreedRoot));
      if (!leaves) throw new Error('the stored leaves do not hash to the root on chain: the output was altered or is not this job\'s');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const image = ctx.createImageData(width, height);
      const bad: number[] = [];
      for (let i = 0; i < job.chunkCount; i++) {
        const tile = await fetchBytes(readableUrl(chunkUri(outputUri, i), chain.cfg));
        const ok = tile !== null && (await chunkMatches(tile, leaves[i]));
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
    } catch (e) {
      summary.className = 'summary error';
      summary.textContent = `The output cannot be verified: ${(e as Error).message}.`;
    } finally {
      $<HTMLButtonElement>('verify').disabled = false;
    }
  }

  $('verify').onclick = () => {
    if (current?.job) void verify(current.job);
  };
  $('download').onclick = () => {
    $<HTMLCanvasElement>('image').toBlob((blob) => {
      if (!blob) return;
      const a = h('a', { href: URL.createObjectURL(blob), download: `tessera-job-${current?.address ?? 'image'}.png` });
      a.click();
      URL.revokeObjectURL(a.href);
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
