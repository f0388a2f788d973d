import { describe, expect, it } from 'vitest';
import { ORDER_EVENT_TYPES, type OrderEvent } from '../../src/aggregates/order/index.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { decodeOrderEvent, decodeWithZod } from '../../src/orderStream/decode.js';
import {
  escrowLocked, escrowLockFailed, escrowReleased, matchAborted, matched, matchedBuy, nodeCallFailed, orderCancelled, orderExpired,
  payoutConfirmed, payoutQueued, payoutVoided, placedBuy, placedSell, recoveryRequired, redriveRequested, refundIssued,
  settlementClaimed, settlementReverted, TAKER,
} from '../support/orderBuilders.js';
import {
  claimObserved, fact, lockObserved, lockRejected, matchLapsed, observationReorged, orderRearmed, quoteLeg, refundObserved,
} from '../support/quoteLegBuilders.js';

/** One valid event of every type, as the decider writes them. */
const VALID: readonly OrderEvent[] = [
  placedSell(), placedBuy(), escrowLocked('maker'), escrowLockFailed('taker'), matched(), matchedBuy({ quote_leg: quoteLeg }),
  matchAborted(), settlementClaimed(), escrowReleased('maker'), settlementReverted(), payoutQueued(TAKER), payoutConfirmed(),
  payoutVoided(), recoveryRequired(), redriveRequested(), orderCancelled(), orderExpired('settle_by'), refundIssued('maker'),
  nodeCallFailed(), lockObserved(fact(1)), lockRejected(fact(2)), claimObserved(fact(3)), refundObserved(fact(4)),
  { type: 'EscrowHeld', data: { job_id: 'job_1', worker_wallet: TAKER, expires_at: null, held_at: '2025-03-02T12:00:00.000Z' } },
  matchLapsed(), orderRearmed(), observationReorged(fact(5)),
  { type: 'RefundHoldReleased', data: { decision: 'no_swap', finalized_time_seconds: '1740916800', released_at: '2025-03-02T12:00:00.000Z' } },
];

const recordedOf = (event: { type: string; data: unknown }): RecordedEvent => ({
  eventId: 'e', stream: 'order-x', type: event.type, version: 1n, position: 1n, data: event.data as RecordedEvent['data'],
  metadata: { event_id: 'e', correlation_id: 'c', causation_id: null, actor: 't', recorded_at: '2025-03-01T12:00:00.000Z', schema_version: 1, prev_hash: 'p', hash: 'h' },
});

/** Values a forged or broken store could hold in any field. */
const ODD_VALUES: readonly unknown[] = [
  undefined, null, '', 'lots', '-5', '007', '12', 1, 0, -1, 1.5, Number.NaN, 2 ** 60, true, {}, [], 'maker', 'sell', 'lock',
  '2025-03-01T12:00:00.000Z', '2025-03-01T12:00:00Z', '2025-02-30T12:00:00.000Z', '2025-03-01 12:00:00', 'ab'.repeat(32), 'AB'.repeat(32),
  { mode: 'sandbox', chain_id: 1, lock_by: '2025-03-01T12:00:00.000Z' }, { mode: 'sandbox', chain_id: 0, lock_by: '2025-03-01T12:00:00.000Z' },
  { mode: 'evm', chain_id: 1, lock_by: '2025-03-01T12:00:00.000Z', extra: 1 },
];

/** Every event with each field in turn replaced by each odd value, dropped, or joined by a field no shape has. */
function* variants(): Generator<{ type: string; data: unknown }> {
  for (const event of VALID) {
    const data = event.data as Record<string, unknown>;
    yield event;
    yield { type: event.type, data: { ...data, unknown_field: 'x' } };
    yield { type: event.type, data: null };
    yield { type: event.type, data: [data] };
    for (const key of Object.keys(data)) {
      const { [key]: _dropped, ...without } = data;
      yield { type: event.type, data: without };
      for (const value of ODD_VALUES) yield { type: event.type, data: { ...data, [key]: value } };
    }
  }
}

describe('the compiled shape check (the decode without zod)', () => {
  it('covers every event type with a valid example', () => {
    expect(new Set(VALID.map((e) => e.type))).toEqual(new Set(ORDER_EVENT_TYPES));
  });

  it('decodes a valid event without copying it: the data zod would pass through unchanged is the event', () => {
    for (const event of VALID) {
      const recorded = recordedOf(event);
      const decoded = decodeOrderEvent(recorded);
      expect(decoded.ok ? decoded.event.data : decoded, event.type).toBe(recorded.data);
    }
  });

  it('leaves data with a field no shape names to zod, which strips it', () => {
    const recorded = recordedOf({ type: 'OrderCancelled', data: { ...orderCancelled().data, unknown_field: 'x' } });
    const decoded = decodeOrderEvent(recorded);
    expect(decoded.ok && decoded.event.data).not.toBe(recorded.data);
    expect(decoded).toEqual({ ok: true, event: orderCancelled() });
  });

  it('gives exactly zod\'s verdict, event and reason for every variant of every event type', () => {
    let refused = 0;
    let count = 0;
    for (const variant of variants()) {
      const recorded = recordedOf(variant);
      const expected = decodeWithZod(recorded);
      expect(decodeOrderEvent(recorded), `${variant.type} ${JSON.stringify(variant.data)}`).toEqual(expected);
      if (!expected.ok) refused++;
      count++;
    }
    // The variants must exercise both verdicts, or the comparison proves nothing.
    expect(refused).toBeGreaterThan(count / 2);
    expect(refused).toBeLessThan(count);
  });
});
