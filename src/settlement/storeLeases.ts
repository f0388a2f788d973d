import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
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

/** Default heartbeat timeout (LEDGER_LEASE_HEARTBEAT_MS): issue 13 asks for 10 s. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;
/** Heartbeats per timeout: two in a row may be lost before a live holder looks dead. */
export const HEARTBEATS_PER_TIMEOUT = 3;
/** A heartbeat stream keeps its newest events only: the last one's version is all a reader needs. */
export const HEARTBEAT_STREAM_MAX_COUNT = 2;

/** The stream an instance's heartbeat goes to (`lease-holder-<instance>`): a lease stream, never a ledger stream. */
export function heartbeatStream(instanceId: string): string {
  return leaseStream(`holder-${instanceId}`);
}

/**
 * The holder-liveness rule, judged by heartbeat progress on the reader's own monotonic clock (no
 * wall clock of any instance or of the store is compared): a holder is dead once this reader has
 * seen its heartbeat stream stay at one version for a whole timeout. A beat that moves restarts
 * the watch. Clock skew cannot make a live holder look dead; only a holder that stopped writing does.
 */
export class HolderWatch {
  private readonly seen = new Map<string, { beat: bigint; sinceMs: number }>();
  constructor(private readonly timeoutMs: number) {}

  /** `beat`: the holder's last heartbeat version (-1n: none yet). True when the holder is dead. */
  isDead(holder: string, beat: bigint, nowMs: number): boolean {
    const previous = this.seen.get(holder);
    if (previous === undefined || previous.beat !== beat || nowMs < previous.sinceMs) {
      this.seen.set(holder, { beat, sinceMs: nowMs });
      return false;
    }
    return nowMs - previous.sinceMs >= this.timeoutMs;
  }

  forget(holder: string): void {
    this.seen.delete(holder);
  }
}

interface LeaseData {
  owner: string | null;
  /** The instance holding it (its heartbeat renews the lease); absent in leases from before heartbeats. */
  holder?: string;
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
  /** This instance (default: random per process start); it names the holder of every lease it takes. */
  readonly instanceId?: string;
  /** Heartbeat timeout (LEDGER_LEASE_HEARTBEAT_MS); null: no heartbeat, leases only expire by their TTL. */
  readonly heartbeatTimeoutMs?: number | null;
  /** The clock other holders' heartbeat progress is watched on (monotonic; tests inject one). Own beats use performance.now. */
  readonly watchClockMs?: () => number;
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
 * A lease names its holder instance, which appends a heartbeat to `lease-holder-<instance>` every
 * timeout/3 while it runs: the heartbeat renews all its leases at once (one small event per
 * interval, however many leases), and a lease whose holder's heartbeat has not moved for a whole
 * timeout (see HolderWatch) is free, so a crashed holder's leases pass on within the timeout
 * instead of their TTL. A holder whose own heartbeat has not been stored for two thirds of a timeout takes
 * no lease: others may soon judge it dead.
 *
 * Leases naming no holder (written before heartbeats, or with heartbeats off) expire by one clock:
 * the store's commit time of the lease event plus its TTL (with a bounded skew allowance for the
 * reader's clock). An acquire whose append comes back after its TTL has passed counts as lost.
 */
export function createStoreLeases(store: EventStore & Partial<LeaseStreamAccess>, options: StoreLeaseOptions = {}): Leases {
  const clockMs = options.clockMs ?? Date.now;
  const skewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  const timeoutMs = options.heartbeatTimeoutMs === undefined ? DEFAULT_HEARTBEAT_TIMEOUT_MS : options.heartbeatTimeoutMs;
  const heartbeat = timeoutMs === null ? null : createHeartbeat(store, options.instanceId ?? randomUUID(), timeoutMs, clockMs);
  const watchClockMs = options.watchClockMs ?? (() => performance.now());
  const lastOfStream = async (stream: string) => (store.readLastEvent ? await store.readLastEvent(stream) : lastOf(await store.readStream(stream, 1n)));
  const current = async (stream: string): Promise<CurrentLease | null> => {
    const last = await lastOfStream(stream);
    if (last === null) return null;
    const data = last.event.data as unknown as LeaseData;
    const byStore = last.committedAtMs !== null && typeof data.ttl_ms === 'number';
    return { data, event: last.event, expiresAtMs: byStore ? (last.committedAtMs as number) + (data.ttl_ms as number) : data.expires_at_ms, storeClock: byStore };
  };
  const isFree = async (lease: CurrentLease, owner: string, nowMs: number): Promise<boolean> => {
    if (lease.data.owner === null || lease.data.owner === owner) return true;
    const holder = lease.data.holder;
    if (heartbeat !== null && typeof holder === 'string') {
      if (holder === heartbeat.instanceId) return false;
      const beat = await lastOfStream(heartbeatStream(holder));
      return heartbeat.watch.isDead(holder, beat?.event.version ?? -1n, watchClockMs());
    }
    return nowMs >= lease.expiresAtMs + (lease.storeClock ? skewMs : 0);
  };

  /** Appends `data` if `may` allows it given the lease as it stands; false when it does not or a race is lost. */
  const write = async (name: string, data: LeaseData, may: (lease: CurrentLease | null) => boolean | Promise<boolean>): Promise<boolean> => {
    const stream = leaseStream(name);
    const lease = await current(stream);
    if (!(await may(lease))) return false;
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
      if (heartbeat !== null && !(await heartbeat.alive())) return false;
      const holder = heartbeat === null ? {} : { holder: heartbeat.instanceId };
      const taken = await write(name, { owner, expires_at_ms: nowMs + ttlMs, ttl_ms: ttlMs, ...holder }, (lease) => lease === null || isFree(lease, owner, nowMs));
      // Measured on one clock from before the read: a lease granted after its TTL is not held.
      return taken && clockMs() - startedMs < ttlMs;
    },
    async release(name, owner) {
      await write(name, { owner: null, expires_at_ms: 0 }, (lease) => lease?.data.owner === owner);
    },
    close() {
      heartbeat?.stop();
    },
  };
}

