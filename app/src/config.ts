// What the app needs to know about the network it talks to, and where it reads what a job
// posts. On a local network all of it comes from `tessera localnet`'s HTTP server:
// `/localnet.json` (URLs, program id, market, the store) and `/keypairs/<name>.json` (the
// development wallet).
import { address, type Address } from '@solana/kit';

export interface NetworkConfig {
  rpcUrl: string;
  wsUrl: string;
  programId: Address;
  market: Address;
  /** The store's base URL as the workers name it (a local network's: `file:///…/store`). */
  store: string;
  /** The same store over HTTP, for the browser (`http://127.0.0.1:<port>/store`). */
  storeHttp: string;
  /** Where the development keypairs are served (`<http>/keypairs`), on a local network. */
  keypairsUrl: string | null;
  /** Names of the development keypairs (`creator`, `operator-1`, …). */
  keypairs: string[];
}

type LocalnetJson = {
  rpc_url: string;
  ws_url: string;
  program: string;
  market: string;
  store: string;
  store_http: string | null;
  http_url: string | null;
  keypairs: Record<string, string>;
};

/**
 * Loads the configuration: `?localnet=<url of localnet.json>`, else `VITE_LOCALNET` (the
 * development server: `VITE_LOCALNET=http://127.0.0.1:8898 npm run dev`), else
 * `/localnet.json` of the page's own origin (the app served by `tessera localnet`).
 */
export async function loadConfig(): Promise<NetworkConfig> {
  const fromQuery = new URLSearchParams(location.search).get('localnet');
  const env = import.meta.env.VITE_LOCALNET as string | undefined;
  const url = fromQuery ?? (env ? `${env.replace(/\/$/, '')}/localnet.json` : '/localnet.json');
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) {
    throw new Error(
      `No local network answers at ${url} (HTTP ${response.status}). Start one with \`tessera localnet\` ` +
        'and open the address it prints under "web app".',
    );
  }
  const j = (await response.json()) as LocalnetJson;
  if (!j.store_http || !j.http_url) {
    throw new Error('This local network serves no store over HTTP: start `tessera localnet` without `--http-port 0`.');
  }
  return {
    rpcUrl: j.rpc_url,
    wsUrl: j.ws_url,
    programId: address(j.program),
    market: address(j.market),
    store: j.store.replace(/\/+$/, ''),
    storeHttp: j.store_http.replace(/\/+$/, ''),
    keypairsUrl: `${j.http_url}/keypairs`,
    keypairs: Object.keys(j.keypairs).filter((k) => k !== 'admin'),
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

/** Where the browser uploads an input, and the URI the job posts for it. */
export function inputLocation(hashHex: string, cfg: Pick<NetworkConfig, 'storeHttp'>): { put: string; posted: string } {
  return { put: `${cfg.storeHttp}/inputs/${hashHex}`, posted: `inputs/${hashHex}` };
}

/** Fetches bytes that must not come from a cache (a store may change under the page). */
export async function fetchBytes(url: string): Promise<Uint8Array | null> {
  const r = await fetch(url, { cache: 'no-store' });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`Reading ${url} failed: HTTP ${r.status} ${(await r.text()).trim()}`);
  return new Uint8Array(await r.arrayBuffer());
}
