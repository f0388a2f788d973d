import { afterEach, describe, expect, it } from 'vitest';
import { EsdbEventStore } from '../../src/eventstore/esdb.js';
import { VersionConflict, type NewEvent } from '../../src/eventstore/types.js';
import { EsdbStandIn, StandInLog } from '../support/esdbStandIn/server.js';
import { expectStrictlyIncreasing, newEvent, newEvents, SubscriptionProbe } from './contractSupport.js';

/**
 * What the contract cannot show: the esdb adapter across a server restart and a leader change,
 * against the stand-in (a test double of the gRPC protocol, not a real node).
 */

/** Short backoff: these tests restart a local stand-in, not a cluster. */
const FAST_RETRY = { maxAttempts: 40, initialDelayMs: 20, maxDelayMs: 500 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startStandIn(options: ConstructorParameters<typeof EsdbStandIn>[0] = {}): Promise<EsdbStandIn> {
  const standIn = await EsdbStandIn.start(options);
  cleanups.push(() => standIn.stop());
  return standIn;
}

function storeOn(standIn: EsdbStandIn): EsdbEventStore {
  const store = new EsdbEventStore({ connectionString: standIn.connectionString, retry: FAST_RETRY, subscriptionBatchSize: 7 });
  cleanups.push(() => store.close());
  return store;
}

/** Writes events straight into the stand-in's log, as another client would while we are cut off. */
function appendBehindOurBack(log: StandInLog, stream: string, events: readonly NewEvent[]): void {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const outcome = log.append(
    stream,
    { kind: 'any' },
    events.map((e) => ({ id: e.eventId, type: e.type, contentType: 'application/json', data: encode(e.data), customMetadata: encode(e.metadata) })),
  );
  expect(outcome.kind).toBe('written');
}

const ids = (events: readonly NewEvent[]) => events.map((e) => e.eventId);

describe('esdb adapter on the stand-in: server restarts and leader changes', () => {
  it('a subscription resumes after the server is killed and restarted, without loss or duplication', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    const before = newEvents(30, 'before');
    for (let i = 0; i < before.length; i += 10) await store.append('order-a', before.slice(i, i + 10), i === 0 ? 'no_stream' : BigInt(i));
    // Events of streams that are not the ledger's: filtered out, yet they move checkpoints.
    for (let i = 0; i < 5; i++) await store.append(`elsewhere-${i}`, newEvents(20, 'noise'), 'any');

    const probe = new SubscriptionProbe('order-');
    const subscription = store.subscribeAll(0n, probe.handler);
    cleanups.push(() => subscription.stop());
    await probe.until((p) => p.caughtUpAt !== null || p.errors.length > 0);
    expect(probe.ids()).toEqual(ids(before));

    await standIn.stop();
    const whileDown = newEvents(12, 'while-down');
    appendBehindOurBack(standIn.log, 'order-b', whileDown);
    await standIn.start();

    const after = newEvents(8, 'after');
    await store.append('order-a', after, 30n);
    await probe.until((p) => p.ids().includes(after[after.length - 1]?.eventId ?? '') || p.errors.length > 0);

    expect(probe.ids()).toEqual([...ids(before), ...ids(whileDown), ...ids(after)]);
    expectStrictlyIncreasing(probe.events.map((e) => e.position));
    expect(probe.errors).toEqual([]);
    expect(probe.overlappingBatches).toBe(0);
  });

  it('a subscription survives two restarts in a row, one of them while it is still catching up', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    const first = newEvents(200, 'first');
    await store.append('order-c', first, 'no_stream');
    let restarts = 0;
    // Restart the node from inside the handler, after the first small batch: mid-catch-up.
    const probe = new SubscriptionProbe('order-', async () => {
      if (restarts === 0) {
        restarts += 1;
        await standIn.restart();
      }
    });
    const subscription = store.subscribeAll(0n, probe.handler);
    cleanups.push(() => subscription.stop());
    await probe.until((p) => p.ids().length >= first.length || p.errors.length > 0);
    expect(probe.errors).toEqual([]);
    await standIn.restart();
    const second = newEvents(5, 'second');
    await store.append('order-c', second, 200n);
    await probe.until((p) => p.ids().length >= first.length + second.length || p.errors.length > 0);
    expect(probe.ids()).toEqual([...ids(first), ...ids(second)]);
    expect(restarts).toBe(1);
    expect(probe.errors).toEqual([]);
  });

  it('an append made while the server is down succeeds once it is back, exactly once', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    await store.append('order-d', [newEvent()], 'no_stream');
    await standIn.stop();
    const event = newEvent({ written: 'during outage' });
    const pending = store.append('order-d', [event], 1n);
    // Give the first attempts time to fail against the closed port before the node returns.
    await new Promise((resolve) => setTimeout(resolve, 150));
    await standIn.start();
    const result = await pending;
    expect(result.nextVersion).toBe(2n);
    const stored = await store.readStream('order-d');
    expect(stored.map((e) => e.eventId).filter((id) => id === event.eventId)).toHaveLength(1);
    expect(stored[1]?.position).toBe(result.position);
  });

  it('a retried append whose first attempt was written returns the original result and writes nothing more', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    await store.append('order-e', [newEvent()], 'no_stream');
    const batch = newEvents(2);
    // The first attempt reached the log, but its answer was lost with the connection.
    appendBehindOurBack(standIn.log, 'order-e', batch);
    const retried = await store.append('order-e', batch, 1n);
    const stored = await store.readStream('order-e');
    expect(stored).toHaveLength(3);
    expect(retried).toEqual({ nextVersion: 3n, position: stored[2]?.position });
  });

  it('after a leader change, appends and reads follow the NotLeader answer to the new leader', async () => {
    const log = new StandInLog();
    const leader = await startStandIn({ log });
    const follower = await startStandIn({ log });
    follower.followLeader({ host: '127.0.0.1', port: leader.port });
    const store = storeOn(follower);

    const result = await store.append('order-f', newEvents(2), 'no_stream');
    expect(result.nextVersion).toBe(2n);
    expect((await store.readStream('order-f')).map((e) => e.version)).toEqual([1n, 2n]);
    expect(leader.callCount).toBeGreaterThan(0);
    await expect(store.append('order-f', [newEvent()], 'no_stream')).rejects.toBeInstanceOf(VersionConflict);
  });

  it('an append gives up after its bounded retries when the server never comes back; the subscription keeps trying', async () => {
    const standIn = await startStandIn();
    const store = new EsdbEventStore({
      connectionString: standIn.connectionString,
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 },
      resubscribe: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    cleanups.push(() => store.close());
    await store.append('order-g', [newEvent()], 'no_stream');
    const probe = new SubscriptionProbe('order-');
    const subscription = store.subscribeAll(0n, probe.handler);
    cleanups.push(() => subscription.stop());
    await probe.until((p) => p.caughtUpAt !== null && p.ids().length === 1);
    await standIn.stop();
    // The server is gone: the append fails as unavailable (after its bounded retries), not as a conflict.
    await expect(store.append('order-g', [newEvent()], 1n)).rejects.toThrow(/UNAVAILABLE/);
    // Far more failed resubscribes than an append's three attempts, and still no error.
    while (store.health().resubscribes < 10) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.health().subscriptionsReconnecting).toBe(1);
    expect(probe.errors).toEqual([]);
  });
});

