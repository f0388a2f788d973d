import { describe, expect, it } from 'vitest';
import { VersionConflict } from '../../src/eventstore/types.js';
import type { ContractContext } from './contract.js';
import { expectStrictlyIncreasing, newEvent, newEvents, readAllWithPrefix, uniquePrefix } from './contractSupport.js';

/**
 * Many appends started together, as a busy server starts them: an adapter may commit them as one
 * group (the SQLite store does), but each caller still gets its own result or its own conflict.
 */
export function registerGroupCases({ store }: ContractContext): void {
  describe('appends started together', () => {
    it('to different streams are all stored, each at the position its result names', async () => {
      const prefix = uniquePrefix('together');
      const start = await store().headPosition();
      const batches = Array.from({ length: 40 }, (_, i) => newEvents(1 + (i % 3), `s${i}`));
      const results = await Promise.all(batches.map((batch, i) => store().append(`${prefix}${i}`, batch, 'no_stream')));
      const stored = await readAllWithPrefix(store(), start, prefix);
      expect(stored).toHaveLength(batches.flat().length);
      expectStrictlyIncreasing(stored.map((e) => e.position));
      results.forEach((result, i) => {
        const events = stored.filter((e) => e.stream === `${prefix}${i}`);
        expect(events.map((e) => e.eventId)).toEqual(batches[i]?.map((e) => e.eventId));
        expect(result).toEqual({ nextVersion: BigInt(events.length), position: events[events.length - 1]?.position });
      });
    });

    it('a conflict among them fails only its own caller', async () => {
      const prefix = uniquePrefix('neighbours');
      const existing = `${prefix}existing`;
      await store().append(existing, newEvents(2), 'no_stream');
      const start = await store().headPosition();
      const outcomes = await Promise.allSettled([
        store().append(`${prefix}a`, [newEvent()], 'no_stream'),
        store().append(existing, [newEvent()], 5n), // wrong version
        store().append(`${prefix}b`, [newEvent()], 'no_stream'),
        store().append(existing, [newEvent()], 'no_stream'), // the stream exists
        store().append(`${prefix}c`, newEvents(2), 'any'),
        store().append(`${prefix}e`, [newEvent()], 'no_stream'),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(VersionConflict);
      const written = await readAllWithPrefix(store(), start, prefix);
      expect(written.map((e) => e.stream).sort()).toEqual([`${prefix}a`, `${prefix}b`, `${prefix}c`, `${prefix}c`, `${prefix}e`]);
      expect(await store().readStream(existing)).toHaveLength(2);
    });

    it('to one stream at the same version: one wins each version, the others conflict, nothing is lost', async () => {
      const stream = `${uniquePrefix('one-stream')}1`;
      const first = await Promise.allSettled(Array.from({ length: 10 }, () => store().append(stream, [newEvent()], 'no_stream')));
      expect(first.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const second = await Promise.allSettled(Array.from({ length: 10 }, () => store().append(stream, newEvents(2), 1n)));
      expect(second.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of [...first, ...second]) {
        if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(VersionConflict);
      }
      expect((await store().readStream(stream)).map((e) => e.version)).toEqual([1n, 2n, 3n]);
    });
  });
}
