import { describe, expect, it } from 'vitest';
import { dueWork, escrowWatchList, recoveryList, workBacklog } from '../../src/projections/workQueue.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { BUYER, TestLedger, SELLER } from './support/ledger.js';

const id = (n: number): string => `otc_${n.toString(16).padStart(16, '0')}`;
const STUCK_MS = 120_000;

describe('work queue read model', () => {
  it('walks every open, matched and lapsed order for the escrow watch, a bounded batch per pass, then starts again', async () => {
    const ledger = TestLedger.memory();
    for (const n of [1, 2, 3]) await ledger.placeSell(id(n));
    await ledger.match(id(2), BUYER);
    await ledger.completedSell(id(4));
    await ledger.placeBuy(id(5));
    await ledger.lapsedSell(id(6));
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    await runner.catchUp();
    const next = escrowWatchList(() => runner.db, 2);
    expect(await next()).toEqual([id(1), id(2)]);
    expect(await next()).toEqual([id(3), id(5)]);
    expect(await next()).toEqual([id(6)]);
    expect(await next()).toEqual([id(1), id(2)]);
    expect(await escrowWatchList(() => null, 2)()).toEqual([]);
  });

  it('returns in-flight orders idle past the stuck threshold, expired open orders and matched orders past settle_by', async () => {
    const ledger = TestLedger.memory();
    await ledger.placeSell(id(1), { ttlSeconds: 3600 });
    await ledger.run(id(2), {
      type: 'PlaceOrder', orderId: id(2), side: 'sell', pair: 'RTC/USDC', makerWallet: SELLER, amountMicroRtc: 1_000_000n,
      pricePerRtcNanoQuote: 1n, ttlSeconds: 86_400, makerEthAddress: null, htlcHash: 'aa'.repeat(32), now: ledger.now(),
    });
    await ledger.placeSell(id(3), { ttlSeconds: 7 * 86_400 });
    await ledger.match(id(3), BUYER);
    await ledger.completedSell(id(4));
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    await runner.catchUp();
    const now = ledger.now();
    expect(dueWork(runner.db, { now, stuckMs: STUCK_MS, limit: 10 })).toEqual([]);
    const afterStuck = new Date(now.getTime() + STUCK_MS);
    expect(dueWork(runner.db, { now: afterStuck, stuckMs: STUCK_MS, limit: 10 })).toEqual([id(2)]);
    const afterExpiry = new Date(now.getTime() + 3600_000);
    expect(dueWork(runner.db, { now: afterExpiry, stuckMs: STUCK_MS, limit: 10 })).toEqual([id(1), id(2)]);
    const afterSettleBy = new Date(now.getTime() + 86_400_000);
    expect(dueWork(runner.db, { now: afterSettleBy, stuckMs: STUCK_MS, limit: 10 })).toEqual([id(1), id(2), id(3)]);
    expect(dueWork(runner.db, { now: afterSettleBy, stuckMs: STUCK_MS, limit: 2 })).toEqual([id(1), id(2)]);
    expect(workBacklog(runner.db, afterStuck).inFlight).toBe(1);
  });

  it('lists settlement_recovery orders with their last error and attempts, and drops orders once terminal', async () => {
    const ledger = TestLedger.memory();
    await ledger.placeSell(id(1));
    await ledger.match(id(1), BUYER);
    await ledger.run(id(1), { type: 'ConfirmSettlement', wallet: SELLER, quoteTx: 'q', secret: 'ab'.repeat(32), secretCiphertext: 'c', now: ledger.now() }, SELLER);
    await ledger.run(id(1), { type: 'RecordNodeCallFailed', step: 'release', key: 'k', outcome: 'unknown', reason: 'timeout' });
    await ledger.run(id(1), { type: 'RecordNodeCallFailed', step: 'release', key: 'k', outcome: 'unknown', reason: 'reset' });
    await ledger.run(id(1), { type: 'RequireRecovery', reason: 'release_unknown', detail: 'node unreachable' });
    await ledger.cancelWithRefund(id(2));
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    await runner.catchUp();
    const list = recoveryList(runner.db, { now: ledger.now(), stuckMs: STUCK_MS });
    expect(list).toEqual([
      expect.objectContaining({ order_id: id(1), status: 'settlement_recovery', attempts: 2, last_error: 'node unreachable', recovery_reason: 'release_unknown' }),
    ]);
    const rows = runner.db.prepare("SELECT order_id FROM work_queue__v4_0").all();
    expect(rows).toEqual([{ order_id: id(1) }]);
  });
});
