import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { SandboxNode, startSandboxServer, type SandboxServer } from '../../src/sandbox/index.js';
import { get, tempDir, until } from './support.js';
import { crashLedgerEnv, killDuringRelease, killLeft, spawnLedgerProcess, type LedgerProcess } from './ledgerChild.js';

/**
 * Issue 13 part 2, against real processes: a ledger killed (SIGKILL) while its release call hangs
 * at the node, the node completing the accept meanwhile, and a new ledger on the same data dir.
 * The dead process's order lease must not hold the order: the restarted ledger's FIRST reconciler
 * pass finishes the settlement, long before the lease's TTL (8 minutes with these settings).
 */

const dir = tempDir('crash-restart');
const children: ChildProcess[] = [];
let sandbox: SandboxServer | null = null;
afterAll(async () => {
  killLeft(children);
  await sandbox?.close();
  dir.remove();
});

async function startLedgerProcess(nodeUrl: string): Promise<LedgerProcess> {
  return spawnLedgerProcess({
    ...crashLedgerEnv(dir.path, nodeUrl),
    // Long enough that the hung accept is still in flight when the process dies; the order lease
    // then lasts 16 node timeouts (8 minutes).
    LEDGER_NODE_TIMEOUT_MS: '30000',
    // Start refuses a socket timeout shorter than an order's lease, which inline settlements may take.
    LEDGER_HTTP_CONNECTION_TIMEOUT_MS: '960000',
    // Only the passes at start: the ones this test is about. The stuck threshold stays at its
    // default (2 minutes): a drive whose holder is gone is resumed without waiting for it.
    LEDGER_RECONCILE_INTERVAL_MS: '0',
  }, children);
}

describe('a SIGKILLed ledger, restarted, resumes its settlement on the first reconciler pass (issue 13)', () => {
  it('completes the order whose release hung at the node when the process died', async () => {
    sandbox = await startSandboxServer({ node: new SandboxNode({ autoConfirm: 'immediate' }) });
    const node = sandbox.node;
    const first = await startLedgerProcess(sandbox.url);
    // The node applies the accept (the escrow is released) and never answers it; the process dies.
    const { orderId } = await killDuringRelease(first, node);
    expect(first.logs.some((l) => l.msg === 'reconciler pass' && l.summary.examined > 0)).toBe(false);

    const second = await startLedgerProcess(sandbox.url);
    try {
      await until(() => second.logs.some((l) => /^reconciler pass/.test(l.msg as string)), 'the first reconciler pass', 30_000);
      const pass = second.logs.find((l) => /^reconciler pass/.test(l.msg as string))!;
      expect(pass.msg).toBe('reconciler pass');
      expect(pass.summary).toMatchObject({ examined: 1, completed: 1, left: 0 });
      expect(pass.resumed_orphaned_drives).toBe(true);
      expect(second.logs.some((l) => l.msg === 'took over the lease of a process that is gone' && l.holder_pid === first.child.pid)).toBe(true);

      const order = await get(second.url, `/api/orders/${orderId}`);
      expect(order.body.order.status).toBe('completed');
      expect(node.jobs().filter((j) => j.title.includes(orderId))).toHaveLength(1);
      expect(node.transfers()).toHaveLength(1);
      expect(node.keyRequestCount(`otc_payout:${orderId}`)).toBeGreaterThanOrEqual(1);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 90_000);
});
