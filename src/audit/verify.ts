import type { Database as Db } from 'better-sqlite3';
import { ORDER_STREAM_PREFIX, orderIdFromStream } from '../aggregates/order/events.js';
import type { EventStore } from '../eventstore/types.js';
import { ALL_PROJECTIONS } from '../projections/all.js';
import { activeTables } from '../projections/registry.js';
import { tradesProjection } from '../projections/trades.js';
import { tableName, type Projection } from '../projections/types.js';
import { compareReadModels } from './compareReadModels.js';
import type { Finding } from './findings.js';
import { chainFindings, checkOrderStream } from './invariants.js';
import { streamsWithPrefix } from '../eventstore/streams.js';
import { SIGNATURE_STREAM_PREFIX } from '../commands/signatures.js';
import { readForAudit } from './streamIntegrity.js';
import { createObservationChecker, type QuoteChainAudit } from './quoteChainAudit.js';

export type VerifyPhase = 'streams' | 'read_models';
export type VerifyProgress = (phase: VerifyPhase, done: number, total: number) => void;

export interface VerifyOptions {
  readonly store: EventStore;
  /** A connection of its own to the read DB (read-only is enough); null checks the log alone. */
  readonly readDb: Db | null;
  readonly projections?: readonly Projection[];
  readonly onProgress?: VerifyProgress;
  /** The quote chain to check every Quote* observation against; absent or null: not checked. */
  readonly quoteChain?: QuoteChainAudit | null;
}

export interface VerifyReport {
  readonly findings: Finding[];
  readonly streams: number;
  readonly events: number;
}

/** Every order stream's name, in order of creation. */
async function listOrderStreams(store: EventStore): Promise<string[]> {
  const names: string[] = [];
  for await (const stream of streamsWithPrefix(store, ORDER_STREAM_PREFIX)) names.push(stream);
  return names;
}

/**
 * Replays every order stream against the invariants of domain.md §7 and compares every read
 * model with a fresh rebuild. Reads only: safe while a server runs on the same files.
 */
export async function verifyLedger(options: VerifyOptions): Promise<VerifyReport> {
  const findings: Finding[] = [];
  const streams = await listOrderStreams(options.store);
  const confirmedOrders = new Set<string>();
  let events = 0;
  findings.push(...(await checkSignatureChains(options.store)));
  const observations = options.quoteChain ? createObservationChecker(options.quoteChain) : null;
  for (const [i, stream] of streams.entries()) {
    const recorded = await readForAudit(options.store, stream, findings);
    events += recorded.length;
    findings.push(...checkOrderStream(stream, recorded));
    if (observations !== null) findings.push(...(await observations.check(stream, recorded)));
    if (recorded.some((e) => e.type === 'PayoutConfirmed')) confirmedOrders.add(orderIdFromStream(stream));
    if ((i + 1) % 500 === 0 || i + 1 === streams.length) options.onProgress?.('streams', i + 1, streams.length);
  }
  if (options.readDb !== null) {
    findings.push(...checkTrades(options.readDb, confirmedOrders));
    const modelFindings = await compareReadModels({
      store: options.store,
      readDb: options.readDb,
      projections: options.projections ?? ALL_PROJECTIONS,
      onProgress: (position, target) => options.onProgress?.('read_models', Number(position), Number(target)),
    });
    findings.push(...modelFindings);
  }
  return { findings, streams: streams.length, events };
}

/** Invariant 7 for the signature streams too: each records one use and must verify. */
async function checkSignatureChains(store: EventStore): Promise<Finding[]> {
  const findings: Finding[] = [];
  for await (const stream of streamsWithPrefix(store, SIGNATURE_STREAM_PREFIX)) {
    findings.push(...chainFindings(stream, await readForAudit(store, stream, findings)));
  }
  return findings;
}

/** Invariant 6: every recorded trade belongs to an order whose payout was confirmed. */
function checkTrades(readDb: Db, confirmedOrders: ReadonlySet<string>): Finding[] {
  const tables = activeTables(readDb, tradesProjection);
  if (tables === null) return [];
  const rows = readDb.prepare(`SELECT trade_id, order_id FROM ${tableName(tables, 'trades')} ORDER BY position`).iterate() as IterableIterator<{
    trade_id: string;
    order_id: string;
  }>;
  const findings: Finding[] = [];
  for (const row of rows) {
    if (confirmedOrders.has(row.order_id)) continue;
    findings.push({
      kind: 'trade_without_payout',
      stream: `${ORDER_STREAM_PREFIX}${row.order_id}`,
      message: `trade ${row.trade_id} is recorded but order ${row.order_id} has no PayoutConfirmed`,
    });
  }
  return findings;
}
