import { Metadata } from '@grpc/grpc-js';
import { anyPb, emptyPb, sharedPb, statusPb, streamsPb, type AppendReq, type AppendResp, type ReadReq, type ReadResp, type StreamsPb } from './generated.js';
import type { AppendOutcome, ExpectedRevision, ProposedEvent, StoredEvent } from './log.js';

/** Translation between the client's protobuf messages and the stand-in log. No logic lives here. */

type Uuid = InstanceType<typeof sharedPb.UUID>;
type ReadOptions = InstanceType<typeof streamsPb.ReadReq.Options>;
type FilterOptions = InstanceType<typeof streamsPb.ReadReq.Options.FilterOptions>;

export function parseUuid(uuid: Uuid | undefined): string {
  if (uuid === undefined) throw new Error('a proposed message has no id');
  if (!uuid.hasStructured()) return uuid.getString();
  const structured = uuid.getStructured();
  const hex = (bits: string | undefined) => BigInt.asUintN(64, BigInt(bits ?? '0')).toString(16).padStart(16, '0');
  const all = hex(structured?.getMostSignificantBits()) + hex(structured?.getLeastSignificantBits());
  return `${all.slice(0, 8)}-${all.slice(8, 12)}-${all.slice(12, 16)}-${all.slice(16, 20)}-${all.slice(20)}`;
}

export function streamNameOf(identifier: { getStreamName_asU8(): Uint8Array } | undefined): string {
  if (identifier === undefined) throw new Error('a request has no stream identifier');
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

export function expectedRevisionOf(options: InstanceType<typeof streamsPb.AppendReq.Options>): ExpectedRevision {
  if (options.hasRevision()) return { kind: 'revision', revision: BigInt(options.getRevision()) };
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'any' };
}

export function proposedEventOf(request: AppendReq): ProposedEvent | null {
  const message = request.getProposedMessage();
  if (message === undefined) return null;
  const metadata = message.getMetadataMap();
  return {
    id: parseUuid(message.getId()),
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    data: message.getData_asU8(),
    customMetadata: message.getCustomMetadata_asU8(),
  };
}

/** The server's answer: current revision and position on success, both sides on a mismatch. */
export function appendResponse(outcome: Exclude<AppendOutcome, { kind: 'stream_deleted' }>, expected: ExpectedRevision): AppendResp {
  const response = new streamsPb.AppendResp();
  if (outcome.kind === 'wrong_expected_version') {
    const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
    if (outcome.currentRevision === null) wrong.setCurrentNoStream(new sharedPb.Empty());
    else wrong.setCurrentRevision(outcome.currentRevision.toString());
    if (expected.kind === 'revision') wrong.setExpectedRevision(expected.revision.toString());
    else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new sharedPb.Empty());
    else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
    else wrong.setExpectedAny(new sharedPb.Empty());
    response.setWrongExpectedVersion(wrong);
    return response;
  }
  const success = new streamsPb.AppendResp.Success();
  success.setCurrentRevision(outcome.currentRevision.toString());
  if (outcome.kind === 'written') {
    const position = new streamsPb.AppendResp.Position();
    position.setCommitPosition(outcome.position.toString());
    position.setPreparePosition(outcome.position.toString());
    success.setPosition(position);
  } else {
    // An idempotent retry writes nothing, and the server answers it without a log position.
    success.setNoPosition(new sharedPb.Empty());
  }
  response.setSuccess(success);
  return response;
}

export function eventResponse(event: StoredEvent): ReadResp {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  const id = new sharedPb.UUID();
  id.setString(event.id);
  recorded.setId(id);
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(event.stream, 'utf8'));
  recorded.setStreamIdentifier(identifier);
  recorded.setStreamRevision(event.revision.toString());
  recorded.setCommitPosition(event.position.toString());
  recorded.setPreparePosition(event.position.toString());
  recorded.getMetadataMap().set('type', event.type).set('content-type', event.contentType).set('created', event.createdTicks.toString());
  recorded.setCustomMetadata(event.customMetadata);
  recorded.setData(event.data);
  const readEvent = new streamsPb.ReadResp.ReadEvent();
  readEvent.setEvent(recorded);
  readEvent.setCommitPosition(event.position.toString());
  const response = new streamsPb.ReadResp();
  response.setEvent(readEvent);
  return response;
}

