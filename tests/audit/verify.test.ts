import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import { verifyLedger } from '../../src/audit/verify.js';
import { loadOrder } from '../../src/commands/loadOrder.js';
import { toNewEvents } from '../../src/commands/handleCommand.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { activeCopy, openReadDb } from '../../src/projections/registry.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { buildMixedLedger, TestLedger } from '../projections/support/ledger.js';
import { facts } from '../support/orderFixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A ledger on files, its read models projected, and a separate read-only connection as verify uses. */
async function projectedLedger() {
  const dir = mkdtempSync(join(tmpdir(), 'otc-verify-'));
  dirs.push(dir);
  const storePath = join(dir, 'events.db');
  const readPath = join(dir, 'read.db');
  const ledger = new TestLedger(new SqliteEventStore({ path: storePath }));
  await buildMixedLedger(ledger, 2);
  const runner = new ProjectionRunner({ store: ledger.store, db: readPath });
  await runner.catchUp();
  const verify = async () => {
    const readDb = openReadDb(readPath, { readonly: true });
    try {
      return await verifyLedger({ store: ledger.store, readDb });
    } finally {
      readDb.close();
    }
  };
  return { ledger, storePath, runner, verify };
}

const ORDER = 'otc_0000000000000001'; // completed sell of buildMixedLedger's first round

