import { chainedEvents } from '../eventstore/chainedEvents.js';
import { GENESIS_HASH } from '../eventstore/hashChain.js';
import { isVersionConflict, type EventStore, type JsonObject, type NewEvent, type RecordedEvent } from '../eventstore/types.js';
import type { Leases } from './leases.js';
import { leaseStream } from '../streamNames.js';

export { LEASE_STREAM_PREFIX } from '../streamNames.js';

/** Lease streams keep only their newest events: only the last one decides anything. */
export const LEASE_STREAM_MAX_COUNT = 16;

/**
 * How far an instance's clock may be from the store's before leases go wrong. A lease another
 * instance holds counts as expired only this long after the store's commit time + its TTL, so a
 * clock running ahead by up to this much cannot take a live lease. Leases last a minute or more
 * (leaseTtlMsFor); instances are expected to run NTP.
 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5_000;

interface LeaseData {
  owner: string | null;
  expires_at_ms: number;
  /** The TTL asked for; with the store's commit time it gives the expiry on the store's clock. */
  ttl_ms?: number;
}

/** What a store offers beyond the port for leases (the esdb adapter): the last event alone, with its commit time. */
export interface LeaseStreamAccess {
  readLastEvent(stream: string): Promise<{ readonly event: RecordedEvent; readonly committedAtMs: number | null } | null>;
  limitStreamLength(stream: string, maxCount: number): Promise<void>;
}

export interface StoreLeaseOptions {
  /** The instance's clock (Unix ms); injected like every clock of the ledger. */
  readonly clockMs?: () => number;
  readonly maxClockSkewMs?: number;
}

interface CurrentLease {
  readonly data: LeaseData;
  readonly event: RecordedEvent;
  /** When the store says the lease ends, if it reports commit times; else the writer's expiry. */
  readonly expiresAtMs: number;
  readonly storeClock: boolean;
}

/**
 * Order leases kept in the event store itself, for instances that share no disk (EventStoreDB
 * clusters): taking a lease is an append to `lease-<name>` with the version just read, so of two
 * instances racing for it exactly one wins. A lease stream holds only owners and expiry times.
 *
 * One clock judges expiry: the store's commit time of the lease event plus its TTL (with a bounded
 * skew allowance for the reader's clock), not each writer's own clock. An acquire whose append
 * comes back after its TTL has passed counts as lost: the lease may already be someone else's.
 */
export function createStoreLeases(store: EventStore & Partial<LeaseStreamAccess>, options: StoreLeaseOptions = {}): Leases {
  const clockMs = options.clockMs ?? Date.now;
  const skewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  const current = async (stream: string): Promise<CurrentLease | null> => {
    const last = store.readLastEvent ? await store.readLastEvent(stream) : lastOf(await store.readStream(stream, 1n));
    if (last === null) return null;
    const data = last.event.data as unknown as LeaseData;
    const byStore = last.committedAtMs !== null && typeof data.ttl_ms === 'number';
    return { data, event: last.event, expiresAtMs: byStore ? (last.committedAtMs as number) + (data.ttl_ms as number) : data.expires_at_ms, storeClock: byStore };
  };
  const isFree = (lease: CurrentLease, owner: string, nowMs: number): boolean =>
    lease.data.owner === null || lease.data.owner === owner || nowMs >= lease.expiresAtMs + (lease.storeClock ? skewMs : 0);

  /** Appends `data` if `may` allows it given the lease as it stands; false when it does not or a race is lost. */
  const write = async (name: string, data: LeaseData, may: (lease: CurrentLease | null) => boolean): Promise<boolean> => {
    const stream = leaseStream(name);
    const lease = await current(stream);
    if (!may(lease)) return false;
    const version = lease?.event.version ?? 0n;
    try {
      await store.append(stream, [leaseEvent(stream, version, lease?.event.metadata.hash ?? GENESIS_HASH, data, clockMs())], version === 0n ? 'no_stream' : version);
    } catch (error) {
      if (isVersionConflict(error)) return false;
      throw error;
    }
    if (version === 0n && store.limitStreamLength) await store.limitStreamLength(stream, LEASE_STREAM_MAX_COUNT);
    return true;
  };
  return {
    async acquire(name, owner, ttlMs, nowMs) {
      const startedMs = clockMs();
      const taken = await write(name, { owner, expires_at_ms: nowMs + ttlMs, ttl_ms: ttlMs }, (lease) => lease === null || isFree(lease, owner, nowMs));
      // Measured on one clock from before the read: a lease granted after its TTL is not held.
      return taken && clockMs() - startedMs < ttlMs;
    },
    async release(name, owner) {
      await write(name, { owner: null, expires_at_ms: 0 }, (lease) => lease?.data.owner === owner);
    },
    close() {},
  };
}

function lastOf(events: readonly RecordedEvent[]): { event: RecordedEvent; committedAtMs: null } | null {
  const event = events[events.length - 1];
  return event === undefined ? null : { event, committedAtMs: null };
}

function leaseEvent(stream: string, prevVersion: bigint, prevHash: string, lease: LeaseData, nowMs: number): NewEvent {
  const type = lease.owner === null ? 'LeaseReleased' : 'LeaseTaken';
  const ctx = { correlationId: `lease-${stream}`, causationId: null, actor: 'driver', recordedAt: new Date(nowMs).toISOString() };
  return chainedEvents(stream, { version: prevVersion, hash: prevHash }, [{ type, data: lease as unknown as JsonObject }], ctx)[0] as NewEvent;
}
