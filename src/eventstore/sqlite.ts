import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import {
  SignatureAlreadyUsed,
  VersionConflict,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type ExpectedVersion,
  type JsonObject,
  type NewEvent,
  type RecordedEvent,
  type Subscription,
  type SubscriptionHandler,
} from './types.js';
import { followLog } from './follow.js';
import { StoreOverloaded } from './storageFault.js';

export interface SqliteEventStoreOptions {
  /** A file path, or ':memory:' for tests. */
  readonly path: string;
  /** How long a writer waits for another process's lock before failing, in ms. */
  readonly busyTimeoutMs?: number;
  /** How often a caught-up subscription looks for appends made by other processes, in ms. */
  readonly pollIntervalMs?: number;
  /**
   * How long a caught-up subscription lets appends accumulate after being woken, in ms. Under load
   * it then reads one batch per few ms instead of one per commit, which costs the request thread
   * far less CPU per event; a read model lags by at most this much more.
   */
  readonly coalesceMs?: number;
  /**
   * At most this many appends wait for one group commit; more in the same turn are refused with
   * StoreOverloaded (503 store_busy, the client retries) rather than queued without limit.
   */
  readonly maxPendingAppends?: number;
}

/** Far above what one event-loop turn of HTTP requests produces; a bound on memory, not a throttle. */
const DEFAULT_MAX_PENDING_APPENDS = 10_000;

/** Where an event id is stored: enough to recognise a replay without reading the payload. */
interface StoredIdRow {
  position: number;
  stream: string;
  version: number;
}

/** An append waiting for the next group commit, with the caller's promise to settle after COMMIT. */
interface PendingAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly expected: ExpectedVersion;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

type GroupOutcome = { readonly ok: true; readonly written: boolean; readonly result: AppendResult } | { readonly ok: false; readonly error: unknown };

/** SQLite's own upper limit of max_page_count (its default). */
const SQLITE_MAX_PAGE_COUNT = 4_294_967_294;

/** At most this many appends share one transaction; a longer queue commits in several. */
const MAX_APPENDS_PER_COMMIT = 512;

// Captured at load: a test's fake timers must not be able to hold committed appends back.
const scheduleFlush = globalThis.setImmediate;

interface EventRow {
  position: number;
  stream: string;
  version: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
}

/** One stored event with its data and metadata JSON unparsed (see readAllRawSync). */
export interface RawEventRow {
  readonly position: number;
  readonly stream: string;
  readonly version: number;
  readonly event_id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

const EVENTS_TABLE = `
CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  stream   TEXT NOT NULL,
  version  INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  type     TEXT NOT NULL,
  data     TEXT NOT NULL,
  metadata TEXT NOT NULL,
  signature_sha256 TEXT,
  UNIQUE (stream, version),
  UNIQUE (event_id)
);
`;

/**
 * signature_sha256 is a copy of the metadata's (issue 14 lever 2): the wallet signature the event
 * spends. Its partial unique index makes a second use fail inside the append that attempts it, so
 * replay protection needs no stream of its own per signature; events spending none skip the index.
 */
const EVENTS_INDEXES = `
CREATE INDEX IF NOT EXISTS events_stream_starts ON events (position) WHERE version = 1;
CREATE UNIQUE INDEX IF NOT EXISTS events_signature_uses ON events (signature_sha256) WHERE signature_sha256 IS NOT NULL;
`;

/** The store's DDL; exported so the benchmark's raw baseline writes into exactly the same table. */
export const EVENTS_SCHEMA = EVENTS_TABLE + EVENTS_INDEXES;

/**
 * The embedded event store: one table, a unique (stream, version) and a global position.
 * WAL with synchronous=FULL makes every committed append durable before it returns. Appends run in
 * BEGIN IMMEDIATE transactions, so two processes sharing the file serialise on SQLite's lock and a
 * lost race surfaces as a VersionConflict, never as a lost event.
 */
export class SqliteEventStore implements EventStore {
  readonly name = 'sqlite';
  private readonly db: Db;
  private readonly listeners = new Set<() => void>();
  private readonly pollIntervalMs: number;
  private readonly coalesceMs: number;
  private readonly stmts: ReturnType<typeof prepareStatements>;
  private readonly appendTx;
  private readonly groupTx;
  private pending: PendingAppend[] = [];
  private readonly maxPendingAppends: number;
  private closed = false;
  /** Prepared on first use: only projection readers need it. */
  private readAllRaw: Statement | null = null;

