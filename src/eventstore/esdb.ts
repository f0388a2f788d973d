/**
 * The EventStoreDB / KurrentDB adapter (`LEDGER_STORE=esdb`), on @eventstore/db-client 6.x.
 *
 * Numbering. ESDB stream revisions are 0-based; ours are 1-based. This adapter maps
 * version = revision + 1 everywhere: the first event of a stream is version 1 (revision 0), and
 * version 0n ("no stream") is the server's NO_STREAM. Expected versions map exactly:
 * no_stream → NO_STREAM, stream_exists → STREAM_EXISTS, any → ANY, exact v → revision v − 1
 * (exact 0n → NO_STREAM). A WrongExpectedVersionError becomes a VersionConflict whose `actual` is
 * the current revision + 1, or 0n when the stream does not exist.
 *
 * Positions. A RecordedEvent's position is the event's $all commit position: opaque, strictly
 * increasing, not contiguous. Events appended through gRPC are not explicit transactions, so each
 * has its own commit position equal to its prepare position; resuming uses {commit: p, prepare: p}.
 * readAll(p) and subscribeAll(p) deliver strictly after p (the server's $all read from a position
 * includes it; the adapter drops it); 0n means from the start.
 *
 * Scope. The ledger's streams are those under `streamPrefixes` (default `order-`, `sig-`):
 * readAll, headPosition and subscribeAll see only those, never the server's `$` system streams.
 *
 * Idempotency. Each ESDB event id is our eventId, so a retried append (same ids, same expected
 * version) is answered by the server with the original revisions and writes nothing. The server
 * may omit the position on such an answer; the adapter then reads the last event back, so the
 * caller gets the original { nextVersion, position } either way.
 *
 * Resilience. Transient failures (node restart, UNAVAILABLE, NotLeader after a leader change,
 * BatchAppend refused as NotReady / Busy / Timeout) are retried with bounded backoff; the client
 * itself reconnects, to the new leader when told of one. Appends and stream reads require the
 * leader, so no decision rests on a lagging follower. Subscriptions resubscribe for ever from
 * their resume point (see esdbSubscription.ts).
 *
 * Integrity. A stream that no longer starts where it is read from ($maxCount, $tb, soft delete) or
 * was tombstoned raises StreamUnreadable instead of being handed out in part.
 *
 * Supports KurrentDB 25.0.1+ / EventStoreDB 24.10.5+ (docker-compose.yml pins 25.0.1); needs 22.6+
 * for positions on stream reads. Verified only against the test stand-in in
 * tests/support/esdbStandIn, see docs/SCALING.md.
 */
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  type AllStreamResolvedEvent,
  type ReadPosition,
} from '@eventstore/db-client';
import { commitPositionOf, isSystemStream, toEventData, toExpectedRevision, toRecordedEvent, toVersion, toVersionConflict } from './esdbMapping.js';
import { DEFAULT_RETRY_POLICY, isTransient, withRetry, type RetryPolicy } from './esdbRetry.js';
import { catchUpSubscription, type CatchUpRun, type ResubscribePolicy } from './esdbSubscription.js';
import { StreamUnreadable } from './streamErrors.js';
import { VersionConflict, type AppendResult, type EventStore, type ExpectedVersion, type NewEvent, type RecordedEvent, type StoreHealth, type Subscription, type SubscriptionHandler } from './types.js';

import { LEDGER_STREAM_PREFIXES } from '../streamNames.js';

export { LEDGER_STREAM_PREFIXES };

export interface EsdbEventStoreOptions {
  /** e.g. esdb://127.0.0.1:2113?tls=false, or esdb://node1:2113,node2:2113,node3:2113 for a cluster. */
  readonly connectionString: string;
  readonly streamPrefixes?: readonly string[];
  readonly retry?: Partial<RetryPolicy>;
  /** Events per $all read page when scanning (readAll, listStreams, headPosition). */
  readonly readPageSize?: number;
  /** Most events handed to a subscription handler at once. */
  readonly subscriptionBatchSize?: number;
  /** The filter's checkpoint interval multiplier (the server's unit is its search window). */
  readonly checkpointInterval?: number;
  /** How subscriptions resubscribe after losing the server: forever, with this capped back-off. */
  readonly resubscribe?: Partial<ResubscribePolicy>;
}

