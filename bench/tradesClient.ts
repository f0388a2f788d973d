/**
 * The load generator of `bench/trades.ts`: complete trades over real HTTP against a listening
 * ledger on 127.0.0.1. Runs as a child process (forked by trades.ts, driven over IPC) so client
 * and server share the machine's cores the way a real deployment would; the same functions also
 * run in-process for comparison.
 *
 * One trade = POST /api/orders (sell) → POST /api/orders/:id/match → POST /api/orders/:id/confirm.
 * Every request is signed at send time by the client's own wallets, like a trader's client.
 */
import { randomBytes } from 'node:crypto';
import { Pool, request as httpRequest } from 'undici';
import { generateWallet, type ClientWallet } from '../src/crypto/signer.js';
import { htlcHashOf } from '../src/crypto/preimage.js';

export type CommandName = 'place' | 'match' | 'confirm';
export const COMMANDS: readonly CommandName[] = ['place', 'match', 'confirm'];

/** What the parent asks the child to do. */
export type ClientRequest =
  /** fundUrl: where sellers are funded (`/__sandbox/fund`): the ledger's embedded node, or a node process of its own. */
  | { readonly kind: 'setup'; readonly url: string; readonly fundUrl: string; readonly clients: number; readonly idempotencyKeys: boolean }
  | { readonly kind: 'closed'; readonly concurrency: number; readonly maxTrades: number; readonly durationMs: number; readonly warmupMs: number }
  | { readonly kind: 'open'; readonly ratePerSec: number; readonly maxTrades: number; readonly durationMs: number; readonly warmupMs: number; readonly maxInFlight: number }
  | { readonly kind: 'close' };

export interface LoadResult {
  /** Trades whose three commands all answered as a successful trade. */
  readonly trades: number;
  /** Every trade completed during the run, warm-up included: the divisor for server costs per trade. */
  readonly allTrades: number;
  /** Trades that failed somewhere (a non-2xx answer, a network error). */
  readonly failed: number;
  readonly elapsedMs: number;
  readonly tradesPerSec: number;
  /** Per command: latency samples' percentiles in ms, from the moment the request was sent. */
  readonly latencyMs: Readonly<Record<CommandName | 'trade', Percentiles>>;
  /** Open loop only: trades not started because maxInFlight trades were already running. */
  readonly skipped: number;
  /** First few failure descriptions, to see what went wrong. */
  readonly errors: readonly string[];
  /** confirm's answers by status (200 completed, 202 payout queued). */
  readonly confirmStatuses: Readonly<Record<string, number>>;
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** One trader pair: a seller and a buyer wallet, both funded; each pair runs its trades one after another. */
interface Pair {
  readonly seller: ClientWallet;
  readonly buyer: ClientWallet;
  /** Makes every place order's signed fields differ, so no two signatures coincide within a second. */
  nextAmount: number;
}

const FUND_RTC = 10_000_000;
const BASE_AMOUNT_MICRO_RTC = 1_000_000;
const MAX_ERRORS_KEPT = 10;

export class TradeClient {
  private readonly pool: Pool;
  private readonly pairs: Pair[] = [];
  private readonly idempotencyKeys: boolean;

