import { until } from '../support/until.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer, type SandboxServer } from '../../src/sandbox/index.js';
import type { RunningLedger } from '../../src/main.js';
import { baseEnv, generateWallet, get, placeSellBody, post, startFromEnv, tempDir } from './support.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sharedNode(): Promise<SandboxServer> {
  const sandbox = await startSandboxServer({ node: new SandboxNode({ autoConfirm: 'immediate' }) });
  cleanups.push(() => sandbox.close());
  return sandbox;
}

const NODE_TIMEOUT_MS = 500;
const STUCK_MS = 4 * NODE_TIMEOUT_MS;

async function start(dataDir: string, sandbox: SandboxServer, extra: Record<string, string> = {}): Promise<RunningLedger> {
  const running = await startFromEnv(baseEnv(dataDir, {
    // The shortest stuck threshold start-up accepts: a whole release (4 node calls) at the node timeout.
    RUSTCHAIN_NODE: sandbox.url, RC_ADMIN_KEY: DEFAULT_SANDBOX_ADMIN_KEY, LEDGER_NODE_TIMEOUT_MS: String(NODE_TIMEOUT_MS),
    LEDGER_SETTLEMENT_STUCK_MS: String(STUCK_MS), ...extra,
  }));
  cleanups.push(() => running.close());
  return running;
}


describe('the reconciler as the service runs it', () => {
  it('runs a pass at start that finishes a lock left pending, and its node calls reach /metrics', async () => {
    const dir = tempDir('reconcile-start');
    cleanups.push(() => dir.remove());
    const sandbox = await sharedNode();
    const seller = generateWallet();
    sandbox.node.fund(seller.wallet, 1_000_000_000n);

    // A first run whose lock answer is lost: the order waits in escrow_pending.
    sandbox.node.injectFault('POST /agent/jobs', 'error_500', 1);
    const first = await start(dir.path, sandbox);
    const placed = await post(first.url, '/api/orders', placeSellBody(seller));
    expect(placed.status).toBe(202);
    const orderId = placed.body.order.order_id as string;
    await first.close();
    // The order must have sat in flight for the stuck threshold before the pass at start acts on it.
    await new Promise((r) => setTimeout(r, STUCK_MS + 100));

    // A second run on the same data dir, with no timer (interval 0): only the pass at start.
    const second = await start(dir.path, sandbox);
    let order = await get(second.url, `/api/orders/${orderId}`);
    await until(async () => (order = await get(second.url, `/api/orders/${orderId}`)).body.order?.status === 'open', 'the pass at start', 10_000);
    expect(order.body.order.escrow.status).toBe('locked');
    expect(sandbox.node.jobs().filter((j) => j.title.includes(orderId))).toHaveLength(1);
    // The second run served no command: every node call it counted is the reconciler's.
    const metrics = await get(second.url, '/metrics');
    expect(String(metrics.body.raw)).toMatch(/otc_ledger_node_calls_total\{step="lock",outcome="ok"\} 1/);
  });
});
