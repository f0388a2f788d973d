import type { Database as Db } from 'better-sqlite3';
import type { RecordedEvent } from '../eventstore/types.js';
import { foldBatch, loadStateFrom } from './orderFold.js';
import { tableName, type OrderFoldWriter, type Projection, type ProjectionTable, type TableNames } from './types.js';

export interface OrderProjectionDefinition extends OrderFoldWriter {
  readonly name: string;
  readonly version: number;
  readonly tables: readonly ProjectionTable[];
}

/**
 * A read model of order state, defined by how it writes a folded batch. Applied on its own (tests,
 * verify's fresh rebuild) it folds from its own state table; the runner and rebuild instead fold
 * once for every such read model and call `write` on each (see applyCopies).
 */
export function orderProjection(definition: OrderProjectionDefinition): Projection {
  const { name, version, tables, stateTable, write } = definition;
  const applyBatch = (db: Db, events: readonly RecordedEvent[], names: TableNames): void => {
    write(db, foldBatch(events, loadStateFrom(db, tableName(names, stateTable))), names);
  };
  return {
    name,
    version,
    tables,
    orderFold: { stateTable, write },
    applyBatch,
    apply: (db, event, names) => applyBatch(db, [event], names),
  };
}