/** Every call that leads to a decision must see the leader's log, never a follower's lagging copy. */
const LEADER = { requiresLeader: true } as const;

/** A subscription's back-off between resubscribes: starts small, never exceeds the cap, never stops. */
export const DEFAULT_RESUBSCRIBE_POLICY: ResubscribePolicy = { initialDelayMs: 100, maxDelayMs: 5_000 };

/** A bound on every scan loop: far beyond any real log, it only stops a broken server spinning us. */
const MAX_SCAN_PAGES = 10_000_000;

export async function createEsdbEventStore(options: EsdbEventStoreOptions): Promise<EsdbEventStore> {
  return new EsdbEventStore(options);
}

export class EsdbEventStore implements EventStore {
  readonly name = 'esdb';
  private readonly client: EventStoreDBClient;
  private readonly prefixes: readonly string[];
  private readonly retry: RetryPolicy;
  private readonly pageSize: number;
  private readonly subscriptions = new Map<Subscription, CatchUpRun>();
  private closed = false;
  /**
   * What headPosition learnt last time: the newest ledger event then, and the raw head it scanned
   * down from. Nothing between them was ours, so the next scan stops there instead of walking
   * back through every lease or foreign event again.
   */
  private headMemory: { readonly ledgerHead: bigint; readonly scannedFrom: bigint } | null = null;

  constructor(private readonly options: EsdbEventStoreOptions) {
    this.client = EventStoreDBClient.connectionString(options.connectionString);
    this.prefixes = options.streamPrefixes ?? LEDGER_STREAM_PREFIXES;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.pageSize = options.readPageSize ?? 500;
  }

  async append(stream: string, events: readonly NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const expectedRevision = toExpectedRevision(expected);
    const payload = events.map(toEventData);
    try {
      const result = await this.withRetry(() => this.client.appendToStream(stream, payload, { expectedRevision, ...LEADER }));
      const revision = result.nextExpectedRevision;
      const position = result.position?.commit ?? (await this.positionOfRevision(stream, revision));
      const nextVersion = toVersion(revision);
      // A soft-deleted stream takes no_stream again and continues its old revisions: the stream
      // did exist (a signature already used, an order already placed), so this is a conflict.
      if (expected === 'no_stream' && nextVersion !== BigInt(events.length)) throw new VersionConflict(stream, expected, nextVersion);
      return { nextVersion, position };
    } catch (error) {
      if (error instanceof StreamDeletedError) throw new StreamUnreadable('stream_deleted', stream, 'the stream was deleted (tombstoned); ledger streams must never be deleted');
      throw toVersionConflict(stream, expected, error) ?? error;
    }
  }

