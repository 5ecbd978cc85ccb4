// The market's view: its open jobs (accounts), and its recent events (settlements, fees and
// tokens burned), decoded in the page from the program's self-invocations (`emit_cpi!`) with the
// client's IDL-driven event decoder; new ones arrive live from a logs subscription.
import { getBase58Encoder, type Base58EncodedBytes, type Signature } from '@solana/kit';
import { decodeJobData, eventDecoder, JobState, type DecodedEvent, type EventIdl } from '@tessera/client';
import idl from '../../client/idl/tessera.json';
import { explain, formatAmount, loadMarket, type Chain, type MarketInfo } from './chain';
import { banner, byId, h, shortAddress } from './ui';

const { decodeEventInstruction } = eventDecoder(idl as unknown as EventIdl);

type Seen = { signature: string; slot: bigint; event: DecodedEvent };

export function marketView(chain: Chain): HTMLElement & { refresh(): Promise<void> } {
  const root = h(
    'div',
    { class: 'market' },
    h('section', { class: 'card' }, h('h2', {}, 'Market'), h('table', { class: 'stats', 'data-testid': 'market-totals' })),
    h('section', { class: 'card' }, h('h2', {}, 'Open jobs'), h('ul', { 'data-testid': 'open-jobs' })),
    h('section', { class: 'card' }, h('h2', {}, 'Recent events'), h('table', { class: 'events', 'data-testid': 'events' })),
  );
  const $ = (id: string) => byId(root, id);
  const seen = new Map<string, Seen[]>();
  let market: MarketInfo | null = null;
  let live: AbortController | null = null;

  /** The program's events in one transaction (its inner instructions). */
  async function eventsOf(signature: Signature): Promise<Seen[]> {
    const tx = await chain.rpc
      .getTransaction(signature, { encoding: 'json', maxSupportedTransactionVersion: 0, commitment: 'confirmed' })
      .send();
    if (!tx?.meta) return [];
    const keys = [...tx.transaction.message.accountKeys, ...(tx.meta.loadedAddresses?.writable ?? []), ...(tx.meta.loadedAddresses?.readonly ?? [])];
    const out: Seen[] = [];
    for (const inner of tx.meta.innerInstructions ?? []) {
      for (const ix of inner.instructions) {
        if (keys[ix.programIdIndex] !== chain.cfg.programId) continue;
        const event = decodeEventInstruction(getBase58Encoder().encode(ix.data));
        if (event) out.push({ signature, slot: tx.slot, event });
      }
    }
    return out;
  }

  function draw() {
    if (!market) return;
    const d = market.state.decimals;
    const all = [...seen.values()].flat().sort((a, b) => Number(b.slot - a.slot));
    const settled = all.filter((s) => s.event.name === 'JobSettled');
    const sum = (field: string) => settled.reduce((n, s) => n + (s.event.data[field] as bigint), 0n);
    const row = (k: string, v: string, id: string) => h('tr', {}, h('th', {}, k), h('td', { 'data-testid': id }, v));
    $('market-totals').replaceChildren(
      row('Address', market.address, 'market-address'),
      row('Jobs settled (recent)', String(settled.length), 'settled-count'),
      row('Paid to operators', formatAmount(sum('paid'), d), 'paid-total'),
      row('Protocol fees', formatAmount(sum('fee'), d), 'fees-total'),
      row('Tokens burned', formatAmount(sum('burned'), d), 'burned-total'),
      row('Fee and burn', `${market.state.params.protocolFeeBps / 100} % and ${market.state.params.burnBps / 100} % of each reward`, 'rates'),
    );
    const describe = (e: DecodedEvent): string => {
      const x = e.data;
      const t = (v: unknown) => formatAmount(v as bigint, d);
      switch (e.name) {
        case 'JobCreated':
          return `job ${shortAddress(String(x.job))}: ${x.replicas} × ${t(x.reward_per_replica)} tokens`;
        case 'JobClaimed':
          return `job ${shortAddress(String(x.job))}, slot ${x.slot}, bond ${t(x.bond)}`;
        case 'JobSettled':
          return `job ${shortAddress(String(x.job))}: paid ${t(x.paid)}, fee ${t(x.fee)}, burned ${t(x.burned)}`;
        case 'StakeDeposited':
        case 'StakeWithdrawn':
        case 'UnstakeRequested':
          return `operator ${shortAddress(String(x.operator))}: ${t(x.amount)}`;
        case 'FeesCollected':
          return `${t(x.amount)} to the treasury`;
        default:
          return 'job' in x ? `job ${shortAddress(String(x.job))}` : '';
      }
    };
    $('events').replaceChildren(
      h('tr', {}, h('th', {}, 'slot'), h('th', {}, 'event'), h('th', {}, 'what')),
      ...all.slice(0, 50).map((s) => h('tr', { 'data-event': s.event.name }, h('td', {}, String(s.slot)), h('td', {}, s.event.name), h('td', {}, describe(s.event)))),
    );
  }

  async function add(signature: Signature) {
    if (seen.has(signature)) return;
    seen.set(signature, []);
    seen.set(signature, await eventsOf(signature));
  }

  async function refresh() {
    try {
      market = await loadMarket(chain);
      if (!live) {
        live = new AbortController();
        void (async () => {
          const logs = await chain.subs
            .logsNotifications({ mentions: [chain.cfg.market] }, { commitment: 'confirmed' })
            .subscribe({ abortSignal: live!.signal });
          for await (const n of logs) {
            if (n.value.err) continue;
            await add(n.value.signature);
            draw();
          }
        })().catch((e) => banner(explain(e, 'Following the market')));
      }
      const sigs = await chain.rpc.getSignaturesForAddress(chain.cfg.market, { limit: 100, commitment: 'confirmed' }).send();
      for (const s of sigs) if (!s.err) await add(s.signature);
      draw();
      const jobs = await chain.rpc
        .getProgramAccounts(chain.cfg.programId, {
          encoding: 'base64',
          commitment: 'confirmed',
          filters: [{ memcmp: { offset: 8n, bytes: chain.cfg.market as string as Base58EncodedBytes, encoding: 'base58' } }],
        })
        .send();
      const open: string[] = [];
      for (const { pubkey, account } of jobs) {
        try {
          const job = decodeJobData(Uint8Array.from(atob(account.data[0]), (c) => c.charCodeAt(0)));
          if (job.state <= JobState.Revealed || job.state === JobState.Disputed) {
            open.push(`${pubkey} — ${JobState[job.state]}, ${job.replicas} × ${formatAmount(job.rewardPerReplica, market.state.decimals)} tokens`);
          }
        } catch {
          // Not a job (a market or operator account).
        }
      }
      $('open-jobs').replaceChildren(...(open.length ? open.map((j) => h('li', {}, j)) : [h('li', {}, 'None.')]));
    } catch (e) {
      banner(explain(e, 'Reading the market'));
    }
  }
  return Object.assign(root, { refresh });
}
