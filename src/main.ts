import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Config, QuoteChainConfig } from './config.js';
import type { LedgerDeps } from './app/deps.js';
import { orderIdByHtlcHash } from './projections/orders.js';
import { quoteChainFromConfig, type QuoteChainRuntime, type QuoteChainStatus } from './quoteChainFromConfig.js';
import { createLedger, type Ledger } from './app/ledger.js';
import { createSecretBox, loadOrCreateSecretKey } from './crypto/preimage.js';
import { createEsdbEventStore } from './eventstore/esdb.js';
import { registerStoreHealthMetrics, storeCommitCounter } from './eventstore/storeMetrics.js';
import { LEDGER_STREAM_PREFIXES } from './streamNames.js';
import { SqliteEventStore, type SqliteEventStoreOptions } from './eventstore/sqlite.js';
import type { EventStore } from './eventstore/types.js';
import { OrderCache } from './commands/loadOrder.js';
import { nodeFromConfig } from './nodeFromConfig.js';
import type { SandboxNode } from './sandbox/index.js';
import { buildApp } from './http/app.js';
import { mountSandboxChainInfo } from './http/sandboxChainInfo.js';
import type { ChainStatusView, VerifyView } from './http/deps.js';
import { orderViewOf } from './http/present.js';
import { verifyLedger } from './audit/verify.js';
import { openReadDb } from './projections/registry.js';
import { mountSandboxChainControls } from './sandbox/chainControls.js';
import { createIdempotencyStore } from './http/idempotency.js';
import { OpenRequests } from './http/openRequests.js';
import { logDestination, REDACTED_PATHS } from './http/logging.js';
import { createLedgerMetrics } from './http/metrics.js';
import { createSqliteReadSide, openOrderCounter } from './http/readSide.js';
import { ProjectionRunner, type ReadModelRunner } from './projections/runner.js';
import { WorkerProjectionRunner } from './projections/workerRunner.js';
import { dueWork, escrowWatchList, recoveryList } from './projections/workQueue.js';
import { chainTimeWatchList } from './projections/chainTimeWatch.js';
import { matchCooldownFor } from './matchCooldownFromConfig.js';
import { leaseTtlMsFor, type DriverDeps } from './settlement/driver.js';
import type { NodeGateway } from './gateways/node.js';
import { createSqliteLeases, type Leases, type SqliteLeasesOptions } from './settlement/leases.js';
import { createStoreLeases } from './settlement/storeLeases.js';
import { reconcilePass, startReconciler, type CandidateSource, type ReconcilerDeps, type ReconcilerTimer, type ReconcileSummary } from './settlement/reconciler.js';
import type { Database as Db } from 'better-sqlite3';
import { checkedStore, checkEscrowOutlivesQuoteLeg, createDependencyHealth, runStartChecks } from './startChecks.js';
import { quoteTailSecondsFor } from './settlement/steps.js';

export interface RunningLedger {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly ledger: Ledger;
  readonly store: EventStore;
  readonly sandbox: SandboxNode | null;
  /** The quote chain and its follower (sandbox or evm mode); null in manual mode. */
  readonly quoteChain: QuoteChainRuntime | null;
  /** The read-model writer (a WorkerProjectionRunner for the SQLite store unless LEDGER_READ_MODEL_WRITER=inline). */
  readonly readModelWriter: ReadModelRunner;
  close(): Promise<void>;
}

export interface StartOptions {
  /**
   * The quote chain's mode and settings (loadQuoteChainConfig). `npm start` passes the environment's,
   * whose default is sandbox; absent = manual, so embedding callers and tests start no chain unless asked.
   */
  readonly quoteChain?: QuoteChainConfig;
  /** The ledger's clock (default: the machine's). Tests move it apart from the chain's. */
  readonly now?: () => Date;
}

