import { join } from 'node:path';
import type { Config } from '../config.js';
import { SqliteEventStore } from '../eventstore/sqlite.js';
import { createEsdbEventStore } from '../eventstore/esdb.js';
import { nodeFromConfig } from '../gateways/fromConfig.js';
import { createSqliteLeases } from '../settlement/leases.js';
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
  const store = config.store === 'esdb'
    ? await createEsdbEventStore({ connectionString: config.eventStoreConnectionString ?? '' })
    : new SqliteEventStore({ path: join(config.dataDir, 'events.db') });
  const node = nodeFromConfig(config, (alert) => out.write(`ALERT ${alert.code}: ${alert.message}\n`));
  const leases = createSqliteLeases(join(config.dataDir, 'leases.db'));
  try {
    const summary = await reconcilePass({
      store, node: node.gateway, leases, settleWindowSeconds: config.settleWindowSeconds,
      leaseTtlMs: Math.max(60_000, config.nodeTimeoutMs * 16), stuckMs: config.settlementStuckMs,
      now: () => new Date(), candidates: scanAllOrders({ store }),
    });
    out.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  } finally {
    leases.close();
    await node.gateway.close();
    await store.close();
  }
}
