import { chainedEvents } from '../eventstore/chainedEvents.js';
import { GENESIS_HASH } from '../eventstore/hashChain.js';
import { isVersionConflict, type EventStore, type JsonObject, type NewEvent } from '../eventstore/types.js';
import type { Leases } from './leases.js';

export const LEASE_STREAM_PREFIX = 'lease-';

interface LeaseData {
  owner: string | null;
  expires_at_ms: number;
}

/**
 * Order leases kept in the event store itself, for instances that share no disk (EventStoreDB
 * clusters): taking a lease is an append to `lease-<name>` with the version just read, so of two
 * instances racing for it exactly one wins. A lease stream holds only owners and expiry times.
 */
export function createStoreLeases(store: EventStore): Leases {
  /** Appends `data` if `may` allows it given the lease as it stands; false when it does not or a race is lost. */
  const write = async (name: string, data: LeaseData, nowMs: number, may: (current: LeaseData | null) => boolean): Promise<boolean> => {
    const stream = `${LEASE_STREAM_PREFIX}${name}`;
    const events = await store.readStream(stream, 1n);
    const last = events[events.length - 1];
    if (!may(last ? (last.data as unknown as LeaseData) : null)) return false;
    const version = last?.version ?? 0n;
    try {
      await store.append(stream, [leaseEvent(stream, version, last?.metadata.hash ?? GENESIS_HASH, data, nowMs)], version === 0n ? 'no_stream' : version);
      return true;
    } catch (error) {
      if (isVersionConflict(error)) return false;
      throw error;
    }
  };
  return {
    acquire: (name, owner, ttlMs, nowMs) =>
      write(name, { owner, expires_at_ms: nowMs + ttlMs }, nowMs, (c) => c === null || c.owner === null || c.owner === owner || c.expires_at_ms <= nowMs),
    async release(name, owner) {
      await write(name, { owner: null, expires_at_ms: 0 }, Date.now(), (c) => c?.owner === owner);
    },
    close() {},
  };
}

function leaseEvent(stream: string, prevVersion: bigint, prevHash: string, lease: LeaseData, nowMs: number): NewEvent {
  const type = lease.owner === null ? 'LeaseReleased' : 'LeaseTaken';
  const ctx = { correlationId: `lease-${stream}`, causationId: null, actor: 'driver', recordedAt: new Date(nowMs).toISOString() };
  return chainedEvents(stream, { version: prevVersion, hash: prevHash }, [{ type, data: lease as unknown as JsonObject }], ctx)[0] as NewEvent;
}
