import type { Database } from 'better-sqlite3';
import { ALL_PROJECTIONS } from '../../../src/projections/all.js';
import { activeCopy } from '../../../src/projections/registry.js';
import { tableNamesFor } from '../../../src/projections/types.js';

/**
 * Every row of every serving copy, by projection and table base name, in the table's key order, with
 * each copy's position. `typed`: each row as one string of every column's SQLite type and quoted
 * value (typeof and quote()), so an integer and a real of one value differ, as do text and blob.
 */
export function servingRows(db: Database, options: { readonly typed?: boolean } = {}): Record<string, unknown[]> {
  const rows: Record<string, unknown[]> = {};
  for (const projection of ALL_PROJECTIONS) {
    const copy = activeCopy(db, projection.name);
    if (copy === null) throw new Error(`${projection.name} has no serving copy`);
    const names = tableNamesFor(projection, copy.suffix);
    for (const table of projection.tables) {
      const name = names[table.base] as string;
      const order = `ORDER BY ${table.key.join(', ')}`;
      rows[`${projection.name}.${table.base}`] = options.typed
        ? db.prepare(`SELECT ${typedCells(db, name)} FROM ${name} ${order}`).pluck().all()
        : db.prepare(`SELECT * FROM ${name} ${order}`).all();
    }
    rows[`${projection.name}@position`] = [options.typed ? String(copy.position) : copy.position];
  }
  return rows;
}

function typedCells(db: Database, table: string): string {
  const columns = (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name);
  return columns.map((c) => `typeof(${c}) || ':' || quote(${c})`).join(` || '|' || `);
}
