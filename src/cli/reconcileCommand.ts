import { loadQuoteChainConfig, type Config } from '../config.js';
import { driverDepsFor, ESCROW_WATCH_PER_PASS, leasesFor, openStore } from '../main.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openReadDb } from '../projections/registry.js';
import { escrowWatchList } from '../projections/workQueue.js';
import { nodeFromConfig } from '../nodeFromConfig.js';
import { reconcilePass, scanAllOrders, type ReconcileSummary } from '../settlement/reconciler.js';
import type { Output } from './progress.js';
import { paint, renderTable, type Paint } from './table.js';

export interface ReconcileOptions {
  readonly json?: boolean;
  readonly colour?: boolean;
}

/** What one pass looked at, besides its summary: said first, so "0 completed" is never ambiguous. */
export interface PassScope {
  readonly node: string;
  readonly store: string;
  readonly streamsScanned: number;
  readonly escrowsLookedUp: number;
  /** False when the server's read models were absent, so no escrow sample could be chosen. */
  readonly readModels: boolean;
  readonly stuckMs: number;
}

const OUTCOMES: readonly [keyof ReconcileSummary, string][] = [
  ['completed', 'payout confirmed; the order is completed'],
  ['payout_pending', 'payout queued at the node, not final yet'],
  ['locked', 'escrow lock confirmed'],
  ['recovered', 'left settlement_recovery'],
  ['reverted', 'release provably did not happen; matched again'],
  ['expired', 'past expires_at or settle_by; expired'],
  ['lapsed', 'no valid quote lock by lock_by (chain time); lapsed'],
  ['refunded', 'escrow refunded to its owner'],
  ['left', 'still in flight or in recovery (next pass, or an operator)'],
];

/** The summary a person reads: what was examined, then one row per outcome. */
export function describePass(summary: ReconcileSummary, scope: PassScope, p: Paint): string {
  const sample = scope.readModels
    ? `${scope.escrowsLookedUp} open and matched orders' escrow jobs looked up`
    : 'no escrow jobs looked up (no read models in the data dir: the server has not run here)';
  const head = [
    `${p('bold', 'reconciler pass')} against ${scope.node}, store ${scope.store}`,
    `examined ${summary.examined} orders (every order stream: ${scope.streamsScanned} scanned); ${sample}`,
    `in-flight orders are resumed once still for ${scope.stuckMs} ms`,
  ].join('\n');
  const rows = OUTCOMES.map(([key, meaning]) => {
    const n = summary[key];
    const tone = n === 0 ? 'dim' : key === 'left' ? 'yellow' : 'green';
    return [{ text: String(n), tone }, key, meaning] as const;
  });
  return `${head}\n\n${renderTable(['orders', 'outcome', 'meaning'], rows, p)}`;
}

/** A node URL as it may be printed: credentials in it (user:pass@) never reach the terminal. */
function printable(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/**
 * `otc-ledger reconcile [--json]`: one pass over every order stream (a scan, so it needs no read
 * model), sharing the order leases of a server running on the same data dir.
 */
export async function runReconcileOnce(config: Config, out: Output, options: ReconcileOptions = {}): Promise<number> {
  if (config.rustchainNode === null) {
    out.write('reconcile needs RUSTCHAIN_NODE: the embedded sandbox node lives inside `serve` (use POST /admin/reconcile there)\n');
    return 2;
  }
  const store = await openStore(config);
  const node = nodeFromConfig(config, (alert) => out.write(`ALERT ${alert.code}: ${alert.message}\n`));
  const leases = leasesFor(config, store);
  // The matched orders whose escrow to look up come from the server's read models, when it has run.
  const readDbPath = join(config.dataDir, 'read.db');
  const readDb = existsSync(readDbPath) ? openReadDb(readDbPath, { readonly: true }) : null;
  const scan = scanAllOrders({ store });
  const watch = escrowWatchList(() => readDb, ESCROW_WATCH_PER_PASS);
  let streamsScanned = 0;
  let escrowsLookedUp = 0;
  try {
    const summary = await reconcilePass({
      ...driverDepsFor(config, store, node.gateway, leases, undefined, loadQuoteChainConfig()),
      stuckMs: config.settlementStuckMs,
      now: () => new Date(),
      candidates: async (at, stuckMs) => {
        const ids = await scan(at, stuckMs);
        streamsScanned = ids.length;
        return ids;
      },
      escrowWatch: async () => {
        const ids = await watch();
        escrowsLookedUp = ids.length;
        return ids;
      },
    });
    const scope: PassScope = { node: printable(config.rustchainNode), store: store.name, streamsScanned, escrowsLookedUp, readModels: readDb !== null, stuckMs: config.settlementStuckMs };
    out.write(options.json === true
      ? `${JSON.stringify({ ok: true, summary, examined: { order_streams: streamsScanned, escrow_jobs: escrowsLookedUp, read_models: readDb !== null } }, null, 2)}\n`
      : describePass(summary, scope, paint(options.colour === true)));
    return 0;
  } finally {
    readDb?.close();
    leases.close();
    await node.gateway.close();
    await store.close();
  }
}