  constructor(options: SqliteEventStoreOptions) {
    this.db = new Database(options.path);
    // The busy timeout first: switching to WAL and creating the schema take locks too, and another
    // process may hold them while this one opens the shared file.
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(EVENTS_TABLE);
    addSignatureColumn(this.db);
    this.db.exec(EVENTS_INDEXES);
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.coalesceMs = options.coalesceMs ?? 5;
    this.maxPendingAppends = options.maxPendingAppends ?? DEFAULT_MAX_PENDING_APPENDS;
    this.stmts = prepareStatements(this.db);
    this.appendTx = this.db.transaction((stream: string, events: readonly NewEvent[], expected: ExpectedVersion) =>
      this.appendInTransaction(stream, events, expected),
    );
    this.groupTx = this.db.transaction((group: readonly PendingAppend[]) => group.map((p) => this.appendInSavepoint(p)));
  }

  /**
   * Group commit: appends made in the same turn of the event loop are committed together in one
   * BEGIN IMMEDIATE transaction, so one fsync covers all of them. Each append runs in its own
   * SAVEPOINT and is checked against its own expected version, so a conflict rolls back only that
   * append; appends later in a group see the ones before it. Every promise settles after the
   * COMMIT (WAL + synchronous=FULL): durability is that of appendSync.
   */
  append(stream: string, events: readonly NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    if (events.length === 0 || this.closed) {
      return new Promise((resolve) => resolve(this.appendSync(stream, events, expected)));
    }
    if (this.pending.length >= this.maxPendingAppends) return Promise.reject(new StoreOverloaded(this.pending.length));
    return new Promise((resolve, reject) => {
      this.pending.push({ stream, events, expected, resolve, reject });
      if (this.pending.length === 1) scheduleFlush(this.flushPending);
    });
  }

  private readonly flushPending = (): void => {
    const queued = this.pending;
    this.pending = [];
    for (let from = 0; from < queued.length; from += MAX_APPENDS_PER_COMMIT) {
      this.commitGroup(queued.slice(from, from + MAX_APPENDS_PER_COMMIT));
    }
  };

  private commitGroup(group: readonly PendingAppend[]): void {
    const only = group.length === 1 ? group[0] : undefined;
    if (only !== undefined) {
      // Alone in its turn: a plain transaction, no savepoint.
      try {
        only.resolve(this.appendSync(only.stream, only.events, only.expected));
      } catch (error) {
        only.reject(error);
      }
      return;
    }
    let outcomes: GroupOutcome[];
    try {
      outcomes = this.groupTx.immediate(group);
    } catch (error) {
      // BEGIN, COMMIT or the transaction itself failed (lock timeout, I/O): nothing was committed.
      for (const p of group) p.reject(error);
      return;
    }
    if (outcomes.some((o) => o.ok && o.written)) this.notify();
    outcomes.forEach((outcome, i) => {
      const p = group[i] as PendingAppend;
      if (outcome.ok) p.resolve(outcome.result);
      else p.reject(outcome.error);
    });
  }

