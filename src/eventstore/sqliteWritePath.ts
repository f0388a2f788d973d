import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { SignatureAlreadyUsed, VersionConflict, type AppendResult, type ExpectedVersion, type NewEvent } from './types.js';

/**
 * The SQLite event store's whole write path (issue 14 lever 3): the idempotent-replay check, the
 * expected-version check, the inserts, the savepoint group and the unique-violation mapping. One
 * class, used by the inline store on the event loop and by the writer thread
 * (sqliteWriterWorker.ts) on its own connection, so the two writers cannot drift apart.
 */

/** An event with its JSON already written: serialised once, by the caller, on either writer. */
export interface PreparedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly signatureSha256: string | null;
}

export interface AppendRequest {
  readonly stream: string;
  readonly events: readonly PreparedEvent[];
  readonly expected: ExpectedVersion;
}

/** One append's outcome in a commit; `written` is false for an idempotent replay. */
export type AppendOutcome =
  | { readonly ok: true; readonly written: boolean; readonly result: AppendResult }
  | { readonly ok: false; readonly error: unknown };

/** SQLite's own upper limit of max_page_count (its default). */
const SQLITE_MAX_PAGE_COUNT = 4_294_967_294;

/** Where an event id is stored: enough to recognise a replay without reading the payload. */
interface StoredIdRow {
  position: number;
  stream: string;
  version: number;
}

/** Throws (a TypeError) for data JSON cannot hold, such as a bigint: before anything is queued. */
export function prepareEvents(events: readonly NewEvent[]): PreparedEvent[] {
  return events.map((event) => ({
    eventId: event.eventId,
    type: event.type,
    data: JSON.stringify(event.data),
    metadata: JSON.stringify(event.metadata),
    signatureSha256: event.metadata.signature_sha256 ?? null,
  }));
}

/**
 * The writer connection's settings, the same on both writers: durable before COMMIT returns.
 * SQLite's autocheckpoint (1,000 pages) stays on for every connection that commits: it runs inside
 * that connection's COMMIT, so no other commit of this store can run at the same time, the
 * checkpoint can complete, and the next write restarts the WAL from its start. A checkpoint left to
 * another thread while this one kept committing would never catch up with the log's end, and the
 * WAL would grow without bound (docs/PERFORMANCE.md, "Session 7, writer").
 */
export function openWriterConnection(path: string, busyTimeoutMs: number): Db {
  const db = new Database(path);
  // The busy timeout first: switching to WAL takes a lock too, and another process may hold it.
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  return db;
}

export class SqliteWritePath {
  private readonly stmts: ReturnType<typeof prepareWriteStatements>;
  private readonly appendTx;
  private readonly groupTx;

  constructor(private readonly db: Db) {
    this.stmts = prepareWriteStatements(db);
    this.appendTx = db.transaction((request: AppendRequest) => this.appendInTransaction(request));
    this.groupTx = db.transaction((group: readonly AppendRequest[]) => group.map((r) => this.appendInSavepoint(r)));
  }

  /**
   * Commits a group in one BEGIN IMMEDIATE transaction (one fsync), each append in its own
   * SAVEPOINT checked against its own expected version, so a conflict rolls back only that append
   * and later appends see the earlier ones. Returns only after COMMIT: one outcome per request.
   */
  commit(group: readonly AppendRequest[]): AppendOutcome[] {
    const only = group.length === 1 ? group[0] : undefined;
    if (only !== undefined) return [this.commitAlone(only)];
    try {
      return this.groupTx.immediate(group);
    } catch (error) {
      // BEGIN, COMMIT or the transaction itself failed (lock timeout, I/O): nothing was committed.
      return group.map(() => ({ ok: false, error }));
    }
  }

  /** Alone in its turn: a plain transaction, no savepoint. */
  private commitAlone(request: AppendRequest): AppendOutcome {
    try {
      const { written, result } = this.appendTx.immediate(request);
      return { ok: true, written, result };
    } catch (error) {
      // BEGIN IMMEDIATE serialises writers, so a unique violation means another writer won a race
      // this transaction could not see: report it as the conflict it is.
      return { ok: false, error: isUniqueViolation(error) ? this.uniqueViolation(error, request) : error };
    }
  }

  /** One append of a group: nested in the group's transaction, better-sqlite3 runs it as a SAVEPOINT. */
  private appendInSavepoint(request: AppendRequest): AppendOutcome {
    try {
      const { written, result } = this.appendTx(request);
      return { ok: true, written, result };
    } catch (error) {
      // SQLite rolled the whole transaction back (I/O error, full disk): the group fails as one.
      if (!this.db.inTransaction) throw error;
      return { ok: false, error: isUniqueViolation(error) ? this.uniqueViolation(error, request) : error };
    }
  }

  /** A signature already spent is its own refusal; any other unique key lost is a version race. */
  private uniqueViolation(error: unknown, { stream, expected }: AppendRequest): Error {
    if (String((error as Error).message).includes('events.signature_sha256')) return new SignatureAlreadyUsed(stream);
    return new VersionConflict(stream, expected, this.streamVersion(stream));
  }

