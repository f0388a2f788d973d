import type { ServerWritableStream } from '@grpc/grpc-js';
import { streamsPb, type ReadReq, type ReadResp } from './generated.js';
import type { StandInLog, StoredEvent } from './log.js';
import {
  caughtUpResponse,
  checkpointResponse,
  confirmationResponse,
  eventResponse,
  filterOf,
  readCountOf,
  streamNameOf,
  streamDeletedError,
  streamNotFoundResponse,
  type EventFilter,
} from './wire.js';

type ReadCall = ServerWritableStream<ReadReq, ReadResp>;
type ReadOptions = InstanceType<typeof streamsPb.ReadReq.Options>;
const BACKWARDS = streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;

/**
 * What a node sees of the log: a leader sees all of it; a lagging follower only what had been
 * replicated to it (events before `visibleBefore`).
 */
export interface LogView {
  readonly visibleBefore: bigint | null;
}

export const LEADER_VIEW: LogView = { visibleBefore: null };

function visibleIn(view: LogView, event: StoredEvent): boolean {
  return view.visibleBefore === null || event.position < view.visibleBefore;
}

/** How this node's subscriptions shape checkpoints. */
export interface CheckpointShape {
  /**
   * KurrentDB 25.0.0: an empty last catch-up page yields a checkpoint at the end of the log, the
   * commit position of the *next* record (fixed in 25.0.1 / 24.10.5).
   */
  readonly endOfLogCheckpoint: boolean;
}

/** Streams.Read for one stream: forwards from a revision or the start, backwards from a revision or the end. */
export function readStream(log: StandInLog, options: ReadOptions, call: ReadCall, view: LogView = LEADER_VIEW): void {
  const streamOptions = options.getStream();
  const stream = streamNameOf(streamOptions?.getStreamIdentifier());
  const readable = log.readableEvents(stream);
  if (readable === 'deleted') return void call.emit('error', streamDeletedError(stream));
  const events = readable?.filter((e) => visibleIn(view, e)) ?? null;
  if (events === null || (events.length === 0 && readable !== null && readable.length > 0)) {
    call.write(streamNotFoundResponse(stream));
    call.end();
    return;
  }
  const count = readCountOf(options);
  const backwards = options.getReadDirection() === BACKWARDS;
  // Revisions, not indexes: a truncated stream's first readable event is not revision 0.
  const revision = streamOptions?.hasRevision() ? BigInt(streamOptions.getRevision()) : null;
  const ordered = backwards ? [...events].reverse() : events;
  const selected = ordered
    .filter((e) => revision === null || (backwards ? e.revision <= revision : e.revision >= revision))
    .slice(0, count);
  eventsServed += selected.length;
  for (const event of selected) call.write(eventResponse(event));
  call.end();
}

/** Events this process's stand-ins have sent for single-stream reads: lets tests see how much a read costs. */
let eventsServed = 0;
export function streamEventsServed(): number {
  return eventsServed;
}

/**
 * Streams.Read of $all with a count: forwards from a position (inclusive, as the server does) or
 * the start; backwards from the end or from before a position.
 */
export function readAll(log: StandInLog, options: ReadOptions, call: ReadCall, view: LogView = LEADER_VIEW): void {
  const all = view.visibleBefore === null ? log.allEvents() : log.allEvents().slice(0, log.indexAtOrAfter(view.visibleBefore));
  const allOptions = options.getAll();
  const count = readCountOf(options);
  const filter = filterOf(options);
  const backwards = options.getReadDirection() === BACKWARDS;
  const position = allOptions?.hasPosition() ? BigInt(allOptions.getPosition()?.getCommitPosition() ?? '0') : null;
  const selected: StoredEvent[] = [];
  if (backwards) {
    let index = position === null || allOptions?.hasEnd() ? all.length - 1 : log.indexAtOrAfter(position) - 1;
    for (; index >= 0 && selected.length < count; index--) pushIfMatching(selected, all[index], filter);
  } else {
    let index = position === null || allOptions?.hasStart() ? 0 : log.indexAtOrAfter(position);
    if (allOptions?.hasEnd()) index = all.length;
    for (; index < all.length && selected.length < count; index++) pushIfMatching(selected, all[index], filter);
  }
  for (const event of selected) call.write(eventResponse(event));
  call.end();
}

function pushIfMatching(into: StoredEvent[], event: StoredEvent | undefined, filter: EventFilter | null): void {
  if (event !== undefined && (filter === null || filter.matches(event))) into.push(event);
}

/**
 * A catch-up subscription to $all: confirmation, everything after the start point (exclusive, as
 * the server does for a position), checkpoints every `checkpointEvery` scanned events when
 * filtered, `caught_up`, then live appends until the call ends. Catch-up and the switch to live
 * happen in one synchronous step, so no append can fall between them.
 */
export function subscribeAll(log: StandInLog, options: ReadOptions, call: ReadCall, subscriptionId: string, shape: CheckpointShape): () => void {
  const all = log.allEvents();
  const allOptions = options.getAll();
  const filter = filterOf(options);
  let start = 0;
  if (allOptions?.hasEnd()) start = all.length;
  else if (allOptions?.hasPosition()) {
    const position = allOptions.getPosition();
    start = indexAfter(log, BigInt(position?.getCommitPosition() ?? '0'), BigInt(position?.getPreparePosition() ?? '0'));
  }
  let scanned = 0;
  const send = (event: StoredEvent) => {
    if (filter === null || filter.matches(event)) call.write(eventResponse(event));
    scanned += 1;
    if (filter !== null && scanned % filter.checkpointEvery === 0) call.write(checkpointResponse(event.position));
  };
  call.write(confirmationResponse(subscriptionId));
  for (let index = start; index < all.length; index++) send(all[index] as StoredEvent);
  if (filter !== null && shape.endOfLogCheckpoint) call.write(checkpointResponse(log.endOfLogPosition));
  call.write(caughtUpResponse());
  const unsubscribe = log.onAppend((events) => {
    for (const event of events) send(event);
  });
  call.on('cancelled', unsubscribe);
  call.on('close', unsubscribe);
  return unsubscribe;
}

/**
 * The first event strictly after (commit, prepare), comparing both as the server does: an event
 * at commit c (prepare c) comes after a checkpoint (c, 0), so resuming from that checkpoint
 * delivers it.
 */
function indexAfter(log: StandInLog, commit: bigint, prepare: bigint): number {
  const index = log.indexAtOrAfter(commit);
  const event = log.allEvents()[index];
  return event !== undefined && event.position === commit && event.position <= prepare ? index + 1 : index;
}