describe('verify', () => {
  it('passes a clean ledger', async () => {
    const { verify } = await projectedLedger();
    const report = await verify();
    expect(report.findings).toEqual([]);
    expect(report.streams).toBe(14);
    expect(report.events).toBe(48);
  });

  it('names the stream and version of an event whose data was edited in place', async () => {
    const { verify, storePath } = await projectedLedger();
    const raw = new Database(storePath);
    raw.prepare("UPDATE events SET data = json_set(data, '$.quote_tx', '0xforged') WHERE stream = ? AND version = 4").run(orderStream(ORDER));
    raw.close();
    const { findings } = await verify();
    const chain = findings.filter((f) => f.kind === 'hash_chain_broken');
    expect(chain).toEqual([
      { kind: 'hash_chain_broken', stream: orderStream(ORDER), version: 4, message: expect.stringContaining(`${orderStream(ORDER)} v4: hash does not match the event content`) },
    ]);
    // The read models were built from the original data, so they now differ from a rebuild too.
    expect(findings.some((f) => f.kind === 'read_model_row_differs' && f.message.includes('quote_tx'))).toBe(true);
  });

  it('reports a corrupted read-model row precisely', async () => {
    const { verify, runner } = await projectedLedger();
    const suffix = activeCopy(runner.db, 'orders')?.suffix ?? '';
    runner.db.prepare(`UPDATE orders__${suffix} SET status = 'cancelled' WHERE order_id = 'otc_0000000000000002'`).run();
    const trades = activeCopy(runner.db, 'trades')?.suffix ?? '';
    runner.db.prepare(`DELETE FROM trades__${trades} WHERE order_id = ?`).run(ORDER);
    const { findings } = await verify();
    expect(findings).toEqual([
      { kind: 'read_model_row_differs', message: 'orders/orders: row order_id="otc_0000000000000002" column status is "cancelled", a fresh rebuild has "open"' },
      { kind: 'read_model_row_missing', message: 'trades/trades: row trade_id="trade_0000000000000001" is missing (a fresh rebuild has it)' },
    ]);
  });

  it('finds a refund appended after the release of the same escrow, even with a valid hash chain', async () => {
    const { verify, ledger } = await projectedLedger();
    const loaded = await loadOrder(ledger.store, ORDER);
    const forged = toNewEvents(ORDER, loaded, [{ type: 'RefundIssued', data: { party: 'maker', job_id: `job-${ORDER}`, refunded_at: '2026-03-05T00:00:00.000Z' } }], {
      correlationId: 'forged', causationId: null, actor: 'intruder', now: () => new Date('2026-03-05T00:00:00.000Z'),
    });
    await ledger.store.append(orderStream(ORDER), forged, loaded.version);
    const { findings } = await verify();
    const own = findings.filter((f) => f.stream === orderStream(ORDER));
    expect(own).toEqual([
      { kind: 'event_after_terminal', stream: orderStream(ORDER), version: 8, message: `${orderStream(ORDER)} v8: RefundIssued recorded after the order was completed` },
      { kind: 'refund_after_preimage_known', stream: orderStream(ORDER), version: 8, message: expect.stringMatching(/v8: escrow job-otc_0000000000000001 refunded although the preimage was known since v\d+$/) },
      { kind: 'escrow_released_and_refunded', stream: orderStream(ORDER), version: 8, message: `${orderStream(ORDER)} v8: escrow job-${ORDER} refunded again (already released at v5)` },
    ]);
    expect(findings.some((f) => f.kind === 'hash_chain_broken')).toBe(false);
  });

  it('finds a second confirmed payout recorded after the order completed', async () => {
    const { verify, ledger } = await projectedLedger();
    const loaded = await loadOrder(ledger.store, ORDER);
    const forged = toNewEvents(ORDER, loaded, [
      { type: 'PayoutConfirmed', data: { payout_key: 'k', tx_hash: 't', confirmed_at: '2026-03-05T00:00:00.000Z', trade_id: 'trade_0000000000000001' } },
    ], { correlationId: 'forged', causationId: null, actor: 'intruder', now: () => new Date('2026-03-05T00:00:00.000Z') });
    await ledger.store.append(orderStream(ORDER), forged, loaded.version);
    const kinds = (await verify()).findings.filter((f) => f.stream === orderStream(ORDER)).map((f) => [f.kind, f.version ?? null]);
    expect(kinds).toEqual([
      ['event_after_terminal', 8],
      ['payout_without_release', 8],
      ['payout_confirmed_twice', 8],
    ]);
  });

  it('finds a payout confirmed on an order that never queued one, as an event that does not apply', async () => {
    const { verify, ledger } = await projectedLedger();
    const order = 'otc_0000000000000002'; // open sell with escrow locked
    const loaded = await loadOrder(ledger.store, order);
    const forged = toNewEvents(order, loaded, [
      { type: 'PayoutConfirmed', data: { payout_key: 'k', tx_hash: 't', confirmed_at: '2026-03-05T00:00:00.000Z', trade_id: 'trade_0000000000000002' } },
      { type: 'PayoutConfirmed', data: { payout_key: 'k', tx_hash: 't', confirmed_at: '2026-03-05T00:00:00.000Z', trade_id: 'trade_0000000000000002' } },
    ], { correlationId: 'forged', causationId: null, actor: 'intruder', now: () => new Date('2026-03-05T00:00:00.000Z') });
    await ledger.store.append(orderStream(order), forged, loaded.version);
    const kinds = (await verify()).findings.filter((f) => f.stream === orderStream(order)).map((f) => [f.kind, f.version ?? null]);
    // The one fold stops at v3 (a payout cannot follow an open order); the log's own checks go on.
    expect(kinds).toEqual([
      ['event_does_not_apply', 3],
      ['payout_without_release', 3],
      ['payout_without_release', 4],
      ['payout_confirmed_twice', 4],
    ]);
  });

  it('finds an escrow never settled on a terminal order: a refund naming another job', async () => {
    const { verify, ledger } = await projectedLedger();
    const order = 'otc_0000000000000002'; // open sell with escrow locked
    const maker = facts((await loadOrder(ledger.store, order)).state).makerWallet;
    const cancelled = await ledger.run(order, { type: 'CancelOrder', wallet: maker, now: ledger.now() }, maker);
    expect(cancelled.state.status).toBe('refund_pending');
    const loaded = await loadOrder(ledger.store, order);
    const forged = toNewEvents(order, loaded, [
      { type: 'RefundIssued', data: { party: 'maker', job_id: 'job-elsewhere', refunded_at: '2026-03-05T00:00:00.000Z' } },
    ], { correlationId: 'forged', causationId: null, actor: 'intruder', now: () => new Date('2026-03-05T00:00:00.000Z') });
    await ledger.store.append(orderStream(order), forged, loaded.version);
    const kinds = (await verify()).findings.filter((f) => f.stream === orderStream(order)).map((f) => [f.kind, f.version ?? null]);
    expect(kinds).toEqual([
      ['rtc_not_conserved', 4],
      ['escrow_unsettled', null],
    ]);
  });

  it('reports a tampered, unreadable event instead of failing, and still checks every other stream', async () => {
    const { verify, ledger } = await projectedLedger();
    const order = 'otc_0000000000000002';
    const loaded = await loadOrder(ledger.store, order);
    // A correctly chained event whose amount is not a number: only a forger with the store can write it.
    const forged = toNewEvents(order, loaded, [
      { type: 'EscrowLocked', data: { party: 'maker', job_id: 'j', amount_micro_rtc: 'lots', locked_at: '2026-03-05T00:00:00.000Z' } },
    ], { correlationId: 'forged', causationId: null, actor: 'intruder', now: () => new Date('2026-03-05T00:00:00.000Z') });
    await ledger.store.append(orderStream(order), forged, loaded.version);
    const { findings, streams } = await verify();
    expect(findings.filter((f) => f.stream === orderStream(order)).map((f) => f.kind)).toContain('malformed_event');
    expect(streams).toBeGreaterThan(1);
  });

  it('checks the hash chains of the signature streams too', async () => {
    const { verify, ledger } = await projectedLedger();
    const [sig] = await ledger.store.listStreams('sig-', 0n, 1);
    if (sig === undefined) return expect.fail('the test ledger records signatures');
    const [event] = await ledger.store.readStream(sig.stream);
    await ledger.store.append(sig.stream, [{ ...(event as NonNullable<typeof event>), eventId: 'forged-sig', data: { ...(event?.data ?? {}), wallet: 'RTC' + '0'.repeat(40) } }], 1n);
    const { findings } = await verify();
    expect(findings.some((f) => f.stream === sig.stream && f.kind === 'hash_chain_broken')).toBe(true);
  });

  it('reports read models that stopped far behind the log, and passes the same ones once caught up', async () => {
    const { verify, ledger, runner } = await projectedLedger();
    // More events than a running server could ever lag by, none of them projected yet.
    const noise = Array.from({ length: 1100 }, (_, i) => ({
      eventId: `noise-${i}`, type: 'Noise', data: { i },
      metadata: { event_id: `noise-${i}`, correlation_id: 'n', causation_id: null, actor: 'test', recorded_at: '2026-03-05T00:00:00.000Z', schema_version: 1, prev_hash: '', hash: '' },
    }));
    await ledger.store.append('noise-1', noise, 'no_stream');
    const behind = (await verify()).findings.filter((f) => f.kind === 'read_model_behind');
    expect(behind.map((f) => f.message)).toContainEqual(expect.stringMatching(/^read model orders is at position \d+, 1100 events behind/));
    await runner.catchUp();
    expect((await verify()).findings.filter((f) => f.kind === 'read_model_behind')).toEqual([]);
  });
});

