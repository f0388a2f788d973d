import type { Database as Db } from 'better-sqlite3';
import { isTerminal } from '../aggregates/order/state.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { foldBatch, type StoredState } from './orderFold.js';
import type { OrderFoldWriter, Projection, ProjectionTable, TableNames } from './types.js';

export interface OrderProjectionDefinition extends OrderFoldWriter {
  readonly name: string;
  readonly version: number;
  readonly tables: readonly ProjectionTable[];
}

/**
 * Folds kept for read models applied on their own, per connection and copy. The read DB stores no
 * fold (it is a function of the log), so `apply` on its own is for a copy fed from position 0 in
 * this process: verify's fresh rebuild and tests. The runner and rebuild fold once for every order
 * read model, from their FoldCache and the event store (see applyCopies).
 */
const standaloneFolds = new WeakMap<Db, Map<string, Map<string, StoredState>>>();

function foldsOf(db: Db, names: TableNames): Map<string, StoredState> {
  let perCopy = standaloneFolds.get(db);
  if (perCopy === undefined) {
    perCopy = new Map();
    standaloneFolds.set(db, perCopy);
  }
  const key = Object.values(names).join(',');
  let folds = perCopy.get(key);
  if (folds === undefined) {
    folds = new Map();
    perCopy.set(key, folds);
  }
  return folds;
}

/**
 * A read model of order state, defined by how it writes a folded batch. Applied on its own it folds
 * from the states it has seen in this process (ended orders are forgotten: they fold nothing more);
 * the runner and rebuild instead fold once for every such read model and call `write` on each.
 */
export function orderProjection(definition: OrderProjectionDefinition): Projection {
  const { name, version, tables, write } = definition;
  const applyBatch = (db: Db, events: readonly RecordedEvent[], names: TableNames): void => {
    const folds = foldsOf(db, names);
    const batch = foldBatch(events, (orderId) => folds.get(orderId) ?? null);
    write(db, batch, names);
    for (const [orderId, fold] of batch.changes) {
      if (isTerminal(fold.state.status)) folds.delete(orderId);
      else folds.set(orderId, { state: fold.state, version: fold.version, problem: fold.problem });
    }
  };
  return {
    name,
    version,
    tables,
    orderFold: { write },
    applyBatch,
    apply: (db, event, names) => applyBatch(db, [event], names),
  };
}
