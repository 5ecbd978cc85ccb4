// Tessera's web app: the creator's and the operator's views over the generated client.
import './style.css';
import { connect } from './chain';
import { loadConfig } from './config';
import { creatorView } from './creator';
import { marketView } from './market';
import { operatorView } from './operator';
import { banner, h } from './ui';
import { connectStandardWallet, devWallet, onSign, onStandardWalletsChange, signaturesRequested, standardWallets, type Wallet } from './wallet';

async function main() {
  const cfg = await loadConfig();
  const chain = connect(cfg);
  let wallet: Wallet | null = null;
  const views = { creator: creatorView(chain, () => wallet), operator: operatorView(chain, () => wallet), market: marketView(chain) };
  const bar = document.getElementById('wallet')!;
  const signed = h('span', { 'data-testid': 'signed-count' }, '0');
  onSign(() => (signed.textContent = String(signaturesRequested)));
  const who = h('span', { 'data-testid': 'wallet-address' }, 'no wallet');
  const dev = h(
    'select',
    { 'data-testid': 'dev-wallet', title: "The local network's keypairs" },
    h('option', { value: '' }, 'development wallet…'),
    ...cfg.keypairs.map((k) => h('option', { value: k }, k)),
  );
  // The wallets installed in this browser (Wallet Standard), listed as they announce themselves.
  const installed = h('select', { 'data-testid': 'standard-wallet', title: 'The wallets installed in this browser', hidden: true });
  const listInstalled = () => {
    const names = standardWallets().map((w) => w.name);
    const chosen = installed.value;
    installed.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
    if (names.includes(chosen)) installed.value = chosen;
    installed.hidden = names.length === 0;
  };
  listInstalled();
  onStandardWalletsChange(listInstalled);
  const standard = h('button', { 'data-testid': 'connect-wallet' }, 'Connect a wallet');
  bar.append(dev, ' ', installed, ' ', standard, ' ', who, ' · signatures requested: ', signed);

  // Which connection the wallet bar follows: an installed wallet's account changes count only
  // while it is the one in use.
  let connection = 0;
  const use = async (w: Wallet | null) => {
    wallet = w;
    // A wallet connected: what the banner said of the last one no longer holds.
    if (w) banner(null);
    who.textContent = w ? `${w.label} ${w.address}` : 'no wallet';
    await Promise.all([views.creator.refresh(), views.operator.refresh()]);
  };
  dev.onchange = async () => {
    connection++;
    if (!dev.value || !cfg.keypairsUrl) return;
    try {
      await use(await devWallet(cfg.keypairsUrl, dev.value));
    } catch (e) {
      banner((e as Error).message);
    }
  };
  standard.onclick = async () => {
    // The wallet chosen in the list first.
    const found = standardWallets().sort((a, b) => Number(b.name === installed.value) - Number(a.name === installed.value));
    if (found.length === 0) {
      banner('No Solana wallet is installed in this browser (none announced itself through the Wallet Standard). On a local network, use the development wallet.');
      return;
    }
    const mine = ++connection;
    const follow = (next: Wallet | null) => {
      if (connection !== mine) return;
      if (!next) banner(`${found[0].name} disconnected: connect a wallet again to sign.`, 'notice');
      void use(next);
    };
    try {
      await use(await connectStandardWallet(found[0], cfg.chain, follow));
    } catch (e) {
      banner(`Connecting ${found[0].name} failed: ${(e as Error).message}`);
    }
  };

  const viewEl = document.getElementById('view')!;
  const show = (name: keyof typeof views) => {
    viewEl.replaceChildren(views[name]);
    document.querySelectorAll<HTMLButtonElement>('nav .tab').forEach((b) => b.classList.toggle('active', b.dataset.view === name));
    void views[name].refresh();
  };
  document.querySelectorAll<HTMLButtonElement>('nav .tab').forEach((b) => (b.onclick = () => show(b.dataset.view as keyof typeof views)));
  const start = location.hash.slice(1);
  show(start === 'operator' || start === 'market' ? start : 'creator');
  // The development wallet named in the address (`#creator`, `?wallet=operator-1`) is loaded at once.
  const preset = new URLSearchParams(location.search).get('wallet');
  if (preset && cfg.keypairsUrl) {
    dev.value = preset;
    await use(await devWallet(cfg.keypairsUrl, preset));
  }
  document.body.dataset.ready = 'true';
}

main().catch((e) => banner(e instanceof Error ? e.message : String(e)));
