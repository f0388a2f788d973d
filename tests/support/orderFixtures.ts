import { expect } from 'vitest';
import {
  decide,
  foldEvents,
  OrderRefused,
  type OrderCommand,
  type OrderEvent,
  type OrderRefusalCode,
  type OrderState,
} from '../../src/aggregates/order/index.js';

/** given(events) → when(command) → then(events) | thenRefuses(code) | thenNothing(). */
export function given(...events: OrderEvent[]) {
  const state = foldEvents(events);
  return {
    state,
    when(command: OrderCommand) {
      const run = (): OrderEvent[] => decide(command, state);
      return {
        then(expected: Partial<OrderEvent>[]) {
          const actual = run();
          expect(actual.map((e) => e.type)).toEqual(expected.map((e) => e.type));
          expected.forEach((e, i) => {
            if (e.data) expect(actual[i]?.data).toMatchObject(e.data as object);
          });
          return actual;
        },
        thenRefuses(code: OrderRefusalCode) {
          let caught: unknown;
          try {
            run();
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(OrderRefused);
          expect((caught as OrderRefused).code).toBe(code);
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
