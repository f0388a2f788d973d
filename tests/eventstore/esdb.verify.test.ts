import { afterEach, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/audit/verify.js';
import { EsdbEventStore } from '../../src/eventstore/esdb.js';
import { EsdbStandIn } from '../support/esdbStandIn/server.js';
import { newEvents } from './contractSupport.js';

/** verify on the esdb adapter reports ledger streams deleted or truncated in the store (issue 15 §7). */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('verify on an EventStoreDB whose ledger streams were deleted or truncated', () => {
  it('names each deleted and truncated stream, and none of the intact ones', async () => {
    const standIn = await EsdbStandIn.start();
    cleanups.push(() => standIn.stop());
    const store = new EsdbEventStore({ connectionString: standIn.connectionString, retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 } });
    cleanups.push(() => store.close());
    for (const stream of ['order-intact', 'order-cut', 'order-tomb', 'sig-intact', 'sig-soft']) await store.append(stream, newEvents(3), 'no_stream');
    standIn.log.writeMetadata('order-cut', { $maxCount: 2 });
    standIn.log.tombstone('order-tomb');
    standIn.log.softDelete('sig-soft');

    const report = await verifyLedger({ store, readDb: null });
    const integrity = report.findings.filter((f) => f.kind === 'stream_deleted' || f.kind === 'stream_truncated');
    expect(integrity.map((f) => [f.stream, f.kind]).sort()).toEqual([
      ['order-cut', 'stream_truncated'],
      ['order-tomb', 'stream_deleted'],
      ['sig-soft', 'stream_deleted'],
    ]);
    expect(report.findings.some((f) => f.stream === 'order-intact' || f.stream === 'sig-intact' ? f.kind.startsWith('stream_') : false)).toBe(false);
  });
});
