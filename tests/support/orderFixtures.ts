import { expect } from 'vitest';
import {
  decide,
  evolve,
  foldEvents,
  OrderRefused,
  type OrderCommand,
  type OrderEvent,
  type OrderRefusalCode,
  type OrderState,
  orderFacts,
  payoutKeyFor,
  type OrderFacts,
  type PlacedOrder,
} from '../../src/aggregates/order/index.js';

/** An expected event: its type, and optionally the data fields that matter (matched as a subset). */
export type ExpectedEvent = {
  [T in OrderEvent['type']]: { type: T; data?: Partial<Extract<OrderEvent, { type: T }>['data']> };
}[OrderEvent['type']];

/** given(events) → when(command) → then(events) | thenRefuses(code) | thenNothing(). */
export function given(...events: OrderEvent[]) {
  const state = foldEvents(events);
  return {
    state,
    when(command: OrderCommand) {
      const run = (): OrderEvent[] => decide(command, state);
      return {
        then(expected: ExpectedEvent[]) {
          const actual = run();
          expect(actual.map((e) => e.type)).toEqual(expected.map((e) => e.type));
          expected.forEach((e, i) => {
            if (e.data) expect(actual[i]?.data).toMatchObject(e.data as object);
          });
          return actual;
        },
        /** The decided events, compared whole (types and every data field). */
        thenExactly(expected: OrderEvent[]) {
          const actual = run();
          expect(actual).toEqual(expected);
          return actual;
        },
        thenRefuses(code: OrderRefusalCode): OrderRefused {
          let caught: unknown;
          try {
            run();
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(OrderRefused);
          expect((caught as OrderRefused).code).toBe(code);
          return caught as OrderRefused;
        },
        /** The state once the decided events are folded in. */
        thenState(): OrderState {
          return run().reduce((s, e) => evolve(s, e), state);
        },
        thenNothing() {
          expect(run()).toEqual([]);
        },
        events: run,
      };
    },
  };
}

export const stateAfter = (...events: OrderEvent[]): OrderState => foldEvents(events);

/** The order's facts (the flat reading views and read models use), for assertions on any state. */
export function facts(state: OrderState | null | undefined): OrderFacts {
  if (state === null || state === undefined || state.status === 'none') throw new Error('expected an order that exists');
  return orderFacts(state);
}

/** The key the next payout of this order goes under. */
export function nextPayoutKey(state: OrderState): string {
  const f = facts(state);
  return payoutKeyFor({ orderId: f.orderId, payouts: { voidedCount: f.payout.voidedCount, voided: null } });
}

/** The state narrowed to an order that exists. */
export function placed(state: OrderState | null | undefined): PlacedOrder {
  if (state === null || state === undefined || state.status === 'none') throw new Error('expected an order that exists');
  return state;
}
