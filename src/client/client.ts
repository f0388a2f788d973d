import { randomHex32, type WalletKey } from './keys.js';
import {
  confirmBound,
  matchBound,
  placeBound,
  SigningClock,
  walletAuthFor,
  type BoundFields,
  type PlaceOrderInput,
  type WalletAction,
} from './messages.js';
import { LedgerError, type ErrorCode } from './errors.js';
import type {
  CancelAnswer,
  CommandAnswer,
  ConfirmAnswer,
  Failure,
  History,
  OrderAnswer,
  OrderBook,
  OrderList,
  OrderListQuery,
  ChainStatus,
  ProjectionStatus,
  Readiness,
  ReconcileSummary,
  RecoveryEntry,
  Result,
  SandboxChainHead,
  SandboxChainInfo,
  SandboxFundAnswer,
  SandboxLockAnswer,
  Stats,
  Success,
  Trade,
  VerifyReport,
} from './types.js';

export interface ClientOptions {
  /** The ledger's origin, e.g. "http://127.0.0.1:5580"; "" (the default) is the page's own origin. */
  readonly baseUrl?: string;
  readonly fetch?: typeof fetch;
  /** Per request, default 30 s. */
  readonly timeoutMs?: number;
  /**
   * Read your writes (default on): reads carry `min_position` of the last command this client
   * sent, so a list or the book never answers from before it.
   */
  readonly readYourWrites?: boolean;
  readonly nowMs?: () => number;
}

export interface CommandOptions {
  /** Default: a fresh random key per call; a retry of a lost answer must reuse the same key and body. */
  readonly idempotencyKey?: string;
  /** The order version the command expects (its ETag); 412 version_mismatch when it moved on. */
  readonly ifMatch?: number;
}

export interface ReadOptions {
  /** Wait (server-side, up to 5 s) until the read model has applied this position. */
  readonly minPosition?: string;
}

export interface ConfirmInput {
  /** The preimage, 64 hex. */
  readonly secret: string;
  /** The quote-currency transaction (1..200 printable characters). */
  readonly quoteTx: string;
}

type Query = Record<string, string | number | bigint | undefined>;

/** A fresh Idempotency-Key (128 random bits). */
export const newIdempotencyKey = (): string => randomHex32().slice(0, 32);

const ATTEMPTS = 2;

/**
 * The typed client of the ledger's HTTP API: every call answers a `Result` (a success, or a typed
 * failure with the server's error code); signing happens here, with the caller's key.
 */
