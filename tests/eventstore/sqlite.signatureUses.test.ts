import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEventStore, type SqliteWriterMode } from '../../src/eventstore/sqlite.js';
import { SignatureAlreadyUsed, VersionConflict, type NewEvent } from '../../src/eventstore/types.js';
import { newEvent } from './contractSupport.js';

/**
 * Issue 14 lever 2 in the embedded store: a wallet signature's use is recorded in the metadata of
 * the event that spends it, under a partial unique index. A second use fails inside the append that
 * attempts it (SignatureAlreadyUsed, nothing of that append written), in a group commit too, and
 * after the file is reopened; with either writer (issue 14 lever 3).
 */
describe.each<SqliteWriterMode>(['inline', 'worker', 'adaptive'])('signature uses in event metadata (SQLite, %s writer)', (writer) => {
  let dir: string;
  let path: string;
  let store: SqliteEventStore;

  const SIG_A = 'a1'.repeat(32);
  const SIG_B = 'b2'.repeat(32);

  function spending(signature: string, data = {}): NewEvent {
    const e = newEvent(data);
    return { ...e, metadata: { ...e.metadata, signature_sha256: signature, signature_action: 'create_order' } };
  }

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    throw new Error('expected the append to be refused');
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otc-signature-uses-'));
    path = join(dir, 'events.db');
    store = new SqliteEventStore({ path, writer });
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records a use, refuses a second one on any stream with SignatureAlreadyUsed and writes nothing of it', async () => {
    expect(await store.signatureUsed(SIG_A)).toBe(false);
    await store.append('order-1', [spending(SIG_A), newEvent()], 'no_stream');
    expect(await store.signatureUsed(SIG_A)).toBe(true);
    const head = await store.headPosition();
    const error = await rejection(store.append('order-2', [spending(SIG_A), newEvent()], 'no_stream'));
    expect(error).toBeInstanceOf(SignatureAlreadyUsed);
    expect(await store.headPosition()).toBe(head);
    expect(await store.readStream('order-2')).toEqual([]);
    // The same stream and the right version: still the signature that refuses it, not a conflict.
    expect(await rejection(store.append('order-1', [spending(SIG_A)], 2n))).toBeInstanceOf(SignatureAlreadyUsed);
  });

  it('lets events that spend no signature, and different signatures, through side by side', async () => {
    await store.append('order-1', [newEvent(), newEvent()], 'no_stream');
    await store.append('order-2', [newEvent()], 'no_stream');
    await store.append('order-1', [spending(SIG_A)], 2n);
    await store.append('order-2', [spending(SIG_B)], 1n);
    expect(await store.signatureUsed(SIG_A)).toBe(true);
    expect(await store.signatureUsed(SIG_B)).toBe(true);
    expect(await store.headPosition()).toBe(5n);
  });

  it('in one group commit, the first use wins and only the second append fails; a version conflict stays a conflict', async () => {
    const [first, second, other, stale] = await Promise.allSettled([
      store.append('order-1', [spending(SIG_A)], 'no_stream'),
      store.append('order-2', [spending(SIG_A)], 'no_stream'),
      store.append('order-3', [spending(SIG_B)], 'no_stream'),
      store.append('order-1', [newEvent()], 'no_stream'),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second.status === 'rejected' && second.reason).toBeInstanceOf(SignatureAlreadyUsed);
    expect(other.status).toBe('fulfilled');
    expect(stale.status === 'rejected' && stale.reason).toBeInstanceOf(VersionConflict);
    expect((await store.readAll(0n, 10)).map((e) => e.stream)).toEqual(['order-1', 'order-3']);
  });

  it('still refuses the signature after the file is reopened (a restart)', async () => {
    await store.append('order-1', [spending(SIG_A)], 'no_stream');
    await store.close();
    store = new SqliteEventStore({ path, writer });
    expect(await store.signatureUsed(SIG_A)).toBe(true);
    expect(await rejection(store.append('order-9', [spending(SIG_A)], 'no_stream'))).toBeInstanceOf(SignatureAlreadyUsed);
  });

  it('opens a file written before the signature column existed, keeps its events, indexes its old uses and enforces the index from then on', async () => {
    await store.close();
    const oldPath = join(dir, 'old.db');
    const raw = new Database(oldPath);
    raw.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, version INTEGER NOT NULL,
      event_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, UNIQUE (stream, version), UNIQUE (event_id));`);
    const old = newEvent({ n: 1 });
    const insert = raw.prepare('INSERT INTO events (stream, version, event_id, type, data, metadata) VALUES (?, 1, ?, ?, ?, ?)');
    insert.run('order-old', old.eventId, old.type, '{"n":1}', JSON.stringify(old.metadata));
    // A use recorded the old way: a SignatureUsed stream of its own, the hash in the data only.
    const use = newEvent({ signature_sha256: SIG_B }, 'SignatureUsed');
    insert.run(`sig-${SIG_B}`, use.eventId, use.type, JSON.stringify(use.data), JSON.stringify(use.metadata));
    raw.close();
    store = new SqliteEventStore({ path: oldPath, writer });
    expect((await store.readStream('order-old')).map((e) => e.data)).toEqual([{ n: 1 }]);
    expect(await store.signatureUsed(SIG_B)).toBe(true);
    expect(await rejection(store.append('order-b', [spending(SIG_B)], 'no_stream'))).toBeInstanceOf(SignatureAlreadyUsed);
    await store.append('order-new', [spending(SIG_A)], 'no_stream');
    expect(await rejection(store.append('order-other', [spending(SIG_A)], 'no_stream'))).toBeInstanceOf(SignatureAlreadyUsed);
    // A second process opening the same (now migrated) file changes nothing.
    const second = new SqliteEventStore({ path: oldPath });
    expect(await second.signatureUsed(SIG_A)).toBe(true);
    await second.close();
  });

  it('answers signatureUsed from the index, not a scan', () => {
    const raw = new Database(path, { readonly: true });
    const plan = raw.prepare('EXPLAIN QUERY PLAN SELECT 1 FROM events WHERE signature_sha256 = ?').all(SIG_A) as { detail: string }[];
    raw.close();
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX events_signature_uses/);
  });
});
