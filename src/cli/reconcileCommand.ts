import type { Config } from '../config.js';
import { leasesFor, openStore } from '../main.js';
import { nodeFromConfig } from '../gateways/fromConfig.js';
import { leaseTtlMsFor } from '../settlement/driver.js';
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
  try {
    const summary = await reconcilePass({
      store, node: node.gateway, leases, settleWindowSeconds: config.settleWindowSeconds,
      leaseTtlMs: leaseTtlMsFor(config.nodeTimeoutMs), stuckMs: config.settlementStuckMs,
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