  /**
   * Refuses a stream that does not start where asked ($maxCount / $tb / a soft delete hid its
   * beginning) or was tombstoned: folding what is left would be a different, wrong order.
   */
  async readStream(stream: string, fromVersion = 1n): Promise<RecordedEvent[]> {
    const start = fromVersion > 1n ? fromVersion : 1n;
    const events = await this.withRetry(async () => {
      const found: RecordedEvent[] = [];
      try {
        for await (const resolved of this.client.readStream(stream, { fromRevision: start - 1n, direction: FORWARDS, ...LEADER })) {
          found.push(toRecordedEvent(resolved));
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return [];
        if (error instanceof StreamDeletedError) throw new StreamUnreadable('stream_deleted', stream, 'the stream was deleted (tombstoned); ledger streams must never be deleted');
        throw error;
      }
      return found;
    });
    const first = events[0];
    if (first !== undefined && first.version !== start) {
      throw new StreamUnreadable('stream_truncated', stream, `reading from version ${start} returned version ${first.version} first; ledger streams must never be truncated ($maxCount, $tb) or soft-deleted`);
    }
    return events;
  }

  /**
   * The newest event of a stream, read backwards one event from the leader, with the server's
   * commit time: what a lease needs, however long its stream has grown. Null for no stream.
   */
  async readLastEvent(stream: string): Promise<{ readonly event: RecordedEvent; readonly committedAtMs: number } | null> {
    return this.withRetry(async () => {
      let last: { event: RecordedEvent; committedAtMs: number } | null = null;
      try {
        // Read to the end of the (one-event) answer: leaving a for-await early leaves the call open.
        for await (const resolved of this.client.readStream(stream, { fromRevision: END, direction: BACKWARDS, maxCount: 1, ...LEADER })) {
          last ??= { event: toRecordedEvent(resolved), committedAtMs: resolved.event?.created.getTime() ?? 0 };
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return null;
        throw error;
      }
      return last;
    });
  }

  /** Sets `$maxCount` on a stream that only its newest events matter for (lease streams, never ledger streams). */
  async limitStreamLength(stream: string, maxCount: number): Promise<void> {
    if (this.isLedgerStream(stream)) throw new Error(`${stream} is a ledger stream: ledger streams must never be truncated`);
    await this.withRetry(() => this.client.setStreamMetadata(stream, { maxCount }, LEADER));
  }

  /** Subscriptions that lost the server and are resubscribing, and how often that happened. */
  health(): StoreHealth {
    let reconnecting = 0;
    let resubscribes = 0;
    for (const run of this.subscriptions.values()) {
      if (run.reconnecting) reconnecting += 1;
      resubscribes += run.resubscribes;
    }
    return { subscriptionsReconnecting: reconnecting, resubscribes: resubscribes + this.endedResubscribes };
  }

  async readAll(afterPosition: bigint, maxCount: number): Promise<RecordedEvent[]> {
    const found: RecordedEvent[] = [];
    if (maxCount <= 0) return found;
    await this.scanForwards(afterPosition, Math.min(this.pageSize, maxCount + 1), (resolved) => {
      const stream = resolved.event?.streamId;
      if (stream !== undefined && this.isLedgerStream(stream)) found.push(toRecordedEvent(resolved));
      return found.length < maxCount;
    });
    return found;
  }

  /**
   * The position of the newest ledger event (0n for none), scanning $all back past lease, system
   * and other applications' events. Never the raw head: no projection checkpoint could reach that
   * (it is not a ledger event), so readiness and start-up would wait for ever. The walk stops
   * where the previous one started, so only what was written since is scanned again.
   */
  async headPosition(): Promise<bigint> {
    const memory = this.headMemory;
    // While a subscription already knows the server is gone, one try is enough: waiting out the
    // retries would stall /ready and /metrics for as long. The last head found is still a true
    // lower bound of the ledger's head.
    if (memory !== null && this.health().subscriptionsReconnecting > 0) {
      return this.scanHead(memory, { ...this.retry, maxAttempts: 1 }).catch((error: unknown) => {
        if (isTransient(error)) return memory.ledgerHead;
        throw error;
      });
    }
    return this.scanHead(memory, this.retry);
  }

  private async scanHead(memory: { readonly ledgerHead: bigint; readonly scannedFrom: bigint } | null, retry: RetryPolicy): Promise<bigint> {
    let from: ReadPosition = END;
    let rawHead: bigint | null = null;
    let previous: bigint | null = null;
    for (let page = 0; page < MAX_SCAN_PAGES; page++) {
      const events = await this.readAllPage(from, BACKWARDS, this.pageSize, retry);
      for (const resolved of events) {
        const position = commitPositionOf(resolved);
        if (previous !== null && position >= previous) continue;
        previous = position;
        rawHead ??= position;
        if (memory !== null && position <= memory.scannedFrom) return this.rememberHead(memory.ledgerHead, rawHead);
        const stream = resolved.event?.streamId;
        if (stream !== undefined && this.isLedgerStream(stream)) return this.rememberHead(position, rawHead);
      }
      if (events.length < this.pageSize || previous === null) return this.rememberHead(0n, rawHead ?? 0n);
      from = { commit: previous, prepare: previous };
    }
    throw new Error('$all scan exceeded its page bound without reaching the start of the log');
  }

  private rememberHead(ledgerHead: bigint, scannedFrom: bigint): bigint {
    this.headMemory = { ledgerHead, scannedFrom };
    return ledgerHead;
  }

  /** Streams whose first event (revision 0) lies after `afterPosition`, found by scanning $all. */
  async listStreams(prefix: string, afterPosition = 0n, maxCount = 1000): Promise<{ stream: string; position: bigint }[]> {
    const found: { stream: string; position: bigint }[] = [];
    if (maxCount <= 0) return found;
    await this.scanForwards(afterPosition, this.pageSize, (resolved) => {
      const event = resolved.event;
      if (event === undefined || event.revision !== 0n || isSystemStream(event.streamId) || !event.streamId.startsWith(prefix)) return true;
      found.push({ stream: event.streamId, position: commitPositionOf(resolved) });
      return found.length < maxCount;
    });
    return found;
  }

  subscribeAll(afterPosition: bigint, handler: SubscriptionHandler): Subscription {
    if (this.closed) throw new Error('the esdb event store is closed');
    const inner = catchUpSubscription(
      {
        client: this.client,
        prefixes: this.prefixes,
        isLedgerStream: (stream) => this.isLedgerStream(stream),
        headPosition: () => this.headPosition(),
        resubscribe: { ...DEFAULT_RESUBSCRIBE_POLICY, ...this.options.resubscribe },
        batchSize: this.options.subscriptionBatchSize ?? 500,
        checkpointInterval: this.options.checkpointInterval ?? 1,
      },
      afterPosition,
      handler,
    );
    const subscription: Subscription = {
      stop: async () => {
        if (this.subscriptions.delete(subscription)) this.endedResubscribes += inner.resubscribes;
        await inner.stop();
      },
    };
    this.subscriptions.set(subscription, inner);
    return subscription;
  }

  /** Resubscribes of subscriptions since stopped, so the metric only ever grows. */
  private endedResubscribes = 0;

  /** Stops every subscription, then cancels whatever the client still has open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions.keys()].map((s) => s.stop()));
    await this.client.dispose();
  }

  private isLedgerStream(stream: string): boolean {
    return !isSystemStream(stream) && this.prefixes.some((prefix) => stream.startsWith(prefix));
  }

  private withRetry<T>(action: () => Promise<T>): Promise<T> {
    return withRetry(this.retry, action);
  }

  /** An idempotent append may come back without a position: read that event's own. */
  private async positionOfRevision(stream: string, revision: bigint): Promise<bigint> {
    const [event] = await this.withRetry(async () => {
      const found: RecordedEvent[] = [];
      for await (const resolved of this.client.readStream(stream, { fromRevision: revision, maxCount: 1, ...LEADER })) found.push(toRecordedEvent(resolved));
      return found;
    });
    if (event === undefined) throw new Error(`${stream} has no revision ${revision} right after appending it`);
    return event.position;
  }

  /**
   * Walks $all forwards from `afterPosition` (exclusive) in pages, handing each event to `visit`
   * until it returns false or the log ends.
   */
  private async scanForwards(afterPosition: bigint, pageSize: number, visit: (resolved: AllStreamResolvedEvent) => boolean): Promise<void> {
    let cursor = afterPosition;
    for (let page = 0; page < MAX_SCAN_PAGES; page++) {
      const from: ReadPosition = cursor === 0n ? START : { commit: cursor, prepare: cursor };
      const events = await this.readAllPage(from, FORWARDS, pageSize);
      for (const resolved of events) {
        const position = commitPositionOf(resolved);
        // The server's read includes the event at `from`; the port's contract is strictly after.
        if (position <= cursor) continue;
        cursor = position;
        if (!visit(resolved)) return;
      }
      if (events.length < pageSize) return;
    }
    throw new Error('$all scan exceeded its page bound without reaching the end of the log');
  }

  private readAllPage(fromPosition: ReadPosition, direction: typeof FORWARDS | typeof BACKWARDS, maxCount: number, retry = this.retry): Promise<AllStreamResolvedEvent[]> {
    return withRetry(retry, async () => {
      const events: AllStreamResolvedEvent[] = [];
      for await (const resolved of this.client.readAll({ fromPosition, direction, maxCount })) events.push(resolved);
      return events;
    });
  }
}
