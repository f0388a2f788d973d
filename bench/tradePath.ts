/**
 * Issue 14 levers 2 and 4, before and after in one run: the work of one complete trade (place a
 * sell, match it, confirm with the preimage) through the real use cases, in process, against the
 * embedded sandbox node (in-process transport) and a file-backed SQLite store (WAL,
 * synchronous=FULL). No HTTP and no projection runner, so what is left is the command path.
 *
 * Two configurations on their own stores, taking turns chunk by chunk so the machine's mood hits
 * both alike:
 *  - "before": the store seen through a wrapper without `signatureUsed` (every signature use then
 *    gets a `sig-` stream of its own, appended before the command, as before lever 2) and no
 *    order-state cache (every load reads and folds the whole stream);
 *  - "lever2": the store itself (uses recorded in the command's first event), no cache;
 *  - "after": the store itself and an OrderCache (levers 2 and 4).
 * Requests are signed before each chunk is timed. Per trade: process CPU (user + system, which
 * includes the kernel's fsync work), appends, events written, COMMITs of events.db, stream reads
 * and events read back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLedger, type Ledger } from '../src/app/ledger.js';
import { OrderCache } from '../src/commands/loadOrder.js';
import { createSecretBox, htlcHashOf } from '../src/crypto/preimage.js';
import { generateWallet, type ClientWallet } from '../src/crypto/signer.js';
import { verifyWalletAuth } from '../src/crypto/walletAuth.js';
import { SqliteEventStore } from '../src/eventstore/sqlite.js';
import type { EventStore } from '../src/eventstore/types.js';
import { createRustchainGateway, type RustchainGateway } from '../src/gateways/rustchain.js';
import { createInProcessTransport, EMBEDDED_SANDBOX_BASE_URL } from '../src/sandbox/inProcessTransport.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode } from '../src/sandbox/index.js';
import { createMemoryLeases } from '../src/settlement/leases.js';
import { installCommitCounter, readServerCounters } from './serverCounters.js';
import { collectGarbage, type Benchmark, type BenchOptions, type Measurement } from './types.js';

const CHUNK_TRADES = 40;
/** Trades in flight at once within a chunk, so group commit has company as under load. */
const IN_FLIGHT = 8;
const WARMUP_TRADES = 50;

interface Counts {
  appends: number;
  eventsWritten: number;
  streamReads: number;
  eventsRead: number;
}

/** The store, counting what the command path asks of it; `signatureUsed` shown or hidden. */
function counted(inner: SqliteEventStore, counts: Counts, withSignatureIndex: boolean): EventStore {
  const store: EventStore = {
    name: inner.name,
    append: (stream, events, expected) => {
      counts.appends += 1;
      counts.eventsWritten += events.length;
      return inner.append(stream, events, expected);
    },
    readStream: async (stream, from) => {
      counts.streamReads += 1;
      const events = await inner.readStream(stream, from);
      counts.eventsRead += events.length;
      return events;
    },
    readAll: (...a) => inner.readAll(...a),
    headPosition: () => inner.headPosition(),
    listStreams: (...a) => inner.listStreams(...a),
    subscribeAll: (...a) => inner.subscribeAll(...a),
    close: () => inner.close(),
  };
  return withSignatureIndex ? { ...store, signatureUsed: (sha) => inner.signatureUsed(sha) } : store;
}

interface Config {
  readonly label: string;
  readonly ledger: Ledger;
  readonly file: string;
  readonly counts: Counts;
  readonly gateway: RustchainGateway;
  readonly store: SqliteEventStore;
  next: number;
  cpuUs: number;
  trades: number;
  commits: number;
  wallMs: number;
}

function openConfig(dir: string, label: string, levers: { signatureIndex: boolean; cache: boolean }, clock: { nowMs: number }): Config {
  const file = `${label}-events.db`;
  const store = new SqliteEventStore({ path: join(dir, file) });
  const counts: Counts = { appends: 0, eventsWritten: 0, streamReads: 0, eventsRead: 0 };
  const node = new SandboxNode({ autoConfirm: 'immediate', maxActiveJobsPerPoster: 1_000_000 });
  const gateway = createRustchainGateway({ baseUrl: EMBEDDED_SANDBOX_BASE_URL, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: 10_000, transport: createInProcessTransport(node) });
  let orderSeq = 0;
  const ledger = createLedger({
    store: counted(store, counts, levers.signatureIndex), node: gateway, leases: createMemoryLeases(), secretBox: createSecretBox('5e'.repeat(32)),
    settleWindowSeconds: 86_400, leaseTtlMs: 60_000, now: () => new Date(clock.nowMs),
    newOrderId: () => `otc_${label}${String(++orderSeq).padStart(10, '0')}`,
    verifySignature: verifyWalletAuth,
    ...(levers.cache ? { orderCache: new OrderCache() } : {}),
  });
  for (const w of WALLETS) node.fund(w.wallet, 10n ** 15n);
  return { label, ledger, file, counts, gateway, store, next: 0, cpuUs: 0, trades: 0, commits: 0, wallMs: 0 };
}

const WALLETS: ClientWallet[] = [generateWallet(), generateWallet()];

