import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { SqliteEventStore, type SqliteEventStoreOptions } from '../../src/eventstore/sqlite.js';
import {
  VersionConflict,
  type EventMetadata,
  type EventStore,
  type ExpectedVersion,
  type JsonObject,
  type NewEvent,
  type RecordedEvent,
  type SubscriptionHandler,
} from '../../src/eventstore/types.js';

/**
 * Helpers for the EventStore contract suite. Nothing here knows which adapter runs: streams get a
 * unique prefix per test so the suite also works against a shared server (EventStoreDB) whose log
 * already holds other tests' events.
 */

export interface StoreFixture {
  readonly store: EventStore;
  readonly cleanup: () => Promise<void>;
}

export type MakeStore = () => Promise<StoreFixture>;

/** A prefix no other test (or earlier run against the same server) uses. */
export function uniquePrefix(label: string): string {
  return `ct${randomUUID().slice(0, 8)}-${label}-`;
}

export function metadataFor(eventId: string, overrides: Partial<EventMetadata> = {}): EventMetadata {
  return {
    event_id: eventId,
    correlation_id: 'corr-1',
    causation_id: null,
    actor: 'operator:contract',
    recorded_at: '2026-01-01T00:00:00.000Z',
    schema_version: 1,
    prev_hash: '0'.repeat(64),
    hash: 'f'.repeat(64),
    ...overrides,
  };
}

export function newEvent(data: JsonObject = {}, type = 'ThingHappened'): NewEvent {
  const eventId = randomUUID();
  return { eventId, type, data, metadata: metadataFor(eventId) };
}

export function newEvents(count: number, label = 'e'): NewEvent[] {
  return Array.from({ length: count }, (_, i) => newEvent({ label, i }));
}

/** Runs the promise and returns the VersionConflict it must reject with. */
export async function expectConflict(promise: Promise<unknown>): Promise<VersionConflict> {
  let caught: unknown = null;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(VersionConflict);
  return caught as VersionConflict;
}

export function expectConflictFields(conflict: VersionConflict, stream: string, expected: ExpectedVersion, actual: bigint): void {
  expect(conflict.code).toBe('version_conflict');
  expect(conflict.stream).toBe(stream);
  expect(conflict.expected).toBe(expected);
  expect(conflict.actual).toBe(actual);
}

/** Every event of the global log after `afterPosition` whose stream starts with `prefix`, paged. */
export async function readAllWithPrefix(store: EventStore, afterPosition: bigint, prefix: string, pageSize = 100): Promise<RecordedEvent[]> {
  const found: RecordedEvent[] = [];
  let position = afterPosition;
  // The bound keeps a broken adapter that never advances from spinning forever.
  for (let page = 0; page < 100_000; page++) {
    const batch = await store.readAll(position, pageSize);
    if (batch.length === 0) return found;
    expect(batch.length).toBeLessThanOrEqual(pageSize);
    for (const event of batch) {
      expect(event.position > position).toBe(true);
      position = event.position;
      if (event.stream.startsWith(prefix)) found.push(event);
    }
  }
  throw new Error('readAll never reached the end of the log');
}

export function expectStrictlyIncreasing(values: readonly bigint[]): void {
  for (let i = 1; i < values.length; i++) {
    expect((values[i] as bigint) > (values[i - 1] as bigint), `value ${i} must exceed the one before it`).toBe(true);
  }
}

/**
 * Collects what a subscription delivers for one test's streams, and lets the test wait for a
 * condition on it without a clock: every delivery re-checks the waiters.
 */
export class SubscriptionProbe {
  readonly events: RecordedEvent[] = [];
  readonly errors: unknown[] = [];
  caughtUpAt: bigint | null = null;
  /** How many of this test's events had arrived when onCaughtUp first fired. */
  eventsAtCaughtUp = -1;
  batches = 0;
  overlappingBatches = 0;
  deliveredAfterStop = 0;
  private stopped = false;
  private inFlight = false;
  private readonly checks = new Set<() => void>();

  constructor(
    private readonly prefix: string,
    private readonly onBatch: (events: readonly RecordedEvent[]) => Promise<void> | void = () => undefined,
  ) {}

  readonly handler: SubscriptionHandler = {
    onEvents: async (events) => {
      if (this.stopped) this.deliveredAfterStop += events.length;
      if (this.inFlight) this.overlappingBatches += 1;
      this.inFlight = true;
      this.batches += 1;
      try {
        await this.onBatch(events);
        for (const event of events) if (event.stream.startsWith(this.prefix)) this.events.push(event);
      } finally {
        this.inFlight = false;
        this.wake();
      }
    },
    onCaughtUp: (position) => {
      if (this.caughtUpAt === null) {
        this.caughtUpAt = position;
        this.eventsAtCaughtUp = this.events.length;
      }
      this.wake();
    },
    onError: (error) => {
      this.errors.push(error);
      this.wake();
    },
  };

  /** Call once stop() has resolved: anything delivered later breaks the contract. */
  markStopped(): void {
    this.stopped = true;
  }

  until(predicate: (probe: this) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate(this)) return;
        this.checks.delete(check);
        resolve();
      };
      this.checks.add(check);
      check();
    });
  }

  ids(): string[] {
    return this.events.map((e) => e.eventId);
  }

  private wake(): void {
    for (const check of [...this.checks]) check();
  }
}

/**
 * A fresh events.db in a temp dir for each test of the calling file; every store opened through
 * `open` is closed after the test and the dir removed. `path` is the current test's file.
 */
export function storeFilePerTest(prefix: string): { readonly path: string; open(options?: Omit<SqliteEventStoreOptions, 'path'>): SqliteEventStore } {
  let dir = '';
  let path = '';
  const opened: SqliteEventStore[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    path = join(dir, 'events.db');
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get path() {
      return path;
    },
    open(options = {}) {
      const store = new SqliteEventStore({ path, ...options });
      opened.push(store);
      return store;
    },
  };
}
