// The operator's view: register, stake, request unstake, withdraw; the operator's stake,
// earnings and track record, and the jobs it holds now.
import { getBase64Encoder, type Base58EncodedBytes, type Instruction } from '@solana/kit';
import {
  decodeJobData,
  decodeOperatorData,
  getDepositStakeInstruction,
  getRegisterOperatorInstructionAsync,
  getRequestUnstakeInstruction,
  getWithdrawStakeInstructionAsync,
  JobState,
  KERNEL_RENDER,
  KERNEL_GEMM_I8,
  KERNEL_MLP_I8,
  marketKeys,
  operatorPda,
  SlotStatus,
  type Operator,
} from '@tessera/client';
import { accountData, explain, formatAmount, loadMarket, parseAmount, send, tokenAccount, tokenBalance, type Chain } from './chain';
import { banner, byId, h, shortAddress } from './ui';
import type { Wallet } from './wallet';

export function operatorView(chain: Chain, wallet: () => Wallet | null): HTMLElement & { refresh(): Promise<void> } {
  const root = h(
    'div',
    { class: 'operator' },
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Operator'),
      h('div', { 'data-testid': 'operator-summary', class: 'summary' }, 'Connect an operator wallet.'),
      h('table', { 'data-testid': 'operator-stats', class: 'stats' }),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Stake'),
      h('p', {}, h('label', {}, 'Amount ', h('input', { 'data-testid': 'amount', value: '10', size: '10' }), ' tokens')),
      h(
        'p',
        {},
        h('button', { 'data-testid': 'register' }, 'Register'),
        ' ',
        h('button', { 'data-testid': 'deposit' }, 'Stake'),
        ' ',
        h('button', { 'data-testid': 'unstake' }, 'Request unstake'),
        ' ',
        h('button', { 'data-testid': 'withdraw' }, 'Withdraw earnings and unbonded stake'),
      ),
      h('div', { 'data-testid': 'operator-status', class: 'status' }),
    ),
    h('section', { class: 'card' }, h('h2', {}, 'Jobs it holds now'), h('ul', { 'data-testid': 'held-jobs' })),
  );
  const $ = <T extends HTMLElement = HTMLElement>(id: string) => byId<T>(root, id);

  async function context() {
    const w = wallet();
    if (!w) throw new Error('Connect a wallet first.');
    const market = await loadMarket(chain);
    const config = { programId: chain.cfg.programId };
    const [operator] = await operatorPda(market.address, w.address, config);
    const keys = await marketKeys(market.state.mint, market.state.founder, config);
    return { w, market, operator, keys, tokens: await tokenAccount(market, w.address) };
  }

  async function refresh() {
    try {
      const { w, market, operator, tokens } = await context();
      const d = market.state.decimals;
      const acc = await accountData(chain, operator);
      const wallet = await tokenBalance(chain, tokens);
      const op: Operator | null = acc ? decodeOperatorData(acc.data) : null;
      $('operator-summary').textContent = op
        ? `${w.label}: operator ${shortAddress(operator)}, ${op.status === 0 ? 'active' : 'exiting'}.`
        : `${w.label} is not registered in this market: register, then stake.`;
      const row = (k: string, v: string, id: string) => h('tr', {}, h('th', {}, k), h('td', { 'data-testid': id }, v));
      const t = (x: bigint) => formatAmount(x, d);
      $('operator-stats').replaceChildren(
        row('Tokens in the wallet', t(wallet), 'wallet-balance'),
        ...(op
          ? [
              row('Stake (bonded included)', t(op.stake), 'stake'),
              row('Bonded by live claims', t(op.bonded), 'bonded'),
              row('Free stake', t(op.stake - op.bonded), 'free-stake'),
              row('Unbonding', `${t(op.unbonding)}${op.unbonding > 0n ? ` (ready ${new Date(Number(op.unbondingReadyAt) * 1000).toLocaleTimeString()})` : ''}`, 'unbonding'),
              row('Earnings (withdrawable)', t(op.earned), 'earned'),
              row('Jobs completed', String(op.jobsCompleted), 'jobs-completed'),
              row('Jobs failed', String(op.jobsFailed), 'jobs-failed'),
              row('Slashed in total', t(op.slashedTotal), 'slashed'),
              row('Live claims', String(op.liveClaims), 'live-claims'),
            ]
          : []),
      );
      $<HTMLButtonElement>('register').disabled = !!op;
      for (const id of ['deposit', 'unstake', 'withdraw']) $<HTMLButtonElement>(id).disabled = !op;
      // The jobs this operator holds: the market's jobs with a live slot of its.
      const jobs = await chain.rpc
        .getProgramAccounts(chain.cfg.programId, {
          encoding: 'base64',
          commitment: 'confirmed',
          filters: [{ memcmp: { offset: 8n, bytes: market.address as string as Base58EncodedBytes, encoding: 'base58' } }],
        })
        .send();
      const held: string[] = [];
      for (const { pubkey, account } of jobs) {
        const bytes = new Uint8Array(getBase64Encoder().encode(account.data[0]));
        let job;
        try {
          job = decodeJobData(bytes);
        } catch {
          continue;
        }
        const slots = job.assignments
          .slice(0, job.replicas)
          .filter((a) => a.operator === operator && [SlotStatus.Claimed, SlotStatus.Committed, SlotStatus.Revealed].includes(a.status));
        if (slots.length > 0 && ![JobState.Settled, JobState.Expired, JobState.Cancelled].includes(job.state)) {
          held.push(`${pubkey} — ${JobState[job.state]}`);
        }
      }
      $('held-jobs').replaceChildren(...(held.length ? held.map((j) => h('li', {}, j)) : [h('li', {}, 'None.')]));
    } catch (e) {
      $('operator-summary').textContent = e instanceof Error ? e.message : String(e);
    }
  }

  async function act(what: string, build: (c: Awaited<ReturnType<typeof context>>, amount: bigint) => Promise<Instruction>, needsAmount: boolean) {
    const status = $('operator-status');
    banner(null);
    try {
      const c = await context();
      const amount = parseAmount(byId<HTMLInputElement>(root, 'amount').value, c.market.state.decimals);
      if (needsAmount && (amount === null || amount <= 0n)) {
        status.textContent = `Nothing was signed: the amount must be a positive number of tokens with at most ${c.market.state.decimals} decimals.`;
        return;
      }
      status.textContent = `${what}: waiting for the wallet to sign…`;
      await send(chain, c.w.signer, [await build(c, amount ?? 0n)]);
      status.textContent = `${what}: done.`;
    } catch (e) {
      status.textContent = '';
      banner(explain(e, what));
    }
    await refresh();
  }

  $('register').onclick = () =>
    act(
      'Registering',
      async (c) =>
        getRegisterOperatorInstructionAsync(
          {
            authority: c.w.signer,
            market: c.market.address,
            eventAuthority: c.keys.eventAuthority,
            capabilities: (1 << KERNEL_RENDER) | (1 << KERNEL_GEMM_I8) | (1 << KERNEL_MLP_I8),
          },
          { programAddress: chain.cfg.programId },
        ),
      false,
    );
  $('deposit').onclick = () =>
    act(
      'Staking',
      async (c, amount) =>
        getDepositStakeInstruction(
          {
            authority: c.w.signer,
            market: c.market.address,
            operator: c.operator,
            stakeVault: c.keys.stakeVault,
            from: c.tokens,
            mint: c.market.state.mint,
            tokenProgram: c.market.tokenProgram,
            eventAuthority: c.keys.eventAuthority,
            amount,
          },
          { programAddress: chain.cfg.programId },
        ),
      true,
    );
  $('unstake').onclick = () =>
    act(
      'Requesting unstake',
      async (c, amount) =>
        getRequestUnstakeInstruction(
          { authority: c.w.signer, market: c.market.address, operator: c.operator, eventAuthority: c.keys.eventAuthority, amount },
          { programAddress: chain.cfg.programId },
        ),
      true,
    );
  $('withdraw').onclick = () =>
    act(
      'Withdrawing',
      async (c) =>
        getWithdrawStakeInstructionAsync(
          {
            authority: c.w.signer,
            market: c.market.address,
            operator: c.operator,
            stakeVault: c.keys.stakeVault,
            to: c.tokens,
            mint: c.market.state.mint,
            tokenProgram: c.market.tokenProgram,
            eventAuthority: c.keys.eventAuthority,
          },
          { programAddress: chain.cfg.programId },
        ),
      false,
    );
  return Object.assign(root, { refresh });
}

