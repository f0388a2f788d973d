import type { Database } from 'better-sqlite3';
import { ALL_PROJECTIONS } from '../../../src/projections/all.js';
import { activeCopy } from '../../../src/projections/registry.js';
import { tableNamesFor } from '../../../src/projections/types.js';

/** Every row of every serving copy, by projection and table base name, in the table's key order, with each copy's position. */
export function servingRows(db: Database): Record<string, unknown[]> {
  const rows: Record<string, unknown[]> = {};
  for (const projection of ALL_PROJECTIONS) {
    const copy = activeCopy(db, projection.name);
    if (copy === null) throw new Error(`${projection.name} has no serving copy`);
    const names = tableNamesFor(projection, copy.suffix);
    for (const table of projection.tables) {
      rows[`${projection.name}.${table.base}`] = db.prepare(`SELECT * FROM ${names[table.base]} ORDER BY ${table.key.join(', ')}`).all();
    }
    rows[`${projection.name}@position`] = [copy.position];
  }
  return rows;
}