describe('esdb adapter on the stand-in: sharing a server', () => {
  it('two ledger instances racing on one stream: exactly one append wins, the other gets a VersionConflict', async () => {
    const standIn = await startStandIn();
    const [first, second] = [storeOn(standIn), storeOn(standIn)];
    await first.append('order-race', newEvents(1), 'no_stream');
    const batches = [newEvents(2, 'first'), newEvents(2, 'second')];
    const outcomes = await Promise.allSettled([first.append('order-race', batches[0] ?? [], 1n), second.append('order-race', batches[1] ?? [], 1n)]);
    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    const loser = outcomes.find((o) => o.status === 'rejected');
    expect(loser?.status === 'rejected' ? loser.reason : null).toBeInstanceOf(VersionConflict);
    expect((await second.readStream('order-race')).map((e) => e.version)).toEqual([1n, 2n, 3n]);
  });

  it('sees only the ledger’s streams: not the server’s $ streams, not other applications’', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    const ours = await store.append('order-1', newEvents(2), 'no_stream');
    await store.append('inventory-1', newEvents(3), 'no_stream');
    expect((await store.readAll(0n, 100)).map((e) => e.stream)).toEqual(['order-1', 'order-1']);
    expect(await store.headPosition()).toBe(ours.position);
    expect((await store.listStreams('')).map((s) => s.stream)).toEqual(['order-1', 'inventory-1']);
    expect(standIn.log.allEvents().some((e) => e.stream.startsWith('$'))).toBe(true);
  });
});
