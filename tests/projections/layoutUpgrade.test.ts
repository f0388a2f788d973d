/**
 * Issue 14 lever 1 (session 5): orders 5, trades 4, stats 4 and signatures 2 changed their tables'
 * layout. A read DB written by the previous versions must keep answering from its old copies (same
 * columns) and report "rebuild needed" until the blue/green rebuild switches in the new layout,
 * which then holds exactly what a fresh live runner writes, and answers the same.
 */
import { describe, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { listOrders } from '../../src/projections/orders.js';
import { activeCopy, openReadDb } from '../../src/projections/registry.js';
import { rebuildProjections } from '../../src/projections/rebuild.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { findUsedSignature, listUsedSignatures } from '../../src/projections/signatures.js';
import { pairStats } from '../../src/projections/stats.js';
import { listTrades } from '../../src/projections/trades.js';
import type { Projection, ProjectionTable } from '../../src/projections/types.js';
import { servingRows } from './support/servingRows.js';
import { BUYER, buildMixedLedger, SELLER, TestLedger } from './support/ledger.js';

/** The tables as the previous versions created them (DDL copied from commit aeab9b5). */
const PREVIOUS: Record<string, { version: number; tables: ProjectionTable[] }> = {
  trades: {
    version: 3,
    tables: [{
      base: 'trades', key: ['trade_id'],
      ddl: (t) => `
        CREATE TABLE IF NOT EXISTS ${t} (
          trade_id TEXT PRIMARY KEY, order_id TEXT NOT NULL UNIQUE, pair TEXT NOT NULL, side TEXT NOT NULL,
          amount_micro TEXT NOT NULL, price_nano TEXT NOT NULL, total_quote_nano TEXT NOT NULL,
          seller_wallet TEXT, buyer_wallet TEXT, quote_tx TEXT, payout_tx_hash TEXT, completed_at TEXT,
          position INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS ${t}_pos ON ${t} (position);
        CREATE INDEX IF NOT EXISTS ${t}_pair_pos ON ${t} (pair, position);`,
    }],
  },
  signatures: {
    version: 1,
    tables: [{
      base: 'used_signatures', key: ['signature_hash'],
      ddl: (t) => `
        CREATE TABLE IF NOT EXISTS ${t} (
          signature_hash TEXT PRIMARY KEY, wallet TEXT, action TEXT, order_id TEXT, used_at TEXT, position INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS ${t}_wallet ON ${t} (wallet, position);`,
    }],
  },
  stats: {
    version: 3,
    tables: [
      { base: 'stats_open', key: ['order_id'], ddl: (t) => (ALL_PROJECTIONS.find((p) => p.name === 'stats')?.tables[0] as ProjectionTable).ddl(t) },
      {
        base: 'stats_trades', key: ['order_id'],
        ddl: (t) => `
          CREATE TABLE IF NOT EXISTS ${t} (
            order_id TEXT PRIMARY KEY, pair TEXT NOT NULL, amount_micro INTEGER NOT NULL, price_nano INTEGER NOT NULL,
            completed_at_ms INTEGER NOT NULL, position INTEGER NOT NULL);
          CREATE INDEX IF NOT EXISTS ${t}_time ON ${t} (pair, completed_at_ms);
          CREATE INDEX IF NOT EXISTS ${t}_pos ON ${t} (pair, position);`,
      },
    ],
  },
  orders: {
    version: 4,
    tables: (ALL_PROJECTIONS.find((p) => p.name === 'orders') as Projection).tables.map((table) => table.base !== 'orders' ? table : {
      ...table,
      ddl: (t: string) => table.ddl(t).replace(' WHERE taker_wallet IS NOT NULL', ''),
    }),
  },
};

const previousProjections: Projection[] = ALL_PROJECTIONS.map((p) => {
  const previous = PREVIOUS[p.name];
  return previous === undefined ? p : { ...p, version: previous.version, tables: previous.tables };
});

async function ledgerWithTrades(): Promise<TestLedger> {
  const ledger = TestLedger.memory();
  await buildMixedLedger(ledger, 3);
  await ledger.useSignature('ab'.repeat(32), 'otc_00000000000000aa');
  await ledger.useSignature('cd'.repeat(32), 'otc_00000000000000ab');
  return ledger;
}

function answers(db: Database, ledger: TestLedger): unknown {
  const now = new Date(ledger.nowMs);
  return {
    trades: listTrades(db, { limit: 50 }),
    stats: pairStats(db, 'RTC/USDC', now),
    signature: findUsedSignature(db, 'cd'.repeat(32)),
    sellerSignatures: listUsedSignatures(db, { wallet: SELLER, limit: 10 }),
    buyerOrders: listOrders(db, { status: 'all', wallet: BUYER, limit: 50, offset: 0 }, { now }),
  };
}

describe('read DBs from before the session-5 layouts', () => {
  it('keep answering from their old copies, report "rebuild needed", and the rebuild switches in the new layout', async () => {
    const ledger = await ledgerWithTrades();
    const db = openReadDb(':memory:');
    const old = new ProjectionRunner({ store: ledger.store, db, projections: previousProjections });
    await old.catchUp();
    await old.close();
    const before = answers(db, ledger);
    expect((before as { trades: unknown[] }).trades.length).toBeGreaterThan(0);
    expect((before as { sellerSignatures: unknown[] }).sellerSignatures.length).toBeGreaterThanOrEqual(2);

    const runner = new ProjectionRunner({ store: ledger.store, db });
    await runner.catchUp();
    const stale = (await runner.status()).filter((s) => s.lastError?.includes('rebuild needed')).map((s) => s.name).sort();
    expect(stale).toEqual(['orders', 'signatures', 'stats', 'trades']);
    expect(answers(db, ledger)).toEqual(before);

    const results = await rebuildProjections({ store: ledger.store, db, projections: ALL_PROJECTIONS });
    expect(results.every((r) => r.switched)).toBe(true);
    for (const projection of ALL_PROJECTIONS) expect(activeCopy(db, projection.name)?.version).toBe(projection.version);
    expect((await runner.status()).filter((s) => s.lastError !== null)).toEqual([]);
    expect(answers(db, ledger)).toEqual(before);

    const fresh = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    await fresh.catchUp();
    expect(servingRows(db)).toEqual(servingRows(fresh.db));
    await fresh.close();
    await runner.close();
    db.close();
  });
});
