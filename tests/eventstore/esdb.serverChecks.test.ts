import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EsdbEventStore } from '../../src/eventstore/esdb.js';
import { withRetry } from '../../src/eventstore/esdbRetry.js';
import { isStreamUnreadable } from '../../src/eventstore/streamErrors.js';
import { VersionConflict } from '../../src/eventstore/types.js';
import { createStoreLeases, LEASE_STREAM_MAX_COUNT } from '../../src/settlement/storeLeases.js';
import { EsdbStandIn, HOSTILE_SERVER } from '../support/esdbStandIn/server.js';
import { newEvent, newEvents, SubscriptionProbe } from './contractSupport.js';

/**
 * The issue-15 behaviours that need no fault injection, written against the server's own API
 * (deleteStream, tombstoneStream, setStreamMetadata through a second client), so they run
 * unchanged on the stand-in and, with EVENTSTORE_CONNECTION_STRING set, on a real KurrentDB node.
 * Every stream name is unique per run: a real node keeps earlier runs' events.
 */

interface Target {
  readonly connectionString: string;
  readonly cleanup: () => Promise<void>;
}

function runServerChecks(name: string, makeTarget: () => Promise<Target>): void {
  describe(`esdb server checks: ${name}`, () => {
    let target: Target;
    let admin: EventStoreDBClient;
    let store: EsdbEventStore;
    let prefix: string;
    beforeEach(async () => {
      target = await makeTarget();
      prefix = `sc${randomUUID().slice(0, 8)}-`;
      admin = EventStoreDBClient.connectionString(target.connectionString);
      store = new EsdbEventStore({ connectionString: target.connectionString, streamPrefixes: [prefix], retry: { maxAttempts: 10, initialDelayMs: 10, maxDelayMs: 200 } });
    });
    afterEach(async () => {
      await store.close();
      await admin.dispose();
      await target.cleanup();
    });

    it('a stream truncated with $tb is refused as stream_truncated, not folded from the middle', async () => {
      const stream = `${prefix}order-cut`;
      await store.append(stream, newEvents(4), 'no_stream');
      await withRetry({ maxAttempts: 10, initialDelayMs: 10, maxDelayMs: 200 }, () => admin.setStreamMetadata(stream, { truncateBefore: 2 }));
      const error = await store.readStream(stream).catch((e: unknown) => e);
      expect(isStreamUnreadable(error) && error.code).toBe('stream_truncated');
    });

    it('a tombstoned stream is stream_deleted on read and on append', async () => {
      const stream = `${prefix}order-tomb`;
      await store.append(stream, newEvents(2), 'no_stream');
      await admin.tombstoneStream(stream);
      const read = await store.readStream(stream).catch((e: unknown) => e);
      expect(isStreamUnreadable(read) && read.code).toBe('stream_deleted');
      const append = await store.append(stream, [newEvent()], 2n).catch((e: unknown) => e);
      expect(isStreamUnreadable(append) && append.code).toBe('stream_deleted');
    });

    it('a soft-deleted signature stream refuses a second no_stream use', async () => {
      const stream = `${prefix}sig-used`;
      await store.append(stream, [newEvent()], 'no_stream');
      await admin.deleteStream(stream);
      await expect(store.append(stream, [newEvent()], 'no_stream')).rejects.toBeInstanceOf(VersionConflict);
    });

    it('a lease stream gets $maxCount; acquire, extend and release each read one event', async () => {
      const leases = createStoreLeases(store);
      const name = `${prefix}driver`;
      const now = Date.now();
      expect(await leases.acquire(name, 'a', 60_000, now)).toBe(true);
      expect(await leases.acquire(name, 'b', 60_000, now + 1)).toBe(false);
      expect(await leases.acquire(name, 'a', 60_000, now + 2)).toBe(true);
      await leases.release(name, 'a');
      expect(await leases.acquire(name, 'b', 60_000, now + 3)).toBe(true);
      const { metadata } = await admin.getStreamMetadata(`lease-${name}`);
      expect(metadata?.maxCount).toBeGreaterThan(0);
      expect(metadata?.maxCount).toBe(LEASE_STREAM_MAX_COUNT);
    });

    it('the head is the last ledger event with 10,001 other events after it', async () => {
      const last = await store.append(`${prefix}order-head`, newEvents(2), 'no_stream');
      const noise = `other-${prefix}noise`;
      for (let i = 0; i < 10_001; i += 1000) {
        const batch = Array.from({ length: Math.min(1000, 10_001 - i) }, (_, j) => jsonEvent({ type: 'Noise', data: { i: i + j } }));
        // The admin client is the plain client: refused appends (NotReady/Busy) are retried here.
        await withRetry({ maxAttempts: 10, initialDelayMs: 10, maxDelayMs: 200 }, () => admin.appendToStream(noise, batch));
      }
      expect(await store.headPosition()).toBe(last.position);
    }, 60_000);

    it('a subscription delivers every event of its streams once, across live appends', async () => {
      const stream = `${prefix}order-sub`;
      const first = newEvents(3, 'first');
      await store.append(stream, first, 'no_stream');
      const probe = new SubscriptionProbe(prefix);
      const subscription = store.subscribeAll(0n, probe.handler);
      try {
        await probe.until((p) => p.caughtUpAt !== null || p.errors.length > 0);
        const later = newEvents(3, 'later');
        for (const [i, event] of later.entries()) await store.append(stream, [event], BigInt(3 + i));
        await probe.until((p) => p.ids().length >= 6 || p.errors.length > 0);
        expect(probe.ids()).toEqual([...first, ...later].map((e) => e.eventId));
        expect(probe.errors).toEqual([]);
      } finally {
        await subscription.stop();
      }
    }, 60_000);
  });
}

runServerChecks('the stand-in (hostile)', async () => {
  const standIn = await EsdbStandIn.start({ faults: HOSTILE_SERVER });
  return { connectionString: standIn.connectionString, cleanup: () => standIn.stop() };
});

const realServer = process.env['EVENTSTORE_CONNECTION_STRING'];
if (realServer !== undefined && realServer !== '') {
  runServerChecks('a real server', async () => ({ connectionString: realServer, cleanup: async () => undefined }));
} else {
  console.info('esdb server checks: a real server not run (EVENTSTORE_CONNECTION_STRING is not set)');
}