  /** One append of a group: nested in the group's transaction, better-sqlite3 runs it as a SAVEPOINT. */
  private appendInSavepoint(p: PendingAppend): GroupOutcome {
    try {
      const { written, result } = this.appendTx(p.stream, p.events, p.expected);
      return { ok: true, written, result };
    } catch (error) {
      // SQLite rolled the whole transaction back (I/O error, full disk): the group fails as one.
      if (!this.db.inTransaction) throw error;
      if (isUniqueViolation(error)) return { ok: false, error: this.uniqueViolation(error, p.stream, p.expected) };
      return { ok: false, error };
    }
  }

  /** Synchronous append, for callers already inside the embedded process (benchmarks, tools). */
  appendSync(stream: string, events: readonly NewEvent[], expected: ExpectedVersion): AppendResult {
    if (events.length === 0) throw new Error('append needs at least one event');
    try {
      const result = this.appendTx.immediate(stream, events, expected);
      if (result.written) this.notify();
      return result.result;
    } catch (error) {
      // BEGIN IMMEDIATE serialises writers, so a unique violation means another writer won a race
      // this transaction could not see: report it as the conflict it is.
      if (isUniqueViolation(error)) throw this.uniqueViolation(error, stream, expected);
      throw error;
    }
  }

  /** A signature already spent is its own refusal; any other unique key lost is a version race. */
  private uniqueViolation(error: unknown, stream: string, expected: ExpectedVersion): Error {
    if (String((error as Error).message).includes('events.signature_sha256')) return new SignatureAlreadyUsed(stream);
    return new VersionConflict(stream, expected, this.streamVersion(stream));
  }

  async signatureUsed(signatureSha256: string): Promise<boolean> {
    return this.stmts.signatureUsed.get(signatureSha256) !== undefined;
  }

