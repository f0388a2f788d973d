import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/eventstore/types.js';
import {
  expectConflict,
  expectConflictFields,
  newEvent,
  newEvents,
  readAllWithPrefix,
  uniquePrefix,
  type MakeStore,
  type StoreFixture,
} from './contractSupport.js';
import { registerConcurrencyCases } from './contractConcurrency.js';
import { registerGroupCases } from './contractGroupCommit.js';
import { registerReadCases } from './contractReads.js';
import { registerSubscriptionCases } from './contractSubscriptions.js';

export interface ContractOptions {
  /**
   * Whether makeStore() hands out an empty store. An adapter whose tests share one server (an
   * EventStoreDB node) passes false, which skips only the "fresh store is empty" case; every other
   * case uses its own uniquely named streams and never assumes it is alone in the log.
   */
  readonly startsEmpty?: boolean;
}

/** What each group of contract cases needs: the store of the running test. */
export interface ContractContext {
  readonly store: () => EventStore;
  readonly startsEmpty: boolean;
}

/**
 * The EventStore port's contract, registered as vitest blocks named after the adapter. Positions
 * are treated as opaque but strictly increasing: no case assumes position === version or that
 * positions are contiguous, so an EventStoreDB adapter (commit positions in the transaction log)
 * can run the same cases.
 */
export function runEventStoreContract(adapterName: string, makeStore: MakeStore, options: ContractOptions = {}): void {
  describe(`EventStore contract: ${adapterName}`, () => {
    let fixture: StoreFixture | null = null;
    beforeEach(async () => {
      fixture = await makeStore();
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = null;
    });
    const context: ContractContext = {
      store: () => {
        if (fixture === null) throw new Error('the contract store is only available inside a test');
        return fixture.store;
      },
      startsEmpty: options.startsEmpty ?? true,
    };
    registerExpectedVersionCases(context);
    registerIdempotencyCases(context);
    registerConcurrencyCases(context);
    registerGroupCases(context);
    registerReadCases(context);
    registerSubscriptionCases(context);
  });
}

/** A stream of `count` events appended one batch at a time, under a fresh name. */
async function seededStream(store: EventStore, label: string, count: number): Promise<string> {
  const stream = `${uniquePrefix(label)}1`;
  if (count > 0) await store.append(stream, newEvents(count), 'no_stream');
  return stream;
}

