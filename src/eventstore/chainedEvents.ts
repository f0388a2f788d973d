import { v7 as uuidv7 } from 'uuid';
import { chainHashV3, CURRENT_CHAIN_VERSION, GENESIS_HASH } from './hashChain.js';
import type { JsonObject, NewEvent } from './types.js';

export const SCHEMA_VERSION = 1;

/** Where a stream's chain stands before the append: its version and its last event's hash. */
export interface ChainStart {
  readonly version: bigint;
  readonly hash: string;
}

export const NEW_STREAM: ChainStart = { version: 0n, hash: GENESIS_HASH };

export interface EventContext {
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly actor: string;
  readonly recordedAt: string;
  /** Event ids; a uuid v4 each unless given (the simulator passes a seeded source). */
  readonly newEventId?: () => string;
  /** The wallet signature the append spends: recorded in the metadata of its first event. */
  readonly signature?: SignatureSpent;
}

export interface SignatureSpent {
  /** sha256 of the signature's lowercase hex, never the signature. */
  readonly sha256: string;
  /** The wallet action it was signed for (create_order, match_order, …). */
  readonly action: string;
}

/**
 * Events ready to append: each gets a fresh id and the metadata of domain.md §5, and is linked
 * into the stream's hash chain after `start`, under the current chain version (which covers the
 * actor, correlation and causation ids, recorded_at and the signature spent as well as the content).
 * A signature in `ctx` is spent by the first event only: one use, one record. Every writer of
 * every stream (orders, signature uses, leases) goes through here, so every stream verifies the
 * same way.
 */
/**
 * A new event's id: a UUID version 7 (RFC 9562: the creation time in milliseconds first, then a
 * counter and random bits), not a version 4. The store keeps `UNIQUE (event_id)`, and a random key
 * lands every event in a random leaf of that index, so each commit rewrote one 4 KiB page per event
 * (and the checkpoint wrote it again), a cost that grows with the store. Time-ordered ids append at
 * the index's right edge, where the commit writes its rows anyway (issue 14, bytes written per
 * trade; docs/PERFORMANCE.md, "Session 8, lead"). Any UUID is a valid event id for EventStoreDB,
 * and the id reveals no more than the event's `recorded_at` already says.
 */
export const newEventId = (): string => uuidv7();

export function chainedEvents(
  stream: string,
  start: ChainStart,
  events: readonly { readonly type: string; readonly data: JsonObject }[],
  ctx: EventContext,
): NewEvent[] {
  let prevHash = start.hash;
  let version = start.version;
  return events.map(({ type, data }, i) => {
    version += 1n;
    const signed = i === 0 && ctx.signature !== undefined ? { signature_sha256: ctx.signature.sha256, signature_action: ctx.signature.action } : {};
    const covered = { actor: ctx.actor, correlation_id: ctx.correlationId, causation_id: ctx.causationId, recorded_at: ctx.recordedAt, ...signed };
    const hash = chainHashV3(prevHash, { stream, version, type, data }, covered);
    const eventId = ctx.newEventId?.() ?? newEventId();
    const metadata = {
      event_id: eventId,
      ...covered,
      schema_version: SCHEMA_VERSION,
      chain_version: CURRENT_CHAIN_VERSION,
      prev_hash: prevHash,
      hash,
    };
    prevHash = hash;
    return { eventId, type, data, metadata };
  });
}
