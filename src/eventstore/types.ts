/**
 * The EventStore port. Every adapter (SQLite, EventStoreDB) honours the same contract, proven by
 * the shared contract suite in tests/eventstore/.
 *
 * Numbering, identical on every adapter: a stream's first event has version 1, so a stream's
 * version is its event count and `0n` means "no stream". Global positions are strictly increasing
 * bigints; `0n` is "before the first event". (EventStoreDB revisions are 0-based: the esdb adapter
 * maps version = revision + 1.)
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** `no_stream`: the stream must not exist; `stream_exists`: it must; `any`: no check; bigint: exact version. */
export type ExpectedVersion = 'no_stream' | 'stream_exists' | 'any' | bigint;

export interface EventMetadata {
  readonly event_id: string;
  readonly correlation_id: string;
  readonly causation_id: string | null;
  readonly actor: string;
  readonly recorded_at: string;
  readonly schema_version: number;
  /** The hash chain's version (hashChain.ts); absent on events written before version 2. */
  readonly chain_version?: number;
  readonly prev_hash: string;
  readonly hash: string;
  /**
   * The wallet signature this event spends (sha256 of the signature, never the signature itself),
   * on the first event a signed request appends, and what it was signed for. A store that offers
   * `signatureUsed` keeps at most one event per value (SignatureAlreadyUsed).
   */
  readonly signature_sha256?: string;
  readonly signature_action?: string;
}

export interface NewEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
}

export interface RecordedEvent {
  readonly eventId: string;
  readonly stream: string;
  readonly type: string;
  readonly version: bigint;
  readonly position: bigint;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
}

export interface AppendResult {
  /** The stream's version after the append (the version of its last event). */
  readonly nextVersion: bigint;
  /** The global position of the last event written. */
  readonly position: bigint;
}

export interface Subscription {
  /** Resolves once the subscription has stopped and will deliver nothing more. */
  stop(): Promise<void>;
}

export interface SubscriptionHandler {
  /** Called with batches in global order; the next batch waits for the returned promise. */
  onEvents(events: readonly RecordedEvent[]): Promise<void> | void;
  /** Called once the subscription has delivered everything that existed when it caught up. */
  onCaughtUp?(position: bigint): void;
  onError?(error: unknown): void;
}

export interface EventStore {
  readonly name: string;
  append(stream: string, events: readonly NewEvent[], expected: ExpectedVersion): Promise<AppendResult>;
  /** Events of one stream with version >= fromVersion (default 1), oldest first; [] for no stream. */
  readStream(stream: string, fromVersion?: bigint): Promise<RecordedEvent[]>;
  /** Up to maxCount events of the global log with position > afterPosition, in order. */
  readAll(afterPosition: bigint, maxCount: number): Promise<RecordedEvent[]>;
  /** Position of the last event in the global log, 0n when empty. */
  headPosition(): Promise<bigint>;
  /** Names of every stream with the given prefix, in order of creation. */
  listStreams(prefix: string, afterPosition?: bigint, maxCount?: number): Promise<{ stream: string; position: bigint }[]>;
  /** Catch-up subscription: delivers everything after `afterPosition`, then follows new appends. */
  subscribeAll(afterPosition: bigint, handler: SubscriptionHandler): Subscription;
  /**
   * Present when the store records wallet-signature uses in the metadata of the events that spend
   * them (SQLite: a unique index over metadata.signature_sha256): true when an event with this
   * signature_sha256 is stored. Such a store refuses an append carrying a signature_sha256 that is
   * already stored with SignatureAlreadyUsed, writing none of that append's events. Without it
   * (esdb: no secondary unique index, no atomic append across streams) the caller records each
   * use in a stream of its own before acting on it.
   */
  signatureUsed?(signatureSha256: string): Promise<boolean>;
  /** A networked store's subscriptions (esdb): for /ready and /metrics. A local store has none. */
  health?(): StoreHealth;
  close(): Promise<void>;
}

export interface StoreHealth {
  /** Subscriptions that lost the server and are resubscribing (with capped back-off, for ever). */
  readonly subscriptionsReconnecting: number;
  /** Resubscribes since start: grows with every outage. */
  readonly resubscribes: number;
}

/** The one typed optimistic-concurrency failure; `actual` is the stream's version (0n = no stream). */
export class VersionConflict extends Error {
  readonly code = 'version_conflict';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedVersion,
    readonly actual: bigint,
  ) {
    super(`version conflict on ${stream}: expected ${String(expected)}, actual ${actual}`);
    this.name = 'VersionConflict';
  }
}

export function isVersionConflict(error: unknown): error is VersionConflict {
  return error instanceof VersionConflict;
}

/** An append carried a signature_sha256 that an event already stored carries: nothing was written. */
export class SignatureAlreadyUsed extends Error {
  readonly code = 'signature_already_used';
  constructor(readonly stream: string) {
    super(`a signature spent by this append on ${stream} was already used`);
    this.name = 'SignatureAlreadyUsed';
  }
}
