import { randomUUID } from 'node:crypto';

/**
 * The stand-in's in-memory transaction log: streams, the $all order, and EventStoreDB's append
 * decision (its "commit check") for expected revisions and idempotent retries. A test double, not
 * a database: nothing is persisted, there is no index, no scavenging, no ACLs.
 *
 * Semantics copied from the server (0-based revisions, -1 = no stream):
 * - exact revision equal to the current one, or no_stream on a missing stream: write;
 * - exact revision (or no_stream) behind the current one: if the proposed event ids are exactly the
 *   events stored right after that revision, the append is idempotent and answers with the original
 *   revisions (and no position); if only the first matches it is "corrupted idempotency", reported
 *   as wrong expected version; otherwise wrong expected version;
 * - exact revision ahead of the current one: wrong expected version;
 * - stream_exists on a missing stream: wrong expected version, else like any;
 * - any: idempotent when the first id is already stored in this stream and the rest follow it in
 *   order (the real server checks this against a bounded cache of recent ids; here it never forgets).
 */

export interface StoredEvent {
  readonly stream: string;
  /** 0-based, as on the wire. */
  readonly revision: bigint;
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  /** .NET ticks (100 ns) since the Unix epoch, as the server sends `created`. */
  readonly createdTicks: bigint;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
  /** Commit position; the prepare position is the same for events outside explicit transactions. */
  readonly position: bigint;
}

export interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

export type ExpectedRevision =
  | { readonly kind: 'any' }
  | { readonly kind: 'no_stream' }
  | { readonly kind: 'stream_exists' }
  | { readonly kind: 'revision'; readonly revision: bigint };

export type AppendOutcome =
  | { readonly kind: 'written'; readonly currentRevision: bigint; readonly position: bigint }
  | { readonly kind: 'idempotent'; readonly currentRevision: bigint }
  | { readonly kind: 'wrong_expected_version'; readonly currentRevision: bigint | null }
  | { readonly kind: 'stream_deleted' };

/**
 * What the server keeps in a stream's metadata stream (`$$<stream>`, event type `$metadata`) that
 * changes reads: `$maxCount` keeps the newest n events readable, `$tb` (truncate before) hides
 * revisions below it. A soft delete is `$tb` = last revision + 1; the events stay in $all until a
 * scavenge, and the stream can be written again, continuing its revisions.
 */
interface StreamState {
  maxCount: number | null;
  truncateBefore: bigint;
  softDeleted: boolean;
  tombstoned: boolean;
}

export interface StandInLogOptions {
  readonly seedSystemEvents?: boolean;
  /** The server's clock for `created` (commit time), in Unix ms; default Date.now. */
  readonly clockMs?: () => number;
}

/** Log positions are byte offsets on a real server: strictly increasing, never contiguous. */
const FIRST_POSITION = 1_024n;
const RECORD_OVERHEAD = 96n;

export class StandInLog {
  private readonly all: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly listeners = new Set<(events: readonly StoredEvent[]) => void>();
  private readonly states = new Map<string, StreamState>();
  private nextPosition = FIRST_POSITION;
  /** The server's clock; a test may move it to play skew between the server and an instance. */
  clockMs: () => number;

  /** A real node's $all starts with its own system events; seeding a few keeps adapters honest. */
  constructor(options: StandInLogOptions = {}) {
    this.clockMs = options.clockMs ?? Date.now;
    if (options.seedSystemEvents ?? true) this.seedSystemEvents();
  }

  /** The commit position the next record will get: where v25.0.0 puts its end-of-log checkpoint. */
  get endOfLogPosition(): bigint {
    return this.nextPosition;
  }

  get size(): number {
    return this.all.length;
  }

  append(stream: string, expected: ExpectedRevision, proposed: readonly ProposedEvent[]): AppendOutcome {
    const state = this.stateOf(stream);
    if (state.tombstoned) return { kind: 'stream_deleted' };
    const existing = this.streams.get(stream) ?? [];
    const current = BigInt(existing.length) - 1n;
    // A soft-deleted stream takes no_stream (or any) again and continues its revisions: the
    // server's reading of "recreate", and how a deleted `sig-` stream would let a signature be used twice.
    const recreating = state.softDeleted && (expected.kind === 'no_stream' || expected.kind === 'any');
    const decision = recreating ? ({ kind: 'write' } as const) : decide(existing, current, expected, proposed.map((p) => p.id));
    if (decision.kind !== 'write') return decision;
    if (proposed.length === 0) return { kind: 'idempotent', currentRevision: current };
    state.softDeleted = false;
    const written = proposed.map((p, i) => this.store(stream, current + 1n + BigInt(i), p));
    existing.push(...written);
    this.streams.set(stream, existing);
    if (stream.startsWith('$$')) for (const event of written) this.applyMetadata(stream.slice(2), event);
    for (const listener of [...this.listeners]) listener(written);
    const last = written[written.length - 1] as StoredEvent;
    return { kind: 'written', currentRevision: last.revision, position: last.position };
  }

  /** Every event ever written to the stream, truncated or not (what the log holds). */
  streamEvents(stream: string): readonly StoredEvent[] | null {
    return this.streams.get(stream) ?? null;
  }

  /**
   * What a stream read returns: 'deleted' for a tombstone, null for no stream (or a soft-deleted
   * one with nothing written since), else the events $maxCount and $tb leave readable.
   */
  readableEvents(stream: string): readonly StoredEvent[] | null | 'deleted' {
    const state = this.stateOf(stream);
    if (state.tombstoned) return 'deleted';
    const events = this.streams.get(stream);
    if (events === undefined) return null;
    const byCount = state.maxCount === null ? 0n : BigInt(events.length - state.maxCount);
    const from = byCount > state.truncateBefore ? byCount : state.truncateBefore;
    const visible = events.filter((e) => e.revision >= from);
    return visible.length === 0 && state.softDeleted ? null : visible;
  }

