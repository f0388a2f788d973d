import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Registry } from 'prom-client';
import { parseDecimalUnits } from '../../src/aggregates/order/money.js';
import { createLedger, type Ledger } from '../../src/app/ledger.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createSecretBox, htlcHashOf } from '../../src/crypto/preimage.js';
import { generateWallet, type ClientWallet } from '../../src/crypto/signer.js';
import { OrderCache } from '../../src/commands/loadOrder.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { createRustchainGateway, type RustchainGateway } from '../../src/gateways/rustchain.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer, type AutoConfirm, type FaultMode, type SandboxServer } from '../../src/sandbox/index.js';
import { buildApp } from '../../src/http/app.js';
import { createIdempotencyStore, type IdempotencyStore } from '../../src/http/idempotency.js';
import { createLedgerMetrics } from '../../src/http/metrics.js';
import { createSqliteReadSide, openOrderCounter } from '../../src/http/readSide.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { createMemoryLeases } from '../../src/settlement/leases.js';
import { reconcilePass, scanAllOrders } from '../../src/settlement/reconciler.js';
import { matchCooldownFor } from '../../src/matchCooldownFromConfig.js';

export const ADMIN_TOKEN = 'test-admin-token-7f3a9c';
/** Long enough for a loopback round trip on a busy box; short enough that a hung node call ends a test quickly. */
export const NODE_TIMEOUT_MS = 1500;
const SECRET_KEY_HEX = '5e'.repeat(32);

export interface HarnessOptions {
  readonly rateLimitPerMinute?: number;
  readonly adminToken?: string | null;
  readonly autoConfirm?: AutoConfirm;
  readonly corsOrigins?: readonly string[];
  /** LEDGER_TRUSTED_PROXIES: the proxies whose X-Forwarded-For is honoured. */
  readonly trustedProxies?: readonly string[];
  /** For /ready: a dependency known to be unusable. */
  readonly dependencyProblem?: () => string | null;
  /** Any other configuration, applied last (slow-client limits, admin failure limit…). */
  readonly config?: Partial<Config>;
  /** Capture the JSON log lines (level info) into `logs`. */
  readonly captureLogs?: boolean;
  /** A file for the idempotency table (restart tests); default ':memory:'. */
  readonly idempotencyPath?: string;
  readonly idempotency?: IdempotencyStore;
  /** How long min_position reads wait (default api.md's 5 s). */
  readonly minPositionWaitMs?: number;
  /** LEDGER_MATCH_COOLDOWN_* (config.matchCooldown) over this harness's lapses read model, wired as src/main.ts does; off unless asked. */
  readonly matchCooldown?: boolean;
}

