import { describe, expect, it } from 'vitest';
import { SqliteEventStore, type SqliteWriterMode } from '../../src/eventstore/sqlite.js';
import { storageFaultOf, StoreWriterStopped } from '../../src/eventstore/storageFault.js';
import type { AppendResult, NewEvent } from '../../src/eventstore/types.js';
import { newEvent, storeFilePerTest } from './contractSupport.js';

/**
 * Issue 14 lever 3: the SQLite store's appends committed on a writer thread. What only that writer
 * adds: a thread that dies fails every append still waiting and refuses later ones (503
 * store_unavailable) until the store is reopened, acknowledging nothing it did not commit. And the
 * storage-fault drills behave as with the inline writer: the fault's code, nothing written, and
 * appends succeed again once the fault is lifted.
 */
const files = storeFilePerTest('otc-writer-thread-');

function open(writer: SqliteWriterMode, onWriterStopped?: (error: Error) => void): SqliteEventStore {
  return files.open({ writer, onWriterStopped });
}

/** A row large enough that a few fill a page: a capped file refuses one within a few appends. */
const bulky = (): NewEvent => newEvent({ padding: 'x'.repeat(3000) });

describe('the writer thread that stops', () => {
  it('fails every append waiting for it, refuses later ones as store_unavailable, and a reopened store appends again', async () => {
    const stops: Error[] = [];
    const store = open('worker', (error) => stops.push(error));
    expect(store.writer).toBe('worker');
    await store.append('before', [newEvent()], 'no_stream');
    const waiting = Array.from({ length: 50 }, (_, i) => store.append(`waiting-${i}`, [newEvent()], 'no_stream'));
    await store.terminateWriterThread();
    const outcomes = await Promise.allSettled(waiting);
    const acknowledged = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    for (const o of outcomes) {
      if (o.status === 'rejected') {
        expect(o.reason).toBeInstanceOf(StoreWriterStopped);
        expect(storageFaultOf(o.reason)).toBe('store_unavailable');
      }
    }
    expect(outcomes.some((o) => o.status === 'rejected')).toBe(true);
    expect(stops).toHaveLength(1);
    expect(stops[0]).toBeInstanceOf(StoreWriterStopped);
    const later = await store.append('later', [newEvent()], 'no_stream').catch((e: unknown) => e);
    expect(later).toBeInstanceOf(StoreWriterStopped);
    expect(storageFaultOf(later)).toBe('store_unavailable');
    // Reads still answer from this thread's connection.
    expect(await store.readStream('before')).toHaveLength(1);
    await store.close();

    expect(stops).toHaveLength(1);
    const reopenedStops: Error[] = [];
    const reopened = open('worker', (error) => reopenedStops.push(error));
    // Everything acknowledged is on disk; the refused later append is not.
    for (const i of acknowledged) expect(await reopened.readStream(`waiting-${i}`)).toHaveLength(1);
    expect(await reopened.readStream('later')).toEqual([]);
    expect((await reopened.append('after', [newEvent()], 'no_stream')).nextVersion).toBe(1n);
    // A thread ended by close() is no stop to report.
    await reopened.close();
    expect(reopenedStops).toEqual([]);
  });

  it('is only for a file-backed store, and leaves appendSync to the inline writer', async () => {
    expect(() => new SqliteEventStore({ path: ':memory:', writer: 'worker' })).toThrow(/file-backed/);
    const store = open('worker');
    expect(() => store.appendSync('sync', [newEvent()], 'no_stream')).toThrow(/inline writer/);
    expect(await store.readStream('sync')).toEqual([]);
    const inline = open('inline');
    expect(inline.writer).toBe('inline');
    expect(inline.appendSync('sync', [newEvent()], 'no_stream').nextVersion).toBe(1n);
  });
});

describe.each<SqliteWriterMode>(['inline', 'worker', 'adaptive'])('storage faults with the %s writer', (writer) => {
  /** Appends one at a time until one is refused; returns its error and the head before it. */
  async function appendUntilRefused(store: SqliteEventStore): Promise<{ refused: unknown; headBefore: bigint }> {
    for (let i = 0; i < 200; i++) {
      const headBefore = await store.headPosition();
      const refused = await store.append(`full-${i}`, [bulky()], 'no_stream').then(() => null, (e: unknown) => e);
      if (refused !== null) return { refused, headBefore };
    }
    throw new Error('no append was refused');
  }

  it('disk full: store_full, nothing of the refused appends written, appends succeed once space returns', async () => {
    const store = open(writer);
    await store.append('first', [bulky()], 'no_stream');
    store.simulateFault('disk_full');
    // The file may still have room in its last pages: append until one needs a new page.
    const { refused, headBefore } = await appendUntilRefused(store);
    expect(storageFaultOf(refused)).toBe('store_full');
    // The same appends in one group commit meet the same full file: every one refused.
    const group = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => store.append(`full-group-${i}`, [bulky()], 'no_stream')));
    for (const o of group) expect(o.status === 'rejected' && storageFaultOf(o.reason)).toBe('store_full');
    expect(await store.headPosition()).toBe(headBefore);
    store.simulateFault(null);
    const after: AppendResult = await store.append('after-full', [bulky()], 'no_stream');
    expect(after.position).toBe(headBefore + 1n);
  });

  it('read-only: store_unavailable, nothing written, appends succeed once writable again', async () => {
    const store = open(writer);
    await store.append('first', [newEvent()], 'no_stream');
    store.simulateFault('read_only');
    const outcomes = await Promise.allSettled([store.append('ro-1', [newEvent()], 'no_stream'), store.append('ro-2', [newEvent()], 'no_stream')]);
    for (const o of outcomes) expect(o.status === 'rejected' && storageFaultOf(o.reason)).toBe('store_unavailable');
    const alone = await store.append('ro-3', [newEvent()], 'no_stream').catch((e: unknown) => e);
    expect(storageFaultOf(alone)).toBe('store_unavailable');
    expect(await store.headPosition()).toBe(1n);
    store.simulateFault(null);
    expect((await store.append('ro-1', [newEvent()], 'no_stream')).position).toBe(2n);
  });
});

describe('the writer thread answers', () => {
  it('a lone append (shared memory) and a refused one (a message) in any order, each with its own outcome', async () => {
    const store = open('worker');
    for (let i = 1; i <= 6; i++) {
      const written = await store.append('s-answers', [newEvent({ i })], i === 1 ? 'no_stream' : BigInt(i - 1));
      expect(written.nextVersion).toBe(BigInt(i));
      // A stale expected version: refused on the thread, answered by message, nothing written.
      await expect(store.append('s-answers', [newEvent({ stale: i })], 0n)).rejects.toMatchObject({ code: 'version_conflict' });
    }
    const replayed = newEvent({ replay: true });
    const first = await store.append('s-other', [replayed], 'no_stream');
    // An idempotent replay is answered through shared memory too: the original position, not written again.
    await expect(store.append('s-other', [replayed], 'no_stream')).resolves.toEqual(first);
    // Concurrent appends share groups (answered by message while another waits) and keep call order.
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(`s-many-${i}`, [newEvent({ i })], 'no_stream')));
    const positions = results.map((r) => r.position);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(positions).size).toBe(20);
    expect((await store.readStream('s-answers')).map((e) => e.data)).toEqual([1, 2, 3, 4, 5, 6].map((i) => ({ i })));
  });
});
