import type { Database as Db } from 'better-sqlite3';
import { statusWatchList } from './workQueue.js';

/**
 * Matched and lapsed orders for the reconciler's chain-time step (src/settlement/chainTime.ts),
 * walked from the work queue pass by pass so none is left out. Which of them are chain-verified and
 * due is the decider's question (chainLookupDue), asked on each order's stream.
 */
export const chainTimeWatchList = (db: () => Db | null, perPass: number): (() => Promise<string[]>) =>
  statusWatchList(db, ['matched', 'lapsed'], perPass);