/** Appends events with a valid hash chain, as a writer that bypassed the decider would. */
async function forge(ledger: TestLedger, orderId: string, events: Array<{ type: string; data: Record<string, unknown> }>): Promise<void> {
  const loaded = await loadOrder(ledger.store, orderId);
  const forged = toNewEvents(orderId, loaded, events as unknown as Parameters<typeof toNewEvents>[2], {
    correlationId: 'forged', causationId: null, actor: 'intruder', now: () => new Date('2026-03-05T00:00:00.000Z'),
  });
  await ledger.store.append(orderStream(orderId), forged, loaded.version);
}

const AT = '2026-03-05T00:00:00.000Z';
const chainPosition = (orderId: string) => ({
  key: `31337:0x${'ab'.repeat(32)}:0`, chain_id: 31337, swap_id: `0x${'01'.repeat(32)}`, tx_hash: `0x${'ab'.repeat(32)}`, block_number: '12', block_time_seconds: '1767225600',
  secret_ciphertext: `v1.${orderId}.forged`,
});

describe('verify: invariants 9 and 10', () => {
  it('finds a claim on the quote chain seen after the escrow was refunded (the seller holds both legs)', async () => {
    const { verify, ledger } = await projectedLedger();
    const order = 'otc_0000000000000006'; // cancelled, escrow refunded
    await forge(ledger, order, [{ type: 'QuoteClaimObserved', data: chainPosition(order) }]);
    const own = (await verify()).findings.filter((f) => f.stream === orderStream(order) && f.kind === 'preimage_revealed_after_refund');
    expect(own).toEqual([{ kind: 'preimage_revealed_after_refund', stream: orderStream(order), version: expect.any(Number), message: expect.stringContaining('QuoteClaimObserved after the escrow was refunded at v') }]);
  });

  it('finds a release and a payout recorded after the escrow was found taken by another worker', async () => {
    const { verify, ledger } = await projectedLedger();
    const order = 'otc_0000000000000007'; // settled buy
    await forge(ledger, order, [
      { type: 'SettlementRecoveryRequired', data: { reason: 'escrow_hijacked', detail: 'the escrow job is claimed by RTCother, not by the ledger\'s worker' } },
      { type: 'EscrowReleased', data: { job_id: `job-${order}`, released_at: AT } },
      { type: 'PayoutQueued', data: { payout_key: 'k', tx_hash: 't', to: 'RTCx', amount_micro_rtc: '0', queued_at: AT } },
    ]);
    const kinds = (await verify()).findings.filter((f) => f.stream === orderStream(order) && f.kind === 'payout_for_hijacked_escrow').map((f) => f.message);
    expect(kinds).toEqual([
      expect.stringContaining('EscrowReleased after the escrow was found taken by another worker'),
      expect.stringContaining('PayoutQueued after the escrow was found taken by another worker'),
    ]);
  });

  it('finds nothing for a refund with no preimage known, nor for a recovery that is not a hijack', async () => {
    const { verify, ledger } = await projectedLedger();
    const order = 'otc_0000000000000007';
    await forge(ledger, order, [
      { type: 'SettlementRecoveryRequired', data: { reason: 'payout_failed', detail: 'the node refused the transfer' } },
      { type: 'PayoutQueued', data: { payout_key: 'k', tx_hash: 't', to: 'RTCx', amount_micro_rtc: '0', queued_at: AT } },
    ]);
    const kinds = (await verify()).findings.map((f) => f.kind);
    expect(kinds).not.toContain('payout_for_hijacked_escrow');
    // otc_…06's refund (a cancel, no preimage known) is in every clean ledger and raises nothing.
    expect(kinds).not.toContain('refund_after_preimage_known');
    expect(kinds).not.toContain('preimage_revealed_after_refund');
  });
});