export function streamNotFoundResponse(stream: string): ReadResp {
  const notFound = new streamsPb.ReadResp.StreamNotFound();
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(stream, 'utf8'));
  notFound.setStreamIdentifier(identifier);
  const response = new streamsPb.ReadResp();
  response.setStreamNotFound(notFound);
  return response;
}

export function confirmationResponse(subscriptionId: string): ReadResp {
  const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(subscriptionId);
  const response = new streamsPb.ReadResp();
  response.setConfirmation(confirmation);
  return response;
}

/** A real server's checkpoints carry prepare position 0 (KurrentDB 25.0 `Checkpoint`); the commit position is the one that counts. */
export function checkpointResponse(commit: bigint, prepare = 0n): ReadResp {
  const checkpoint = new streamsPb.ReadResp.Checkpoint();
  checkpoint.setCommitPosition(commit.toString());
  checkpoint.setPreparePosition(prepare.toString());
  const response = new streamsPb.ReadResp();
  response.setCheckpoint(checkpoint);
  return response;
}

export function caughtUpResponse(): ReadResp {
  const response = new streamsPb.ReadResp();
  response.setCaughtUp(new streamsPb.ReadResp.CaughtUp());
  return response;
}

/** A request's filter as a predicate, plus how many scanned events pass between checkpoints. */
export interface EventFilter {
  readonly matches: (event: StoredEvent) => boolean;
  readonly checkpointEvery: number;
}

/** Without an explicit window the server scans up to 32 events between checkpoint chances. */
const DEFAULT_WINDOW = 32;

export function filterOf(options: ReadOptions): EventFilter | null {
  if (!options.hasFilter()) return null;
  const filter = options.getFilter() as FilterOptions;
  const onStream = filter.hasStreamIdentifier();
  const expression = onStream ? filter.getStreamIdentifier() : filter.getEventType();
  const prefixes = expression?.getPrefixList() ?? [];
  const regex = expression?.getRegex() ? new RegExp(expression.getRegex()) : null;
  const window = filter.hasMax() ? filter.getMax() : DEFAULT_WINDOW;
  return {
    matches: (event) => {
      const subject = onStream ? event.stream : event.type;
      if (regex !== null) return regex.test(subject);
      return prefixes.some((prefix) => subject.startsWith(prefix));
    },
    checkpointEvery: Math.max(1, window * Math.max(1, filter.getCheckpointintervalmultiplier())),
  };
}

export function readCountOf(options: ReadOptions): number {
  const count = BigInt(options.getCount() || '0');
  return count > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(count);
}

export type { ReadReq };

type BatchAppendReq = InstanceType<StreamsPb['BatchAppendReq']>;
type BatchAppendResp = InstanceType<StreamsPb['BatchAppendResp']>;
type BatchOptions = InstanceType<typeof streamsPb.BatchAppendReq.Options>;

export function batchExpectedRevisionOf(options: BatchOptions): ExpectedRevision {
  if (options.hasStreamPosition()) return { kind: 'revision', revision: BigInt(options.getStreamPosition()) };
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'any' };
}

export function batchProposedEventsOf(request: BatchAppendReq): ProposedEvent[] {
  return request.getProposedMessagesList().map((message) => {
    const metadata = message.getMetadataMap();
    return {
      id: parseUuid(message.getId()),
      type: metadata.get('type') ?? '',
      contentType: metadata.get('content-type') ?? 'application/octet-stream',
      data: message.getData_asU8(),
      customMetadata: message.getCustomMetadata_asU8(),
    };
  });
}

/** Transient refusals a real node answers a BatchAppend with (KurrentDB Streams.BatchAppend.cs). */
export type BatchAppendRefusal = 'not_ready' | 'busy' | 'timeout';

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_FAILED_PRECONDITION = 9;

