import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Config } from './config.js';
import { createLedger, type Ledger } from './app/ledger.js';
import { createSecretBox, loadOrCreateSecretKey } from './crypto/preimage.js';
import { createEsdbEventStore } from './eventstore/esdb.js';
import { ORDER_STREAM_PREFIX } from './aggregates/order/events.js';
import { SIGNATURE_STREAM_PREFIX } from './commands/signatures.js';
import { SqliteEventStore } from './eventstore/sqlite.js';
import type { EventStore } from './eventstore/types.js';
import { nodeFromConfig } from './nodeFromConfig.js';
import type { SandboxNode } from './sandbox/index.js';
import { buildApp } from './http/app.js';
import { createIdempotencyStore } from './http/idempotency.js';
import { REDACTED_PATHS } from './http/logging.js';
import { createLedgerMetrics } from './http/metrics.js';
import { createSqliteReadSide } from './http/readSide.js';
import { ProjectionRunner } from './projections/runner.js';
import { dueWork, escrowWatchList, recoveryList } from './projections/workQueue.js';
import { leaseTtlMsFor, type DriverDeps } from './settlement/driver.js';
import type { NodeGateway } from './gateways/node.js';
import { createSqliteLeases, type Leases } from './settlement/leases.js';
import { createStoreLeases } from './settlement/storeLeases.js';
import { reconcilePass, startReconciler, type ReconcilerDeps } from './settlement/reconciler.js';

export interface RunningLedger {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly ledger: Ledger;
  readonly store: EventStore;
  readonly sandbox: SandboxNode | null;
  close(): Promise<void>;
}

/** The only wiring: config → stores → gateways → ledger → read side → app → listen. */
export async function startLedger(config: Config, log: Logger = createLogger(config)): Promise<RunningLedger> {
  mkdirSync(config.dataDir, { recursive: true });
  const store = await openStore(config);
  const node = nodeFromConfig(config, (alert) => log.error({ alert: alert.code }, alert.message));
  if (node.sandbox) log.warn('SANDBOX: no RUSTCHAIN_NODE set; escrow and payouts go to the embedded sandbox node, not a real chain');
  const leases = leasesFor(config, store);
  const secretBox = createSecretBox(loadOrCreateSecretKey(config.secretKeyHex, config.dataDir));
  const metrics = createLedgerMetrics(new Registry());
  const now = () => new Date();
  // Inline drives and reconciler passes alike report their node calls to the metrics; a hijacked
  // escrow (node_calls{outcome="hijacked"}) is also an alert in the log.
  const onStep: DriverDeps['onStep'] = (report) => {
    metrics.onStep(report);
    if (report.outcome === 'hijacked') log.error({ order_id: report.orderId, step: report.step, alert: 'escrow_hijacked' }, 'an escrow job was taken by a worker other than the ledger\'s; the order is parked');
  };
  const driverDeps = driverDepsFor(config, store, node.gateway, leases, onStep);
  const ledger = createLedger({
    ...driverDeps, secretBox, now,
    onSecretUnreadable: (orderId) => log.error({ order_id: orderId }, 'cannot decrypt a preimage: is LEDGER_SECRET_KEY the same on every instance?'),
  });

  const runner = new ProjectionRunner({ store, db: join(config.dataDir, 'read.db'), onError: (e, p) => log.error({ err: e, projection: p }, 'projection failed') });
  runner.start();
  const reconcilerDeps: ReconcilerDeps = {
    ...driverDeps,
    stuckMs: config.settlementStuckMs,
    now,
    candidates: async (at, stuckMs) => {
      const due = dueWork(runner.db, { now: at, stuckMs, limit: RECONCILE_BATCH });
      const parked = recoveryList(runner.db, { now: at, stuckMs, limit: RECONCILE_BATCH }).map((r) => r.order_id);
      return [...new Set([...due, ...parked])];
    },
    escrowWatch: escrowWatchList(() => runner.db, ESCROW_WATCH_PER_PASS),
  };
  const { readModels, projections } = createSqliteReadSide({ runner, store, ledger, stuckMs: config.settlementStuckMs, onRebuildError: (e, n) => log.error({ err: e, projection: n }, 'rebuild failed') });
  // A repeat is "in flight" for as long as the first run may still be going: a command plus one
  // drive of at most a dozen node calls; past that a crashed run's claim can be taken over.
  const idempotency = createIdempotencyStore({
    path: join(config.dataDir, 'idempotency.db'), box: secretBox, staleInFlightMs: leaseTtlMsFor(config.nodeTimeoutMs) * 2,
  });
  const app = await buildApp({
    config, ledger, readModels, projections, store, metrics, idempotency,
    reconcile: () => reconcilePass(reconcilerDeps),
    logger: { level: config.logLevel },
  });
  if (node.sandbox) mountSandboxControls(app, node.sandbox);
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
    await runner.waitFor(await store.headPosition(), 30_000);
  } catch (error) {
    // A busy port or a store that never catches up: release everything, or the process stays up.
    await closeApp().catch(() => undefined);
    await closeStores().catch(() => undefined);
    throw error;
  }
  const reconciler = startReconciler(reconcilerDeps, config.reconcileIntervalMs, (result) => {
    if (result instanceof Error) log.error({ err: result }, 'reconciler pass failed');
    else if (result.examined > 0) log.info({ summary: result }, 'reconciler pass');
  });
  log.info({ url, store: store.name, node: node.sandbox ? 'embedded sandbox' : withoutUserinfo(config.rustchainNode) }, 'otc-ledger listening');

  let closing: Promise<void> | null = null;
  return {
    app, url, ledger, store, sandbox: node.sandbox,
    // Closing twice (a signal during a shutdown, a test's clean-up) waits for the same shutdown.
    close() {
      closing ??= (async () => {
        await closeApp();
        await reconciler.stop();
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
/**
 * Open and matched orders whose escrow job one reconciler pass looks up (one GET each): above the
 * number of orders the book holds in practice, so a pass covers all of them, and bounded, so a
 * pass never runs without end (a larger book is covered over successive passes).
 */
export const ESCROW_WATCH_PER_PASS = 5_000;

/**
 * Graceful shutdown with keep-alive clients: fastify closes the connections idle when close()
 * starts, but a connection whose in-flight request finishes afterwards would stay open until the
 * keep-alive timeout (72 s) and hold close() that long. While closing, answers carry
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
export function leasesFor(config: Config, store: EventStore): Leases {
  return config.store === 'esdb' ? createStoreLeases(store) : createSqliteLeases(join(config.dataDir, 'leases.db'));
}

/** What every driver of this installation needs, whether it runs inline, in the reconciler or the CLI. */
export function driverDepsFor(config: Config, store: EventStore, node: NodeGateway, leases: Leases, onStep?: DriverDeps['onStep']): DriverDeps {
  return { store, node, leases, settleWindowSeconds: config.settleWindowSeconds, leaseTtlMs: leaseTtlMsFor(config.nodeTimeoutMs), onStep };
}

/** The configured event store: SQLite in the data dir, or EventStoreDB. */
export async function openStore(config: Config): Promise<EventStore> {
  if (config.store === 'esdb') {
    // The store follows only the ledger's own streams on $all; the domain names them.
    const streamPrefixes = [ORDER_STREAM_PREFIX, SIGNATURE_STREAM_PREFIX];
    return createEsdbEventStore({ connectionString: config.eventStoreConnectionString ?? '', streamPrefixes });
  }
  return new SqliteEventStore({ path: join(config.dataDir, 'events.db') });
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
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
