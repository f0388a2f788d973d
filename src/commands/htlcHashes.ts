import { chainedEvents, NEW_STREAM } from '../eventstore/chainedEvents.js';
import { isVersionConflict, type EventStore, type JsonObject } from '../eventstore/types.js';
import { refuse } from '../aggregates/order/errors.js';
import { htlcHashStream } from '../streamNames.js';

export { HTLC_HASH_STREAM_PREFIX } from '../streamNames.js';

export interface HtlcHashUse {
  readonly htlcHash: string;
  readonly orderId: string;
  /** place, match or rearm: which command took the hash. */
  readonly action: 'place' | 'match' | 'rearm';
  readonly wallet: string;
  readonly correlationId: string;
  readonly now: Date;
  readonly newEventId?: () => string;
}

/**
 * A hashlock is used by one order only, ever (quote-chain.md, "Hashlocks are used once"): a claim
 * on chain with its preimage is a reveal for whichever order carries the hash, so two orders under
 * one hash would let one preimage settle both. The first use is an event in a stream named after
 * the hash, appended with `no_stream`: of two places (or a place and a match) racing with one hash,
 * exactly one wins that append, on SQLite and EventStoreDB alike. The loser is refused
 * `400 htlc_hash_reused`. The same order taking its own hash again (a retried command) is allowed.
 *
 * Called before the order's own event is appended, so a command refused afterwards (a lost match
 * race, a full disk) leaves its hash reserved: that hash is spent, and its owner picks another.
 * Exported for the re-arm of a lapsed order, which takes a fresh hash the same way.
 */
export async function reserveHtlcHash(store: EventStore, use: HtlcHashUse): Promise<void> {
  const htlcHash = use.htlcHash.toLowerCase();
  const stream = htlcHashStream(htlcHash);
  const data: JsonObject = { htlc_hash: htlcHash, order_id: use.orderId, action: use.action, wallet: use.wallet, reserved_at: use.now.toISOString() };
  const ctx = { correlationId: use.correlationId, causationId: null, actor: use.wallet, recordedAt: use.now.toISOString(), newEventId: use.newEventId };
  try {
    await store.append(stream, chainedEvents(stream, NEW_STREAM, [{ type: 'HtlcHashReserved', data }], ctx), 'no_stream');
  } catch (error) {
    if (!isVersionConflict(error)) throw error;
    if ((await reservedBy(store, htlcHash)) === use.orderId) return;
    refuse('htlc_hash_reused', 'this htlc_hash was already used by an order; every order needs a fresh preimage');
  }
}

/** The order that reserved the hash, or null when none did. */
export async function reservedBy(store: EventStore, htlcHash: string): Promise<string | null> {
  const [first] = await store.readStream(htlcHashStream(htlcHash), 1n);
  const orderId = first?.data['order_id'];
  return typeof orderId === 'string' ? orderId : null;
}