  constructor(url: string, connections: number, idempotencyKeys: boolean) {
    const origin = new URL(url);
    if (origin.hostname !== '127.0.0.1') throw new Error(`the trade bench only talks to 127.0.0.1, not ${origin.hostname}`);
    this.pool = new Pool(origin.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
    this.idempotencyKeys = idempotencyKeys;
  }

  /** Generates `count` wallet pairs and funds every seller at the sandbox node's `fundUrl` (the ledger's own, when embedded). */
  async setup(count: number, fundUrl: string): Promise<void> {
    const fundAt = new URL('/__sandbox/fund', fundUrl);
    if (fundAt.hostname !== '127.0.0.1') throw new Error(`the trade bench only funds at 127.0.0.1, not ${fundAt.hostname}`);
    for (let i = 0; i < count; i++) {
      const pair: Pair = { seller: generateWallet(), buyer: generateWallet(), nextAmount: BASE_AMOUNT_MICRO_RTC };
      const funded = await fund(fundAt, pair.seller.wallet);
      if (funded.status !== 200) throw new Error(`funding failed: HTTP ${funded.status} ${funded.text}`);
      this.pairs.push(pair);
    }
  }

  /** Closed loop: `concurrency` pairs each run trades back to back until the time or count bound. */
  async closedLoop(concurrency: number, maxTrades: number, durationMs: number, warmupMs: number): Promise<LoadResult> {
    if (concurrency > this.pairs.length) throw new Error(`only ${this.pairs.length} wallet pairs were set up`);
    const recorder = new Recorder();
    const startedAt = performance.now();
    const measureFrom = startedAt + warmupMs;
    const stopAt = measureFrom + durationMs;
    let started = 0;
    const worker = async (pair: Pair) => {
      while (performance.now() < stopAt && started < maxTrades) {
        started++;
        await this.trade(pair, recorder, performance.now() >= measureFrom);
      }
    };
    recorder.begin(measureFrom);
    await Promise.all(this.pairs.slice(0, concurrency).map(worker));
    return recorder.result(Math.min(performance.now(), stopAt), 0);
  }

  /**
   * Open loop: trades start on a fixed schedule whatever the server's answers, so a slow server
   * shows as latency, not as a lower offered rate. A trade's latency counts from its scheduled
   * start (no coordinated omission); each command's from its own send.
   */
  async openLoop(ratePerSec: number, maxTrades: number, durationMs: number, warmupMs: number, maxInFlight: number): Promise<LoadResult> {
    const recorder = new Recorder();
    const intervalMs = 1000 / ratePerSec;
    const startedAt = performance.now();
    const measureFrom = startedAt + warmupMs;
    const stopAt = measureFrom + durationMs;
    const idle = [...this.pairs];
    const running = new Set<Promise<void>>();
    let skipped = 0;
    recorder.begin(measureFrom);
    for (let i = 0; i < maxTrades; i++) {
      const scheduledAt = startedAt + i * intervalMs;
      if (scheduledAt >= stopAt) break;
      const wait = scheduledAt - performance.now();
      if (wait > 1) await sleep(wait);
      const measured = scheduledAt >= measureFrom;
      const pair = idle.pop();
      if (pair === undefined || running.size >= maxInFlight) {
        if (measured) skipped++;
        continue;
      }
      const run: Promise<void> = this.trade(pair, recorder, measured, scheduledAt).finally(() => {
        idle.push(pair);
        running.delete(run);
      });
      running.add(run);
    }
    await Promise.all(running);
    return recorder.result(stopAt, skipped);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async trade(pair: Pair, recorder: Recorder, measured: boolean, scheduledAt = performance.now()): Promise<void> {
    try {
      const amount = pair.nextAmount++;
      const now = () => Math.floor(Date.now() / 1000);
      const placeBound = { side: 'sell', pair: 'RTC/USDC', amount_micro_rtc: amount, price_per_rtc_nano_quote: 100_000_000, ttl_seconds: 604800, eth_address: '', htlc_hash: '' };
      const placed = await this.command(recorder, measured, 'place', '/api/orders', () => ({
        side: 'sell', pair: 'RTC/USDC', wallet: pair.seller.wallet, amount_rtc: (amount / 1e6).toFixed(6), price_per_rtc: '0.1',
        wallet_auth: pair.seller.sign('create_order', 'create_order', placeBound, now()),
      }), 201);
      const orderId = (placed['order'] as Record<string, string>)['order_id'] ?? '';
      const secret = placed['htlc_secret'] as string;
      await this.command(recorder, measured, 'match', `/api/orders/${orderId}/match`, () => ({
        wallet: pair.buyer.wallet, wallet_auth: pair.buyer.sign('match_order', orderId, { eth_address: '', htlc_hash: '' }, now()),
      }), 200);
      const secretSha = htlcHashOf(secret);
      const quoteTx = `0x${randomBytes(32).toString('hex')}`;
      await this.command(recorder, measured, 'confirm', `/api/orders/${orderId}/confirm`, () => ({
        wallet: pair.seller.wallet, quote_tx: quoteTx, secret,
        wallet_auth: pair.seller.sign('confirm_settlement', orderId, { quote_tx: quoteTx, secret_sha256: secretSha }, now()),
      }), 200, 202);
      recorder.trade(measured, performance.now() - scheduledAt);
    } catch (error) {
      recorder.failure(measured, error instanceof Error ? error.message : String(error));
    }
  }

  /** Signs and sends one command; the latency is from just before signing to the parsed answer. */
  private async command(recorder: Recorder, measured: boolean, name: CommandName, path: string, body: () => unknown, ...ok: number[]): Promise<Record<string, unknown>> {
    const sentAt = performance.now();
    const answer = await this.post(path, body());
    if (measured) recorder.command(name, performance.now() - sentAt);
    if (name === 'confirm') recorder.confirmStatus(answer.status);
    if (!ok.includes(answer.status)) throw new Error(`${name}: HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
    return JSON.parse(answer.text) as Record<string, unknown>;
  }

  private async post(path: string, body: unknown): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.idempotencyKeys) headers['idempotency-key'] = randomBytes(16).toString('hex');
    const response = await this.pool.request({ method: 'POST', path, headers, body: JSON.stringify(body), headersTimeout: 30_000, bodyTimeout: 30_000 });
    return { status: response.statusCode, text: await response.body.text() };
  }
}

async function fund(fundAt: URL, wallet: string): Promise<{ status: number; text: string }> {
  const response = await httpRequest(fundAt, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ wallet, amount_rtc: FUND_RTC }) });
  return { status: response.statusCode, text: await response.body.text() };
}

class Recorder {
  private readonly samples: Record<CommandName | 'trade', number[]> = { place: [], match: [], confirm: [], trade: [] };
  private readonly errors: string[] = [];
  private readonly statuses: Record<string, number> = {};
  private trades = 0;
  private allTrades = 0;
  private failed = 0;
  private from = 0;

  begin(fromMs: number): void {
    this.from = fromMs;
  }

  command(name: CommandName, ms: number): void {
    this.samples[name].push(ms);
  }

  confirmStatus(status: number): void {
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }

  trade(measured: boolean, ms: number): void {
    this.allTrades++;
    if (!measured) return;
    this.trades++;
    this.samples.trade.push(ms);
  }

  failure(measured: boolean, message: string): void {
    if (this.errors.length < MAX_ERRORS_KEPT) this.errors.push(message);
    if (measured) this.failed++;
  }

  result(untilMs: number, skipped: number): LoadResult {
    const elapsedMs = Math.max(1, untilMs - this.from);
    const latencyMs = Object.fromEntries(Object.entries(this.samples).map(([k, v]) => [k, percentiles(v)])) as LoadResult['latencyMs'];
    return {
      trades: this.trades, allTrades: this.allTrades, failed: this.failed, elapsedMs, tradesPerSec: this.trades / (elapsedMs / 1000),
      latencyMs, skipped, errors: this.errors, confirmStatuses: this.statuses,
    };
  }
}

export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The child's side of the IPC protocol: one request at a time, one answer each. */
async function serveParent(): Promise<void> {
  let client: TradeClient | null = null;
  const send = (message: unknown) => process.send?.(message);
  process.on('message', (raw: ClientRequest) => {
    void (async () => {
      try {
        switch (raw.kind) {
          case 'setup':
            client = new TradeClient(raw.url, raw.clients, raw.idempotencyKeys);
            await client.setup(raw.clients, raw.fundUrl);
            send({ ok: true });
            break;
          case 'closed': {
            const cpu = process.cpuUsage();
            const result = await need(client).closedLoop(raw.concurrency, raw.maxTrades, raw.durationMs, raw.warmupMs);
            send({ ok: true, result, clientCpuMs: cpuMsSince(cpu) });
            break;
          }
          case 'open': {
            const cpu = process.cpuUsage();
            const result = await need(client).openLoop(raw.ratePerSec, raw.maxTrades, raw.durationMs, raw.warmupMs, raw.maxInFlight);
            send({ ok: true, result, clientCpuMs: cpuMsSince(cpu) });
            break;
          }
          case 'close':
            await client?.close();
            send({ ok: true });
            process.disconnect?.();
            break;
        }
      } catch (error) {
        send({ ok: false, error: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
}

export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function need(client: TradeClient | null): TradeClient {
  if (client === null) throw new Error('setup first');
  return client;
}

if (process.send !== undefined && process.argv.includes('--trade-client')) void serveParent();