export class LedgerClient {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly readYourWrites: boolean;
  private readonly clock: SigningClock;
  private lastPosition: bigint | null = null;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.readYourWrites = options.readYourWrites ?? true;
    this.clock = new SigningClock(options.nowMs);
  }

  /** The global position of the last event a command of this client wrote. */
  get position(): string | null {
    return this.lastPosition === null ? null : this.lastPosition.toString();
  }

  // ---- commands, signed with the caller's key ----

  placeOrder(key: WalletKey, input: PlaceOrderInput, options: CommandOptions = {}): Promise<Result<CommandAnswer>> {
    const bound = placeBound(input);
    const body = {
      side: bound['side'], pair: bound['pair'], wallet: key.wallet, amount_rtc: input.amountRtc, price_per_rtc: input.pricePerRtc,
      ttl_seconds: bound['ttl_seconds'],
      ...(input.ethAddress ? { eth_address: input.ethAddress } : {}),
      ...(input.htlcHash ? { htlc_hash: input.htlcHash } : {}),
    };
    return this.signedPost('/api/orders', key, 'create_order', 'create_order', bound, body, options);
  }

  matchOrder(key: WalletKey, orderId: string, input: { ethAddress?: string | null; htlcHash?: string | null } = {}, options: CommandOptions = {}): Promise<Result<CommandAnswer>> {
    const body = { wallet: key.wallet, ...(input.ethAddress ? { eth_address: input.ethAddress } : {}), ...(input.htlcHash ? { htlc_hash: input.htlcHash } : {}) };
    return this.signedPost(`/api/orders/${enc(orderId)}/match`, key, 'match_order', orderId, matchBound(input.ethAddress, input.htlcHash), body, options);
  }

  confirmSettlement(key: WalletKey, orderId: string, input: ConfirmInput, options: CommandOptions = {}): Promise<Result<ConfirmAnswer>> {
    const body = { wallet: key.wallet, quote_tx: input.quoteTx, secret: input.secret };
    return this.signedPost(`/api/orders/${enc(orderId)}/confirm`, key, 'confirm_settlement', orderId, confirmBound(input.quoteTx, input.secret), body, options);
  }

  cancelOrder(key: WalletKey, orderId: string, options: CommandOptions = {}): Promise<Result<CancelAnswer>> {
    return this.signedPost(`/api/orders/${enc(orderId)}/cancel`, key, 'cancel_order', orderId, {}, { wallet: key.wallet }, options);
  }

  /** Puts a lapsed sell order back on the book under a fresh hashlock; without one the answer carries the generated htlc_secret. */
  rearmOrder(key: WalletKey, orderId: string, input: { htlcHash?: string | null } = {}, options: CommandOptions = {}): Promise<Result<CommandAnswer>> {
    const body = { wallet: key.wallet, ...(input.htlcHash ? { htlc_hash: input.htlcHash } : {}) };
    return this.signedPost(`/api/orders/${enc(orderId)}/rearm`, key, 'rearm_order', orderId, { htlc_hash: input.htlcHash ?? '' }, body, options);
  }

  // ---- reads ----

  listOrders(query: OrderListQuery = {}, options: ReadOptions = {}): Promise<Result<OrderList>> {
    return this.get('/api/orders', { ...query, min_position: this.readPosition(options) });
  }

  /** Read from the order's own stream: always current. */
  getOrder(orderId: string): Promise<Result<OrderAnswer>> {
    return this.get(`/api/orders/${enc(orderId)}`, {});
  }

  history(orderId: string): Promise<Result<History>> {
    return this.get(`/api/orders/${enc(orderId)}/history`, {});
  }

  orderAtVersion(orderId: string, version: number): Promise<Result<OrderAnswer>> {
    return this.get(`/api/orders/${enc(orderId)}/history`, { at_version: version });
  }

  orderBook(pair = 'RTC/USDC', options: ReadOptions = {}): Promise<Result<OrderBook>> {
    return this.get('/api/orderbook', { pair, min_position: this.readPosition(options) });
  }

  trades(query: { pair?: string; limit?: number; before?: string } = {}, options: ReadOptions = {}): Promise<Result<{ trades: Trade[] }>> {
    return this.get('/api/trades', { ...query, min_position: this.readPosition(options) });
  }

  stats(pair = 'RTC/USDC', options: ReadOptions = {}): Promise<Result<Stats>> {
    return this.get('/api/stats', { pair, min_position: this.readPosition(options) });
  }

  health(): Promise<Result<{ status: 'up' }>> {
    return this.get('/health', {});
  }

  /** The store answers and every read model is within lag; else 503 not_ready. */
  ready(): Promise<Result<Readiness>> {
    return this.get('/ready', {});
  }

  /** Operator calls with a bearer token the caller keeps (the web app: in memory only). */
  admin(token: string): AdminClient {
    return new AdminClient(this, token);
  }

  /** The embedded sandbox node's controls; a ledger on a real node answers 404 not_found to these. */
  get sandbox(): SandboxControls {
    return new SandboxControls(this);
  }

  // ---- transport ----

  /** @internal The min_position a read sends: the caller's, else (read your writes) this client's last command's. */
  readPosition(options: ReadOptions): string | undefined {
    return options.minPosition ?? (this.readYourWrites ? this.position ?? undefined : undefined);
  }

  private signedPost<T>(path: string, key: WalletKey, action: WalletAction, orderId: string, bound: BoundFields, body: Record<string, unknown>, options: CommandOptions): Promise<Result<T>> {
    const walletAuth = walletAuthFor(key, action, orderId, bound, this.clock.next(key.wallet));
    return this.post<T>(path, { ...body, wallet_auth: walletAuth }, options);
  }

  /** @internal A POST with an Idempotency-Key, so a retry after a lost answer is safe. */
  async post<T>(path: string, body: unknown, options: CommandOptions = {}, headers: Record<string, string> = {}): Promise<Result<T>> {
    const all: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': options.idempotencyKey ?? newIdempotencyKey(),
      ...(options.ifMatch === undefined ? {} : { 'if-match': `"${options.ifMatch}"` }),
      ...headers,
    };
    const result = await this.send<T>('POST', path, all, JSON.stringify(body));
    const position = positionOf(result);
    if (position !== null && (this.lastPosition === null || position > this.lastPosition)) this.lastPosition = position;
    return result;
  }

  /** @internal */
  get<T>(path: string, query: Query, headers: Record<string, string> = {}): Promise<Result<T>> {
    return this.send<T>('GET', `${path}${queryString(query)}`, headers, undefined);
  }

  private async send<T>(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | undefined): Promise<Result<T>> {
    let failure: Failure | null = null;
    // A lost answer is retried once with the same body and Idempotency-Key: the server replays it.
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let response: Response;
      try {
        response = await this.fetchFn(`${this.baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        failure = fail(0, 'network_error', error instanceof Error ? error.message : 'the request failed');
        continue;
      }
      return resultOf<T>(response);
    }
    return failure ?? fail(0, 'network_error', 'the request failed');
  }
}

export class AdminClient {
  private readonly auth: Record<string, string>;
  constructor(private readonly client: LedgerClient, token: string) {
    this.auth = { authorization: `Bearer ${token}` };
  }

  /** The pass picks its orders from a read model, so it waits for this client's writes like a read does. */
  reconcile(options: ReadOptions = {}): Promise<Result<{ summary: ReconcileSummary }>> {
    return this.client.post(`/admin/reconcile${queryString({ min_position: this.client.readPosition(options) })}`, {}, {}, this.auth);
  }

  recovery(options: ReadOptions = {}): Promise<Result<{ orders: RecoveryEntry[] }>> {
    return this.client.get('/admin/recovery', { min_position: this.client.readPosition(options) }, this.auth);
  }

  /** An audited re-drive of an order in settlement_recovery: who asks, and why. */
  redrive(orderId: string, operator: string, reason: string, options: CommandOptions = {}): Promise<Result<CommandAnswer>> {
    return this.client.post(`/admin/orders/${enc(orderId)}/redrive`, { operator, reason }, options, this.auth);
  }

  projections(): Promise<Result<{ projections: ProjectionStatus[] }>> {
    return this.client.get('/admin/projections', {}, this.auth);
  }

  rebuild(name: string): Promise<Result<{ rebuild_id: string }>> {
    return this.client.post(`/admin/projections/${enc(name)}/rebuild`, {}, {}, this.auth);
  }

  /** Runs verify on the server (read-only) and answers its findings. */
  verify(): Promise<Result<VerifyReport>> {
    return this.client.get('/admin/verify', {}, this.auth);
  }

  /** The quote chain's head, finalized block and the follower's checkpoint; chain null in manual mode. */
  chain(): Promise<Result<{ chain: ChainStatus | null }>> {
    return this.client.get('/admin/chain', {}, this.auth);
  }
}

export interface SandboxState {
  readonly balances: Record<string, { amount_i64: number }>;
  readonly transfers: Array<{ pending_id: number; idempotency_key: string; status?: string }>;
}

export class SandboxControls {
  constructor(private readonly client: LedgerClient) {}

  fund(wallet: string, amountRtc: string): Promise<Result<SandboxFundAnswer>> {
    return this.client.post('/__sandbox/fund', { wallet, amount_rtc: amountRtc });
  }

  state(): Promise<Result<SandboxState>> {
    return this.client.get('/__sandbox/state', {});
  }

  /** A wallet's balance at the sandbox node in micro-RTC (0 when it has none). */
  async balanceMicroRtc(wallet: string): Promise<Result<{ balance_micro_rtc: bigint }>> {
    const state = await this.state();
    if (!state.ok) return state;
    const entry = Object.entries(state.balances).find(([w]) => w.toLowerCase() === wallet.toLowerCase());
    return { ...state, balance_micro_rtc: BigInt(entry?.[1].amount_i64 ?? 0) };
  }

  /** Confirms a payout the sandbox node queued, by the ledger's payout key. */
  confirmPayout(payoutKey: string): Promise<Result<{ pending_id: number; phase: string }>> {
    return this.client.post(`/__sandbox/transfers/key/${enc(payoutKey)}/confirm`, {});
  }

  /** Makes the next `count` calls to a node endpoint fail in `mode` (see the sandbox's fault modes). */
  fault(endpoint: string, mode: string, count = 1): Promise<Result<{ endpoint: string; mode: string; count: number }>> {
    return this.client.post('/__sandbox/faults', { endpoint, mode, count });
  }

  /** The sandbox quote chain's controls (LEDGER_QUOTE_CHAIN=sandbox); 404 elsewhere. */
  get chain(): SandboxChainControls {
    return new SandboxChainControls(this.client);
  }
}

/** `/__sandbox/chain/*`: plays a party on the sandbox chain, for development addresses only. */
export class SandboxChainControls {
  constructor(private readonly client: LedgerClient) {}

  info(): Promise<Result<SandboxChainInfo>> {
    return this.client.get('/__sandbox/chain/info', {});
  }

  /** Test USDC (base units) and/or ETH (wei) for any address. */
  fund(address: string, amounts: { usdcBaseUnits?: bigint; ethWei?: bigint }): Promise<Result<{ address: string; usdc_balance_base_units: string }>> {
    return this.client.post('/__sandbox/chain/fund', {
      address,
      ...(amounts.usdcBaseUnits === undefined ? {} : { usdc_base_units: amounts.usdcBaseUnits.toString() }),
      ...(amounts.ethWei === undefined ? {} : { eth_wei: amounts.ethWei.toString() }),
    });
  }

  /** The buyer's lock of what the order's quote leg asks, with the earliest valid timelock unless one is given. */
  lock(orderId: string, timelockSeconds?: number): Promise<Result<SandboxLockAnswer>> {
    return this.client.post('/__sandbox/chain/lock', { order_id: orderId, ...(timelockSeconds === undefined ? {} : { timelock_seconds: timelockSeconds }) });
  }

  /** The seller's claim with the preimage (which the chain then shows to everyone); the order's lock unless a swap id is given. */
  claim(orderId: string, preimage: string, swapId?: string): Promise<Result<{ swap_id: string; tx_hash: string }>> {
    return this.client.post('/__sandbox/chain/claim', { order_id: orderId, preimage, ...(swapId === undefined ? {} : { swap_id: swapId }) });
  }

  /** The buyer's refund, at or after the timelock. */
  refund(orderId: string, swapId?: string): Promise<Result<{ swap_id: string; tx_hash: string }>> {
    return this.client.post('/__sandbox/chain/refund', { order_id: orderId, ...(swapId === undefined ? {} : { swap_id: swapId }) });
  }

  advanceTime(seconds: number): Promise<Result<{ head: SandboxChainHead }>> {
    return this.client.post('/__sandbox/chain/time', { seconds });
  }

  mine(blocks = 1): Promise<Result<{ head: SandboxChainHead }>> {
    return this.client.post('/__sandbox/chain/mine', { blocks });
  }
}

/** Calls that must succeed (scripts, the CLI): the value, or a LedgerError with the server's code. */
export function expectOk<T>(result: Result<T>): Success<T> {
  if (!result.ok) throw new LedgerError(result.httpStatus, result.error, result.message);
  return result;
}

const enc = encodeURIComponent;

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function fail(httpStatus: number, error: ErrorCode, message: string, extra: Partial<Failure> = {}): Failure {
  return { ok: false, httpStatus, error, message, ...extra };
}

function positionOf(result: Result<unknown>): bigint | null {
  const raw = (result as { position?: unknown }).position;
  return typeof raw === 'string' && /^\d+$/.test(raw) ? BigInt(raw) : null;
}

async function resultOf<T>(response: Response): Promise<Result<T>> {
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail(response.status, 'invalid_response', `HTTP ${response.status} without a JSON body`);
  }
  if (typeof body !== 'object' || body === null) return fail(response.status, 'invalid_response', `HTTP ${response.status} without a JSON object`);
  if (body['ok'] === true && response.ok) {
    const etag = response.headers.get('etag');
    return { ...(body as T), ok: true, httpStatus: response.status, etag, replayed: response.headers.get('idempotent-replayed') === 'true' };
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  return fail(response.status, typeof body['error'] === 'string' ? body['error'] : 'invalid_response', typeof body['message'] === 'string' ? body['message'] : `HTTP ${response.status}`, {
    ...(body['order'] === undefined ? {} : { order: body['order'] as Failure['order'] }),
    ...(typeof body['status'] === 'string' ? { orderStatus: body['status'] } : {}),
    ...(typeof body['retryable'] === 'boolean' ? { retryable: body['retryable'] } : {}),
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
  });
}