  private appendInTransaction(request: AppendRequest): { written: boolean; result: AppendResult } {
    const { stream, events, expected } = request;
    const current = this.streamVersion(stream);
    const replay = this.findIdempotentReplay(request);
    if (replay) return { written: false, result: replay };
    checkExpected(stream, expected, current);
    let version = current;
    let position = 0n;
    for (const event of events) {
      version += 1n;
      const info = this.stmts.insert.run(stream, Number(version), event.eventId, event.type, event.data, event.metadata, event.signatureSha256);
      position = BigInt(info.lastInsertRowid);
    }
    return { written: true, result: { nextVersion: version, position } };
  }

  private streamVersion(stream: string): bigint {
    return BigInt((this.stmts.streamVersion.get(stream) as { v: number | null }).v ?? 0);
  }

  /**
   * Events already stored under these ids, in this stream, in this order: the original result.
   * Only the first id is looked up when it is new, which is the hot path: a later id that is
   * already stored then fails the insert on UNIQUE (event_id), which rolls the whole batch back and
   * surfaces as the same VersionConflict as a partial replay.
   */
  private findIdempotentReplay({ stream, events, expected }: AppendRequest): AppendResult | null {
    const first = events[0];
    if (!first) return null;
    const firstRow = this.stmts.byEventId.get(first.eventId) as StoredIdRow | undefined;
    if (firstRow === undefined) return null;
    const rows = events.map((e, i) => (i === 0 ? firstRow : (this.stmts.byEventId.get(e.eventId) as StoredIdRow | undefined)));
    const consistent = rows.every((row, i) => row !== undefined && row.stream === stream && row.version === firstRow.version + i);
    if (!consistent) throw new VersionConflict(stream, expected, this.streamVersion(stream));
    const last = rows[rows.length - 1] as StoredIdRow;
    return { nextVersion: BigInt(last.version), position: BigInt(last.position) };
  }

  /**
   * For drills and tests: makes this (the writer's) connection meet a machine fault without
   * filling a disk. 'disk_full' caps the file at its current size (PRAGMA max_page_count), so an
   * append that needs a new page fails with SQLITE_FULL as on a full disk; 'read_only' refuses
   * every write (PRAGMA query_only) with SQLITE_READONLY as on a read-only mount; null lifts either.
   */
  simulateFault(fault: StorageFaultDrill): void {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    this.db.pragma(`max_page_count = ${fault === 'disk_full' ? pages : SQLITE_MAX_PAGE_COUNT}`);
    this.db.pragma(`query_only = ${fault === 'read_only' ? 'ON' : 'OFF'}`);
  }
}

export type StorageFaultDrill = 'disk_full' | 'read_only' | null;

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function checkExpected(stream: string, expected: ExpectedVersion, current: bigint): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && current === 0n) ||
    (expected === 'stream_exists' && current > 0n) ||
    (typeof expected === 'bigint' && expected === current);
  if (!ok) throw new VersionConflict(stream, expected, current);
}

function prepareWriteStatements(db: Db) {
  const s = (sql: string): Statement => db.prepare(sql);
  return {
    streamVersion: s('SELECT max(version) AS v FROM events WHERE stream = ?'),
    insert: s('INSERT INTO events (stream, version, event_id, type, data, metadata, signature_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    byEventId: s('SELECT position, stream, version FROM events WHERE event_id = ?'),
  };
}

// ---- across the thread boundary: outcomes as plain data, errors turned back into their classes ----

/** An append's failure as structured-clone data (class instances do not survive postMessage). */
export type WireFailure =
  | { readonly kind: 'conflict'; readonly stream: string; readonly expected: ExpectedVersion; readonly actual: bigint }
  | { readonly kind: 'signature'; readonly stream: string }
  | { readonly kind: 'error'; readonly name: string; readonly message: string; readonly code: string | null };

export type WireOutcome =
  | { readonly ok: true; readonly written: boolean; readonly result: AppendResult }
  | { readonly ok: false; readonly failure: WireFailure };

export function toWire(outcome: AppendOutcome): WireOutcome {
  if (outcome.ok) return outcome;
  const error = outcome.error;
  if (error instanceof VersionConflict) return { ok: false, failure: { kind: 'conflict', stream: error.stream, expected: error.expected, actual: error.actual } };
  if (error instanceof SignatureAlreadyUsed) return { ok: false, failure: { kind: 'signature', stream: error.stream } };
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as { name?: unknown; message?: unknown; code?: unknown };
  const code = typeof e.code === 'string' ? e.code : null;
  return { ok: false, failure: { kind: 'error', name: String(e.name ?? 'Error'), message: String(e.message ?? ''), code } };
}

/** The same classes the inline writer throws: VersionConflict, SignatureAlreadyUsed, SqliteError (with its code). */
export function fromWire(outcome: WireOutcome): AppendOutcome {
  if (outcome.ok) return outcome;
  const f = outcome.failure;
  if (f.kind === 'conflict') return { ok: false, error: new VersionConflict(f.stream, f.expected, f.actual) };
  if (f.kind === 'signature') return { ok: false, error: new SignatureAlreadyUsed(f.stream) };
  if (f.code !== null && f.code.startsWith('SQLITE_')) return { ok: false, error: new Database.SqliteError(f.message, f.code) };
  const error = f.name === 'TypeError' ? new TypeError(f.message) : new Error(f.message);
  if (f.code !== null) Object.assign(error, { code: f.code });
  return { ok: false, error };
}
