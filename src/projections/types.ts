import type { Database } from 'better-sqlite3';
import type { RecordedEvent } from '../eventstore/types.js';
import type { FoldedBatch } from './orderFold.js';

/** One table of a read model: its base name, its DDL for a concrete table name, its row order. */
export interface ProjectionTable {
  readonly base: string;
  /** CREATE TABLE/INDEX statements for the table called `table` (base + suffix). */
  readonly ddl: (table: string) => string;
  /** ORDER BY columns that identify a row; used to compare two copies row by row. */
  readonly key: readonly string[];
}

/** Actual table names of one copy of a projection, by base name. */
export type TableNames = Readonly<Record<string, string>>;

/**
 * A read model fed from the global log. `apply` must be deterministic (no clock, no randomness),
 * must never throw on a recorded fact (unknown streams and types are skipped), and applying the
 * same event twice must change nothing.
 */
export interface Projection {
  readonly name: string;
  /** Bump when the tables or apply change: a copy built by another version needs a rebuild. */
  readonly version: number;
  readonly tables: readonly ProjectionTable[];
  apply(db: Database, event: RecordedEvent, tables: TableNames): void;
  /** Optional: the same as applying each event in order, done in one go (rebuild speed). */
  applyBatch?(db: Database, events: readonly RecordedEvent[], tables: TableNames): void;
  /**
   * Set by read models of order state (see orderProjection). The runner and rebuild fold each
   * batch once and hand the result to every such read model, instead of each one reloading,
   * refolding and re-encoding every order.
   */
  readonly orderFold?: OrderFoldWriter;
}

/** How an order read model turns a folded batch into rows. */
export interface OrderFoldWriter {
  write(db: Database, batch: FoldedBatch, tables: TableNames): void;
}

export type ProjectionState = 'running' | 'catching_up' | 'rebuilding' | 'stopped' | 'failed';

export interface ProjectionStatus {
  readonly name: string;
  /** The last global position applied to the serving copy. */
  readonly position: bigint;
  /** head − position. */
  readonly lag: bigint;
  readonly state: ProjectionState;
  readonly rebuild: { readonly position: bigint; readonly owner: string } | null;
  readonly lastError: string | null;
}

/** Table names of the copy with this suffix. Suffixes are [a-z0-9_] only, so names need no quoting. */
export function tableNamesFor(projection: Projection, suffix: string): TableNames {
  const names: Record<string, string> = {};
  for (const table of projection.tables) names[table.base] = `${table.base}__${suffix}`;
  return names;
}

/** The one name a projection's apply looks up; a missing name is a programming error. */
export function tableName(tables: TableNames, base: string): string {
  const name = tables[base];
  if (name === undefined) throw new Error(`projection has no table ${base}`);
  return name;
}
