// Wallets: the development wallet of a local network (its keypairs, served by `tessera
// localnet`), and any installed Solana wallet through the Wallet Standard.
import {
  address,
  createKeyPairSignerFromBytes,
  getTransactionDecoder,
  getTransactionEncoder,
  type Address,
  type SignatureDictionary,
  type Transaction,
  type TransactionPartialSigner,
} from '@solana/kit';
import { getWallets } from '@wallet-standard/app';
import type { Wallet as StandardWallet, WalletAccount } from '@wallet-standard/base';

export interface Wallet {
  /** What the wallet bar shows: "development: creator", "Phantom". */
  label: string;
  address: Address;
  signer: TransactionPartialSigner;
}

/** Counts every signature the app asks any wallet for (shown in the wallet bar: a test reads it
 * to prove that nothing was signed). */
export let signaturesRequested = 0;
const listeners: (() => void)[] = [];
export function onSign(f: () => void): void {
  listeners.push(f);
}

function counting(inner: TransactionPartialSigner): TransactionPartialSigner {
  return {
    address: inner.address,
    async signTransactions(txs, config) {
      signaturesRequested += txs.length;
      listeners.forEach((f) => f());
      return inner.signTransactions(txs, config);
    },
  };
}

/** The local network's keypair `name` (`creator`, `operator-1`, …) as a wallet. */
export async function devWallet(keypairsUrl: string, name: string): Promise<Wallet> {
  const r = await fetch(`${keypairsUrl}/${name}.json`, { cache: 'no-store' });
  if (!r.ok) throw new Error(`The local network has no keypair "${name}" (HTTP ${r.status}).`);
  const bytes = Uint8Array.from((await r.json()) as number[]);
  const kp = await createKeyPairSignerFromBytes(bytes);
  return { label: `development: ${name}`, address: kp.address, signer: counting(kp) };
}

const SIGN = 'solana:signTransaction';
const CONNECT = 'standard:connect';

type SignFeature = {
  [SIGN]: {
    signTransaction(...inputs: { account: WalletAccount; transaction: Uint8Array; chain?: string }[]): Promise<
      { signedTransaction: Uint8Array }[]
    >;
  };
};
type ConnectFeature = { [CONNECT]: { connect(): Promise<{ accounts: readonly WalletAccount[] }> } };
const EVENTS = 'standard:events';
type EventsFeature = {
  [EVENTS]: { on(event: 'change', listener: (properties: { accounts?: readonly WalletAccount[] }) => void): () => void };
};

/** The installed wallets that can sign Solana transactions (Wallet Standard). */
export function standardWallets(): StandardWallet[] {
  return getWallets()
    .get()
    .filter((w) => SIGN in w.features && CONNECT in w.features);
}

/** Calls `f` whenever a wallet registers or unregisters: an extension may announce itself after
 * the page has started. */
export function onStandardWalletsChange(f: () => void): void {
  const wallets = getWallets();
  wallets.on('register', f);
  wallets.on('unregister', f);
}

/** A wallet that did not sign: its user declined, or it failed. No transaction was sent. */
export class NotSigned extends Error {
  constructor(
    readonly wallet: string,
    readonly declined: boolean,
    readonly reason: string,
  ) {
    super(declined ? `${wallet} declined to sign` : `${wallet} could not sign: ${reason}`);
    this.name = 'NotSigned';
  }
}

/** Whether a wallet's error says its user refused (EIP-1193's 4001, which Solana wallets reuse, or
 * the words wallets use for it). */
function isDeclined(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 4001 || /reject|declin|denied|cancel/i.test(e instanceof Error ? e.message : String(e));
}

/**
 * Connects an installed wallet and wraps it as a signer: the transaction is encoded, signed by
 * the wallet (`solana:signTransaction`), and its signature for the account taken back.
 * `chain`: `solana:localnet`, `solana:devnet` or `solana:mainnet`. `onChange` follows the
 * wallet afterwards (`standard:events`): the wallet for its new first account when its user
 * switches accounts, `null` when it shares none any more (disconnected).
 */
export async function connectStandardWallet(
  w: StandardWallet,
  chain: string,
  onChange?: (next: Wallet | null) => void,
): Promise<Wallet> {
  const { accounts } = await (w.features as unknown as ConnectFeature)[CONNECT].connect();
  const account = accounts[0];
  if (!account) throw new Error(`${w.name} shared no account.`);
  const events = (w.features as unknown as Partial<EventsFeature>)[EVENTS];
  if (onChange && events) {
    let current = account.address;
    events.on('change', ({ accounts: now }) => {
      if (now === undefined || now[0]?.address === current) return;
      current = now[0]?.address ?? '';
      onChange(now[0] ? standardSigner(w, now[0], chain) : null);
    });
  }
  return standardSigner(w, account, chain);
}

/** `account` of the installed wallet `w` as a wallet of the app. */
function standardSigner(w: StandardWallet, account: WalletAccount, chain: string): Wallet {
  const me = address(account.address);
  const signer: TransactionPartialSigner = {
    address: me,
    async signTransactions(txs: readonly Transaction[]): Promise<readonly SignatureDictionary[]> {
      const encoder = getTransactionEncoder();
      const decoder = getTransactionDecoder();
      const feature = (w.features as unknown as SignFeature)[SIGN];
      let out: { signedTransaction: Uint8Array }[];
      try {
        out = await feature.signTransaction(...txs.map((tx) => ({ account, transaction: new Uint8Array(encoder.encode(tx)), chain })));
      } catch (e) {
        throw new NotSigned(w.name, isDeclined(e), e instanceof Error ? e.message : String(e));
      }
      return out.map(({ signedTransaction }) => {
        const signature = decoder.decode(signedTransaction).signatures[me];
        if (!signature) throw new Error(`${w.name} did not sign the transaction.`);
        return { [me]: signature } as SignatureDictionary;
      });
    },
  };
  return { label: w.name, address: me, signer: counting(signer) };
}
