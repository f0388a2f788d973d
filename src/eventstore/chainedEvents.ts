import { v4 as uuidv4 } from 'uuid';
import { chainHashV2, CURRENT_CHAIN_VERSION, GENESIS_HASH } from './hashChain.js';
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
}

/**
 * Events ready to append: each gets a fresh id and the metadata of domain.md §5, and is linked
 * into the stream's hash chain after `start`, under the current chain version (which covers the
 * actor, correlation and causation ids and recorded_at as well as the content). Every writer of every stream (orders, signature
 * uses, leases) goes through here, so every stream verifies the same way.
 */
export function chainedEvents(
  stream: string,
  start: ChainStart,
  events: readonly { readonly type: string; readonly data: JsonObject }[],
  ctx: EventContext,
): NewEvent[] {
  let prevHash = start.hash;
  let version = start.version;
  return events.map(({ type, data }) => {
    version += 1n;
    const covered = { actor: ctx.actor, correlation_id: ctx.correlationId, causation_id: ctx.causationId, recorded_at: ctx.recordedAt };
    const hash = chainHashV2(prevHash, { stream, version, type, data }, covered);
    const eventId = ctx.newEventId?.() ?? uuidv4();
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