export interface HttpHarness {
  readonly app: FastifyInstance;
  readonly store: SqliteEventStore;
  readonly sandbox: SandboxServer;
  readonly node: SandboxNode;
  readonly ledger: Ledger;
  readonly runner: ProjectionRunner;
  readonly idempotency: IdempotencyStore;
  readonly config: Config;
  readonly clock: { nowMs: number };
  readonly logs: string[];
  readonly seller: ClientWallet;
  readonly buyer: ClientWallet;
  readonly stranger: ClientWallet;
  post(url: string, body: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  fault(endpoint: string, mode: FaultMode, count?: number): void;
  close(): Promise<void>;
}

export async function startHttpHarness(options: HarnessOptions = {}): Promise<HttpHarness> {
  const clock = { nowMs: Date.now() };
  const now = () => new Date(clock.nowMs);
  const sandbox = await startSandboxServer({ node: new SandboxNode({ autoConfirm: options.autoConfirm ?? 'immediate', maxActiveJobsPerPoster: 1000 }) });
  const gateway: RustchainGateway = createRustchainGateway({ baseUrl: sandbox.url, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: NODE_TIMEOUT_MS });
  const store = new SqliteEventStore({ path: ':memory:' });
  const leases = createMemoryLeases();
  const metrics = createLedgerMetrics(new Registry());
  const secretBox = createSecretBox(SECRET_KEY_HEX);
  // Wired as src/main.ts does, with the order-state cache.
  const driver = { store, node: gateway, leases, settleWindowSeconds: 86_400, leaseTtlMs: 60_000, orderCache: new OrderCache() };
  const runner = new ProjectionRunner({ store, db: ':memory:' });
  runner.start();
  const base = loadConfig({ LEDGER_DATA_DIR: '/tmp/otc-ledger-http-tests' });
  const config: Config = Object.freeze({
    ...base,
    adminToken: options.adminToken === undefined ? ADMIN_TOKEN : options.adminToken,
    rateLimitPerMinute: options.rateLimitPerMinute ?? 0,
    corsOrigins: options.corsOrigins ?? [],
    trustedProxies: options.trustedProxies ?? [],
    ...options.config,
  });
  // Wired as src/main.ts does: the open-order cap counts from this harness's read model.
  const openOrderCap = { maxPerWallet: config.maxOpenOrdersPerWallet, countOpen: openOrderCounter({ runner, store }) };
  const matchCooldown = options.matchCooldown ? matchCooldownFor(config, runner, () => store.headPosition()) : null;
  const ledger = createLedger({ ...driver, secretBox, now, onStep: metrics.onStep, openOrderCap, matchCooldown });
  const idempotency = options.idempotency ?? createIdempotencyStore({ path: options.idempotencyPath ?? ':memory:', box: secretBox });
  const { readModels, projections } = createSqliteReadSide({ runner, store, ledger, stuckMs: 0 });
  const logs: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  const app = buildApp({
    config, ledger, readModels, projections, store, metrics, idempotency, now,
    ...(options.minPositionWaitMs === undefined ? {} : { minPositionWaitMs: options.minPositionWaitMs }),
    ...(options.dependencyProblem === undefined ? {} : { dependencyProblem: options.dependencyProblem }),
    reconcile: () => reconcilePass({ ...driver, stuckMs: config.settlementStuckMs, now, candidates: scanAllOrders({ store }) }),
    logger: options.captureLogs ? { level: 'info', stream } : false,
  });
  await app.ready();
  const [seller, buyer, stranger] = [generateWallet(), generateWallet(), generateWallet()];
  for (const w of [seller, buyer, stranger]) sandbox.node.fund(w.wallet, 1_000_000_000_000n);
  return {
    app, store, sandbox, node: sandbox.node, ledger, runner, idempotency, config, clock, logs, seller, buyer, stranger,
    post: (url, body, headers = {}) =>
      app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    get: (url, headers = {}) => app.inject({ method: 'GET', url, headers }),
    fault: (endpoint, mode, count = 1) => sandbox.node.injectFault(endpoint, mode, count),
    async close() {
      await app.close();
      await runner.close();
      await gateway.close();
      await sandbox.close();
      idempotency.close();
      await store.close();
    },
  };
}

let signatureSeq = 0;
/**
 * A distinct timestamp per signature, within the 300 s window: Ed25519 is deterministic, so two
 * identical requests signed in the same second would otherwise carry the same (replayed) signature.
 */
const timestampFor = (h: HttpHarness): number => Math.floor(h.clock.nowMs / 1000) - (signatureSeq++ % 250);

export interface PlaceOptions {
  side?: string;
  pair?: string;
  amount_rtc?: string | number;
  price_per_rtc?: string | number;
  ttl_seconds?: number;
  eth_address?: string;
  htlc_hash?: string;
}

/** A signed POST /api/orders body, signed over the fields exactly as the server will read them. */
export function placeBody(h: HttpHarness, w: ClientWallet, o: PlaceOptions = {}): Record<string, unknown> {
  const side = o.side ?? 'sell';
  const pair = o.pair ?? 'RTC/USDC';
  const amount = o.amount_rtc ?? '10';
  const price = o.price_per_rtc ?? '0.1';
  const ttl = o.ttl_seconds ?? 604_800;
  const bound = {
    side: side.toLowerCase(), pair: pair.toUpperCase(),
    amount_micro_rtc: Number(parseDecimalUnits(amount, 6)), price_per_rtc_nano_quote: Number(parseDecimalUnits(price, 9)),
    ttl_seconds: ttl, eth_address: o.eth_address ?? '', htlc_hash: o.htlc_hash ?? '',
  };
  const optional = { ...(o.eth_address === undefined ? {} : { eth_address: o.eth_address }), ...(o.htlc_hash === undefined ? {} : { htlc_hash: o.htlc_hash }) };
  return { side, pair, wallet: w.wallet, amount_rtc: amount, price_per_rtc: price, ttl_seconds: ttl, ...optional, wallet_auth: w.sign('create_order', 'create_order', bound, timestampFor(h)) };
}

export function matchBody(h: HttpHarness, w: ClientWallet, orderId: string, o: { eth_address?: string; htlc_hash?: string } = {}): Record<string, unknown> {
  const auth = w.sign('match_order', orderId, { eth_address: o.eth_address ?? '', htlc_hash: o.htlc_hash ?? '' }, timestampFor(h));
  return { wallet: w.wallet, ...o, wallet_auth: auth };
}

export function cancelBody(h: HttpHarness, w: ClientWallet, orderId: string): Record<string, unknown> {
  return { wallet: w.wallet, wallet_auth: w.sign('cancel_order', orderId, {}, timestampFor(h)) };
}

export const sha256OfSecret = htlcHashOf;

export function confirmBody(h: HttpHarness, w: ClientWallet, orderId: string, secret: string, quoteTx = '0xquote-tx-1'): Record<string, unknown> {
  const auth = w.sign('confirm_settlement', orderId, { quote_tx: quoteTx, secret_sha256: sha256OfSecret(secret) }, timestampFor(h));
  return { wallet: w.wallet, quote_tx: quoteTx, secret, wallet_auth: auth };
}

export const json = (res: LightMyRequestResponse): Record<string, any> => res.json() as Record<string, any>;

/** Places a sell order by the seller over HTTP; returns its id and the generated preimage. */
export async function placeSell(h: HttpHarness, o: PlaceOptions = {}): Promise<{ orderId: string; secret: string; body: Record<string, any> }> {
  const res = await h.post('/api/orders', placeBody(h, h.seller, { side: 'sell', ...o }));
  const body = json(res);
  if (res.statusCode !== 201) throw new Error(`placing a sell order answered ${res.statusCode}: ${res.body}`);
  return { orderId: body.order.order_id as string, secret: body.htlc_secret as string, body };
}

/** A sell order placed by the seller and matched by the buyer: status matched. */
export async function matchedSell(h: HttpHarness, o: PlaceOptions = {}): Promise<{ orderId: string; secret: string }> {
  const { orderId, secret } = await placeSell(h, o);
  const res = await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.buyer, orderId));
  if (res.statusCode !== 200) throw new Error(`matching answered ${res.statusCode}: ${res.body}`);
  return { orderId, secret };
}

export { until } from './until.js';
