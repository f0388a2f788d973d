import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { EsdbStandIn, HOSTILE_SERVER } from '../support/esdbStandIn/server.js';
import { SandboxNode, startSandboxServer, type SandboxServer } from '../../src/sandbox/index.js';
import { get, tempDir, until } from './support.js';
import { crashLedgerEnv, killDuringRelease, killLeft, spawnLedgerProcess, type LedgerProcess } from './ledgerChild.js';

/**
 * Issue 13 part 2 on EventStoreDB (the in-repo stand-in, a test double of its gRPC protocol):
 * a ledger process holding an order lease is killed (SIGKILL) while its release call hangs at the
 * node, the node completing the accept meanwhile, and a new ledger process (a new instance id, its
 * own data dir, sharing only the store) is started. The dead instance's heartbeat stops, so its
 * order lease is taken once that heartbeat has stood still for LEDGER_LEASE_HEARTBEAT_MS (1 s here),
 * and the order settles, long before the lease's TTL (16 node timeouts = 16 s) would have let it.
 */

const dirs: ReturnType<typeof tempDir>[] = [];
const children: ChildProcess[] = [];
let sandbox: SandboxServer | null = null;
let standIn: EsdbStandIn | null = null;
afterAll(async () => {
  killLeft(children);
  await sandbox?.close();
  await standIn?.stop();
  for (const dir of dirs) dir.remove();
});

const SHARED_SECRET_KEY = '5d'.repeat(32);

/** Every write of the order lease, oldest first (each event's data). */
function leaseWritesOf(orderId: string): Array<Record<string, unknown>> {
  const events = standIn?.log.streamEvents(`lease-order-driver:${orderId}`) ?? [];
  return events.map((e) => JSON.parse(Buffer.from(e.data).toString('utf8')) as Record<string, unknown>);
}

/** The order lease as the store holds it now (its last event's data). */
function lastLeaseOf(orderId: string): Record<string, unknown> | null {
  return leaseWritesOf(orderId).at(-1) ?? null;
}

async function startLedgerProcess(nodeUrl: string, storeUrl: string, name: string): Promise<LedgerProcess> {
  const dir = tempDir(name);
  dirs.push(dir);
  return spawnLedgerProcess({
    ...crashLedgerEnv(dir.path, nodeUrl),
    LEDGER_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: storeUrl,
    // Every instance needs the same key (docs/SCALING.md): the second decrypts the first's preimage.
    LEDGER_SECRET_KEY: SHARED_SECRET_KEY,
    LEDGER_LEASE_HEARTBEAT_MS: '1000',
    // The order lease lasts 16 node timeouts (16 s): what a crashed holder's lease cost before.
    LEDGER_NODE_TIMEOUT_MS: '1000',
    // Start refuses a socket timeout shorter than an order's lease, which inline settlements may take.
    LEDGER_HTTP_CONNECTION_TIMEOUT_MS: '60000',
    // The reconciler takes the order once it is stuck (the least allowed: 4 node timeouts).
    LEDGER_SETTLEMENT_STUCK_MS: '4000',
    LEDGER_RECONCILE_INTERVAL_MS: '250',
  }, children);
}

describe('a SIGKILLed esdb ledger: a new instance takes its order lease within the heartbeat timeout (issue 13)', () => {
  it('completes the order whose release hung at the node when its lease holder died', async () => {
    standIn = await EsdbStandIn.start({ faults: HOSTILE_SERVER });
    sandbox = await startSandboxServer({ node: new SandboxNode({ autoConfirm: 'immediate' }) });
    const node = sandbox.node;
    const first = await startLedgerProcess(sandbox.url, standIn.connectionString, 'esdb-crash-first');
    // The node applies the accept (the escrow is released) and never answers it; the process dies.
    const { orderId } = await killDuringRelease(first, node);
    const killedAtMs = Date.now();

    // The dead instance's lease names it and its heartbeat stream has stopped.
    const lease = lastLeaseOf(orderId);
    expect(lease).toMatchObject({ owner: expect.any(String), holder: expect.any(String) });
    const holder = (lease as { holder: string }).holder;

    const second = await startLedgerProcess(sandbox.url, standIn.connectionString, 'esdb-crash-second');
    try {
      await until(async () => (await get(second.url, `/api/orders/${orderId}`)).body.order?.status === 'completed', 'the order to settle', 30_000);
      // Before the dead holder's lease would have expired (16 s after its last write).
      expect(Date.now() - killedAtMs).toBeLessThan(16_000);
      // A new holder took the lease (its last write may already be the release after settling).
      const holders = leaseWritesOf(orderId).map((w) => w['holder']).filter((h) => typeof h === 'string');
      expect(holders.some((h) => h !== holder)).toBe(true);
      expect(node.jobs().filter((j) => j.title.includes(orderId))).toHaveLength(1);
      expect(node.transfers()).toHaveLength(1);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 90_000);
});
