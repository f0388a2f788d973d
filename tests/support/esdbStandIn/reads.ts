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
  streamNotFoundResponse,
  type EventFilter,
} from './wire.js';

type ReadCall = ServerWritableStream<ReadReq, ReadResp>;
type ReadOptions = InstanceType<typeof streamsPb.ReadReq.Options>;
const BACKWARDS = streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;

/** Streams.Read for one stream: forwards from a revision or the start, backwards from a revision or the end. */
export function readStream(log: StandInLog, options: ReadOptions, call: ReadCall): void {
  const streamOptions = options.getStream();
  const stream = streamNameOf(streamOptions?.getStreamIdentifier());
  const events = log.streamEvents(stream);
  if (events === null) {
    call.write(streamNotFoundResponse(stream));
    call.end();
    return;
  }
  const count = readCountOf(options);
  const backwards = options.getReadDirection() === BACKWARDS;
  const last = events.length - 1;
  const from = streamOptions?.hasRevision() ? Number(BigInt(streamOptions.getRevision())) : streamOptions?.hasEnd() ? last : 0;
  const selected = backwards
    ? events.slice(Math.max(0, Math.min(from, last) - count + 1), Math.min(from, last) + 1).reverse()
    : events.slice(Math.min(from, events.length), Math.min(from, events.length) + count);
  for (const event of selected) call.write(eventResponse(event));
  call.end();
}

/**
 * Streams.Read of $all with a count: forwards from a position (inclusive, as the server does) or
 * the start; backwards from the end or from before a position.
 */
export function readAll(log: StandInLog, options: ReadOptions, call: ReadCall): void {
  const all = log.allEvents();
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
export function subscribeAll(log: StandInLog, options: ReadOptions, call: ReadCall, subscriptionId: string): () => void {
  const all = log.allEvents();
  const allOptions = options.getAll();
  const filter = filterOf(options);
  let start = 0;
  if (allOptions?.hasEnd()) start = all.length;
  else if (allOptions?.hasPosition()) start = indexAfter(log, BigInt(allOptions.getPosition()?.getCommitPosition() ?? '0'));
  let scanned = 0;
  const send = (event: StoredEvent) => {
    if (filter === null || filter.matches(event)) call.write(eventResponse(event));
    scanned += 1;
    if (filter !== null && scanned % filter.checkpointEvery === 0) call.write(checkpointResponse(event.position));
  };
  call.write(confirmationResponse(subscriptionId));
  for (let index = start; index < all.length; index++) send(all[index] as StoredEvent);
  call.write(caughtUpResponse());
  const unsubscribe = log.onAppend((events) => {
    for (const event of events) send(event);
  });
  call.on('cancelled', unsubscribe);
  call.on('close', unsubscribe);
  return unsubscribe;
}

function indexAfter(log: StandInLog, position: bigint): number {
  const index = log.indexAtOrAfter(position);
  return log.allEvents()[index]?.position === position ? index + 1 : index;
}
