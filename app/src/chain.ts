// The chain side: RPC and subscriptions, the market, token accounts, amounts, and sending a
// transaction with errors read as sentences.
import {
  appendTransactionMessageInstructions,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  getAddressEncoder,
  getBase64Encoder,
  getProgramDerivedAddress,
  getSignatureFromTransaction,
  isSolanaError,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM,
  address,
  assertIsTransactionWithBlockhashLifetime,
  devnet,
  type Address,
  type Instruction,
  type TransactionSigner,
} from '@solana/kit';
import { decodeMarketData, type Market } from '@tessera/client';
import { programErrorMessage } from './errors';
import { NotSigned } from './wallet';

export { formatAmount, parseAmount } from './amount';
import type { NetworkConfig } from './config';

export type Rpc = ReturnType<typeof createSolanaRpc<ReturnType<typeof devnet>>>;
export type RpcSubscriptions = ReturnType<typeof createSolanaRpcSubscriptions<ReturnType<typeof devnet>>>;

export interface Chain {
  cfg: NetworkConfig;
  rpc: Rpc;
  subs: RpcSubscriptions;
}

export function connect(cfg: NetworkConfig): Chain {
  // `devnet` only types the URLs (a test cluster's API: airdrops included).
  return { cfg, rpc: createSolanaRpc(devnet(cfg.rpcUrl)), subs: createSolanaRpcSubscriptions(devnet(cfg.wsUrl)) };
}

const ATA_PROGRAM = address('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');

/** An account's data, or null when it does not exist. */
export async function accountData(chain: Chain, at: Address): Promise<{ data: Uint8Array; owner: Address } | null> {
  const { value } = await chain.rpc.getAccountInfo(at, { encoding: 'base64', commitment: 'confirmed' }).send();
  if (!value) return null;
  return { data: new Uint8Array(getBase64Encoder().encode(value.data[0])), owner: value.owner };
}

export interface MarketInfo {
  address: Address;
  state: Market;
  /** The mint's token program (SPL Token or Token-2022). */
  tokenProgram: Address;
}

export async function loadMarket(chain: Chain): Promise<MarketInfo> {
  const m = await accountData(chain, chain.cfg.market);
  if (!m) throw new Error(`The market ${chain.cfg.market} does not exist on ${chain.cfg.rpcUrl}.`);
  const state = decodeMarketData(m.data);
  const mint = await accountData(chain, state.mint);
  if (!mint) throw new Error(`The market's mint ${state.mint} does not exist.`);
  return { address: chain.cfg.market, state, tokenProgram: mint.owner };
}

/** The associated token account of `owner` for the market's mint. */
export async function tokenAccount(market: MarketInfo, owner: Address): Promise<Address> {
  const enc = getAddressEncoder();
  const [ata] = await getProgramDerivedAddress({
    programAddress: ATA_PROGRAM,
    seeds: [enc.encode(owner), enc.encode(market.tokenProgram), enc.encode(market.state.mint)],
  });
  return ata;
}

/** A token account's balance in base units (0 when it does not exist). */
export async function tokenBalance(chain: Chain, account: Address): Promise<bigint> {
  try {
    const { value } = await chain.rpc.getTokenAccountBalance(account, { commitment: 'confirmed' }).send();
    return BigInt(value.amount);
  } catch {
    return 0n;
  }
}

/** The cluster's clock (unix seconds), which deadlines are measured by. */
export async function chainNow(chain: Chain): Promise<bigint> {
  const clock = await accountData(chain, CLOCK);
  if (!clock || clock.data.length < 40) throw new Error('The cluster has no clock sysvar.');
  // slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp: u64/i64 each.
  return new DataView(clock.data.buffer, clock.data.byteOffset).getBigInt64(32, true);
}

const CLOCK = address('SysvarC1ock11111111111111111111111111111111');

// Anchor's own error codes that a user can meet, with what to do.
const ANCHOR_ERRORS: Record<number, string> = {
  2000: 'An account that must be writable was not. Reload the page and try again.',
  2003: 'An account constraint was not met: the accounts changed since the page read them. Reload and try again.',
  2006: 'An account is not the one the program derives here (a seeds constraint). Reload the page; if it persists, the app and the program disagree on the program id.',
  2012: 'An account is not at the address the program expects. Reload the page and try again.',
  3001: 'An account is not a Tessera account of the expected kind. Check the market address.',
  3002: 'An account is not a Tessera account of the expected kind. Check the market address.',
  3007: 'An account belongs to another program: check the program id and the market address.',
  3012: 'An account the program needs does not exist yet (an operator not registered, a token account not created).',
};

/** The sentence for a failed transaction: the program's error message (or Anchor's), with
 * what to do; never a raw log. */
export function explain(e: unknown, what: string): string {
  for (let err: unknown = e; err; err = (err as { cause?: unknown }).cause) {
    if (err instanceof NotSigned) {
      return err.declined
        ? `${what} was cancelled: ${err.wallet} declined to sign, so no transaction was sent.`
        : `${what} failed: ${err.wallet} could not sign (${err.reason}), so no transaction was sent.`;
    }
  }
  let code: number | null = null;
  for (let err: unknown = e; err; err = (err as { cause?: unknown }).cause) {
    if (isSolanaError(err, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM)) {
      code = err.context.code;
      break;
    }
  }
  if (code !== null) {
    const message = programErrorMessage(code);
    if (message) return `${what} was refused by the program: ${message}`;
    if (ANCHOR_ERRORS[code]) return `${what} was refused: ${ANCHOR_ERRORS[code]}`;
    if (code === 1) return `${what} was refused: not enough tokens in the account that pays. Top it up and try again.`;
    return `${what} was refused by the program (error ${code}). Reload the page and try again.`;
  }
  const text = e instanceof Error ? e.message : String(e);
  if (/insufficient (funds|lamports)/i.test(text)) return `${what} failed: not enough SOL to pay the fee. Fund the wallet and try again.`;
  if (/fetch|network|websocket/i.test(text)) return `${what} failed: the network did not answer (${text}). Check that the validator is running.`;
  return `${what} failed: ${text}`;
}

/** Signs `instructions` with `signer` (the fee payer), sends them and waits until confirmed. */
export async function send(chain: Chain, signer: TransactionSigner, instructions: Instruction[]): Promise<string> {
  const { value: blockhash } = await chain.rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(signer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const tx = await signTransactionMessageWithSigners(message);
  assertIsTransactionWithBlockhashLifetime(tx);
  const sendAndConfirm = sendAndConfirmTransactionFactory({ rpc: chain.rpc, rpcSubscriptions: chain.subs });
  await sendAndConfirm(tx, { commitment: 'confirmed' });
  return getSignatureFromTransaction(tx);
}
