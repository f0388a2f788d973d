import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  WrongExpectedVersionError,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type EventData,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { VersionConflict, type EventMetadata, type ExpectedVersion, type JsonObject, type NewEvent, type RecordedEvent } from './types.js';

/**
 * Pure translations between the EventStore port and @eventstore/db-client. The one rule behind
 * all of them: our stream version = ESDB revision + 1 (ESDB revisions are 0-based; our first event
 * is version 1 and 0n means "no stream"), and our position = the event's $all commit position.
 */

/** What a server older than EventStoreDB 22.6 puts in a stream read's position: "unknown" (u64 max). */
const UNKNOWN_POSITION = 0xffff_ffff_ffff_ffffn;

/** no_stream → NO_STREAM, stream_exists → STREAM_EXISTS, any → ANY, exact v → revision v − 1 (0n → NO_STREAM). */
export function toExpectedRevision(expected: ExpectedVersion): AppendExpectedRevision {
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  if (expected === 'any') return ANY;
  if (expected < 0n) throw new RangeError(`expected version must not be negative, got ${expected}`);
  return expected === 0n ? NO_STREAM : expected - 1n;
}

/** A server revision (or its "no stream") as our version. */
export function toVersion(revision: bigint | 'no_stream'): bigint {
  return revision === 'no_stream' ? 0n : revision + 1n;
}

/** WrongExpectedVersionError → VersionConflict carrying our expected value and the actual version. */
export function toVersionConflict(stream: string, expected: ExpectedVersion, error: unknown): VersionConflict | null {
  if (!(error instanceof WrongExpectedVersionError)) return null;
  const actual = error.actualVersion;
  return new VersionConflict(stream, expected, typeof actual === 'bigint' ? toVersion(actual) : 0n);
}

/** Our event as an ESDB JSON event: the event id is ours, so a retried append is recognised. */
export function toEventData(event: NewEvent): EventData {
  return jsonEvent({ id: event.eventId, type: event.type, data: event.data, metadata: event.metadata as unknown as JsonObject });
}

/** The commit position of a recorded event, refusing a server that does not report one. */
export function commitPositionOf(resolved: ResolvedEvent | AllStreamResolvedEvent): bigint {
  const commit = resolved.event?.position?.commit ?? resolved.commitPosition;
  if (commit === undefined || commit === UNKNOWN_POSITION) {
    // Before 22.6 stream reads carried no $all position; guessing one would corrupt checkpoints.
    throw new Error('the event store did not report a $all position for an event (EventStoreDB 22.6 or newer is required)');
  }
  return commit;
}

/** Server-side events (`$settings`, `$stats-…`, projections' output) never belong to the ledger. */
export function isSystemStream(stream: string): boolean {
  return stream.startsWith('$');
}

export function toRecordedEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent {
  const event = resolved.event;
  if (event === undefined) throw new Error('a resolved event without its event (a link to a deleted event?)');
  if (!event.isJson) throw new Error(`event ${event.id} in ${event.streamId} is not JSON; the ledger writes only JSON`);
  return {
    eventId: event.id,
    stream: event.streamId,
    type: event.type,
    version: toVersion(event.revision),
    position: commitPositionOf(resolved),
    data: event.data as JsonObject,
    metadata: event.metadata as unknown as EventMetadata,
  };
}
