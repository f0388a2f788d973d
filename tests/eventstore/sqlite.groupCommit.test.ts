import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEventStore, type SqliteWriterMode } from '../../src/eventstore/sqlite.js';
import { VersionConflict, type JsonObject } from '../../src/eventstore/types.js';
import { expectStrictlyIncreasing, newEvent, newEvents } from './contractSupport.js';

/**
 * Group commit in the SQLite store: appends of one event-loop turn share one transaction (one
 * fsync), each in its own savepoint. These cases pin what only the embedded store promises: order
 * of calls is order of positions, a group sees its own earlier members, and a group that cannot
 * commit fails every member and writes nothing. Each case runs against every writer: inline on the
 * event loop, the writer thread, and adaptive (a turn's lone append on the loop, issue 14 lever 3).
 */
describe.each<SqliteWriterMode>(['inline', 'worker', 'adaptive'])('SQLite group commit, %s writer', (writer) => {
  let dir: string;
  let path: string;
  let store: SqliteEventStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otc-group-commit-'));
    path = join(dir, 'events.db');
    store = new SqliteEventStore({ path, busyTimeoutMs: 50, writer });
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives positions in the order the appends were made, and every one is on disk when its promise resolves', async () => {
    const batches = Array.from({ length: 100 }, (_, i) => newEvents(1 + (i % 2), `s${i}`));
    const results = await Promise.all(batches.map((batch, i) => store.append(`s-${i}`, batch, 'no_stream')));
    expectStrictlyIncreasing(results.map((r) => r.position));
    const other = new SqliteEventStore({ path });
    try {
      const all = await other.readAll(0n, 1000);
      expect(all.map((e) => e.eventId)).toEqual(batches.flat().map((e) => e.eventId));
    } finally {
      await other.close();
    }
  });

  it('lets a later append in the same turn build on an earlier one', async () => {
    const [a, b, c] = await Promise.all([
      store.append('chain', [newEvent()], 'no_stream'),
      store.append('chain', newEvents(2), 1n),
      store.append('chain', [newEvent()], 3n),
    ]);
    expect([a?.nextVersion, b?.nextVersion, c?.nextVersion]).toEqual([1n, 3n, 4n]);
  });

  it('answers a repeat of the same events in the same turn with the original result', async () => {
    const batch = newEvents(2);
    const [first, again] = await Promise.all([store.append('repeat', batch, 'no_stream'), store.append('repeat', batch, 'no_stream')]);
    expect(again).toEqual(first);
    expect(await store.readStream('repeat')).toHaveLength(2);
  });

  it('reports the conflict of an append that loses to one earlier in its group with the version that group wrote', async () => {
    const outcomes = await Promise.allSettled([
      store.append('race', newEvents(3), 'no_stream'),
      store.append('race', [newEvent()], 'no_stream'),
    ]);
    expect(outcomes[0]?.status).toBe('fulfilled');
    const lost = outcomes[1];
    expect(lost?.status === 'rejected' && lost.reason instanceof VersionConflict && lost.reason.actual).toBe(3n);
  });

  it('turns an event id already stored in another stream into that caller\'s conflict, not its neighbours\'', async () => {
    const taken = newEvent();
    await store.append('owner', [taken], 'no_stream');
    const outcomes = await Promise.allSettled([
      store.append('before', [newEvent()], 'no_stream'),
      store.append('thief', [taken], 'no_stream'),
      store.append('after', [newEvent()], 'no_stream'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes[1]?.status === 'rejected' && outcomes[1].reason instanceof VersionConflict).toBe(true);
    expect(await store.readStream('thief')).toEqual([]);
  });

  it('fails only the caller whose events cannot be stored, for any reason', async () => {
    const unserialisable = { eventId: 'bad-1', type: 'Bad', data: { n: 1n } as unknown as JsonObject, metadata: newEvent().metadata };
    const outcomes = await Promise.allSettled([
      store.append('fine-1', [newEvent()], 'no_stream'),
      store.append('bad', [unserialisable], 'no_stream'),
      store.append('fine-2', [newEvent()], 'no_stream'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.readStream('bad')).toEqual([]);
  });

  it('fails every append of a group that cannot commit, and writes none of them', async () => {
    // Another connection (another process) holds the write lock past the busy timeout.
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const outcomes = await Promise.allSettled([store.append('locked-1', [newEvent()], 'no_stream'), store.append('locked-2', [newEvent()], 'no_stream')]);
    other.exec('ROLLBACK');
    other.close();
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    for (const o of outcomes) expect(o.status === 'rejected' && o.reason instanceof VersionConflict).toBe(false);
    expect(await store.readStream('locked-1')).toEqual([]);
    expect(await store.readStream('locked-2')).toEqual([]);
    expect((await store.append('locked-1', [newEvent()], 'no_stream')).nextVersion).toBe(1n);
  });

  it('commits appends already made when the store is closed', async () => {
    const pending = Promise.all([store.append('at-close-1', [newEvent()], 'no_stream'), store.append('at-close-2', [newEvent()], 'no_stream')]);
    await store.close();
    await pending;
    const reopened = new SqliteEventStore({ path });
    try {
      expect(await reopened.readStream('at-close-1')).toHaveLength(1);
      expect(await reopened.readStream('at-close-2')).toHaveLength(1);
    } finally {
      await reopened.close();
    }
  });
});