/** The only wiring: config → stores → gateways → ledger → read side → app → listen. */
export async function startLedger(config: Config, log: Logger = createLogger(config), options: StartOptions = {}): Promise<RunningLedger> {
  // Start checks (src/startChecks.ts): a usable data dir, and a store that answers, before any port opens.
  runStartChecks(config);
  if (options.quoteChain !== undefined) checkEscrowOutlivesQuoteLeg(config, options.quoteChain);
  const health = createDependencyHealth();
  // Issue 14 lever 3: a writer thread that stops leaves every append refused until a restart.
  const onWriterStopped = (error: Error) => {
    health.report('LEDGER_SQLITE_WRITER', error.message);
    log.error({ err: error }, 'the event store\'s writer thread stopped: appends are refused until the ledger is restarted');
  };
  const metricsRegistry = new Registry();
  // The adaptive writer commits a lone append on the loop only while no other request is open.
  const openRequests = new OpenRequests();
  const store = await checkedStore(config, () => openStore(config, {
    writer: config.sqliteWriter, onWriterStopped, isCallerAlone: openRequests.isCallerAlone,
    ...(config.store === 'sqlite' ? { onCommit: storeCommitCounter(metricsRegistry) } : {}),
  }));
  const node = nodeFromConfig(config, (alert) => {
    health.report('RUSTCHAIN_NODE', alert.message);
    log.error({ alert: alert.code }, alert.message);
  });
  if (node.sandbox) log.warn('SANDBOX: no RUSTCHAIN_NODE set; escrow and payouts go to the embedded sandbox node, not a real chain');
  const now = options.now ?? (() => new Date());
  const leases = leasesFor(config, store, () => now().getTime(), (name, from) => log.warn({ lease: name, holder_pid: from.pid }, 'took over the lease of a process that is gone'));
  registerStoreHealthMetrics(metricsRegistry, store);
  const secretBox = createSecretBox(loadOrCreateSecretKey(config.secretKeyHex, config.dataDir));
  const metrics = createLedgerMetrics(metricsRegistry);
  // Inline drives and reconciler passes alike report their node calls to the metrics; a hijacked
  // escrow (node_calls{outcome="hijacked"}) is also an alert in the log.
  const onStep: DriverDeps['onStep'] = (report) => {
    metrics.onStep(report);
    if (report.outcome === 'escrow_lost') log.error({ order_id: report.orderId, step: report.step, alert: 'escrow_lost' }, 'an escrow job was cancelled or expired at the node while its order is live; the order is parked for an operator');
    if (report.outcome === 'held_back') log.warn({ order_id: report.orderId, step: report.step }, 'a chain-verified refund was held back: the final look-up could not prove that no swap under its hashlock can still be claimed; the reconciler looks again');
    if (report.outcome === 'hijacked') log.error({ order_id: report.orderId, step: report.step, alert: 'escrow_hijacked' }, 'an escrow job was taken by a worker other than the ledger\'s; the order is parked');
  };
  const driverDeps = driverDepsFor(config, store, node.gateway, leases, onStep, options.quoteChain);
  const quoteChain = options.quoteChain === undefined ? null : await quoteChainFromConfig(options.quoteChain, { dataDir: config.dataDir, registry: metricsRegistry, leases, log, clockMs: () => now().getTime() })
    .catch(async (error: unknown) => {
      leases.close();
      await node.gateway.close();
      await store.close();
      throw error;
    });
  const runner = readModelRunnerFor(config, store, log);
  runner.start();
  // Hashlocks are looked up in the orders read model; a miss waits once for it to reach the store's head.
  const orderByHtlcHash = async (hash: string): Promise<string | null> => {
    const found = orderIdByHtlcHash(runner.db, hash);
    if (found !== null) return found;
    return (await runner.waitFor(await store.headPosition(), 5_000)) ? orderIdByHtlcHash(runner.db, hash) : null;
  };
  const finalLookUp = quoteChain?.finalLookUp({ store }) ?? null;
  const ledgerDeps: LedgerDeps = {
    ...driverDeps, secretBox, now, quoteLeg: quoteChain?.quoteLeg ?? null, finalLookUp,
    matchCooldown: matchCooldownFor(config, runner, () => store.headPosition()),
    openOrderCap: { maxPerWallet: config.maxOpenOrdersPerWallet, countOpen: openOrderCounter({ runner, store }) },
    onSecretUnreadable: (orderId) => log.error({ order_id: orderId }, 'cannot decrypt a preimage: is LEDGER_SECRET_KEY the same on every instance?'),
  };
  const ledger = createLedger(ledgerDeps);

  if (quoteChain) quoteChain.startFollower({ ...ledgerDeps, quoteLeg: quoteChain.quoteLeg }, orderByHtlcHash);
  const view = orderViewOf(ledger);
  const reconcilerDeps: ReconcilerDeps = {
    // The refund step of a chain-verified order looks the chain up again right before its node call.
    ...driverDeps, finalLookUp,
    stuckMs: config.settlementStuckMs,
    now,
    candidates: workQueueCandidates(() => runner.db, RECONCILE_BATCH, (kind, limit) =>
      log.warn({ kind, limit }, 'reconciler batch full: the rest of the due orders wait for the next pass')),
    escrowWatch: escrowWatchList(() => runner.db, ESCROW_WATCH_PER_PASS),
    ...(quoteChain && finalLookUp ? {
      chainTime: { candidates: chainTimeWatchList(() => runner.db, CHAIN_TIME_PER_PASS), finalizedTimeSeconds: quoteChain.quoteLeg.finalizedTimeSeconds, lookUp: finalLookUp },
    } : {}),
  };
  // An admin rebuild of the SQLite read DB runs on a heap-limited worker thread (issue 14 lever 6).
  const rebuildThread = config.store === 'sqlite' ? { storePath: join(config.dataDir, 'events.db'), readDbPath: join(config.dataDir, 'read.db') } : undefined;
  const { readModels, projections } = createSqliteReadSide({
    runner, store, ledger, stuckMs: config.settlementStuckMs, onRebuildError: (e, n) => log.error({ err: e, projection: n }, 'rebuild failed'),
    ...(rebuildThread === undefined ? {} : { rebuildThread }),
  });
  // A repeat is "in flight" for as long as the first run may still be going: a command plus one
  // drive of at most a dozen node calls; past that a crashed run's claim can be taken over.
  const idempotency = createIdempotencyStore({
    path: join(config.dataDir, 'idempotency.db'), box: secretBox, staleInFlightMs: leaseTtlMsFor(config.nodeTimeoutMs) * 2,
  });
  const app = await buildApp({
    config, ledger, readModels, projections, store, metrics, idempotency,
    reconcile: () => reconcilePass(reconcilerDeps),
    logger: { level: config.logLevel, stream: logDestination(config) },
    dependencyProblem: health.problem,
    verify: () => verifyWithReadModels(store, join(config.dataDir, 'read.db')),
    chainStatus: quoteChain ? async () => chainStatusView(await quoteChain.status()) : undefined,
  });
  openRequests.follow(app.server);
  if (node.sandbox) mountSandboxControls(app, node.sandbox);
  if (quoteChain?.sandbox) mountSandboxChainInfo(app, quoteChain.sandbox);
  if (quoteChain?.sandbox) {
    mountSandboxChainControls(app, {
      chain: quoteChain.sandbox,
      allowRemotePeers: config.sandboxPublic,
      orderOf: async (id) => {
        const found = await ledger.getOrder(id);
        return found && view(found.state, found.version, found.updatedAt);
      },
    });
  }
  const closeApp = gracefulClose(app);
  const closeStores = async (): Promise<void> => {
    await runner.close();
    idempotency.close();
    leases.close();
    await node.gateway.close();
    await store.close();
  };
  let url: string;
  try {
    url = await app.listen({ host: config.host, port: config.port });
    // Projections first catch up, so the first reconciler pass sees the whole work queue.
    await runner.waitForCaughtUp(30_000);
  } catch (error) {
    // A busy port or a store that never catches up: release everything, or the process stays up.
    await closeApp().catch(() => undefined);
    await quoteChain?.stop();
    await closeStores().catch(() => undefined);
    throw error;
  }
  const reportPass = (result: ReconcileSummary | Error, extra: Record<string, unknown> = {}): void => {
    if (result instanceof Error) log.error({ err: result, ...extra }, 'reconciler pass failed');
    else if (result.examined > 0) log.info({ summary: result, ...extra }, 'reconciler pass');
  };
  // Drives a killed process left behind are resumed first, then the regular passes start.
  let reconciler: ReconcilerTimer | null = null;
  let stopping = false;
  const resumed = resumeOrphanedDrives(reconcilerDeps, leases).then(
    (summary) => summary && reportPass(summary, { resumed_orphaned_drives: true }),
    (error: unknown) => reportPass(error instanceof Error ? error : new Error(String(error)), { resumed_orphaned_drives: true }),
  );
  void resumed.then(() => {
    if (!stopping) reconciler = startReconciler(reconcilerDeps, config.reconcileIntervalMs, (result) => reportPass(result));
  });
  log.info({ url, store: store.name, node: node.sandbox ? 'embedded sandbox' : withoutUserinfo(config.rustchainNode) }, 'otc-ledger listening');

  let closing: Promise<void> | null = null;
  return {
    app, url, ledger, store, sandbox: node.sandbox, quoteChain, readModelWriter: runner,
    // Closing twice (a signal during a shutdown, a test's clean-up) waits for the same shutdown.
    close() {
      closing ??= (async () => {
        await closeApp();
        stopping = true;
        await resumed;
        await reconciler?.stop();
        await quoteChain?.stop();
        await closeStores();
      })();
      return closing;
    },
  };
}

