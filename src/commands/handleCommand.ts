import { chainedEvents, type SignatureSpent } from '../eventstore/chainedEvents.js';
import { decide, evolve, orderStream, type OrderCommand, type OrderEvent, type OrderState } from '../aggregates/order/index.js';
import { isVersionConflict, type EventStore, type JsonObject, type NewEvent } from '../eventstore/types.js';
import { loadOrder, type LoadedOrder, type OrderCache } from './loadOrder.js';
import { readable } from '../orderStream/fold.js';

export { SCHEMA_VERSION } from '../eventstore/chainedEvents.js';

/** Who and what caused a command: carried into every event's metadata. */
export interface CommandContext {
  /** Set by handleOrderCommand from its options, for the command's own append only. */
  readonly signature?: SignatureSpent;
  /** The request id (or the reconciler pass id); every event of one request shares it. */
  readonly correlationId: string;
  readonly causationId: string | null;
  /** A wallet, `reconciler`, or `operator:<name>`. */
  readonly actor: string;
  readonly now: () => Date;
  /** Event ids; time-ordered UUID v7 unless given (eventstore/chainedEvents.ts) (the simulator passes a seeded source). */
  readonly newEventId?: () => string;
}

export interface CommandOptions {
  /** From an If-Match header: refuse unless the order is still at this version. */
  readonly ifMatchVersion?: bigint;
  /** How many times a lost append race re-reads and re-decides before giving up. */
  readonly maxAttempts?: number;
  /**
   * The order as the caller just read it, used for the first attempt instead of reading it again.
   * Safe even if it is stale: the append carries its version, and a lost race re-reads.
   */
  readonly loaded?: LoadedOrder;
  /** Folded orders by version: read from and kept up to date, dropped for an order that lost a race. */
  readonly cache?: OrderCache;
  /** The wallet signature this command spends: its first event records it (SignatureAlreadyUsed on a second use). */
  readonly signature?: SignatureSpent;
}

export interface CommandOutcome {
  readonly state: OrderState;
  readonly version: bigint;
  /** When the order last changed: its last event's recorded_at. */
  readonly updatedAt: string | null;
  readonly written: readonly NewEvent[];
  /** Global position of the last event written, or null when the command decided nothing. */
  readonly position: bigint | null;
  readonly before: OrderState;
}

/** The client's If-Match no longer holds: 412 version_mismatch. */
export class VersionMismatch extends Error {
  readonly code = 'version_mismatch';
  constructor(readonly expected: bigint, readonly actual: bigint) {
    super(`the order is at version ${actual}, not ${expected}`);
    this.name = 'VersionMismatch';
  }
}

export type CommandFactory = (state: OrderState) => OrderCommand;

const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * read → fold → decide → append with the version that was read. A lost race (VersionConflict)
 * re-runs the whole handler on fresh state, a bounded number of times, so the loser re-decides and
 * is refused if the rule now forbids it. The command may be built from the state it will be decided
 * on (the driver does that), which is why it comes as a factory.
 */
export async function handleOrderCommand(
  store: EventStore,
  orderId: string,
  command: OrderCommand | CommandFactory,
  ctx: CommandContext,
  options: CommandOptions = {},
): Promise<CommandOutcome> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    const loaded = attempt === 1 && options.loaded !== undefined ? options.loaded : await loadOrder(store, orderId, options.cache);
    if (options.ifMatchVersion !== undefined && options.ifMatchVersion !== loaded.version) {
      throw new VersionMismatch(options.ifMatchVersion, loaded.version);
    }
    readable(orderId, loaded);
    const cmd = typeof command === 'function' ? command(loaded.state) : command;
    const decided = decide(cmd, loaded.state);
    if (decided.length === 0) {
      return { state: loaded.state, version: loaded.version, updatedAt: loaded.updatedAt, written: [], position: null, before: loaded.state };
    }
    const newEvents = toNewEvents(orderId, loaded, decided, options.signature === undefined ? ctx : { ...ctx, signature: options.signature });
    try {
      const expected = loaded.version === 0n ? 'no_stream' : loaded.version;
      const appended = store.append(orderStream(orderId), newEvents, expected);
      // Folded while the commit is in flight (on the writer thread, it overlaps); a fold that throws
      // throws only once the append has settled, as it did when it ran after it.
      const folded = foldDecided(loaded.state, decided);
      const result = await appended;
      if (!folded.ok) throw folded.error;
      const state = folded.state;
      const updatedAt = newEvents.at(-1)?.metadata.recorded_at ?? loaded.updatedAt;
      if (result.nextVersion === loaded.version + BigInt(newEvents.length)) {
        options.cache?.remember(orderId, { ...loaded, state, version: result.nextVersion, lastHash: newEvents.at(-1)?.metadata.hash ?? loaded.lastHash, updatedAt });
      }
      return { state, updatedAt, version: result.nextVersion, written: newEvents, position: result.position, before: loaded.state };
    } catch (error) {
      // Never trusted across a conflict: the next attempt reads the whole stream again.
      if (isVersionConflict(error)) options.cache?.forget(orderId);
      if (!isVersionConflict(error) || attempt >= maxAttempts) throw error;
    }
  }
}

function foldDecided(state: OrderState, decided: readonly OrderEvent[]): { ok: true; state: OrderState } | { ok: false; error: unknown } {
  try {
    return { ok: true, state: decided.reduce(evolve, state) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Wraps decided events with metadata and links each into the order stream's hash chain. */
export function toNewEvents(orderId: string, loaded: Pick<LoadedOrder, 'version' | 'lastHash'>, decided: readonly OrderEvent[], ctx: CommandContext): NewEvent[] {
  const events = decided.map((event) => ({ type: event.type, data: event.data as unknown as JsonObject }));
  return chainedEvents(orderStream(orderId), { version: loaded.version, hash: loaded.lastHash }, events, {
    correlationId: ctx.correlationId,
    causationId: ctx.causationId,
    actor: ctx.actor,
    recordedAt: ctx.now().toISOString(),
    newEventId: ctx.newEventId,
    signature: ctx.signature,
  });
}
