import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { EsdbEventStore } from '../../src/eventstore/esdb.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import type { EventStore } from '../../src/eventstore/types.js';
import type { Leases } from '../../src/settlement/leases.js';
import { createStoreLeases, HEARTBEAT_STREAM_MAX_COUNT, heartbeatStream, HolderWatch } from '../../src/settlement/storeLeases.js';
import { EsdbStandIn } from '../support/esdbStandIn/server.js';

/**
 * Store (EventStoreDB) leases die with their holder instance (issue 13 part 2): a lease names its
 * holder, whose heartbeat renews it; a lease whose holder's heartbeat has not moved for a whole
 * timeout, as watched on the reader's own clock, is free.
 */

const TIMEOUT_MS = 300; // heartbeats every 100 ms (real timers)
const TTL_MS = 50; // shorter than the timeout: a live holder keeps its lease past its TTL
const NAME = 'order-driver:o-1';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function leasesOn(store: EventStore, instanceId: string, watchClockMs?: () => number): Leases {
  const leases = createStoreLeases(store, { instanceId, heartbeatTimeoutMs: TIMEOUT_MS, ...(watchClockMs ? { watchClockMs } : {}) });
  cleanups.push(() => leases.close());
  return leases;
}

function memoryStore(): SqliteEventStore {
  const store = new SqliteEventStore({ path: ':memory:' });
  cleanups.push(() => store.close());
  return store;
}

/** A reader whose watch clock the test moves (the holder's heartbeat runs on real timers). */
function reader(store: EventStore): { leases: Leases; advance(ms: number): void } {
  let nowMs = 1_000;
  return { leases: leasesOn(store, 'reader', () => nowMs), advance: (ms) => { nowMs += ms; } };
}

describe('the holder-liveness rule (HolderWatch)', () => {
  it('judges a holder dead only after a whole timeout without heartbeat progress, and never at first sight', () => {
    const watch = new HolderWatch(1_000);
    expect(watch.isDead('h', 3n, 0)).toBe(false);
    expect(watch.isDead('h', 3n, 999)).toBe(false);
    expect(watch.isDead('h', 3n, 1_000)).toBe(true);
    // A beat that moved restarts the watch.
    expect(watch.isDead('h', 4n, 5_000)).toBe(false);
    expect(watch.isDead('h', 4n, 5_999)).toBe(false);
    // A holder with no heartbeat stream at all is watched the same way (-1n).
    expect(watch.isDead('never', -1n, 0)).toBe(false);
    expect(watch.isDead('never', -1n, 1_000)).toBe(true);
    // A clock that went back restarts the watch instead of judging by a negative age.
    expect(watch.isDead('back', 1n, 10_000)).toBe(false);
    expect(watch.isDead('back', 1n, 9_000)).toBe(false);
    expect(watch.isDead('back', 1n, 9_999)).toBe(false);
  });
});

