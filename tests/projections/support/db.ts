import type { Database as Db } from 'better-sqlite3';
import type { RecordedEvent } from '../../../src/eventstore/types.js';
import { activeTables, ensureProjection, openReadDb } from '../../../src/projections/registry.js';
import { tableNamesFor, type Projection } from '../../../src/projections/types.js';
import type { EventStore } from '../../../src/eventstore/types.js';

export async function allEvents(store: EventStore): Promise<RecordedEvent[]> {
  return store.readAll(0n, 1_000_000);
}

/** A fresh in-memory read DB holding one registered copy of `projection`. */
export function freshDb(projection: Projection): { db: Db; tables: Record<string, string> } {
  const db = openReadDb(':memory:');
  const copy = ensureProjection(db, projection);
  return { db, tables: { ...tableNamesFor(projection, copy.suffix) } };
}

/** Every row of every table of the serving copy, in key order: a comparable snapshot. */
export function dump(db: Db, projection: Projection): Record<string, unknown[]> {
  const tables = activeTables(db, projection);
  if (tables === null) throw new Error(`${projection.name} is not registered`);
  const out: Record<string, unknown[]> = {};
  for (const table of projection.tables) {
    out[table.base] = db.prepare(`SELECT * FROM ${tables[table.base] as string} ORDER BY ${table.key.join(', ')}`).all();
  }
  return out;
}
