import { afterEach, describe, expect, it } from 'vitest';
import { EsdbEventStore } from '../../src/eventstore/esdb.js';
import { isStreamUnreadable } from '../../src/eventstore/streamErrors.js';
import { VersionConflict, type NewEvent } from '../../src/eventstore/types.js';
import { createStoreLeases } from '../../src/settlement/storeLeases.js';
import { streamEventsServed } from '../support/esdbStandIn/reads.js';
import { EsdbStandIn, StandInLog, type EsdbStandInOptions } from '../support/esdbStandIn/server.js';
import { newEvent, newEvents, SubscriptionProbe } from './contractSupport.js';

/**
 * The esdb adapter against the ways a real KurrentDB node is harder than a kind stand-in (issue 15),
 * one block per behaviour. Each case failed against the adapter before its fix.
 */

const FAST_RETRY = { maxAttempts: 6, initialDelayMs: 10, maxDelayMs: 50 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startStandIn(options: EsdbStandInOptions = {}): Promise<EsdbStandIn> {
  const standIn = await EsdbStandIn.start(options);
  cleanups.push(() => standIn.stop());
  return standIn;
}

function storeOn(standIn: EsdbStandIn, options: Partial<ConstructorParameters<typeof EsdbEventStore>[0]> = {}): EsdbEventStore {
  const store = new EsdbEventStore({ connectionString: standIn.connectionString, retry: FAST_RETRY, ...options });
  cleanups.push(() => store.close());
  return store;
}

function subscribe(store: EsdbEventStore, probe: SubscriptionProbe, after = 0n): void {
  const subscription = store.subscribeAll(after, probe.handler);
  cleanups.push(() => subscription.stop());
}

/** Writes straight into the log, as another client would (or while we are cut off). */
function appendDirectly(log: StandInLog, stream: string, events: readonly NewEvent[]): void {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const outcome = log.append(stream, { kind: 'any' }, events.map((e) => ({
    id: e.eventId, type: e.type, contentType: 'application/json', data: encode(e.data), customMetadata: encode(e.metadata),
  })));
  expect(outcome.kind).toBe('written');
}

const idsOf = (events: readonly NewEvent[]) => events.map((e) => e.eventId);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('1. filtered $all checkpoints as a real server sends them (prepare 0, end of log)', () => {
  it('delivers the event written at the end-of-log checkpoint position, live and after a resubscribe', async () => {
    const standIn = await startStandIn({ faults: { endOfLogCheckpoint: true } });
    const store = storeOn(standIn);
    const [v1, v2, v3] = newEvents(3);
    await store.append('order-cp', [v1!], 'no_stream');
    const probe = new SubscriptionProbe('order-');
    subscribe(store, probe);
    await probe.until((p) => p.caughtUpAt !== null);
    // v2 lands exactly at the checkpoint's commit position (the next record), prepare above 0.
    await store.append('order-cp', [v2!], 1n);
    await probe.until((p) => p.ids().length >= 2 || p.errors.length > 0);
    // A resubscribe resumes from that checkpoint: v3 must arrive too, v2 not twice.
    await standIn.restart();
    await store.append('order-cp', [v3!], 2n);
    await probe.until((p) => p.ids().includes(v3!.eventId) || p.errors.length > 0);
    expect(probe.ids()).toEqual(idsOf([v1!, v2!, v3!]));
    expect(probe.errors).toEqual([]);
  });

  it('a resubscribe from a checkpoint (c, 0) delivers the event at commit c that arrived while down', async () => {
    const standIn = await startStandIn({ faults: { endOfLogCheckpoint: true } });
    const store = storeOn(standIn, { retry: { maxAttempts: 40, initialDelayMs: 10, maxDelayMs: 50 } });
    const [v1, v2] = newEvents(2);
    await store.append('order-cp2', [v1!], 'no_stream');
    const probe = new SubscriptionProbe('order-');
    subscribe(store, probe);
    await probe.until((p) => p.caughtUpAt !== null);
    await standIn.stop();
    appendDirectly(standIn.log, 'order-cp2', [v2!]);
    await standIn.start();
    await probe.until((p) => p.ids().length >= 2 || p.errors.length > 0);
    expect(probe.ids()).toEqual(idsOf([v1!, v2!]));
  });
});

describe('2. BatchAppend answered NotReady / Busy / Timeout', () => {
  it('retries each transient refusal and writes exactly once', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    standIn.refuseNextAppends('not_ready', 'busy', 'timeout');
    const events = newEvents(2);
    const result = await store.append('order-busy', events, 'no_stream');
    expect(standIn.refusedAppends).toBe(3);
    expect(result.nextVersion).toBe(2n);
    const stored = await store.readStream('order-busy');
    expect(stored.map((e) => e.eventId)).toEqual(idsOf(events));
    expect(stored[1]?.position).toBe(result.position);
  });

  it('a commit timeout whose write happened answers the original result on retry', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    await store.append('order-timeout', [newEvent()], 'no_stream');
    standIn.refuseNextAppends('timeout');
    const event = newEvent();
    expect((await store.append('order-timeout', [event], 1n)).nextVersion).toBe(2n);
    expect((await store.readStream('order-timeout')).map((e) => e.eventId).filter((id) => id === event.eventId)).toHaveLength(1);
  });

  it('gives up after the bounded retries, and a refused append is not a version conflict', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    standIn.refuseNextAppends(...Array.from({ length: 20 }, () => 'busy' as const));
    const failure = await store.append('order-never', [newEvent()], 'no_stream').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(VersionConflict);
    expect(standIn.refusedAppends).toBe(FAST_RETRY.maxAttempts);
    expect(standIn.log.streamEvents('order-never')).toBeNull();
  });
});

