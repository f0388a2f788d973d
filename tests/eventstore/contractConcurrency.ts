import { describe, expect, it } from 'vitest';
import { VersionConflict, type EventStore, type NewEvent } from '../../src/eventstore/types.js';
import type { ContractContext } from './contract.js';
import { expectStrictlyIncreasing, newEvent, newEvents, readAllWithPrefix, uniquePrefix } from './contractSupport.js';

/** Appends one event at a time, re-reading the version after every lost race; bounded. */
async function appendWithRetry(store: EventStore, stream: string, event: NewEvent): Promise<number> {
  for (let conflicts = 0; conflicts < 1_000; conflicts++) {
    const version = BigInt((await store.readStream(stream)).length);
    try {
      await store.append(stream, [event], version === 0n ? 'no_stream' : version);
      return conflicts;
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error;
    }
  }
  throw new Error('gave up after 1000 conflicts');
}

export function registerConcurrencyCases({ store }: ContractContext): void {
  describe('atomic multi-event appends', () => {
    it('a batch gets contiguous versions, increasing positions, and the result names its last event', async () => {
      const stream = `${uniquePrefix('batch')}1`;
      await store().append(stream, newEvents(2), 'no_stream');
      const batch = newEvents(3);
      const result = await store().append(stream, batch, 2n);
      const events = await store().readStream(stream, 3n);
      expect(events.map((e) => e.version)).toEqual([3n, 4n, 5n]);
      expect(events.map((e) => e.eventId)).toEqual(batch.map((e) => e.eventId));
      expectStrictlyIncreasing(events.map((e) => e.position));
      expect(result).toEqual({ nextVersion: 5n, position: events[2]?.position });
    });

    it('a batch that conflicts writes none of its events', async () => {
      const prefix = uniquePrefix('batch-conflict');
      const stream = `${prefix}1`;
      await store().append(stream, newEvents(1), 'no_stream');
      const start = await store().headPosition();
      await expect(store().append(stream, newEvents(4), 'no_stream')).rejects.toBeInstanceOf(VersionConflict);
      expect(await readAllWithPrefix(store(), start, prefix)).toEqual([]);
    });

    it('concurrent batches to one stream never interleave', async () => {
      const stream = `${uniquePrefix('no-interleave')}1`;
      const batches = Array.from({ length: 6 }, (_, w) => newEvents(4, `writer-${w}`));
      await Promise.all(batches.map((batch) => store().append(stream, batch, 'any')));
      const events = await store().readStream(stream);
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: 24 }, (_, i) => BigInt(i + 1)));
      for (let start = 0; start < 24; start += 4) {
        const labels = events.slice(start, start + 4).map((e) => e.data['label']);
        expect(new Set(labels).size, `events ${start + 1}..${start + 4} come from one batch`).toBe(1);
      }
    });
  });

  describe('concurrent appends', () => {
    it('of writers expecting the same version, exactly one wins and every other gets a VersionConflict', async () => {
      const stream = `${uniquePrefix('race')}1`;
      await store().append(stream, newEvents(2), 'no_stream');
      const batches = Array.from({ length: 8 }, () => newEvents(2));
      const outcomes = await Promise.allSettled(batches.map((batch) => store().append(stream, batch, 2n)));
      const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') continue;
        expect(outcome.reason).toBeInstanceOf(VersionConflict);
        expect((outcome.reason as VersionConflict).expected).toBe(2n);
        expect((outcome.reason as VersionConflict).actual).toBe(4n);
      }
      const events = await store().readStream(stream, 3n);
      expect(events.map((e) => e.eventId)).toEqual(batches[winners[0] as number]?.map((e) => e.eventId));
    });

    it('writers that retry on conflict lose and duplicate nothing', async () => {
      const stream = `${uniquePrefix('retry')}1`;
      const perWriter = Array.from({ length: 4 }, (_, w) => Array.from({ length: 20 }, (_, i) => newEvent({ w, i })));
      await Promise.all(
        perWriter.map(async (events) => {
          for (const event of events) await appendWithRetry(store(), stream, event);
        }),
      );
      const stored = await store().readStream(stream);
      expect(stored.map((e) => e.version)).toEqual(Array.from({ length: 80 }, (_, i) => BigInt(i + 1)));
      expect(new Set(stored.map((e) => e.eventId))).toEqual(new Set(perWriter.flat().map((e) => e.eventId)));
      for (const events of perWriter) {
        const order = stored.filter((e) => events.some((x) => x.eventId === e.eventId)).map((e) => e.eventId);
        expect(order, 'each writer’s events keep its order').toEqual(events.map((e) => e.eventId));
      }
    });
  });
}
