import type { Database as Db } from 'better-sqlite3';
import type { EventStore } from '../eventstore/types.js';
import { readEvents } from '../projections/eventSource.js';
import { activeCopy, applyEvents, ensureProjection, hasRegistry, openReadDb, type ActiveCopy } from '../projections/registry.js';
import { tableNamesFor, type Projection, type ProjectionTable } from '../projections/types.js';
import type { Finding } from './findings.js';

/** Differences reported per table before the rest are only counted, so a wrecked table stays readable. */
const MAX_ROW_FINDINGS = 20;

export interface CompareOptions {
  readonly store: EventStore;
  /** A connection to the read DB that nothing else writes through (verify opens its own). */
  readonly readDb: Db;
  readonly projections: readonly Projection[];
  readonly batchSize?: number;
  readonly onProgress?: (position: bigint, target: bigint) => void;
}

/**
 * Invariant 8: each read model equals a fresh rebuild. Inside one read transaction (a snapshot, so
 * a server may keep writing) it takes each projection's checkpoint, rebuilds every projection in
 * memory up to exactly that checkpoint, and compares the tables row by row.
 */
export async function compareReadModels(options: CompareOptions): Promise<Finding[]> {
  const { readDb } = options;
  if (!hasRegistry(readDb)) {
    return [{ kind: 'read_model_missing', message: 'the read DB has no projection registry: no read model was ever built' }];
  }
  readDb.exec('BEGIN');
  try {
    const findings: Finding[] = [];
    const copies = new Map<Projection, ActiveCopy>();
    for (const projection of options.projections) {
      const copy = activeCopy(readDb, projection.name);
      if (copy === null) findings.push({ kind: 'read_model_missing', message: `read model ${projection.name} does not exist` });
      else copies.set(projection, copy);
    }
    findings.push(...behindHead(copies, await options.store.headPosition()));
    const fresh = await freshRebuild(options, copies);
    for (const [projection, copy] of copies) findings.push(...compareProjection(readDb, fresh, projection, copy));
    fresh.close();
    return findings;
  } finally {
    readDb.exec('COMMIT');
  }
}

/**
 * A read model equal to a rebuild up to its own checkpoint can still be stale: one that stopped
 * (a failed projection, a server that is down) answers from the past. A running server keeps its
 * read models a few events behind at most, so only a lag beyond that is a finding.
 */
export const MAX_VERIFY_LAG = 1000n;

function behindHead(copies: ReadonlyMap<Projection, ActiveCopy>, head: bigint): Finding[] {
  const findings: Finding[] = [];
  for (const [projection, copy] of copies) {
    const lag = head - copy.position;
    if (lag > MAX_VERIFY_LAG) {
      findings.push({ kind: 'read_model_behind', message: `read model ${projection.name} is at position ${copy.position}, ${lag} events behind the log's head ${head}` });
    }
  }
  return findings;
}

/** Every projection rebuilt in memory, each up to the checkpoint of its serving copy. */
async function freshRebuild(options: CompareOptions, copies: Map<Projection, ActiveCopy>): Promise<Db> {
  const fresh = openReadDb(':memory:');
  const targets = [...copies].map(([projection, copy]) => ({ projection, limit: copy.position, ...ensureProjection(fresh, projection) }));
  const end = targets.reduce((max, t) => (t.limit > max ? t.limit : max), 0n);
  const applyBatch = fresh.transaction((events: Parameters<typeof applyEvents>[3]) => {
    for (const t of targets) {
      applyEvents(fresh, t.projection, tableNamesFor(t.projection, t.suffix), events.filter((e) => e.position <= t.limit), 0n);
    }
  });
  let position = 0n;
  while (position < end) {
    const events = await readEvents(options.store, position, options.batchSize ?? 5000);
    if (events.length === 0) break;
    applyBatch(events);
    position = events[events.length - 1]?.position ?? position;
    options.onProgress?.(position < end ? position : end, end);
  }
  return fresh;
}

function compareProjection(readDb: Db, fresh: Db, projection: Projection, copy: ActiveCopy): Finding[] {
  const actual = tableNamesFor(projection, copy.suffix);
  const freshCopy = activeCopy(fresh, projection.name);
  if (freshCopy === null) return [];
  const expected = tableNamesFor(projection, freshCopy.suffix);
  return projection.tables.flatMap((table) =>
    compareTable(readDb, actual[table.base] as string, fresh, expected[table.base] as string, table, projection.name),
  );
}

type Row = Record<string, unknown>;

function compareTable(readDb: Db, actualName: string, fresh: Db, freshName: string, table: ProjectionTable, projectionName: string): Finding[] {
  const columns = (fresh.prepare(`PRAGMA table_info(${freshName})`).all() as { name: string }[]).map((c) => c.name);
  const select = (name: string) => `SELECT ${columns.join(', ')} FROM ${name} ORDER BY ${table.key.join(', ')}`;
  const actualRows = readDb.prepare(select(actualName)).safeIntegers(true).iterate() as IterableIterator<Row>;
  const freshRows = fresh.prepare(select(freshName)).safeIntegers(true).iterate() as IterableIterator<Row>;
  const report = new RowReport(`${projectionName}/${table.base}`, table.key);
  let a = actualRows.next();
  let f = freshRows.next();
  while (!a.done || !f.done) {
    const order = a.done ? 1 : f.done ? -1 : compareKeys(a.value, f.value, table.key);
    if (order < 0) {
      report.unexpected(a.value as Row);
      a = actualRows.next();
    } else if (order > 0) {
      report.missing(f.value as Row);
      f = freshRows.next();
    } else {
      report.compare(a.value as Row, f.value as Row, columns);
      a = actualRows.next();
      f = freshRows.next();
    }
  }
  return report.findings();
}

function compareKeys(a: Row, b: Row, key: readonly string[]): number {
  for (const column of key) {
    const x = String(a[column]);
    const y = String(b[column]);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const show = (value: unknown): string => (value === null ? 'NULL' : typeof value === 'bigint' ? value.toString() : JSON.stringify(value));

/** Collects row differences as precise sentences, the first MAX_ROW_FINDINGS of them in full. */
class RowReport {
  private readonly list: Finding[] = [];
  private overflow = 0;
  constructor(private readonly table: string, private readonly key: readonly string[]) {}

  private where(row: Row): string {
    return this.key.map((k) => `${k}=${show(row[k])}`).join(', ');
  }

  private push(finding: Finding): void {
    if (this.list.length < MAX_ROW_FINDINGS) this.list.push(finding);
    else this.overflow += 1;
  }

  unexpected(row: Row): void {
    this.push({ kind: 'read_model_row_unexpected', message: `${this.table}: row ${this.where(row)} exists but a fresh rebuild has no such row` });
  }

  missing(row: Row): void {
    this.push({ kind: 'read_model_row_missing', message: `${this.table}: row ${this.where(row)} is missing (a fresh rebuild has it)` });
  }

  compare(actual: Row, expected: Row, columns: readonly string[]): void {
    for (const column of columns) {
      if (show(actual[column]) === show(expected[column])) continue;
      this.push({
        kind: 'read_model_row_differs',
        message: `${this.table}: row ${this.where(actual)} column ${column} is ${show(actual[column])}, a fresh rebuild has ${show(expected[column])}`,
      });
    }
  }

  findings(): Finding[] {
    if (this.overflow === 0) return this.list;
    return [...this.list, { kind: 'read_model_row_differs', message: `${this.table}: ${this.overflow} more differences not listed` }];
  }
}