/** Trade i's three requests, signed now (outside the timed section). */
function signTrade(config: Config, i: number, nowSeconds: number) {
  const [seller, buyer] = WALLETS as [ClientWallet, ClientWallet];
  const orderId = `otc_${config.label}${String(i + 1).padStart(10, '0')}`;
  const secret = i.toString(16).padStart(64, '0');
  const htlcHash = htlcHashOf(secret);
  const amountMicroRtc = 10_000_000n + BigInt(i);
  const place = {
    side: 'sell' as const, pair: 'RTC/USDC' as const, wallet: seller.wallet, amountMicroRtc, pricePerRtcNanoQuote: 100_000_000n, ttlSeconds: 3600,
    ethAddress: null, htlcHash,
    walletAuth: seller.sign('create_order', 'create_order', { side: 'sell', pair: 'RTC/USDC', amount_micro_rtc: Number(amountMicroRtc), price_per_rtc_nano_quote: 100_000_000, ttl_seconds: 3600, eth_address: '', htlc_hash: htlcHash }, nowSeconds),
  };
  const match = { wallet: buyer.wallet, ethAddress: null, htlcHash: null, walletAuth: buyer.sign('match_order', orderId, { eth_address: '', htlc_hash: '' }, nowSeconds) };
  const confirm = { wallet: seller.wallet, quoteTx: '0xquote', secret, walletAuth: seller.sign('confirm_settlement', orderId, { quote_tx: '0xquote', secret_sha256: htlcHash }, nowSeconds) };
  return { orderId, place, match, confirm };
}

let requestSeq = 0;
const req = () => ({ requestId: `bench-${++requestSeq}` });

async function runChunk(config: Config, count: number, nowSeconds: number, measured: boolean): Promise<void> {
  const trades = Array.from({ length: count }, (_, k) => signTrade(config, config.next + k, nowSeconds));
  config.next += count;
  collectGarbage();
  const commitsBefore = readServerCounters().commits[config.file] ?? 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let index = 0;
  const worker = async () => {
    for (let t = trades[index++]; t !== undefined; t = trades[index++]) {
      await config.ledger.placeOrder(t.place, req());
      await config.ledger.matchOrder(t.orderId, t.match, req());
      const done = await config.ledger.confirmSettlement(t.orderId, t.confirm, req());
      if (done.state.status !== 'completed') throw new Error(`trade ${t.orderId} ended ${done.state.status}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (!measured) return;
  const used = process.cpuUsage(cpu);
  config.wallMs += Number(process.hrtime.bigint() - started) / 1e6;
  config.cpuUs += used.user + used.system;
  config.trades += count;
  config.commits += (readServerCounters().commits[config.file] ?? 0) - commitsBefore;
}

function zeroCounts(c: Counts): void {
  c.appends = 0;
  c.eventsWritten = 0;
  c.streamReads = 0;
  c.eventsRead = 0;
}

export const tradePathBenchmark: Benchmark = {
  name: 'trade-path',
  description: 'one complete trade through the use cases in process: before vs after levers 2 and 4, alternating',
  async run(options: BenchOptions) {
    installCommitCounter();
    const dir = mkdtempSync(join(options.tempDir, 'otc-bench-trade-path-'));
    const clock = { nowMs: Date.now() };
    const nowSeconds = Math.floor(clock.nowMs / 1000);
    const before = openConfig(dir, 'before', { signatureIndex: false, cache: false }, clock);
    const lever2 = openConfig(dir, 'lever2', { signatureIndex: true, cache: false }, clock);
    const after = openConfig(dir, 'after', { signatureIndex: true, cache: true }, clock);
    const all = [before, lever2, after];
    try {
      for (const c of all) {
        await runChunk(c, WARMUP_TRADES, nowSeconds, false);
        zeroCounts(c.counts);
      }
      const chunks = Math.max(1, Math.ceil(options.n / CHUNK_TRADES));
      for (let i = 0; i < chunks; i++) {
        const order = i % 2 === 0 ? all : [...all].reverse();
        for (const c of order) await runChunk(c, CHUNK_TRADES, nowSeconds, true);
      }
      return report(before, lever2, after);
    } finally {
      for (const c of all) {
        await c.gateway.close();
        await c.store.close();
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function report(before: Config, lever2: Config, after: Config) {
  const per = (c: Config, v: number) => v / Math.max(1, c.trades);
  const row = (c: Config): Measurement => ({ label: `${c.label}: trades (${IN_FLIGHT} in flight)`, ops: c.trades, elapsedMs: c.wallMs, opsPerSec: c.trades / (c.wallMs / 1000) });
  const line = (c: Config) =>
    `${c.label.padEnd(6)} per trade: CPU ${(per(c, c.cpuUs) / 1000).toFixed(3)} ms, appends ${per(c, c.counts.appends).toFixed(2)}, events ${per(c, c.counts.eventsWritten).toFixed(2)}, ` +
    `events.db COMMITs ${per(c, c.commits).toFixed(2)}, stream reads ${per(c, c.counts.streamReads).toFixed(2)}, events read ${per(c, c.counts.eventsRead).toFixed(2)}`;
  const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : (a / b).toFixed(3));
  return {
    measurements: [row(before), row(lever2), row(after)],
    notes: [
      line(before),
      line(lever2),
      line(after),
      `lever2 / before: CPU per trade ${ratio(lever2.cpuUs / lever2.trades, before.cpuUs / before.trades)}`,
      `after / before: CPU per trade ${ratio(after.cpuUs / after.trades, before.cpuUs / before.trades)}, appends ${ratio(after.counts.appends, before.counts.appends)}, ` +
        `COMMITs ${ratio(after.commits / after.trades, before.commits / before.trades)}, stream reads ${ratio(after.counts.streamReads, before.counts.streamReads)}, events read ${ratio(after.counts.eventsRead, before.counts.eventsRead)}, trades/s ${ratio(after.trades / after.wallMs, before.trades / before.wallMs)}`,
    ],
  };
}
