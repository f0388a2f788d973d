/**
 * End-to-end helpers: a ledger started through the real composition root (startLedger), called
 * over real HTTP on 127.0.0.1 with signed requests, as a trader's client would.
 */
import { parseDecimalUnits, QUOTE_DECIMALS, RTC_DECIMALS } from '../../src/aggregates/order/money.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadQuoteChainConfig } from '../../src/config.js';
import { generateWallet, type ClientWallet } from '../../src/crypto/signer.js';
import { createLogger, startLedger, type RunningLedger, type StartOptions } from '../../src/main.js';
import { htlcHashOf } from '../../src/crypto/preimage.js';
import type { SandboxChain } from '../../src/sandbox/chain.js';
import type { Address } from 'viem';
import { afterAll, beforeAll } from 'vitest';

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `otc-e2e-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The environment every e2e ledger starts from: loopback, a free port, no rate limit, quiet. */
export function baseEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    LEDGER_DATA_DIR: dataDir,
    LEDGER_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: process.env['E2E_LOG_LEVEL'] ?? 'silent',
    // Only the reconciler passes the tests ask for: no timer racing the assertions.
    LEDGER_RECONCILE_INTERVAL_MS: '0',
    ...extra,
  };
}

/**
 * A ledger from an environment, through the real composition root. The quote leg is manual unless
 * the environment sets LEDGER_QUOTE_CHAIN (sandbox spawns anvil; tests ask for it explicitly).
 */
export async function startFromEnv(env: NodeJS.ProcessEnv, options: Omit<StartOptions, 'quoteChain'> = {}): Promise<RunningLedger> {
  const config = loadConfig(env);
  const quoteChain = loadQuoteChainConfig({ LEDGER_QUOTE_CHAIN: 'manual', ...env });
  return startLedger(config, createLogger(config), { ...options, quoteChain });
}

/** A ledger in sandbox mode for one test file, and the parts of its chain the tests use. */
export interface SandboxLedger {
  readonly ledger: RunningLedger;
  /** The ledger's own anvil, with the HTLC and the test USDC deployed. */
  readonly chain: SandboxChain;
  /** Development account 1: the buyer's quote address in the swaps the tests play. */
  readonly buyerQuote: Address;
  /** Development account 2: the seller's quote (claim) address. */
  readonly sellerQuote: Address;
  readonly dataDir: string;
}

/**
 * A ledger started in sandbox mode for the file (it spawns anvil, deploys the HTLC and the test
 * USDC, and follows that chain), its embedded sandbox node confirming payouts at once: started in
 * beforeAll, closed with its data dir in afterAll. `extraEnv` adds to baseEnv (an admin token, a
 * cool-down). A file's own later beforeAll runs after this one, with the ledger started.
 */
export function useSandboxLedger(name: string, extraEnv: Record<string, string> = {}): SandboxLedger {
  const dir = tempDir(name);
  let ledger: RunningLedger | undefined;
  beforeAll(async () => {
    ledger = await startFromEnv(baseEnv(dir.path, { ...extraEnv, LEDGER_QUOTE_CHAIN: 'sandbox' }));
    ledger.sandbox!.setAutoConfirm('immediate');
  }, 60_000);
  afterAll(async () => {
    await ledger?.close();
    dir.remove();
  });
  const started = (): RunningLedger => {
    if (ledger === undefined) throw new Error('the sandbox ledger is used before beforeAll started it');
    return ledger;
  };
  const chainOf = (): SandboxChain => started().quoteChain!.sandbox!;
  return {
    get ledger() { return started(); },
    get chain() { return chainOf(); },
    get buyerQuote() { return chainOf().devAddresses[1]!; },
    get sellerQuote() { return chainOf().devAddresses[2]!; },
    dataDir: dir.path,
  };
}

/**
 * Starts ledgers on temp data dirs with an admin token, each on its own dir; every one started is
 * closed and its dir removed after the test file.
 */
export function useLedgerStarter(prefix: string, adminToken: string): (extraEnv?: Record<string, string>) => Promise<{ ledger: RunningLedger; path: string }> {
  const dirs: Array<{ remove(): void }> = [];
  const running: RunningLedger[] = [];
  afterAll(async () => {
    for (const r of running) await r.close().catch(() => undefined);
    for (const d of dirs) d.remove();
  });
  return async (extraEnv = {}) => {
    const dir = tempDir(prefix);
    dirs.push(dir);
    const ledger = await startFromEnv(baseEnv(dir.path, { LEDGER_ADMIN_TOKEN: adminToken, ...extraEnv }));
    running.push(ledger);
    return { ledger, path: dir.path };
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, any>;
}

export async function call(base: string, method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: Record<string, any>;
  try {
    parsed = text === '' ? {} : (JSON.parse(text) as Record<string, any>);
  } catch {
    parsed = { raw: text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export const get = (base: string, path: string, headers?: Record<string, string>) => call(base, 'GET', path, undefined, headers);
export const post = (base: string, path: string, body: unknown, headers?: Record<string, string>) => call(base, 'POST', path, body, headers);

const usedTimestamps = new Map<string, Set<number>>();
let signingClockOffsetMs = 0;
/**
 * Signs every later request with the wall clock moved by this much: for a ledger whose injected
 * clock is off the machine's, whose signature window is measured on its own clock.
 */
export function setSigningClockOffset(offsetMs: number): void {
  signingClockOffsetMs = offsetMs;
}
/**
 * A timestamp no other signature of this wallet used, as close to now as possible: Ed25519 is
 * deterministic, so two identical requests signed in the same second would carry the same
 * (replayed) signature. Stays well inside the 300 s window.
 */
function timestamp(w: ClientWallet): number {
  const used = usedTimestamps.get(w.wallet) ?? new Set<number>();
  usedTimestamps.set(w.wallet, used);
  let ts = Math.floor((Date.now() + signingClockOffsetMs) / 1000);
  while (used.has(ts)) ts -= 1;
  used.add(ts);
  return ts;
}

export { generateWallet, type ClientWallet };

/** A signed place-order body; amounts go through the ledger's own exact decimal parser, never floats. */
export type TestPair = 'RTC/USDC' | 'RTC/ETH';

function placeBody(side: 'buy' | 'sell', w: ClientWallet, amountRtc: string, priceRtc: string, ethAddress?: string, pair: TestPair = 'RTC/USDC'): Record<string, unknown> {
  const bound = {
    side, pair,
    amount_micro_rtc: Number(parseDecimalUnits(amountRtc, RTC_DECIMALS)),
    price_per_rtc_nano_quote: Number(parseDecimalUnits(priceRtc, QUOTE_DECIMALS)),
    ttl_seconds: 604_800, eth_address: ethAddress ?? '', htlc_hash: '',
  };
  return {
    side, pair, wallet: w.wallet, amount_rtc: amountRtc, price_per_rtc: priceRtc, ...(ethAddress === undefined ? {} : { eth_address: ethAddress }),
    wallet_auth: w.sign('create_order', 'create_order', bound, timestamp(w)),
  };
}

/** `ethAddress`: the maker's quote address (a sell order's claim address on the quote chain). */
export const placeSellBody = (w: ClientWallet, amountRtc = '10', priceRtc = '0.1', ethAddress?: string, pair?: TestPair) => placeBody('sell', w, amountRtc, priceRtc, ethAddress, pair);
export const placeBuyBody = (w: ClientWallet, amountRtc = '10', priceRtc = '0.1', ethAddress?: string, pair?: TestPair) => placeBody('buy', w, amountRtc, priceRtc, ethAddress, pair);

export function matchBody(w: ClientWallet, orderId: string, ethAddress?: string): Record<string, unknown> {
  return {
    wallet: w.wallet, ...(ethAddress === undefined ? {} : { eth_address: ethAddress }),
    wallet_auth: w.sign('match_order', orderId, { eth_address: ethAddress ?? '', htlc_hash: '' }, timestamp(w)),
  };
}

export function cancelBody(w: ClientWallet, orderId: string): Record<string, unknown> {
  return { wallet: w.wallet, wallet_auth: w.sign('cancel_order', orderId, {}, timestamp(w)) };
}

export const sha256Hex = htlcHashOf;

export function confirmBody(w: ClientWallet, orderId: string, secret: string, quoteTx = `0xquote-${orderId.slice(0, 8)}`): Record<string, unknown> {
  return {
    wallet: w.wallet, quote_tx: quoteTx, secret,
    wallet_auth: w.sign('confirm_settlement', orderId, { quote_tx: quoteTx, secret_sha256: sha256Hex(secret) }, timestamp(w)),
  };
}

/** Funds a wallet at the embedded sandbox node through the ledger's own `/__sandbox/fund`. */
export async function fundViaLedger(base: string, w: ClientWallet, amountRtc = 100_000): Promise<void> {
  const answer = await post(base, '/__sandbox/fund', { wallet: w.wallet, amount_rtc: amountRtc });
  if (answer.status !== 200) throw new Error(`funding answered ${answer.status}: ${JSON.stringify(answer.body)}`);
}

/** Places a sell order and answers its id and the preimage shown once. */
export async function placeSell(base: string, seller: ClientWallet, amountRtc = '10', headers?: Record<string, string>): Promise<{ orderId: string; secret: string; position: string }> {
  const placed = await post(base, '/api/orders', placeSellBody(seller, amountRtc), headers);
  if (placed.status !== 201) throw new Error(`placing answered ${placed.status}: ${JSON.stringify(placed.body)}`);
  return { orderId: placed.body.order.order_id as string, secret: placed.body.htlc_secret as string, position: placed.body.position as string };
}

export { until } from '../support/until.js';