function registerExpectedVersionCases({ store }: ContractContext): void {
  describe('expected version', () => {
    it('no_stream creates a new stream at version 1', async () => {
      const stream = await seededStream(store(), 'ns-new', 0);
      const result = await store().append(stream, [newEvent()], 'no_stream');
      expect(result.nextVersion).toBe(1n);
      const events = await store().readStream(stream);
      expect(events.map((e) => e.version)).toEqual([1n]);
      expect(events[0]?.position).toBe(result.position);
    });

    it('no_stream on an existing stream is a conflict carrying expected and actual, and writes nothing', async () => {
      const stream = await seededStream(store(), 'ns-existing', 2);
      const conflict = await expectConflict(store().append(stream, [newEvent()], 'no_stream'));
      expectConflictFields(conflict, stream, 'no_stream', 2n);
      expect(await store().readStream(stream)).toHaveLength(2);
    });

    it('stream_exists on a new stream is a conflict with actual 0 and creates nothing', async () => {
      const stream = await seededStream(store(), 'se-new', 0);
      const conflict = await expectConflict(store().append(stream, [newEvent()], 'stream_exists'));
      expectConflictFields(conflict, stream, 'stream_exists', 0n);
      expect(await store().readStream(stream)).toEqual([]);
    });

    it('stream_exists on an existing stream appends after its last event', async () => {
      const stream = await seededStream(store(), 'se-existing', 2);
      const result = await store().append(stream, [newEvent()], 'stream_exists');
      expect(result.nextVersion).toBe(3n);
    });

    it('any appends to a new stream and to an existing one', async () => {
      const stream = await seededStream(store(), 'any', 0);
      expect((await store().append(stream, [newEvent()], 'any')).nextVersion).toBe(1n);
      expect((await store().append(stream, newEvents(2), 'any')).nextVersion).toBe(3n);
      expect((await store().readStream(stream)).map((e) => e.version)).toEqual([1n, 2n, 3n]);
    });

    it('an exact version that matches appends after it', async () => {
      const stream = await seededStream(store(), 'exact-ok', 2);
      const result = await store().append(stream, newEvents(2), 2n);
      expect(result.nextVersion).toBe(4n);
      expect(typeof result.nextVersion).toBe('bigint');
      expect(typeof result.position).toBe('bigint');
    });

    it('exact version 0 means no stream: allowed on a new stream, a conflict on an existing one', async () => {
      const fresh = await seededStream(store(), 'exact-zero-new', 0);
      expect((await store().append(fresh, [newEvent()], 0n)).nextVersion).toBe(1n);
      const existing = await seededStream(store(), 'exact-zero-existing', 1);
      expectConflictFields(await expectConflict(store().append(existing, [newEvent()], 0n)), existing, 0n, 1n);
    });

    it('an exact version behind or ahead of the stream is a conflict carrying both, and writes nothing', async () => {
      const stream = await seededStream(store(), 'exact-wrong', 3);
      expectConflictFields(await expectConflict(store().append(stream, [newEvent()], 2n)), stream, 2n, 3n);
      expectConflictFields(await expectConflict(store().append(stream, newEvents(2), 7n)), stream, 7n, 3n);
      const fresh = await seededStream(store(), 'exact-wrong-new', 0);
      expectConflictFields(await expectConflict(store().append(fresh, [newEvent()], 1n)), fresh, 1n, 0n);
      expect(await store().readStream(stream)).toHaveLength(3);
      expect(await store().readStream(fresh)).toEqual([]);
    });
  });
}

function registerIdempotencyCases({ store }: ContractContext): void {
  describe('idempotent re-append', () => {
    it('the same event ids at the same expected version return the original result and write nothing', async () => {
      const prefix = uniquePrefix('idem');
      const stream = `${prefix}1`;
      const batch = newEvents(3);
      const start = await store().headPosition();
      const first = await store().append(stream, batch, 'no_stream');
      const again = await store().append(stream, batch, 'no_stream');
      expect(again).toEqual(first);
      const more = [newEvent()];
      const second = await store().append(stream, more, 3n);
      expect(await store().append(stream, more, 3n)).toEqual(second);
      const written = await readAllWithPrefix(store(), start, prefix);
      expect(written.map((e) => e.eventId)).toEqual([...batch, ...more].map((e) => e.eventId));
    });

    it('a retried append whose events are already stored is idempotent after the stream moved on', async () => {
      const stream = await seededStream(store(), 'idem-later', 1);
      const batch = newEvents(2);
      const original = await store().append(stream, batch, 1n);
      await store().append(stream, newEvents(2), 3n);
      expect(await store().append(stream, batch, 1n)).toEqual(original);
      expect(await store().readStream(stream)).toHaveLength(5);
    });

    it('re-appending with some different event ids is a conflict and writes nothing', async () => {
      const stream = await seededStream(store(), 'idem-mixed', 0);
      const [a, b] = newEvents(2);
      if (!a || !b) throw new Error('two events expected');
      await store().append(stream, [a, b], 'no_stream');
      const c = newEvent();
      expectConflictFields(await expectConflict(store().append(stream, [a, c], 'no_stream')), stream, 'no_stream', 2n);
      expectConflictFields(await expectConflict(store().append(stream, [c, b], 'no_stream')), stream, 'no_stream', 2n);
      const events = await store().readStream(stream);
      expect(events.map((e) => e.eventId)).toEqual([a.eventId, b.eventId]);
    });
  });
}