  /** The stream's current metadata as the server would answer it (tests). */
  metadataOf(stream: string): { readonly maxCount: number | null; readonly truncateBefore: bigint } {
    const state = this.stateOf(stream);
    return { maxCount: state.maxCount, truncateBefore: state.truncateBefore };
  }

  /** Streams.Delete: `$tb` past the last event; the stream may be written again. */
  softDelete(stream: string): void {
    const events = this.streams.get(stream) ?? [];
    this.writeMetadata(stream, { $tb: events.length });
    this.stateOf(stream).softDeleted = true;
  }

  /** Streams.Tombstone: reads and writes answer "stream deleted" for ever. */
  tombstone(stream: string): void {
    this.stateOf(stream).tombstoned = true;
  }

  /** Sets `$maxCount` or `$tb` as an operator (or a retention policy) would. */
  writeMetadata(stream: string, metadata: { readonly $maxCount?: number; readonly $tb?: number }): void {
    const data = new TextEncoder().encode(JSON.stringify(metadata));
    this.append(`$$${stream}`, { kind: 'any' }, [{ id: randomUUID(), type: '$metadata', contentType: 'application/json', data, customMetadata: new Uint8Array() }]);
  }

  private stateOf(stream: string): StreamState {
    let state = this.states.get(stream);
    if (state === undefined) {
      state = { maxCount: null, truncateBefore: 0n, softDeleted: false, tombstoned: false };
      this.states.set(stream, state);
    }
    return state;
  }

  /** The newest `$metadata` event replaces the stream's settings, as on the server. */
  private applyMetadata(stream: string, event: StoredEvent): void {
    if (event.type !== '$metadata') return;
    const parsed = JSON.parse(new TextDecoder().decode(event.data)) as { $maxCount?: number; $tb?: number };
    const state = this.stateOf(stream);
    state.maxCount = typeof parsed.$maxCount === 'number' ? parsed.$maxCount : null;
    state.truncateBefore = typeof parsed.$tb === 'number' ? BigInt(parsed.$tb) : 0n;
  }

  allEvents(): readonly StoredEvent[] {
    return this.all;
  }

  /** Index of the first event at or after `position` in $all (all.length when none). */
  indexAtOrAfter(position: bigint): number {
    let low = 0;
    let high = this.all.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.all[mid] as StoredEvent).position < position) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  onAppend(listener: (events: readonly StoredEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private store(stream: string, revision: bigint, proposed: ProposedEvent): StoredEvent {
    const event: StoredEvent = {
      stream,
      revision,
      id: proposed.id,
      type: proposed.type,
      contentType: proposed.contentType,
      createdTicks: BigInt(Math.round(this.clockMs())) * 10_000n,
      data: proposed.data,
      customMetadata: proposed.customMetadata,
      position: this.nextPosition,
    };
    this.nextPosition += RECORD_OVERHEAD + BigInt(proposed.data.length + proposed.customMetadata.length + stream.length);
    this.all.push(event);
    return event;
  }

  private seedSystemEvents(): void {
    const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    const seed = (stream: string, type: string, data: Uint8Array, contentType = 'application/json') =>
      this.append(stream, { kind: 'any' }, [{ id: randomUUID(), type, contentType, data, customMetadata: new Uint8Array() }]);
    seed('$settings', 'update-default-acl', json({ $userStreamAcl: { $r: '$all' } }));
    seed('$users', '$User', json({ loginName: 'admin' }));
    seed('$scavenges', '$scavengeIndexInitialized', new Uint8Array([1, 2, 3]), 'application/octet-stream');
  }
}

type Decision = { readonly kind: 'write' } | Exclude<AppendOutcome, { kind: 'written' } | { kind: 'stream_deleted' }>;

function decide(existing: readonly StoredEvent[], current: bigint, expected: ExpectedRevision, ids: readonly string[]): Decision {
  const wrong: Decision = { kind: 'wrong_expected_version', currentRevision: current < 0n ? null : current };
  switch (expected.kind) {
    case 'any':
      return decideAny(existing, ids);
    case 'stream_exists':
      return current < 0n ? wrong : decideAny(existing, ids);
    case 'no_stream':
      return decideExact(existing, current, -1n, ids, wrong);
    case 'revision':
      return decideExact(existing, current, expected.revision, ids, wrong);
  }
}

function decideExact(existing: readonly StoredEvent[], current: bigint, expected: bigint, ids: readonly string[], wrong: Decision): Decision {
  if (expected === current) return { kind: 'write' };
  if (expected > current) return wrong;
  for (const [i, id] of ids.entries()) {
    const stored = existing[Number(expected) + 1 + i];
    if (stored?.id === id) continue;
    // The server calls a partial match "corrupted idempotency" and answers wrong expected version.
    return wrong;
  }
  return { kind: 'idempotent', currentRevision: expected + BigInt(ids.length) };
}

function decideAny(existing: readonly StoredEvent[], ids: readonly string[]): Decision {
  const first = ids[0];
  const start = first === undefined ? -1 : existing.findIndex((e) => e.id === first);
  if (start < 0) return { kind: 'write' };
  const matches = ids.every((id, i) => existing[start + i]?.id === id);
  if (!matches) return { kind: 'wrong_expected_version', currentRevision: BigInt(existing.length) - 1n };
  return { kind: 'idempotent', currentRevision: BigInt(start + ids.length - 1) };
}
