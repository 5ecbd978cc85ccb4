// What the app needs to know about the network it talks to, and where it reads what a job
// posts. It all comes from the server that serves the app: `/network.json` (URLs, program id,
// market, the store) and `/store/…` (the store over HTTP), from `tessera localnet` on a local
// network (with `/keypairs/<name>.json`, the development wallet) or from `tessera serve` in
// front of a real cluster's store.
import { address, type Address } from '@solana/kit';

export interface NetworkConfig {
  /** The Wallet Standard chain wallets sign for: `solana:localnet`, `solana:devnet`, … */
  chain: string;
  rpcUrl: string;
  wsUrl: string;
  programId: Address;
  market: Address;
  /** The store's base URL as the workers name it (a local network's `file:///…/store`, a
   * cluster's `s3://bucket/prefix`). */
  store: string;
  /** The same store over HTTP, for the browser (`http://127.0.0.1:<port>/store`, or the
   * gateway of `tessera serve`). */
  storeHttp: string;
  /** Where the development keypairs are served (`<http>/keypairs`), on a local network. */
  keypairsUrl: string | null;
  /** Names of the development keypairs (`creator`, `operator-1`, …). */
  keypairs: string[];
}

export type NetworkJson = {
  cluster?: string;
  rpc_url: string;
  ws_url: string;
  program: string;
  market: string;
  store: string;
  store_http: string | null;
  http_url: string | null;
  keypairs?: Record<string, string>;
};

/**
 * Loads the configuration: `?network=<url of a network.json>` (or `?localnet=`, the same), else
 * `VITE_LOCALNET` (the development server: `VITE_LOCALNET=http://127.0.0.1:8898 npm run dev`),
 * else `/network.json` of the page's own origin (the app served by `tessera localnet` or
 * `tessera serve`). The store is read at `store_http`, or at `/store` beside the summary.
 */
export async function loadConfig(): Promise<NetworkConfig> {
  const query = new URLSearchParams(location.search);
  const env = import.meta.env.VITE_LOCALNET as string | undefined;
  const given = query.get('network') ?? query.get('localnet');
  const url = new URL(given ?? (env ? `${env.replace(/\/$/, '')}/network.json` : '/network.json'), location.href);
  const response = await fetch(url, { cache: 'no-store' }).catch(() => null);
  if (!response?.ok) {
    throw new Error(
      `No network summary answers at ${url} (${response ? `HTTP ${response.status}` : 'unreachable'}). ` +
        'Start a local network with `tessera localnet` and open the address it prints under "web app", ' +
        'or serve the app for a cluster with `tessera serve`.',
    );
  }
  return parseNetwork((await response.json()) as NetworkJson, url);
}

/** The configuration a `network.json` read from `from` gives. */
export function parseNetwork(j: NetworkJson, from: URL): NetworkConfig {
  const origin = j.http_url ?? from.origin;
  const keypairs = Object.keys(j.keypairs ?? {}).filter((k) => k !== 'admin');
  return {
    chain: `solana:${j.cluster ?? 'localnet'}`,
    rpcUrl: j.rpc_url,
    wsUrl: j.ws_url,
    programId: address(j.program),
    market: address(j.market),
    store: j.store.replace(/\/+$/, ''),
    storeHttp: (j.store_http ?? `${origin}/store`).replace(/\/+$/, ''),
    keypairsUrl: keypairs.length ? `${origin}/keypairs` : null,
    keypairs,
  };
}

/**
 * Where the browser reads a URI that a job posts — the one place that maps store URIs:
 *
 * - `inputs/<sha256>`, an input posted relative to its store (client/src/store.rs), is read from
 *   the store over HTTP: `<storeHttp>/inputs/<sha256>`;
 * - `<store>/<path>`, a URI under the local network's `file://` store (a worker's
 *   `out/<id>`), is `<storeHttp>/<path>`: the same directory, served by `tessera localnet`;
 * - `http://` and `https://` URLs are read as they are (a public bucket, or an S3-compatible
 *   store's HTTPS endpoint).
 *
 * Anything else (another machine's `file://`, `s3://` without an HTTPS endpoint) cannot be
 * read by a browser: an error says so.
 */
export function readableUrl(uri: string, cfg: Pick<NetworkConfig, 'store' | 'storeHttp'>): string {
  if (/^inputs\/[0-9a-f]{64}$/.test(uri)) return `${cfg.storeHttp}/${uri}`;
  if (uri.startsWith(`${cfg.store}/`)) {
    const path = uri.slice(cfg.store.length + 1);
    // Names only, as the store's server takes them: no `..` can lead out of the store.
    if (!path.split('/').every((n) => /^[A-Za-z0-9._-]+$/.test(n) && n !== '.' && n !== '..')) {
      throw new Error(`The job names ${uri}, which is not a plain path in the store: it is not read.`);
    }
    return `${cfg.storeHttp}/${path}`;
  }
  if (uri.startsWith('https://') || uri.startsWith('http://')) return uri;
  throw new Error(
    `The job's data is at ${uri}, which a browser cannot read: it is not in this network's store. ` +
      'Read it with `tessera job result`, or use a store with an HTTPS endpoint.',
  );
}

/** Where the browser uploads an input, and the URI the job posts for it: relative to a local
 * directory store (`inputs/<sha256>`: every worker reads it from its own stores), the full URL
 * in a remote one (`s3://bucket/prefix/inputs/<sha256>`), as the Rust client posts it
 * (`store::posted_input_uri`). A URI longer than `maxUriLen` (the program's `MAX_URI_LEN`) is
 * refused here. */
export function inputLocation(
  hashHex: string,
  cfg: Pick<NetworkConfig, 'storeHttp' | 'store'>,
  maxUriLen: number,
): { put: string; posted: string } {
  const posted = cfg.store.startsWith('file://') ? `inputs/${hashHex}` : `${cfg.store}/inputs/${hashHex}`;
  if (new TextEncoder().encode(posted).length > maxUriLen) {
    throw new Error(
      `The input's address ${posted} is longer than the ${maxUriLen} bytes a job can hold: ` +
        'serve the app with a store whose base URL is shorter.',
    );
  }
  return { put: `${cfg.storeHttp}/inputs/${hashHex}`, posted };
}

/** Fetches bytes that must not come from a cache (a store may change under the page). */
export async function fetchBytes(url: string): Promise<Uint8Array | null> {
  const r = await fetch(url, { cache: 'no-store' });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`Reading ${url} failed: HTTP ${r.status} ${(await r.text()).trim()}`);
  return new Uint8Array(await r.arrayBuffer());
}
