import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import { handleOrderCommand } from '../../src/commands/handleCommand.js';
import { verifyChain } from '../../src/eventstore/hashChain.js';
import { SqliteEventStore, type SqliteWriterMode } from '../../src/eventstore/sqlite.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import type { WorkerReport } from './fixtures/appendWorker.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const workerScript = fileURLToPath(new URL('./fixtures/appendWorker.ts', import.meta.url));
const APPENDS_PER_WORKER = 300;
const ORDER_IDS = ['otc_2p00000000000001', 'otc_2p00000000000002', 'otc_2p00000000000003'];

interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly ready: Promise<void>;
  readonly finished: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startWorker(dbPath: string, worker: string, writer: SqliteWriterMode): Child {
  const args = JSON.stringify({ dbPath, worker, writer, orderIds: ORDER_IDS, appends: APPENDS_PER_WORKER });
  const child = spawn(process.execPath, ['--import', 'tsx', workerScript, args], { cwd: projectRoot });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    if (stdout.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const finished = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      markReady(); // a child that died before `ready` must not leave the test waiting
      resolve({ code, stdout, stderr });
    });
  });
  return { process: child, ready, finished };
}

async function placeOrders(dbPath: string): Promise<void> {
  const store = new SqliteEventStore({ path: dbPath });
  const ctx = { correlationId: 'setup', causationId: null, actor: 'RTC' + 'a'.repeat(40), now: () => new Date('2026-01-01T00:00:00Z') };
  for (const orderId of ORDER_IDS) {
    await handleOrderCommand(store, orderId, {
      type: 'PlaceOrder', orderId, side: 'buy', pair: 'RTC/USDC', makerWallet: ctx.actor, amountMicroRtc: 1_000_000n,
      pricePerRtcNanoQuote: 100_000_000n, ttlSeconds: 86_400 * 365, makerEthAddress: null, htlcHash: null, now: ctx.now(),
    }, ctx);
  }
  await store.close();
}

function parseReport(result: { code: number | null; stdout: string; stderr: string }): WorkerReport {
  expect(result.code, `worker exited abnormally; stderr:\n${result.stderr}`).toBe(0);
  const last = result.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as WorkerReport;
}

describe('sqlite event store shared by two processes', () => {
  let dir: string | null = null;
  const children: Child[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.process.exitCode === null) child.process.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = null;
  });

  // Each child's appends commit on its event loop, on its writer thread, or adaptively (issue 14 lever 3).
  it.each<SqliteWriterMode>(['inline', 'worker', 'adaptive'])('loses, duplicates and crashes nothing when both append to the same streams, every race a VersionConflict (%s writers)', async (writer) => {
    dir = await mkdtemp(join(tmpdir(), 'otc-ledger-2p-'));
    const dbPath = join(dir, 'events.db');
    await placeOrders(dbPath);
    children.push(startWorker(dbPath, 'a', writer), startWorker(dbPath, 'b', writer));
    await Promise.all(children.map((c) => c.ready));
    for (const child of children) child.process.stdin.write('go\n');
    const reports = (await Promise.all(children.map((c) => c.finished))).map(parseReport);

    for (const report of reports) {
      expect(report.writer).toBe(writer);
      expect(report.otherErrors).toEqual([]);
      expect(report.appended).toBe(APPENDS_PER_WORKER);
    }
    console.info(`two-process append: conflicts ${reports.map((r) => `${r.worker}=${r.conflicts}`).join(', ')}`);
    const store = new SqliteEventStore({ path: dbPath });
    try {
      await expectEveryAppendOnce(store, reports);
    } finally {
      await store.close();
    }
  });
});

async function expectEveryAppendOnce(store: SqliteEventStore, reports: readonly WorkerReport[]): Promise<void> {
  const all: RecordedEvent[] = [];
  for (const orderId of ORDER_IDS) {
    const events = await store.readStream(orderStream(orderId));
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => BigInt(i + 1)));
    // Each child chained its event onto the last one it read: a lost race that slipped through
    // would leave a prev_hash pointing at a superseded event.
    expect(verifyChain(events)).toEqual({ ok: true });
    all.push(...events);
  }
  const recorded = all.filter((e) => e.type === 'NodeCallFailed');
  const keys = recorded.map((e) => e.data['key']);
  const expectedKeys = reports.flatMap((r) => Array.from({ length: APPENDS_PER_WORKER }, (_, i) => `${r.worker}-${i}`));
  expect([...keys].sort()).toEqual([...expectedKeys].sort());
  expect(new Set(recorded.map((e) => e.eventId))).toEqual(new Set(reports.flatMap((r) => r.eventIds)));
  const log = await store.readAll(0n, 10_000);
  expect(log).toHaveLength(ORDER_IDS.length + 2 * APPENDS_PER_WORKER);
  expect(new Set(log.map((e) => e.eventId)).size).toBe(log.length);
  // The precondition of the whole test: the children really wrote concurrently, not one after the other.
  const writers = log.filter((e) => e.type === 'NodeCallFailed').map((e) => String(e.data['key']).split('-')[0]);
  const switches = writers.filter((w, i) => i > 0 && w !== writers[i - 1]).length;
  expect(switches, 'the two workers\' appends interleave in the log').toBeGreaterThan(1);
}
