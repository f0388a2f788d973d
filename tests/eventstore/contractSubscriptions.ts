import { describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../src/eventstore/types.js';
import type { ContractContext } from './contract.js';
import { expectStrictlyIncreasing, newEvent, newEvents, SubscriptionProbe, uniquePrefix } from './contractSupport.js';

const ids = (events: readonly NewEvent[]): string[] => events.map((e) => e.eventId);

/** Appends a marker and waits until the probe has it: everything appended earlier has arrived too. */
async function flushThrough(store: EventStore, probe: SubscriptionProbe, stream: string): Promise<NewEvent> {
  const marker = newEvent({ marker: true }, 'MarkerAppended');
  await store.append(stream, [marker], 'any');
  await probe.until((p) => p.ids().includes(marker.eventId));
  return marker;
}

export function registerSubscriptionCases({ store }: ContractContext): void {
  describe('subscribeAll', () => {
    it('catches up, reports caught-up, then delivers live appends in order exactly once', async () => {
      const prefix = uniquePrefix('sub');
      const start = await store().headPosition();
      const existing = newEvents(3, 'existing');
      await store().append(`${prefix}a`, existing.slice(0, 2), 'no_stream');
      const lastExisting = await store().append(`${prefix}b`, existing.slice(2), 'no_stream');
      const probe = new SubscriptionProbe(prefix);
      const subscription = store().subscribeAll(start, probe.handler);
      await probe.until((p) => p.caughtUpAt !== null);
      expect(probe.eventsAtCaughtUp).toBe(3);
      expect((probe.caughtUpAt ?? 0n) >= lastExisting.position).toBe(true);

      const live = newEvents(4, 'live');
      await store().append(`${prefix}a`, live.slice(0, 2), 2n);
      await store().append(`${prefix}c`, live.slice(2, 3), 'no_stream');
      await store().append(`${prefix}b`, live.slice(3), 1n);
      const marker = await flushThrough(store(), probe, `${prefix}a`);

      expect(probe.ids()).toEqual([...ids(existing), ...ids(live), marker.eventId]);
      expectStrictlyIncreasing(probe.events.map((e) => e.position));
      expect(probe.errors).toEqual([]);
      expect(probe.overlappingBatches).toBe(0);
      await subscription.stop();
    });

    it('delivers nothing once stop() has resolved', async () => {
      const prefix = uniquePrefix('sub-stop');
      const start = await store().headPosition();
      const probe = new SubscriptionProbe(prefix);
      const subscription = store().subscribeAll(start, probe.handler);
      await probe.until((p) => p.caughtUpAt !== null);
      const marker = await flushThrough(store(), probe, `${prefix}a`);
      await subscription.stop();
      probe.markStopped();

      const after = newEvent({ after: 'stop' });
      await store().append(`${prefix}a`, [after], 'any');
      // A second subscription that has seen the late event proves it was deliverable.
      const witness = new SubscriptionProbe(prefix);
      const witnessSubscription = store().subscribeAll(start, witness.handler);
      await witness.until((p) => p.ids().includes(after.eventId));
      await witnessSubscription.stop();
      expect(probe.deliveredAfterStop).toBe(0);
      expect(probe.ids()).toEqual([marker.eventId]);
    });

    it('starts after a middle position and delivers only what follows it', async () => {
      const prefix = uniquePrefix('sub-middle');
      const stream = `${prefix}a`;
      const events = newEvents(5, 'middle');
      for (const [i, event] of events.entries()) await store().append(stream, [event], i === 0 ? 'no_stream' : BigInt(i));
      const second = (await store().readStream(stream, 2n))[0];
      if (!second) throw new Error('the second event must exist');
      const probe = new SubscriptionProbe(prefix);
      const subscription = store().subscribeAll(second.position, probe.handler);
      await probe.until((p) => p.caughtUpAt !== null);
      expect(probe.ids()).toEqual(ids(events.slice(2)));
      const marker = await flushThrough(store(), probe, stream);
      expect(probe.ids()).toEqual([...ids(events.slice(2)), marker.eventId]);
      expect(probe.events.map((e) => e.version)).toEqual([3n, 4n, 5n, 6n]);
      await subscription.stop();
    });

    it('catches up over a long log in ordered batches, waiting for each batch before the next', async () => {
      const prefix = uniquePrefix('sub-long');
      const start = await store().headPosition();
      const events = newEvents(1_200, 'long');
      for (let i = 0; i < events.length; i += 300) await store().append(`${prefix}${i % 600}`, events.slice(i, i + 300), 'any');
      // An asynchronous handler: a store that did not await it would overlap batches.
      const probe = new SubscriptionProbe(prefix, () => new Promise<void>((resolve) => setImmediate(resolve)));
      const subscription = store().subscribeAll(start, probe.handler);
      await probe.until((p) => p.caughtUpAt !== null);
      expect(probe.ids()).toEqual(ids(events));
      expect(probe.overlappingBatches).toBe(0);
      expect(probe.batches).toBeGreaterThan(0);
      await subscription.stop();
    });

    it('reports an error thrown by the handler through onError', async () => {
      const prefix = uniquePrefix('sub-error');
      const start = await store().headPosition();
      await store().append(`${prefix}a`, [newEvent()], 'no_stream');
      const failure = new Error('projection failed');
      const probe = new SubscriptionProbe(prefix, (batch) => {
        if (batch.some((e) => e.stream.startsWith(prefix))) throw failure;
      });
      const subscription = store().subscribeAll(start, probe.handler);
      await probe.until((p) => p.errors.length > 0);
      expect(probe.errors[0]).toBe(failure);
      expect(probe.events).toEqual([]);
      await subscription.stop();
    });
  });
}