  private appendInTransaction(stream: string, events: readonly NewEvent[], expected: ExpectedVersion) {
    const current = this.streamVersion(stream);
    const replay = this.findIdempotentReplay(stream, events, expected);
    if (replay) return { written: false, result: replay };
    checkExpected(stream, expected, current);
    let version = current;
    let position = 0n;
    for (const event of events) {
      version += 1n;
      const info = this.stmts.insert.run(
        stream,
        Number(version),
        event.eventId,
        event.type,
        JSON.stringify(event.data),
        JSON.stringify(event.metadata),
        event.metadata.signature_sha256 ?? null,
      );
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
  private findIdempotentReplay(stream: string, events: readonly NewEvent[], expected: ExpectedVersion): AppendResult | null {
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

  async readStream(stream: string, fromVersion = 1n): Promise<RecordedEvent[]> {
    const rows = this.stmts.readStream.all(stream, Number(fromVersion)) as EventRow[];
    return rows.map(toRecorded);
  }

  async readAll(afterPosition: bigint, maxCount: number): Promise<RecordedEvent[]> {
    return this.readAllSync(afterPosition, maxCount);
  }

  readAllSync(afterPosition: bigint, maxCount: number): RecordedEvent[] {
    const rows = this.stmts.readAll.all(Number(afterPosition), maxCount) as EventRow[];
    return rows.map(toRecorded);
  }

  /**
   * readAll without parsing: data and metadata stay text, so a reader (a projection rebuild) parses
   * only what it uses, once. No JSON is extracted in SQL: the order fold reads the metadata of every
   * order event (schema version, hash, recorded_at), and the signature streams need none of it.
   */
  readAllRawSync(afterPosition: bigint, maxCount: number): RawEventRow[] {
    this.readAllRaw ??= this.db.prepare(
      'SELECT position, stream, version, event_id, type, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT ?',
    );
    return this.readAllRaw.all(Number(afterPosition), maxCount) as RawEventRow[];
  }

  async headPosition(): Promise<bigint> {
    return BigInt((this.stmts.head.get() as { p: number | null }).p ?? 0);
  }

  async listStreams(prefix: string, afterPosition = 0n, maxCount = 1000) {
    const rows = this.stmts.listStreams.all(Number(afterPosition), prefix, maxCount) as { stream: string; position: number }[];
    return rows.map((r) => ({ stream: r.stream, position: BigInt(r.position) }));
  }

  subscribeAll(afterPosition: bigint, handler: SubscriptionHandler): Subscription {
    return followLog({
      afterPosition,
      handler,
      read: (after, max) => this.readAll(after, max),
      waitForAppend: (signal) => this.waitForAppend(signal),
    });
  }

  private waitForAppend(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(woken);
        signal.removeEventListener('abort', finish);
        resolve();
      };
      const woken = () => {
        this.listeners.delete(woken);
        clearTimeout(timer);
        timer = setTimeout(finish, this.coalesceMs);
      };
      // The timer catches appends made by other processes sharing the file.
      let timer = setTimeout(finish, this.pollIntervalMs);
      this.listeners.add(woken);
      signal.addEventListener('abort', finish);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /**
   * For drills and tests: makes this connection meet a machine fault without filling a disk.
   * 'disk_full' caps the file at its current size (PRAGMA max_page_count), so an append that needs
   * a new page fails with SQLITE_FULL as on a full disk; 'read_only' refuses every write
   * (PRAGMA query_only) with SQLITE_READONLY as on a read-only mount; null lifts either.
   */
  simulateFault(fault: 'disk_full' | 'read_only' | null): void {
    const pages = (this.db.pragma('page_count', { simple: true }) as number);
    this.db.pragma(`max_page_count = ${fault === 'disk_full' ? pages : SQLITE_MAX_PAGE_COUNT}`);
    this.db.pragma(`query_only = ${fault === 'read_only' ? 'ON' : 'OFF'}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Appends already accepted are committed, not dropped.
    this.flushPending();
    this.closed = true;
    this.notify();
    this.db.close();
  }
}

/**
 * A file written before issue 14 lever 2 has no signature column: it is added in place, and the
 * uses recorded until then (one `SignatureUsed` event per signature, its hash in the data) are
 * copied into it, so the unique index covers every use ever made and a replay check needs no other
 * look-up. Every process sharing a file must run this version from then on: an older one neither
 * writes nor reads the column.
 */
function addSignatureColumn(db: Db): void {
  const hasColumn = () => (db.pragma('table_info(events)') as { name: string }[]).some((c) => c.name === 'signature_sha256');
  if (hasColumn()) return;
  // Under the write lock: a second process opening the same old file at once finds it added.
  db.transaction(() => {
    if (hasColumn()) return;
    db.exec('ALTER TABLE events ADD COLUMN signature_sha256 TEXT');
    db.exec(`UPDATE events SET signature_sha256 = data ->> '$.signature_sha256' WHERE type = 'SignatureUsed' AND version = 1`);
  }).immediate();
}

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

function prepareStatements(db: Db) {
  const s = (sql: string): Statement => db.prepare(sql);
  return {
    streamVersion: s('SELECT max(version) AS v FROM events WHERE stream = ?'),
    insert: s('INSERT INTO events (stream, version, event_id, type, data, metadata, signature_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    signatureUsed: s('SELECT 1 FROM events WHERE signature_sha256 = ?'),
    byEventId: s('SELECT position, stream, version FROM events WHERE event_id = ?'),
    readStream: s('SELECT * FROM events WHERE stream = ? AND version >= ? ORDER BY version'),
    readAll: s('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
    head: s('SELECT max(position) AS p FROM events'),
    listStreams: s(
      // Not LIKE: its `_` and `%` are wildcards and it ignores ASCII case, and stream ids contain `_`.
      'SELECT stream, position FROM events WHERE version = 1 AND position > ? AND instr(stream, ?) = 1 ORDER BY position LIMIT ?',
    ),
  };
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    stream: row.stream,
    type: row.type,
    version: BigInt(row.version),
    position: BigInt(row.position),
    data: JSON.parse(row.data) as JsonObject,
    metadata: JSON.parse(row.metadata) as EventMetadata,
  };
}