describe('3. reads a decision rests on go to the leader, not a lagging follower', () => {
  it('an append through a lagging follower is read back at once (requiresLeader)', async () => {
    const log = new StandInLog();
    const leader = await startStandIn({ log });
    const follower = await startStandIn({ log });
    const store = storeOn(follower);
    await store.append('order-lag', [newEvent()], 'no_stream');
    follower.followLeader({ host: '127.0.0.1', port: leader.port }, { lagging: true });
    const second = await store.append('order-lag', [newEvent()], 1n);
    expect(second.nextVersion).toBe(2n);
    expect((await store.readStream('order-lag')).map((e) => e.version)).toEqual([1n, 2n]);
    expect(leader.callCount).toBeGreaterThan(0);
  });

  it('a lease holder extending its lease through a lagging follower still holds it', async () => {
    const log = new StandInLog();
    const leader = await startStandIn({ log });
    const follower = await startStandIn({ log });
    follower.followLeader({ host: '127.0.0.1', port: leader.port }, { lagging: true });
    const leases = createStoreLeases(storeOn(follower));
    const now = Date.now();
    expect(await leases.acquire('order-driver:lag', 'a', 60_000, now)).toBe(true);
    // A stale read would miss the lease just taken and lose the extension to a version conflict.
    expect(await leases.acquire('order-driver:lag', 'a', 60_000, now + 1)).toBe(true);
  });
});

describe('4. a subscription outlives an outage longer than its retry budget', () => {
  it('a 30 s outage at 1/10 scale (3 s, caps 10 ms–300 ms): no gap, no duplicate, reported while reconnecting', async () => {
    const standIn = await startStandIn();
    // The adapter's default budget (10 attempts, 100 ms–3 s) scaled by 1/10: it gave up after ~1.5 s.
    const store = storeOn(standIn, { retry: { maxAttempts: 10, initialDelayMs: 10, maxDelayMs: 300 } });
    const before = newEvents(5, 'before');
    await store.append('order-out', before, 'no_stream');
    const probe = new SubscriptionProbe('order-');
    subscribe(store, probe);
    await probe.until((p) => p.ids().length === 5);
    expect(store.health().subscriptionsReconnecting).toBe(0);

    await standIn.stop();
    const during = newEvents(4, 'during');
    appendDirectly(standIn.log, 'order-out', during);
    await delay(3_000);
    expect(store.health().subscriptionsReconnecting).toBe(1);
    await standIn.start();

    const after = newEvents(3, 'after');
    await store.append('order-out', after, 9n);
    await probe.until((p) => p.ids().length >= 12 || p.errors.length > 0);
    expect(probe.errors).toEqual([]);
    expect(probe.ids()).toEqual(idsOf([...before, ...during, ...after]));
    expect(store.health()).toMatchObject({ subscriptionsReconnecting: 0 });
    expect(store.health().resubscribes).toBeGreaterThan(0);
  }, 20_000);
});

describe('4. a subscription outlives a real 30 s outage', () => {
  it('with the default retry budget (it gave up after 8–15 s): no gap, no duplicate, no error', async () => {
    const standIn = await startStandIn();
    // The adapter's default retry policy, as in production; only the resubscribe cap is short.
    const store = new EsdbEventStore({ connectionString: standIn.connectionString, resubscribe: { initialDelayMs: 100, maxDelayMs: 1_000 } });
    cleanups.push(() => store.close());
    const before = newEvents(3, 'before');
    await store.append('order-30s', before, 'no_stream');
    const probe = new SubscriptionProbe('order-');
    subscribe(store, probe);
    await probe.until((p) => p.ids().length === 3);
    await standIn.stop();
    const during = newEvents(3, 'during');
    appendDirectly(standIn.log, 'order-30s', during);
    await delay(30_000);
    expect(probe.errors).toEqual([]);
    await standIn.start();
    await probe.until((p) => p.ids().length >= 6 || p.errors.length > 0);
    const after = newEvents(2, 'after');
    await store.append('order-30s', after, 6n);
    await probe.until((p) => p.ids().length >= 8 || p.errors.length > 0);
    expect(probe.errors).toEqual([]);
    expect(probe.ids()).toEqual(idsOf([...before, ...during, ...after]));
  }, 60_000);
});

