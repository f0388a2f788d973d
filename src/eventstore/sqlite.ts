import type { Database as Db, Statement } from 'better-sqlite3';
import type {
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedVersion,
  JsonObject,
  NewEvent,
  RecordedEvent,
  Subscription,
  SubscriptionHandler,
} from './types.js';
import { followLog } from './follow.js';
import { StoreOverloaded } from './storageFault.js';
import { openWriterConnection, prepareEvents, SqliteWritePath, type AppendOutcome, type AppendRequest, type StorageFaultDrill } from './sqliteWritePath.js';
import { SqliteWriterThread } from './sqliteWriterThread.js';

/**
 * Where appends are committed (issue 14 lever 3). 'inline': on the event loop, through this
 * store's own connection. 'worker': on a writer thread with its own connection, so BEGIN, COMMIT's
 * fsync and WAL checkpoints never block the loop; a file-backed store only. 'adaptive': both, one
 * at a time: a lone append (nothing queued or in flight on the thread, and the caller alone, see
 * isCallerAlone) commits at once on this store's connection, which saves the two thread wake-ups
 * a lone append pays on the thread; anything else goes to the thread with group commit. Reads stay
 * on this thread's connection in every mode: WAL shows a committed transaction to every later read.
 */
export type SqliteWriterMode = 'inline' | 'worker' | 'adaptive';

/** Which connection committed a transaction of appends: this thread's, or the writer thread's. */
export type CommitSite = 'loop' | 'thread';

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
  /**
   * 'inline' (the default: tools, tests, benchmarks calling appendSync and the simulator, whose
   * same-seed replay needs completions in an order no other thread decides), 'worker' or
   * 'adaptive' (the server's file-backed store, LEDGER_SQLITE_WRITER; adaptive by default).
   */
  readonly writer?: SqliteWriterMode;
  /** Called once if the writer thread stops without being closed (appends are refused from then on). */
  readonly onWriterStopped?: (error: Error) => void;
  /**
   * The adaptive writer's second condition for a commit on the loop: true when no other request is
   * in progress (the server counts its open HTTP requests), so the loop blocked for one fsync
   * delays nobody. Default: always alone, leaving only the thread's state to decide.
   */
  readonly isCallerAlone?: () => boolean;
  /** Called once per committed (or attempted) transaction of appends, with where it ran: the commits metric. */
  readonly onCommit?: (site: CommitSite) => void;
}

/** Far above what one event-loop turn of HTTP requests produces; a bound on memory, not a throttle. */
const DEFAULT_MAX_PENDING_APPENDS = 10_000;

/** An append waiting for the next group commit, with the caller's promise to settle after COMMIT. */
interface PendingAppend {
  readonly request: AppendRequest;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

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

/**
 * One stored event with its data and metadata JSON unparsed (see readAllRawSync), as SQLite's row
 * array: position, stream, version, event_id, type, data, metadata. An array, not an object: a
 * rebuild reads every row of the log, and better-sqlite3 builds an array in about half the time.
 */
export type RawEventRow = readonly [position: number, stream: string, version: number, eventId: string, type: string, data: string, metadata: string];

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
  private readonly mode: SqliteWriterMode;
  private readonly isCallerAlone: () => boolean;
  private readonly onCommit: (site: CommitSite) => void;
  private readonly stmts: ReturnType<typeof prepareStatements>;
  /** The write path over this.db (inline and adaptive writers); null when only the writer thread writes. */
  private readonly writePath: SqliteWritePath | null;
  private readonly writerThread: SqliteWriterThread | null;
  /** Settles once the group the writer thread is committing has its answers; the next one accumulates meanwhile. */
  private groupInFlight: Promise<void> | null = null;
  private pending: PendingAppend[] = [];
  /** The adaptive writer committed on the loop in the code running now (cleared by a microtask). */
  private loopCommittedThisRun = false;
  private readonly maxPendingAppends: number;
  private closed = false;
  /** Prepared on first use: only projection readers need it. */
  private readAllRaw: Statement | null = null;