interface Heartbeat {
  readonly instanceId: string;
  readonly watch: HolderWatch;
  /** Starts the heartbeat on first use (its first beat stored before any lease); true while beats are being stored. */
  alive(): Promise<boolean>;
  stop(): void;
}

/** This instance's heartbeat: one event every timeout/3 to its own stream, kept short by `$maxCount`. */
function createHeartbeat(
  store: EventStore & Partial<LeaseStreamAccess>, instanceId: string, timeoutMs: number, clockMs: () => number,
): Heartbeat {
  const monotonicMs = (): number => performance.now();
  const stream = heartbeatStream(instanceId);
  let head = { version: 0n, hash: GENESIS_HASH };
  let lastStoredMs: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let beating: Promise<void> | null = null;
  let inSync = true;
  const beat = async (): Promise<void> => {
    const sentMs = monotonicMs();
    if (!inSync) {
      // A failed append may have been written (a lost answer): continue from what the store holds.
      const last = store.readLastEvent ? await store.readLastEvent(stream) : lastOf(await store.readStream(stream, 1n));
      head = last === null ? { version: 0n, hash: GENESIS_HASH } : { version: last.event.version, hash: last.event.metadata.hash };
      inSync = true;
    }
    const ctx = { correlationId: stream, causationId: null, actor: 'driver', recordedAt: new Date(clockMs()).toISOString() };
    const event = chainedEvents(stream, head, [{ type: 'LeaseHolderHeartbeat', data: { instance: instanceId } }], ctx)[0] as NewEvent;
    await store.append(stream, [event], head.version === 0n ? 'no_stream' : head.version);
    if (head.version === 0n && store.limitStreamLength) await store.limitStreamLength(stream, HEARTBEAT_STREAM_MAX_COUNT);
    head = { version: head.version + 1n, hash: event.metadata.hash };
    lastStoredMs = sentMs;
  };
  const tick = (): void => {
    // One beat at a time; a failed beat is retried by the next tick (two may fail within a timeout).
    beating ??= beat().catch(() => { inSync = false; }).finally(() => { beating = null; });
  };
  return {
    instanceId,
    watch: new HolderWatch(timeoutMs),
    async alive() {
      if (stopped) return false;
      if (timer === null) {
        timer = setInterval(tick, Math.max(1, Math.floor(timeoutMs / HEARTBEATS_PER_TIMEOUT)));
        timer.unref();
        tick();
      }
      // Measured from when the stored beat was sent: a reader may have watched it from then on.
      const fresh = (): boolean => lastStoredMs !== null && monotonicMs() - lastStoredMs < (timeoutMs * 2) / 3;
      // Stale (first use, or the store was unreachable): beat now rather than wait for the timer.
      // Twice at most: a beat in flight since an outage counts from when it was sent, long ago.
      for (let attempt = 0; attempt < 2 && !fresh(); attempt++) {
        tick();
        await beating;
      }
      return fresh();
    },
    stop() {
      stopped = true;
      if (timer !== null) clearInterval(timer);
    },
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
