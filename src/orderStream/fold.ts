import { EventDoesNotApply, evolve } from '../aggregates/order/evolve.js';
import { initialState, isTerminal, type OrderState } from '../aggregates/order/state.js';
import { GENESIS_HASH } from '../eventstore/hashChain.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { decodeOrderEvent } from './decode.js';

/** Why an order stream cannot be read as a whole: a typed finding, never a crash. */
export type StreamProblemKind = 'unknown_event' | 'malformed_event' | 'event_does_not_apply' | 'event_after_terminal';

export interface StreamProblem {
  readonly kind: StreamProblemKind;
  readonly version: bigint;
  readonly type: string;
  readonly reason: string;
}

/**
 * An order folded from its stream. The state is the fold up to the first event that cannot be
 * read or cannot follow it (a stream written by something other than this decider); `problems`
 * names that event and every event recorded after the order ended. `version`, `lastHash` and
 * `updatedAt` come from the stream itself: its last event, whatever the fold made of it.
 */
export interface OrderFold {
  readonly state: OrderState;
  readonly version: bigint;
  readonly lastHash: string;
  /** The last event's recorded_at: when the order last changed, from the stream's metadata. */
  readonly updatedAt: string | null;
  readonly problems: readonly StreamProblem[];
}

export const EMPTY_FOLD: OrderFold = { state: initialState, version: 0n, lastHash: GENESIS_HASH, updatedAt: null, problems: [] };

/** True when the state no longer follows the stream (an unreadable or inapplicable event). */
export function isCorrupt(fold: OrderFold): boolean {
  for (const p of fold.problems) if (p.kind !== 'event_after_terminal') return true;
  return false;
}

/**
 * The step of the one fold: the state after `recorded`, or the problem that stops it there (an
 * event after the end, an unreadable event, one that cannot follow the state). Every reader folds
 * with this, through foldOrderEvent or, keeping no stream position, the projections' foldStep.
 */
export function stepOrder(state: OrderState, recorded: RecordedEvent): OrderState | StreamProblem {
  if (isTerminal(state.status)) return problemAt(recorded, 'event_after_terminal', `recorded after the order was ${state.status}`);
  const decoded = decodeOrderEvent(recorded);
  if (!decoded.ok) return problemAt(recorded, decoded.kind, decoded.reason);
  try {
    return evolve(state, decoded.event);
  } catch (error) {
    if (error instanceof EventDoesNotApply) return problemAt(recorded, 'event_does_not_apply', error.message);
    throw error;
  }
}

/** True when a step stopped at a problem instead of moving the state. */
export const isProblem = (step: OrderState | StreamProblem): step is StreamProblem => !('status' in step);

const problemAt = (recorded: RecordedEvent, kind: StreamProblemKind, reason: string): StreamProblem => ({ kind, version: recorded.version, type: recorded.type, reason });

/** One recorded event folded onto the fold so far. Every reader folds with this, and only this. */
export function foldOrderEvent(fold: OrderFold, recorded: RecordedEvent): OrderFold {
  const { version } = recorded;
  const { hash: lastHash, recorded_at: updatedAt } = recorded.metadata;
  // Past a broken event the fold stays where it was: later events were decided on a state this
  // reader cannot know. Only the first break is named.
  if (isCorrupt(fold)) return { state: fold.state, version, lastHash, updatedAt, problems: fold.problems };
  const step = stepOrder(fold.state, recorded);
  if (isProblem(step)) return { state: fold.state, version, lastHash, updatedAt, problems: [...fold.problems, step] };
  return { state: step, version, lastHash, updatedAt, problems: fold.problems };
}

/** A whole order stream, oldest event first. */
export function foldOrderStream(events: readonly RecordedEvent[]): OrderFold {
  let fold = EMPTY_FOLD;
  for (const recorded of events) fold = foldOrderEvent(fold, recorded);
  return fold;
}

export function describeProblem(problem: StreamProblem): string {
  return `v${problem.version}: ${problem.type} ${problem.kind === 'event_after_terminal' ? '' : 'cannot be read '}(${problem.reason})`;
}

/**
 * An order whose stream cannot be folded: every reader that needs its state (a command, the order
 * read) answers 409 order_stream_corrupt, naming the event, instead of deciding on a guess.
 */
export class OrderStreamCorrupt extends Error {
  readonly code = 'order_stream_corrupt';
  constructor(readonly orderId: string, readonly problem: StreamProblem) {
    super(`the stream of ${orderId} cannot be read at ${describeProblem(problem)}`);
    this.name = 'OrderStreamCorrupt';
  }
}

/** The fold, or OrderStreamCorrupt when it does not follow its stream. */
export function readable(orderId: string, fold: OrderFold): OrderFold {
  const problem = fold.problems.find((p) => p.kind !== 'event_after_terminal');
  if (problem !== undefined) throw new OrderStreamCorrupt(orderId, problem);
  return fold;
}