function packed(message: { serializeBinary(): Uint8Array }, typeName: string): InstanceType<typeof anyPb.Any> {
  const any = new anyPb.Any();
  any.pack(message.serializeBinary(), typeName);
  return any;
}

function batchResponse(correlationId: InstanceType<typeof sharedPb.UUID>, stream: string): BatchAppendResp {
  const response = new streamsPb.BatchAppendResp();
  response.setCorrelationId(correlationId);
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(stream, 'utf8'));
  response.setStreamIdentifier(identifier);
  return response;
}

function batchError(correlationId: InstanceType<typeof sharedPb.UUID>, stream: string, code: number, message: string, details: InstanceType<typeof anyPb.Any>): BatchAppendResp {
  const status = new statusPb.Status();
  status.setCode(code);
  status.setMessage(message);
  status.setDetails(details);
  const response = batchResponse(correlationId, stream);
  response.setError(status);
  return response;
}

/**
 * NotReady and TooBusy come back as a Status whose details are an Empty, so client 6.2.1 cannot
 * recognise them and throws UnknownError("Could not recognize Server Is Not Ready"); a commit
 * timeout carries a `Timeout` detail, which the client turns into DeadlineExceededError.
 */
export function batchRefusalResponse(correlationId: InstanceType<typeof sharedPb.UUID>, stream: string, refusal: BatchAppendRefusal): BatchAppendResp {
  if (refusal === 'timeout') return batchError(correlationId, stream, GRPC_DEADLINE_EXCEEDED, 'Timeout', packed(new sharedPb.Timeout(), 'event_store.client.Timeout'));
  const message = refusal === 'not_ready' ? 'Server Is Not Ready' : 'Server Is Busy';
  return batchError(correlationId, stream, GRPC_UNAVAILABLE, message, packed(new sharedPb.Empty(), 'google.protobuf.Empty'));
}

export function batchAppendResponse(correlationId: InstanceType<typeof sharedPb.UUID>, stream: string, outcome: AppendOutcome, expected: ExpectedRevision): BatchAppendResp {
  if (outcome.kind === 'stream_deleted') {
    const deleted = new sharedPb.StreamDeleted();
    const identifier = new sharedPb.StreamIdentifier();
    identifier.setStreamName(Buffer.from(stream, 'utf8'));
    deleted.setStreamIdentifier(identifier);
    return batchError(correlationId, stream, GRPC_FAILED_PRECONDITION, `Event stream '${stream}' is deleted.`, packed(deleted, 'event_store.client.StreamDeleted'));
  }
  if (outcome.kind === 'wrong_expected_version') {
    const wrong = new sharedPb.WrongExpectedVersion();
    if (outcome.currentRevision === null) wrong.setCurrentNoStream(new emptyPb.Empty());
    else wrong.setCurrentStreamRevision(outcome.currentRevision.toString());
    if (expected.kind === 'revision') wrong.setExpectedStreamPosition(expected.revision.toString());
    else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new emptyPb.Empty());
    else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new emptyPb.Empty());
    else wrong.setExpectedAny(new emptyPb.Empty());
    return batchError(correlationId, stream, GRPC_FAILED_PRECONDITION, 'Wrong expected version', packed(wrong, 'event_store.client.WrongExpectedVersion'));
  }
  const success = new streamsPb.BatchAppendResp.Success();
  success.setCurrentRevision(outcome.currentRevision.toString());
  if (outcome.kind === 'written') {
    const position = new sharedPb.AllStreamPosition();
    position.setCommitPosition(outcome.position.toString());
    position.setPreparePosition(outcome.position.toString());
    success.setPosition(position);
  } else {
    success.setNoPosition(new emptyPb.Empty());
  }
  const response = batchResponse(correlationId, stream);
  response.setSuccess(success);
  return response;
}

/** A read of a tombstoned stream: the trailers name the exception the client maps to StreamDeletedError. */
export function streamDeletedError(stream: string): { code: number; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  metadata.set('exception', 'stream-deleted');
  metadata.set('stream-name', stream);
  return { code: GRPC_FAILED_PRECONDITION, details: `Event stream '${stream}' is deleted.`, metadata };
}
