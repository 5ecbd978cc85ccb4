// A browser wallet for the web app's end-to-end test, installed in the page the way a wallet
// extension installs itself: a Wallet Standard wallet (`@wallet-standard/base`'s `Wallet`) with
// `standard:connect`, `standard:events` and `solana:signTransaction`, announced through the
// standard's window events, holding a local network's keypair and signing with the browser's
// own Ed25519 (WebCrypto). The app finds it with `getWallets()` and knows nothing else of it.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { getBase58Decoder } from '@solana/kit';

/**
 * The wallet of the keypair file `file` (a Solana CLI keypair: 32 bytes of secret seed, then the
 * 32 bytes of the public key), named `name` in the wallet bar. `decline`: it refuses every
 * signature, as when its user clicks "Reject".
 */
export function walletSpec(file, name, { decline = false } = {}) {
  const bytes = JSON.parse(readFileSync(file, 'utf8'));
  if (bytes.length !== 64) throw new Error(`${basename(file)} is not a keypair file`);
  const publicKey = bytes.slice(32);
  return { name, address: base58(publicKey), publicKey, seed: bytes.slice(0, 32), decline };
}

export const base58 = (bytes) => getBase58Decoder().decode(Uint8Array.from(bytes));

/**
 * The extension's content script, run in the page before any of the page's scripts
 * (`addInitScript`): registers a wallet for each of `specs`, and leaves
 * `window.testWalletExtension.register(spec)` to register one later, after the app loaded.
 * What each wallet was asked is counted in `window.testWalletExtension.seen[name]`: the
 * connections, the signTransaction calls, and the signatures it made.
 *
 * Playwright serializes this function into the page: it uses nothing from this module.
 */
export function walletExtension(specs) {
  const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
  const icon = `data:image/svg+xml;base64,${btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#3461d1"/></svg>')}`;
  const CHAIN = 'solana:localnet';
  const seen = {};
  const control = {};

  /** A compact-u16 (the wire format's lengths) at `at`: [value, its size in bytes]. */
  function shortvec(bytes, at) {
    let value = 0;
    for (let size = 0; size < 3; size++) {
      const b = bytes[at + size];
      value |= (b & 0x7f) << (7 * size);
      if (!(b & 0x80)) return [value, size + 1];
    }
    throw new Error('bad compact-u16');
  }

  function wallet(spec) {
    const publicKey = Uint8Array.from(spec.publicKey);
    const key = crypto.subtle.importKey(
      'jwk',
      { kty: 'OKP', crv: 'Ed25519', d: b64url(spec.seed), x: b64url(spec.publicKey) },
      'Ed25519',
      false,
      ['sign'],
    );
    const asked = (seen[spec.name] = { connects: 0, signCalls: 0, signatures: [] });
    const account = Object.freeze({
      address: spec.address,
      publicKey,
      chains: [CHAIN],
      features: ['solana:signTransaction'],
      label: spec.name,
    });
    let accounts = [];
    const listeners = new Set();
    // What the wallet's user does in the extension: switch to another account, or disconnect.
    control[spec.name] = {
      switchTo(other) {
        accounts = [Object.freeze({ ...account, address: other })];
        for (const f of listeners) f({ accounts });
      },
      disconnect() {
        accounts = [];
        for (const f of listeners) f({ accounts });
      },
    };

    /** Signs one wire-format transaction: its message, at the slot of this account. */
    async function sign({ account: who, transaction, chain }) {
      if (who?.address !== spec.address) throw new Error(`${spec.name} holds no account ${who?.address}`);
      if (chain !== undefined && chain !== CHAIN) throw new Error(`${spec.name} does not sign for ${chain}`);
      const tx = Uint8Array.from(transaction);
      const [signatures, n] = shortvec(tx, 0);
      const message = tx.subarray(n + 64 * signatures);
      const header = message[0] & 0x80 ? 1 : 0; // a versioned message starts with its version
      const required = message[header];
      const [keys, m] = shortvec(message, header + 3);
      const keysAt = header + 3 + m;
      let slot = -1;
      for (let i = 0; i < Math.min(required, keys, signatures); i++) {
        if (message.subarray(keysAt + 32 * i, keysAt + 32 * (i + 1)).every((b, j) => b === publicKey[j])) slot = i;
      }
      if (slot < 0) throw new Error(`the transaction asks no signature of ${spec.address}`);
      const signature = new Uint8Array(await crypto.subtle.sign('Ed25519', await key, message));
      tx.set(signature, n + 64 * slot);
      asked.signatures.push(Array.from(signature));
      return { signedTransaction: tx };
    }

    return Object.freeze({
      version: '1.0.0',
      name: spec.name,
      icon,
      chains: [CHAIN],
      get accounts() {
        return accounts;
      },
      features: {
        'standard:connect': {
          version: '1.0.0',
          async connect() {
            asked.connects++;
            accounts = [account];
            for (const f of listeners) f({ accounts });
            return { accounts };
          },
        },
        'standard:events': {
          version: '1.0.0',
          on(event, listener) {
            if (event !== 'change') return () => {};
            listeners.add(listener);
            return () => listeners.delete(listener);
          },
        },
        'solana:signTransaction': {
          version: '1.0.0',
          supportedTransactionVersions: ['legacy', 0],
          async signTransaction(...inputs) {
            asked.signCalls++;
            if (spec.decline) throw Object.assign(new Error('User rejected the request.'), { code: 4001 });
            return Promise.all(inputs.map(sign));
          },
        },
      },
    });
  }

  // The standard's registration, both ways: announce the wallet to an app that is already
  // listening, and answer the app's "ready" when it starts later.
  function register(spec) {
    const w = wallet(spec);
    const callback = (api) => api.register(w);
    window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', { detail: callback }));
    window.addEventListener('wallet-standard:app-ready', (event) => callback(event.detail));
  }

  window.testWalletExtension = { register, seen, control };
  for (const spec of specs) register(spec);
}
