import { lapsesProjection } from './lapses.js';
import { orderBookProjection } from './orderBook.js';
import { ordersProjection } from './orders.js';
import { signaturesProjection } from './signatures.js';
import { statsProjection } from './stats.js';
import { tradesProjection } from './trades.js';
import type { Projection } from './types.js';
import { workQueueProjection } from './workQueue.js';

/** Every read model of the ledger, in the order the runner applies them. */
export const ALL_PROJECTIONS: readonly Projection[] = [
  ordersProjection,
  orderBookProjection,
  tradesProjection,
  statsProjection,
  workQueueProjection,
  signaturesProjection,
  lapsesProjection,
];

export function projectionByName(name: string): Projection | null {
  return ALL_PROJECTIONS.find((p) => p.name === name) ?? null;
}