  constructor(options: SqliteEventStoreOptions) {
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const writer = options.writer ?? 'inline';
    if (writer !== 'inline' && isInMemory(options.path)) {
      throw new Error(`the ${writer} writer needs a file-backed store: a second connection cannot see an in-memory database`);
    }
    this.mode = writer;
    this.isCallerAlone = options.isCallerAlone ?? (() => true);
    this.onCommit = options.onCommit ?? (() => undefined);
    this.db = openWriterConnection(options.path, busyTimeoutMs);
    this.db.exec(EVENTS_TABLE);
    addSignatureColumn(this.db);
    this.db.exec(EVENTS_INDEXES);
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.coalesceMs = options.coalesceMs ?? 5;
    this.maxPendingAppends = options.maxPendingAppends ?? DEFAULT_MAX_PENDING_APPENDS;
    this.stmts = prepareStatements(this.db);
    // The schema exists before the worker opens its connection: it only ever writes rows.
    const onStopped = (error: Error) => {
      this.failPending();
      options.onWriterStopped?.(error);
    };
    this.writerThread = writer === 'inline' ? null : new SqliteWriterThread({ path: options.path, busyTimeoutMs }, onStopped);
    this.writePath = writer === 'worker' ? null : new SqliteWritePath(this.db);
  }

  /** Which writer commits this store's appends. */
  get writer(): SqliteWriterMode {
    return this.mode;
  }

  /**
   * Group commit: appends made in the same turn of the event loop are committed together in one
   * BEGIN IMMEDIATE transaction, so one fsync covers all of them. Each append runs in its own
   * SAVEPOINT and is checked against its own expected version, so a conflict rolls back only that
   * append; appends later in a group see the ones before it. Every promise settles after the
   * COMMIT (WAL + synchronous=FULL): durability is that of appendSync. With the worker writer, the
   * next group accumulates while one is in COMMIT; one group in flight keeps positions in call order.
   * The adaptive writer commits a lone append at once on this connection (see commitsOnLoop), never
   * while the thread has a group, so two commits never race and call order is kept; its
   * autocheckpoint stays on, so a checkpoint too runs only while no other commit can start, and
   * the WAL restarts after it (see docs/PERFORMANCE.md, "Session 7, writer").
   */
  append(stream: string, events: readonly NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    if (events.length === 0 || (this.closed && this.writerThread === null)) {
      return new Promise((resolve) => resolve(this.appendSync(stream, events, expected)));
    }
    const refusal = this.appendRefusal();
    if (refusal !== null) return Promise.reject(refusal);
    let request: AppendRequest;
    try {
      request = { stream, events: prepareEvents(events), expected };
    } catch (error) {
      // Data JSON cannot hold (a bigint): only this caller fails, before anything is queued.
      return Promise.reject(error);
    }
    if (this.commitsOnLoop()) return this.commitOnLoop(request);
    return new Promise((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      if (this.pending.length === 1) scheduleFlush(this.flushPending);
    });
  }

  /**
   * The adaptive writer's choice for an append now: on the loop when nothing waits for the thread
   * (no append queued, no group in flight), no other request is in progress, and this run of code
   * has not committed on the loop already (appends made together, as by Promise.all, then share
   * one group on the thread after the first). Under load the thread keeps the loop free during the
   * fsync; alone, the loop would only wait for the thread's two wake-ups.
   */
  private commitsOnLoop(): boolean {
    return this.mode === 'adaptive' && !this.loopCommittedThisRun && this.pending.length === 0 && this.groupInFlight === null && this.isCallerAlone();
  }

  /**
   * Commits one append at once on this connection (no wait for a later turn); the promise settles
   * after COMMIT returned. Appends later in the same run of code queue for the thread.
   */
  private commitOnLoop(request: AppendRequest): Promise<AppendResult> {
    this.loopCommittedThisRun = true;
    queueMicrotask(this.endLoopRun);
    const outcome = this.commitGroupOnLoop([request])[0] as AppendOutcome;
    if (outcome.ok && outcome.written) this.notify();
    return outcome.ok ? Promise.resolve(outcome.result) : Promise.reject(outcome.error);
  }

  private readonly endLoopRun = (): void => {
    this.loopCommittedThisRun = false;
  };

  private commitGroupOnLoop(group: readonly AppendRequest[]): AppendOutcome[] {
    this.onCommit('loop');
    return (this.writePath as SqliteWritePath).commit(group);
  }

  /** Why an append is refused before it is queued, or null. */
  private appendRefusal(): Error | null {
    if (this.writerThread?.failure) return this.writerThread.failure;
    if (this.closed) return new Error('the event store is closed');
    if (this.pending.length >= this.maxPendingAppends) return new StoreOverloaded(this.pending.length);
    return null;
  }

