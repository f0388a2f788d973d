import { describe, expect, it } from 'vitest';
import { orderStream, type OrderEvent } from '../../src/aggregates/order/index.js';
import { toNewEvents } from '../../src/commands/handleCommand.js';
import { NEW_STREAM } from '../../src/eventstore/chainedEvents.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { decodeOrderEvent } from '../../src/orderStream/decode.js';
import { foldOrderStream, isCorrupt, OrderStreamCorrupt, readable } from '../../src/orderStream/fold.js';
import { chainMatched, claimObserved, fact, lockObserved, lockRejected, refundObserved, T } from '../support/quoteLegBuilders.js';
import { ORDER_ID, orderCancelled, placedBuy, placedSell, escrowLocked } from '../support/orderBuilders.js';

/** Recorded events as the store returns them, each stamped one second after the last. */
function recorded(events: readonly { type: string; data: object }[], schemaVersion?: number): RecordedEvent[] {
  let t = Date.parse('2025-03-01T12:00:00.000Z');
  let lastHash = NEW_STREAM.hash;
  return events.map((event, i) => {
    const [chained] = toNewEvents(ORDER_ID, { version: BigInt(i), lastHash }, [event as OrderEvent], {
      correlationId: 'c', causationId: null, actor: 'test', now: () => new Date((t += 1000)),
    });
    if (chained === undefined) throw new Error('one event in, one out');
    lastHash = chained.metadata.hash;
    const metadata = schemaVersion === undefined ? chained.metadata : { ...chained.metadata, schema_version: schemaVersion };
    return { eventId: chained.eventId, stream: orderStream(ORDER_ID), type: chained.type, version: BigInt(i + 1), position: BigInt(i + 1), data: chained.data, metadata };
  });
}

describe('the quote leg through the one decode and fold', () => {
  it('decodes and folds every quote-leg event: lock, rejected lock, claim (settling), refund', () => {
    const events = recorded([...chainMatched('sell'), lockObserved(fact(1)), lockRejected(fact(4)), refundObserved(fact(3)), claimObserved(fact(2))]);
    const fold = foldOrderStream(events);
    expect(fold.problems).toEqual([]);
    expect(fold.state.status).toBe('settling');
    const leg = fold.state.status === 'settling' ? fold.state.quoteLeg : null;
    expect(leg?.lock?.timelockSeconds).toBe(T);
    expect(leg?.rejected.map((r) => r.reason)).toEqual(['wrong_hashlock']);
    expect(leg?.observed).toHaveLength(4);
  });

  it('refuses a quote-leg event whose chain position is malformed (malformed_event)', () => {
    const bad = { ...lockObserved(fact(1)), data: { ...lockObserved(fact(1)).data, block_time_seconds: '-5' } };
    const fold = foldOrderStream(recorded([...chainMatched('sell'), bad]));
    expect(fold.problems[0]?.kind).toBe('malformed_event');
  });

  it('names a lock recorded for an order with no chain-verified quote leg (event_does_not_apply)', () => {
    const fold = foldOrderStream(recorded([placedSell(), escrowLocked('maker'), lockObserved(fact(1))]));
    expect(fold.problems[0]?.kind).toBe('event_does_not_apply');
  });
});

describe('foldOrderStream: the one fold of every reader', () => {
  it('takes version, last hash and updatedAt from the stream, not from the domain fold', () => {
    const events = recorded([placedBuy(), orderCancelled()]);
    const fold = foldOrderStream(events);
    expect(fold.state.status).toBe('cancelled');
    expect(fold.version).toBe(2n);
    expect(fold.lastHash).toBe(events[1]?.metadata.hash);
    expect(fold.updatedAt).toBe('2025-03-01T12:00:02.000Z');
    expect(fold.problems).toEqual([]);
  });

  it('names an unknown event type and stops there: the state stays the last readable one', () => {
    const fold = foldOrderStream(recorded([placedBuy(), { type: 'EscrowFrozen', data: {} }, orderCancelled()]));
    expect(fold.state.status).toBe('open');
    expect(fold.version).toBe(3n);
    expect(fold.problems).toEqual([{ kind: 'unknown_event', version: 2n, type: 'EscrowFrozen', reason: 'unknown event type EscrowFrozen' }]);
    expect(isCorrupt(fold)).toBe(true);
  });

  it('names malformed data (a bigint that is not a number) as malformed_event', () => {
    const bad = { type: 'EscrowLocked', data: { ...escrowLocked('maker').data, amount_micro_rtc: 'lots' } };
    const fold = foldOrderStream(recorded([placedSell(), bad]));
    expect(fold.state.status).toBe('escrow_pending');
    expect(fold.problems.map((p) => [p.kind, p.version])).toEqual([['malformed_event', 2n]]);
  });

  it('reads a failed node call under a known step name, and names one it does not know as malformed_event', () => {
    const failed = (step: string) => ({ type: 'NodeCallFailed', data: { step, key: 'otc_escrow:k', outcome: 'unknown', reason: 'timeout' } });
    expect(foldOrderStream(recorded([placedSell(), failed('lock')])).problems).toEqual([]);
    const fold = foldOrderStream(recorded([placedSell(), failed('escrow_lock')]));
    expect(fold.problems.map((p) => [p.kind, p.version])).toEqual([['malformed_event', 2n]]);
  });

  it('names an event that cannot follow the state as event_does_not_apply', () => {
    const fold = foldOrderStream(recorded([placedBuy(), escrowLocked('maker')]));
    expect(fold.problems).toEqual([
      { kind: 'event_does_not_apply', version: 2n, type: 'EscrowLocked', reason: 'EscrowLocked does not apply to an order that is open' },
    ]);
  });

  it('refuses an event of a schema version this build does not know', () => {
    const [placed] = recorded([placedBuy()], 99);
    expect(placed === undefined ? null : decodeOrderEvent(placed)).toEqual({ ok: false, kind: 'unknown_event', reason: 'unknown schema version 99' });
  });

  it('reports events after the end without moving the state, and they do not make the stream unreadable', () => {
    const fold = foldOrderStream(recorded([placedBuy(), orderCancelled(), orderCancelled()]));
    expect(fold.state.status).toBe('cancelled');
    expect(fold.problems.map((p) => [p.kind, p.version])).toEqual([['event_after_terminal', 3n]]);
    expect(isCorrupt(fold)).toBe(false);
    expect(readable(ORDER_ID, fold)).toBe(fold);
  });

  it('readable() throws OrderStreamCorrupt naming the broken event', () => {
    const fold = foldOrderStream(recorded([placedBuy(), { type: 'EscrowFrozen', data: {} }]));
    expect(() => readable(ORDER_ID, fold)).toThrow(OrderStreamCorrupt);
    expect(() => readable(ORDER_ID, fold)).toThrow(/v2: EscrowFrozen cannot be read/);
  });
});