describe('store leases die with their holder instance', () => {
  it('takes a dead holder’s lease once its heartbeat has stood still for the timeout, not before', async () => {
    const store = memoryStore();
    const holder = leasesOn(store, 'crashed');
    expect(await holder.acquire(NAME, 'driver-a', 60_000, Date.now())).toBe(true);
    holder.close(); // its heartbeat stops, as in a crash (the lease is never released)
    await sleep(150); // a beat in flight is stored
    const b = reader(store);
    expect(await b.leases.acquire(NAME, 'driver-b', 60_000, Date.now())).toBe(false); // first sight
    b.advance(TIMEOUT_MS - 1);
    expect(await b.leases.acquire(NAME, 'driver-b', 60_000, Date.now())).toBe(false);
    b.advance(1);
    // Well inside the lease's 60 s TTL, the dead holder's lease is taken.
    expect(await b.leases.acquire(NAME, 'driver-b', 60_000, Date.now())).toBe(true);
    // And now it is the reader's: the old owner cannot take it back.
    const again = leasesOn(store, 'crashed-restarted');
    expect(await again.acquire(NAME, 'driver-a', 60_000, Date.now())).toBe(false);
  });

  it('refuses a live holder’s lease, even long past its TTL: the heartbeat renews it', async () => {
    const store = memoryStore();
    const holder = leasesOn(store, 'alive');
    expect(await holder.acquire(NAME, 'driver-a', TTL_MS, Date.now())).toBe(true);
    const b = reader(store);
    for (let i = 0; i < 4; i++) {
      expect(await b.leases.acquire(NAME, 'driver-b', TTL_MS, Date.now())).toBe(false);
      await sleep(250); // at least one heartbeat
      b.advance(10 * TIMEOUT_MS); // however much time the reader thinks passed
    }
    expect(await b.leases.acquire(NAME, 'driver-b', TTL_MS, Date.now())).toBe(false);
    // Another driver of the holder's own instance is refused too (its holder is certainly alive).
    expect(await holder.acquire(NAME, 'driver-c', TTL_MS, Date.now() + 60_000)).toBe(false);
    // The holder itself renews (no-op for everyone else), and its release frees the lease at once.
    expect(await holder.acquire(NAME, 'driver-a', TTL_MS, Date.now())).toBe(true);
    await b.leases.release(NAME, 'driver-b'); // not the owner: changes nothing
    expect(await b.leases.acquire(NAME, 'driver-b', TTL_MS, Date.now())).toBe(false);
    await holder.release(NAME, 'driver-a');
    expect(await b.leases.acquire(NAME, 'driver-b', TTL_MS, Date.now())).toBe(true);
  });

  it('a holder whose heartbeat cannot be stored takes no lease (others would soon judge it dead)', async () => {
    const store = memoryStore();
    const failing = Object.create(store) as SqliteEventStore;
    failing.append = async (stream, events, expected) => {
      if (stream === heartbeatStream('cut-off')) throw new Error('store unreachable');
      return store.append(stream, events, expected);
    };
    const cutOff = leasesOn(failing, 'cut-off');
    expect(await cutOff.acquire(NAME, 'driver-a', 60_000, Date.now())).toBe(false);
    expect(await store.readStream(`lease-${NAME}`, 1n)).toEqual([]);
    // The same store with a working heartbeat grants it.
    expect(await leasesOn(store, 'fine').acquire(NAME, 'driver-a', 60_000, Date.now())).toBe(true);
  });

  it('a heartbeat whose answer was lost (written, then an error) does not stop the heartbeat: it continues from the store', async () => {
    const store = memoryStore();
    const lossy = Object.create(store) as SqliteEventStore;
    let beats = 0;
    lossy.append = async (stream, events, expected) => {
      const result = await store.append(stream, events, expected);
      if (stream === heartbeatStream('lossy') && ++beats === 2) throw new Error('answer lost');
      return result;
    };
    const holder = leasesOn(lossy, 'lossy');
    expect(await holder.acquire(NAME, 'driver-a', 60_000, Date.now())).toBe(true);
    await sleep(600);
    const events = await store.readStream(heartbeatStream('lossy'), 1n);
    expect(beats).toBeGreaterThanOrEqual(4);
    expect(events.length).toBe(beats);
    expect(await holder.acquire('order-driver:o-2', 'driver-a', 60_000, Date.now())).toBe(true);
  });

  it('writes one small heartbeat per third of the timeout to lease-holder-<instance>, kept short by $maxCount (esdb stand-in)', async () => {
    const standIn = await EsdbStandIn.start();
    cleanups.push(() => standIn.stop());
    const store = new EsdbEventStore({ connectionString: standIn.connectionString });
    cleanups.push(() => store.close());
    const holder = leasesOn(store, 'beating');
    expect(await holder.acquire(NAME, 'driver-a', 60_000, Date.now())).toBe(true);
    await sleep(1_000);
    const last = await store.readLastEvent(heartbeatStream('beating'));
    // ~10 beats in a second at 100 ms; bounded on a loaded machine both ways.
    expect(Number(last?.event.version)).toBeGreaterThanOrEqual(4);
    expect(Number(last?.event.version)).toBeLessThanOrEqual(12);
    expect(last?.event.type).toBe('LeaseHolderHeartbeat');
    expect(standIn.log.metadataOf('lease-holder-beating').maxCount).toBe(HEARTBEAT_STREAM_MAX_COUNT);
    const lease = await store.readLastEvent(`lease-${NAME}`);
    expect(lease?.event.data).toMatchObject({ owner: 'driver-a', holder: 'beating' });
  });
});