  private readonly flushPending = (): void => {
    if (this.writerThread !== null) {
      this.postNextGroup(this.writerThread);
      return;
    }
    const queued = this.pending;
    this.pending = [];
    for (let from = 0; from < queued.length; from += MAX_APPENDS_PER_COMMIT) {
      const group = queued.slice(from, from + MAX_APPENDS_PER_COMMIT);
      this.settle(group, this.commitGroupOnLoop(group.map((p) => p.request)));
    }
  };

  /** Hands the writer thread the appends queued so far, unless a group is already in COMMIT. */
  private postNextGroup(thread: SqliteWriterThread): void {
    if (this.groupInFlight !== null || this.pending.length === 0) return;
    const group = this.pending.splice(0, MAX_APPENDS_PER_COMMIT);
    this.onCommit('thread');
    this.groupInFlight = thread.commit(group.map((p) => p.request)).then(
      (outcomes) => {
        this.groupInFlight = null;
        this.settle(group, outcomes);
        this.postNextGroup(thread);
      },
      (error: unknown) => {
        this.groupInFlight = null;
        for (const p of group) p.reject(error);
        this.failPending();
      },
    );
  }

  /** The writer thread is gone: every append still queued fails with its reason. */
  private failPending(): void {
    const failure = this.writerThread?.failure;
    if (failure === null || failure === undefined) return;
    const queued = this.pending;
    this.pending = [];
    for (const p of queued) p.reject(failure);
  }

  private settle(group: readonly PendingAppend[], outcomes: readonly AppendOutcome[]): void {
    if (outcomes.some((o) => o.ok && o.written)) this.notify();
    outcomes.forEach((outcome, i) => {
      const p = group[i] as PendingAppend;
      if (outcome.ok) p.resolve(outcome.result);
      else p.reject(outcome.error);
    });
  }

  /** Synchronous append, for callers already inside the embedded process (benchmarks, tools); inline writer only. */
  appendSync(stream: string, events: readonly NewEvent[], expected: ExpectedVersion): AppendResult {
    if (events.length === 0) throw new Error('append needs at least one event');
    if (this.mode !== 'inline') throw new Error(`appendSync needs the inline writer: this store commits with the ${this.mode} writer, on its writer thread`);
    const outcome = this.commitGroupOnLoop([{ stream, events: prepareEvents(events), expected }])[0] as AppendOutcome;
    if (!outcome.ok) throw outcome.error;
    if (outcome.written) this.notify();
    return outcome.result;
  }

  async signatureUsed(signatureSha256: string): Promise<boolean> {
    return this.stmts.signatureUsed.get(signatureSha256) !== undefined;
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
    ).raw(true);
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
   * For drills and tests: makes the writer's connection meet a machine fault without filling a
   * disk (see SqliteWritePath.simulateFault). With a writer thread it reaches the thread before
   * any append made after this call; the adaptive writer's loop connection meets it at once too.
   */
  simulateFault(fault: StorageFaultDrill): void {
    this.writerThread?.simulateFault(fault);
    this.writePath?.simulateFault(fault);
  }

  /** For tests and drills: ends the writer thread at once, as a crash would. */
  async terminateWriterThread(): Promise<void> {
    if (this.writerThread === null) throw new Error('this store has no writer thread');
    await this.writerThread.terminate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Appends already accepted are committed, not dropped.
    if (this.writerThread !== null) {
      await this.drainWriterThread(this.writerThread);
      await this.writerThread.close();
    } else {
      this.flushPending();
    }
    this.notify();
    this.db.close();
  }

  /** Waits until every accepted append has its answer from the writer thread (or it is gone). */
  private async drainWriterThread(thread: SqliteWriterThread): Promise<void> {
    this.postNextGroup(thread);
    while (this.groupInFlight !== null) await this.groupInFlight;
  }
}

function isInMemory(path: string): boolean {
  return path === ':memory:' || path === '' || path.startsWith('file::memory:');
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

function prepareStatements(db: Db) {
  const s = (sql: string): Statement => db.prepare(sql);
  return {
    signatureUsed: s('SELECT 1 FROM events WHERE signature_sha256 = ?'),
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