/** A node URL as it may be logged: credentials in it (user:pass@) never reach the logs. */
function withoutUserinfo(url: string | null): string | null {
  if (url === null) return null;
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

const RECONCILE_BATCH = 500;
/** How driveOrder names an order's lease (`order-driver:<order id>`). */
const ORDER_LEASE_PREFIX = 'order-driver:';

/**
 * One pass over the orders whose driver lease names a holder process that is gone (a ledger
 * killed mid-settlement on this machine), or over every order in flight when that holder kept
 * its leases in memory, right at start and whatever the stuck threshold: a
 * dead holder's drive is certainly not running anywhere, so resuming it cannot race a live one
 * (and if another instance got there first, the lease makes this pass a no-op). Null when none.
 */
export async function resumeOrphanedDrives(deps: ReconcilerDeps, leases: Leases): Promise<ReconcileSummary | null> {
  const names = (await leases.orphaned?.(ORDER_LEASE_PREFIX)) ?? [];
  // A gone holder that kept its leases in memory (alone on the lease file) leaves no names: every
  // order in flight may be one of its drives, and none is driven elsewhere, so all are resumed now.
  const everyDrive = (await leases.everyDriveOrphaned?.()) ?? false;
  if (names.length === 0 && !everyDrive) return null;
  const orderIds = names.slice(0, RECONCILE_BATCH).map((name) => name.slice(ORDER_LEASE_PREFIX.length));
  const { escrowWatch: _notThisPass, ...rest } = deps;
  const candidates: ReconcilerDeps['candidates'] = everyDrive
    ? async (at) => [...new Set([...orderIds, ...(await deps.candidates(at, 0))])]
    : async () => orderIds;
  return reconcilePass({ ...rest, stuckMs: 0, candidates });
}

/**
 * The reconciler's candidates from the work queue: at most `limit` due and `limit` parked orders
 * per pass, oldest first, so a flood of due orders is worked through over several passes instead
 * of being loaded at once. A full batch is reported, so a growing backlog is seen (the backlog
 * gauges in /metrics show its size).
 */
export function workQueueCandidates(db: () => Db, limit: number, onFull: (kind: 'due' | 'recovery', limit: number) => void): CandidateSource {
  return async (at, stuckMs) => {
    const due = dueWork(db(), { now: at, stuckMs, limit });
    const parked = recoveryList(db(), { now: at, stuckMs, limit }).map((r) => r.order_id);
    if (due.length >= limit) onFull('due', limit);
    if (parked.length >= limit) onFull('recovery', limit);
    return [...new Set([...due, ...parked])];
  };
}

/** A reporter that speaks at most once per interval: a flood must not become a flood of log lines. */
function atMostEvery<A extends unknown[]>(intervalMs: number, report: (...args: A) => void): (...args: A) => void {
  let lastMs = -Infinity;
  return (...args) => {
    const nowMs = Date.now();
    if (nowMs - lastMs < intervalMs) return;
    lastMs = nowMs;
    report(...args);
  };
}
/** Matched orders whose escrow job one reconciler pass looks up. */
export const ESCROW_WATCH_PER_PASS = 100;
/** Matched and lapsed orders one reconciler pass considers on chain time (a chain read only for those due). */
export const CHAIN_TIME_PER_PASS = 200;

/**
 * Graceful shutdown with keep-alive clients: fastify closes the connections idle when close()
 * starts, but a connection whose in-flight request finishes afterwards would stay open until the
 * keep-alive timeout (LEDGER_HTTP_KEEP_ALIVE_TIMEOUT_MS) and hold close() that long. While closing, answers carry
 * `Connection: close`, and connections that fall idle are closed.
 */
function gracefulClose(app: FastifyInstance): () => Promise<void> {
  let shuttingDown = false;
  app.addHook('onSend', async (_request, reply, payload) => {
    if (shuttingDown) reply.header('connection', 'close');
    return payload;
  });
  return async () => {
    shuttingDown = true;
    const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
    try {
      await app.close();
    } finally {
      clearInterval(sweep);
    }
  };
}


/**
 * Order leases every driver of this installation shares: processes that share a data dir share its
 * lease file; instances that share only an EventStoreDB cluster take their leases in the store.
 */
export function leasesFor(
  config: Config,
  store: EventStore,
  clockMs: () => number = Date.now,
  onTakeover?: SqliteLeasesOptions['onTakeover'],
): Leases {
  return config.store === 'esdb'
    ? createStoreLeases(store, { clockMs, heartbeatTimeoutMs: config.leaseHeartbeatTimeoutMs })
    : createSqliteLeases(join(config.dataDir, 'leases.db'), { onTakeover });
}

/** What every driver of this installation needs, whether it runs inline, in the reconciler or the CLI. */
export function driverDepsFor(
  config: Config, store: EventStore, node: NodeGateway, leases: Leases, onStep?: DriverDeps['onStep'], quoteChain?: QuoteChainConfig,
): DriverDeps {
  // In a chain-verified mode every escrow job is posted long enough to outlive any accepted T by the release slack.
  const quoteTailSeconds = quoteChain === undefined || quoteChain.mode === 'manual' ? 0 : quoteTailSecondsFor(quoteChain);
  return { store, node, leases, settleWindowSeconds: config.settleWindowSeconds, quoteTailSeconds, leaseTtlMs: leaseTtlMsFor(config.nodeTimeoutMs), onStep, orderCache: new OrderCache() };
}

/**
 * The configured event store: SQLite in the data dir, or EventStoreDB. Tools (the CLI) keep the
 * inline writer; the server passes its configured one (LEDGER_SQLITE_WRITER, issue 14 lever 3)
 * with its hooks: the stop report, the open-request count and the commits metric.
 */
export type SqliteWriterOptions = Pick<SqliteEventStoreOptions, 'writer' | 'onWriterStopped' | 'isCallerAlone' | 'onCommit'>;

export async function openStore(config: Config, writerOptions: SqliteWriterOptions = {}): Promise<EventStore> {
  if (config.store === 'esdb') {
    // The store follows only the ledger's own streams on $all; the domain names them.
    return createEsdbEventStore({ connectionString: config.eventStoreConnectionString ?? '', streamPrefixes: LEDGER_STREAM_PREFIXES });
  }
  return new SqliteEventStore({ path: join(config.dataDir, 'events.db'), ...writerOptions });
}

/**
 * The read-model writer (issue 14 lever 1): on a worker thread of its own for the SQLite store, so
 * its batches leave the request thread; inline when asked (LEDGER_READ_MODEL_WRITER=inline) and for
 * the esdb store, whose subscription is a client connection of this process.
 */
function readModelRunnerFor(config: Config, store: EventStore, log: Logger): ReadModelRunner {
  const options = {
    onError: (e: unknown, p: string | null) => log.error({ err: e, projection: p }, 'projection failed'),
    onWaitersFull: atMostEvery(10_000, (waiting: number) => log.warn({ waiting }, 'min_position reads at their limit: answering read_model_lagging')),
  };
  const readDbPath = join(config.dataDir, 'read.db');
  if (config.readModelWriter === 'worker' && store instanceof SqliteEventStore) {
    return new WorkerProjectionRunner({ ...options, store, eventsPath: join(config.dataDir, 'events.db'), readDbPath });
  }
  return new ProjectionRunner({ ...options, store, db: readDbPath });
}

export function createLogger(config: Pick<Config, 'logLevel'> & Partial<Pick<Config, 'logFormat' | 'noColor'>>): Logger {
  const options = { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  const destination = logDestination({ logFormat: config.logFormat ?? 'json', noColor: config.noColor ?? false });
  return destination === undefined ? pino(options) : pino(options, destination);
}

/**
 * GET /admin/verify: the audit over the event log and a read-only connection of its own to the read
 * DB (as `otc-ledger verify` opens it), so a running server is undisturbed.
 */
async function verifyWithReadModels(store: EventStore, readDbPath: string): Promise<VerifyView> {
  const readDb = openReadDb(readDbPath, { readonly: true });
  try {
    const report = await verifyLedger({ store, readDb });
    return { streams: report.streams, events: report.events, read_models: true, findings: report.findings };
  } finally {
    readDb.close();
  }
}

const isoOfSeconds = (seconds: bigint): string => new Date(Number(seconds) * 1000).toISOString();

/** GET /admin/chain's answer from the runtime's status: block numbers as strings, times as ISO. */
function chainStatusView(s: QuoteChainStatus): ChainStatusView {
  const block = (b: QuoteChainStatus['head']) => b && { number: b.number.toString(), hash: b.hash, timestamp: isoOfSeconds(b.timestampSeconds) };
  const checkpoint = s.follower?.checkpoint ?? null;
  const reorg = s.follower?.lastReorg ?? null;
  return {
    mode: s.mode, chain_id: s.chainId, contract: s.htlcAddress, head: block(s.head), finalized: block(s.finalized),
    checkpoint: checkpoint && { number: checkpoint.blockNumber.toString(), hash: checkpoint.blockHash },
    lag_blocks: checkpoint && s.finalized ? Number(s.finalized.number - checkpoint.blockNumber) : null,
    last_reorg: reorg && {
      block_number: reorg.blockNumber.toString(), detected_at: new Date(reorg.detectedAtMs).toISOString(), checkpoint_hash: reorg.checkpointHash, chain_hash: reorg.chainHash,
    },
    problem: s.problem,
  };
}

/**
 * The embedded sandbox node's controls (fund a wallet, confirm a payout, inject a fault) on the
 * ledger's own port, so the demo and a curl walk-through need no second process. Only mounted when
 * the ledger runs on the embedded sandbox; a real node is never reachable through here.
 */
function mountSandboxControls(app: FastifyInstance, sandbox: SandboxNode): void {
  app.route({
    method: ['GET', 'POST'],
    url: '/__sandbox/*',
    schema: { hide: true },
    handler: async (request, reply) => {
      const [path = '', query = ''] = request.url.split('?');
      const answer = await sandbox.handle({
        method: request.method,
        path,
        query: Object.fromEntries(new URLSearchParams(query)),
        headers: {},
        body: request.body ?? undefined,
      });
      if (answer === 'drop' || answer === 'hang') return reply.code(503).send({ ok: false, error: 'sandbox_fault' });
      return reply.code(answer.status).send(answer.body);
    },
  });
}
