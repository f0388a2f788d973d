import { describe, expect, it } from 'vitest';
import { countOpenOrdersOfMaker, openOrdersOfMakerSql, ordersProjection } from '../../src/projections/orders.js';
import { activeTables } from '../../src/projections/registry.js';
import { tableName } from '../../src/projections/types.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { BUYER, SELLER, TestLedger } from './support/ledger.js';

const id = (n: number): string => `otc_${n.toString(16).padStart(16, '0')}`;
const DAY_MS = 86_400_000;

describe("the open-order cap's count of a maker's live orders", () => {
  it('counts open (until expiry), matched and in-flight orders, not settled or cancelled ones, nor other makers', async () => {
    const ledger = TestLedger.memory();
    await ledger.placeSell(id(1));
    await ledger.placeSell(id(2));
    await ledger.match(id(2), BUYER);
    await ledger.placeSell(id(3));
    await ledger.match(id(3), BUYER);
    await ledger.settle(id(3), SELLER);
    await ledger.cancelWithRefund(id(4));
    await ledger.placeSell(id(5), { maker: BUYER });
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    await runner.catchUp();
    const now = ledger.now();
    expect(countOpenOrdersOfMaker(runner.db, SELLER, now)).toBe(2);
    // Past the one-day ttl the open order no longer counts; the matched one still does.
    expect(countOpenOrdersOfMaker(runner.db, SELLER, new Date(now.getTime() + 2 * DAY_MS))).toBe(1);
    expect(countOpenOrdersOfMaker(runner.db, BUYER, now)).toBe(1);
  });

  it("walks only the maker's live orders (the partial index), not every order the maker ever had", async () => {
    const runner = new ProjectionRunner({ store: TestLedger.memory().store, db: ':memory:' });
    await runner.catchUp();
    const tables = activeTables(runner.db, ordersProjection);
    if (tables === null) throw new Error('the orders projection has no tables');
    const table = tableName(tables, 'orders');
    const plan = runner.db.prepare(`EXPLAIN QUERY PLAN ${openOrdersOfMakerSql(table)}`).all(SELLER, new Date(0).toISOString()) as { detail: string }[];
    expect(plan.map((p) => p.detail).join('; ')).toContain(`USING INDEX ${table}_maker_live`);
  });
});
