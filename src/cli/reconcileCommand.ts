import type { Config } from '../config.js';
import { driverDepsFor, ESCROW_WATCH_PER_PASS, leasesFor, openStore } from '../main.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openReadDb } from '../projections/registry.js';
import { escrowWatchList } from '../projections/workQueue.js';
import { nodeFromConfig } from '../nodeFromConfig.js';
import { reconcilePass, scanAllOrders } from '../settlement/reconciler.js';
import type { Output } from './progress.js';

/**
 * `otc-ledger reconcile`: one pass over every order stream (a scan, so it needs no read model),
 * sharing the order leases of a server running on the same data dir.
 */
export async function runReconcileOnce(config: Config, out: Output): Promise<number> {
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
  try {
    const summary = await reconcilePass({
      ...driverDepsFor(config, store, node.gateway, leases),
      stuckMs: config.settlementStuckMs,
      now: () => new Date(),
      candidates: scanAllOrders({ store }),
      escrowWatch: escrowWatchList(() => readDb, ESCROW_WATCH_PER_PASS),
    });
    out.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  } finally {
    readDb?.close();
    leases.close();
    await node.gateway.close();
    await store.close();
  }
}