describe('5. $all mostly not ledger events', () => {
  it('the head is the last ledger event even with 10,001 lease events after it', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn, { readPageSize: 1000 });
    const last = await store.append('order-head', newEvents(2), 'no_stream');
    for (let i = 0; i < 10_001; i += 1000) appendDirectly(standIn.log, `lease-order-driver:${i}`, newEvents(Math.min(1000, 10_001 - i), 'lease'));
    expect(standIn.log.size).toBeGreaterThan(10_003);
    expect(await store.headPosition()).toBe(last.position);
    // A second look costs only what was written since.
    const more = await store.append('order-head', newEvents(1), 2n);
    expect(await store.headPosition()).toBe(more.position);
  }, 30_000);
});

describe('6. leases kept as streams', () => {
  it('an acquire reads only the lease stream’s last event, and lease streams carry $maxCount', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    const leases = createStoreLeases(store);
    const now = Date.now();
    for (let i = 0; i < 20; i++) expect(await leases.acquire('order-driver:grow', 'me', 60_000, now + i)).toBe(true);
    const served = streamEventsServed();
    expect(await leases.acquire('order-driver:grow', 'me', 60_000, now + 21)).toBe(true);
    expect(streamEventsServed() - served).toBeLessThanOrEqual(1);
    expect(standIn.log.metadataOf('lease-order-driver:grow').maxCount).toBeGreaterThan(0);
  });

  it('judges expiry by the server’s commit time: an instance whose clock runs behind cannot have its lease stolen early', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    const realNow = Date.now();
    // Instance A's clock is 5 s behind the server's; B's agrees with the server. (Leases naming no
    // holder: with heartbeats a live holder's lease is never taken, whatever the clocks say.)
    const a = createStoreLeases(store, { clockMs: () => realNow - 5_000, maxClockSkewMs: 0, heartbeatTimeoutMs: null });
    const b = createStoreLeases(store, { clockMs: () => realNow + 500, maxClockSkewMs: 0, heartbeatTimeoutMs: null });
    expect(await a.acquire('order-driver:skew', 'a', 1_000, realNow - 5_000)).toBe(true);
    // Half a second later by the server, A's lease has 0.5 s left: B must not take it.
    expect(await b.acquire('order-driver:skew', 'b', 1_000, realNow + 500)).toBe(false);
    // Past the server's commit time + TTL it is B's.
    expect(await b.acquire('order-driver:skew', 'b', 1_000, realNow + 1_500)).toBe(true);
  });

  it('an acquire whose append returns after its TTL counts as lost', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    let clock = 1_000_000;
    const slowStore = Object.create(store) as EsdbEventStore;
    slowStore.append = async (...args: Parameters<EsdbEventStore['append']>) => {
      const result = await store.append(...args);
      clock += 2_000;
      return result;
    };
    const leases = createStoreLeases(slowStore, { clockMs: () => clock });
    expect(await leases.acquire('order-driver:slow', 'me', 1_000, clock)).toBe(false);
    expect(await leases.acquire('order-driver:slow2', 'me', 5_000, clock)).toBe(true);
  });

  it('release stamps its event with the injected clock, not the machine’s', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    const leases = createStoreLeases(store, { clockMs: () => Date.parse('2030-01-01T00:00:00.000Z') });
    expect(await leases.acquire('order-driver:rel', 'me', 60_000, Date.parse('2030-01-01T00:00:00.000Z'))).toBe(true);
    await leases.release('order-driver:rel', 'me');
    const events = await store.readStream('lease-order-driver:rel');
    expect(events.map((e) => e.metadata.recorded_at)).toEqual(['2030-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z']);
  });
});

describe('7. deleted and truncated ledger streams', () => {
  it('refuses to hand out a stream that no longer starts at version 1 ($tb / $maxCount)', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    await store.append('order-cut', newEvents(4), 'no_stream');
    standIn.log.writeMetadata('order-cut', { $tb: 2 });
    const error = await store.readStream('order-cut').catch((e: unknown) => e);
    expect(isStreamUnreadable(error) && error.code).toBe('stream_truncated');
    // Reading from a later version that is still there is fine: nothing before it was asked for.
    expect((await store.readStream('order-cut', 3n)).map((e) => e.version)).toEqual([3n, 4n]);
  });

  it('a tombstoned stream is a typed stream_deleted on read and on append', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    await store.append('order-gone', newEvents(2), 'no_stream');
    standIn.log.tombstone('order-gone');
    const read = await store.readStream('order-gone').catch((e: unknown) => e);
    expect(isStreamUnreadable(read) && read.code).toBe('stream_deleted');
    const append = await store.append('order-gone', [newEvent()], 2n).catch((e: unknown) => e);
    expect(isStreamUnreadable(append) && append.code).toBe('stream_deleted');
  });

  it('a soft-deleted signature stream does not accept a second use (no_stream is a conflict)', async () => {
    const standIn = await startStandIn();
    const store = storeOn(standIn);
    await store.append('sig-abc', [newEvent()], 'no_stream');
    standIn.log.softDelete('sig-abc');
    await expect(store.append('sig-abc', [newEvent()], 'no_stream')).rejects.toBeInstanceOf(VersionConflict);
    // A stream that never existed still takes no_stream.
    expect((await store.append('sig-new', [newEvent()], 'no_stream')).nextVersion).toBe(1n);
  });
});
