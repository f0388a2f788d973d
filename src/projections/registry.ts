import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import type { RecordedEvent } from '../eventstore/types.js';
import { tableNamesFor, type Projection, type TableNames } from './types.js';

/**
 * The read DB's bookkeeping: which copy (suffix) of each projection serves reads and how far it
 * has applied the log, and which rebuild (if any) is building a new copy under a lease.
 */
const REGISTRY_DDL = `
CREATE TABLE IF NOT EXISTS projection_registry (
  name     TEXT PRIMARY KEY,
  suffix   TEXT NOT NULL,
  position INTEGER NOT NULL,
  version  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_rebuilds (
  name                TEXT PRIMARY KEY,
  suffix              TEXT NOT NULL,
  position            INTEGER NOT NULL,
  version             INTEGER NOT NULL,
  owner               TEXT NOT NULL,
  lease_expires_at_ms INTEGER NOT NULL,
  started_at          TEXT NOT NULL
);
`;

/** WAL frames (pages) after which a commit checkpoints read.db into its main file. */
export const READ_DB_WAL_AUTOCHECKPOINT_PAGES = 4000;

export interface ActiveCopy {
  readonly suffix: string;
  readonly position: bigint;
  readonly version: number;
}

export interface ReadDbOptions {
  readonly readonly?: boolean;
  readonly busyTimeoutMs?: number;
}

/** Opens the read DB. WAL lets a server's readers, its runner and a CLI rebuild share the file. */
export function openReadDb(path: string, options: ReadDbOptions = {}): Db {
  const readonly = options.readonly === true && path !== ':memory:';
  const db = new Database(path, { readonly, fileMustExist: readonly });
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!readonly) {
    // A new file gets 1 KiB pages: each batch rewrites a handful of pages scattered over the order
    // tables (random order ids), and every such page goes to the WAL whole, so smaller pages mean
    // fewer bytes per batch. (Ignored by a file that already has pages.)
    db.pragma('page_size = 1024');
    db.pragma('journal_mode = WAL');
    // Statement journals (an upsert inside a projection's savepoint) stay in memory, not in temp files.
    db.pragma('temp_store = MEMORY');
    // Rows and their checkpoint commit together, so a lost tail after power loss is re-applied, never doubled.
    // NORMAL (no fsync per commit, one per WAL checkpoint) rather than OFF: the file is a cache of
    // the log, but OFF could leave it corrupt after a power loss (a checkpoint's pages unwritten
    // while the WAL restarts over them), which only a restore mends; NORMAL loses at most the tail.
    db.pragma('synchronous = NORMAL');
    // A checkpoint copies each page the WAL holds once, however often it was written since the
    // last: the registry, the tables' last pages and the small live tables are rewritten by every
    // batch, so a 4 MiB WAL (4,000 frames of 1 KiB) copies about half as many pages per batch as
    // SQLite's default of 1,000 (measured on the trade bench, issue 14) for one fsync per 4 MiB.
    db.pragma(`wal_autocheckpoint = ${READ_DB_WAL_AUTOCHECKPOINT_PAGES}`);
    db.exec(REGISTRY_DDL);
    addRebuildHolderColumn(db);
  }
  return db;
}

/** The rebuild's holder process (see settlement/leaseHolder.ts); read DBs from before it get the column. */
function addRebuildHolderColumn(db: Db): void {
  const columns = db.prepare("SELECT name FROM pragma_table_info('projection_rebuilds')").all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === 'holder')) db.exec('ALTER TABLE projection_rebuilds ADD COLUMN holder TEXT');
}

const statementCache = new WeakMap<Db, Map<string, Statement>>();

/** Prepared statements are reused per connection; projections build SQL from table names. */
export function cachedStatement(db: Db, sql: string): Statement {
  let cache = statementCache.get(db);
  if (cache === undefined) {
    cache = new Map();
    statementCache.set(db, cache);
  }
  let stmt = cache.get(sql);
  if (stmt === undefined) {
    stmt = db.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}

/** Connections whose file has the registry: nothing drops it, so once seen it stays (a restore opens a new connection). */
const registrySeen = new WeakSet<Db>();

export function hasRegistry(db: Db): boolean {
  if (registrySeen.has(db)) return true;
  // Asked before every batch and read: a cached statement, not a fresh prepare each time.
  const row = cachedStatement(db, "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'projection_registry'").get();
  if (row !== undefined) registrySeen.add(db);
  return row !== undefined;
}

export function activeCopy(db: Db, name: string): ActiveCopy | null {
  if (!hasRegistry(db)) return null;
  const row = cachedStatement(db, 'SELECT suffix, position, version FROM projection_registry WHERE name = ?').get(name) as
    | { suffix: string; position: number; version: number }
    | undefined;
  return row === undefined ? null : { suffix: row.suffix, position: BigInt(row.position), version: row.version };
}

/** The tables reads should use, or null before the projection has ever been created. */
export function activeTables(db: Db, projection: Projection): TableNames | null {
  const copy = activeCopy(db, projection.name);
  return copy === null ? null : tableNamesFor(projection, copy.suffix);
}

/**
 * Creates a copy's tables. With `indexes: false` only the tables (their primary keys and unique
 * constraints, which the writers' upserts rely on) and none of the secondary indexes: a rebuild
 * fills its copy first and builds those indexes in one sort each before it switches (createTables
 * again, with them), instead of inserting every row into every index at a random place.
 */
export function createTables(db: Db, projection: Projection, suffix: string, options: { readonly indexes?: boolean } = {}): TableNames {
  const names = tableNamesFor(projection, suffix);
  for (const table of projection.tables) {
    const ddl = table.ddl(names[table.base] as string);
    if (options.indexes === false) {
      for (const statement of ddl.split(';')) if (/^\s*CREATE TABLE/i.test(statement)) db.exec(statement);
    } else db.exec(ddl);
  }
  return names;
}

export function dropTables(db: Db, projection: Projection, suffix: string): void {
  const names = tableNamesFor(projection, suffix);
  for (const table of projection.tables) db.exec(`DROP TABLE IF EXISTS ${names[table.base] as string}`);
}

/** Registers a projection the first time it is seen, with empty tables at position 0. */
export function ensureProjection(db: Db, projection: Projection): ActiveCopy {
  const tx = db.transaction((): ActiveCopy => {
    const existing = activeCopy(db, projection.name);
    if (existing !== null) return existing;
    const suffix = `v${projection.version}_0`;
    createTables(db, projection, suffix);
    db.prepare('INSERT INTO projection_registry (name, suffix, position, version) VALUES (?, ?, 0, ?)').run(
      projection.name,
      suffix,
      projection.version,
    );
    return { suffix, position: 0n, version: projection.version };
  });
  return tx.immediate();
}

export function setActivePosition(db: Db, name: string, position: bigint): void {
  cachedStatement(db, 'UPDATE projection_registry SET position = ? WHERE name = ?').run(position, name);
}

/**
 * Applies the events after `afterPosition` to one copy; returns the new checkpoint. Callers run
 * this inside the transaction that also stores the checkpoint, which is what makes a crash safe.
 */
export function applyEvents(
  db: Db,
  projection: Projection,
  tables: TableNames,
  events: readonly RecordedEvent[],
  afterPosition: bigint,
): bigint {
  const fresh = events.filter((event) => event.position > afterPosition);
  const last = fresh[fresh.length - 1];
  if (last === undefined) return afterPosition;
  if (projection.applyBatch !== undefined) projection.applyBatch(db, fresh, tables);
  else for (const event of fresh) projection.apply(db, event, tables);
  return last.position;
}
