/**
 * EventStoreDB STAND-IN for tests: a test double of the server's gRPC wire protocol, NOT a product
 * and not a database. It serves the service definitions that @eventstore/db-client itself ships
 * (generated/*_grpc_pb.js) over insecure HTTP/2 on 127.0.0.1, keeps everything in memory, and
 * implements only what the ledger's esdb adapter uses:
 *
 * - ServerFeatures.GetSupportedMethods: lists Streams.Read, Append and BatchAppend, so client 6.x
 *   appends through BatchAppend as it does against a real node;
 * - Streams.BatchAppend and Streams.Append: expected revision, idempotent retries, wrong expected
 *   version, stream deleted, and (BatchAppend) NotReady / Busy / Timeout refusals on demand;
 * - Streams.Read: one stream forwards/backwards ($maxCount / $tb honoured), $all forwards/backwards,
 *   stream_not_found, stream-deleted, and catch-up subscriptions to $all with stream-name/event-type
 *   filters, prepare-0 checkpoints (optionally KurrentDB 25.0.0's end-of-log one) and caught_up;
 * - Streams.Delete and Streams.Tombstone.
 *
 * Everything else answers UNIMPLEMENTED. stop() drops every connection like a crashed node;
 * start() again serves the same in-memory log on the same port. A node can be told it is a
 * follower, so Streams calls answer NotLeader with the leader's address, as a real follower does
 * to requests that require the leader; a lagging follower serves the others from a stale log.
 */
import { randomUUID } from 'node:crypto';
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerReadableStream,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import {
  emptyPb,
  serverFeaturesGrpc,
  serverFeaturesPb,
  streamsPb,
  sharedPb,
  streamsGrpc,
  type AppendReq,
  type AppendResp,
  type BatchAppendReq,
  type BatchAppendResp,
  type DeleteReq,
  type ReadReq,
  type ReadResp,
} from './generated.js';
import { StandInLog, type ExpectedRevision, type ProposedEvent } from './log.js';
import { LEADER_VIEW, readAll, readStream, subscribeAll, type LogView } from './reads.js';
import {
  appendResponse,
  batchAppendResponse,
  batchExpectedRevisionOf,
  batchProposedEventsOf,
  batchRefusalResponse,
  expectedRevisionOf,
  parseUuid,
  proposedEventOf,
  streamDeletedError,
  streamNameOf,
  type BatchAppendRefusal,
} from './wire.js';

export interface EsdbStandInOptions {
  /** Share one log between nodes (a leader and a follower) or across a restart; default a fresh one. */
  readonly log?: StandInLog;
  /** 0 (default) picks a free port on first start; restarts reuse it. */
  readonly port?: number;
  /** Server behaviours that a kind stand-in would hide; see StandInFaults. */
  readonly faults?: StandInFaults;
}

/**
 * Ways a real KurrentDB node is harder on a client than the stand-in is by default. Each one is a
 * behaviour of the real server (issue 15), switched on per test or all at once (HOSTILE_SERVER).
 */
export interface StandInFaults {
  /** KurrentDB 25.0.0's end-of-log checkpoint after catch-up (commit position of the next record, prepare 0). */
  readonly endOfLogCheckpoint?: boolean;
  /** Refuse every n-th BatchAppend once with NotReady, Busy or Timeout (in turn) before serving its retry. */
  readonly refuseEveryNthAppend?: number;
}

/** Every fault at once: what the contract suite and the end-to-end esdb tests run against. */
export const HOSTILE_SERVER: StandInFaults = { endOfLogCheckpoint: true, refuseEveryNthAppend: 3 };

const REFUSALS: readonly BatchAppendRefusal[] = ['not_ready', 'busy', 'timeout'];

export interface LeaderAddress {
  readonly host: string;
  readonly port: number;
}

const STREAMS_SERVICE = 'event_store.client.streams.Streams';

export class EsdbStandIn {
  readonly log: StandInLog;
  private server: Server | null = null;
  private currentPort: number;
  private leader: LeaderAddress | null = null;
  /** A lagging follower serves reads that do not require the leader from what it has replicated. */
  private lag: LogView | null = null;
  private readonly liveSubscriptions = new Set<() => void>();
  private readonly refusalQueue: BatchAppendRefusal[] = [];
  private appendCount = 0;
  private refusalCount = 0;
  faults: StandInFaults;
  /** How many Streams calls this node has answered; lets tests see that traffic moved. */
  callCount = 0;
  /** BatchAppends refused with NotReady / Busy / Timeout so far. */
  refusedAppends = 0;

  constructor(options: EsdbStandInOptions = {}) {
    this.log = options.log ?? new StandInLog();
    this.currentPort = options.port ?? 0;
    this.faults = options.faults ?? {};
  }

  /** The next appends are answered with these refusals, one each, in order. */
  refuseNextAppends(...refusals: BatchAppendRefusal[]): void {
    this.refusalQueue.push(...refusals);
  }

  /** Starts a stand-in on a free loopback port. */
  static async start(options: EsdbStandInOptions = {}): Promise<EsdbStandIn> {
    const standIn = new EsdbStandIn(options);
    await standIn.start();
    return standIn;
  }

  get port(): number {
    return this.currentPort;
  }

  get connectionString(): string {
    return `esdb://127.0.0.1:${this.currentPort}?tls=false`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  async start(): Promise<void> {
    if (this.server !== null) return;
    const server = new Server();
    server.addService(streamsGrpc.StreamsService, this.streamsImplementation());
    server.addService(serverFeaturesGrpc.ServerFeaturesService, { getSupportedMethods: this.supportedMethods });
    this.currentPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${this.currentPort}`, ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      );
    });
    this.server = server;
  }

  /** Like a crashed node: every open call fails at once and the port closes. The log survives. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    for (const unsubscribe of [...this.liveSubscriptions]) unsubscribe();
    this.liveSubscriptions.clear();
    server.forceShutdown();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * From now on answer Streams calls with NotLeader pointing at `leader` (null: be the leader again).
   * With `lagging`, act like a real follower instead: serve reads that do not send
   * `requires-leader` from the log as replicated so far (frozen now), forward appends that do not
   * send it to the leader (the shared log), and answer NotLeader only to calls that require the leader.
   */
  followLeader(leader: LeaderAddress | null, options: { readonly lagging?: boolean } = {}): void {
    this.leader = leader;
    this.lag = leader !== null && options.lagging === true ? { visibleBefore: this.log.endOfLogPosition } : null;
  }

  private streamsImplementation() {
    const unimplemented = (_call: unknown, callback: sendUnaryData<never>) =>
      callback({ code: status.UNIMPLEMENTED, details: 'not implemented by the esdb stand-in' });
    return {
      read: (call: ServerWritableStream<ReadReq, ReadResp>) => this.read(call),
      append: (call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>) => this.append(call, callback),
      delete: (call: ServerUnaryCall<DeleteReq, unknown>, callback: sendUnaryData<unknown>) => this.deleteStream(call, callback, 'soft'),
      tombstone: (call: ServerUnaryCall<DeleteReq, unknown>, callback: sendUnaryData<unknown>) => this.deleteStream(call, callback, 'tombstone'),
      batchAppend: (call: ServerDuplexStream<BatchAppendReq, BatchAppendResp>) => this.batchAppend(call),
    };
  }

  /**
   * Streams.Delete (soft: `$tb` past the end, writable again) and Streams.Tombstone (for ever).
   * The expected revision is not checked: the ledger never deletes; tests delete to see it cope.
   */
  private deleteStream(call: ServerUnaryCall<DeleteReq, unknown>, callback: sendUnaryData<unknown>, kind: 'soft' | 'tombstone'): void {
    this.callCount += 1;
    if (this.rejectAsFollower(call.metadata, (error) => callback(error))) return;
    const stream = streamNameOf(call.request.getOptions()?.getStreamIdentifier());
    if (kind === 'soft') this.log.softDelete(stream);
    else this.log.tombstone(stream);
    const response = kind === 'soft' ? new streamsPb.DeleteResp() : new streamsPb.TombstoneResp();
    response.setNoPosition(new emptyPb.Empty());
    callback(null, response);
  }

  /**
   * Streams.BatchAppend, the call client 6.x makes for every append once the server lists it: one
   * long-lived duplex stream, requests grouped by correlation id until `is_final`, one answer each.
   */
  private batchAppend(call: ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void {
    this.callCount += 1;
    if (this.rejectAsFollower(call.metadata, (error) => call.emit('error', error))) return;
    const pending = new Map<string, { stream: string; expected: ExpectedRevision; events: ProposedEvent[] }>();
    call.on('data', (request: BatchAppendReq) => {
      const correlation = request.getCorrelationId();
      if (correlation === undefined) return;
      const key = parseUuid(correlation);
      const options = request.getOptions();
      const entry = pending.get(key) ?? (options === undefined ? null : { stream: streamNameOf(options.getStreamIdentifier()), expected: batchExpectedRevisionOf(options), events: [] });
      if (entry === null) return;
      entry.events.push(...batchProposedEventsOf(request));
      pending.set(key, entry);
      if (!request.getIsFinal()) return;
      pending.delete(key);
      call.write(this.answerBatch(correlation, entry.stream, entry.expected, entry.events));
    });
    call.on('end', () => call.end());
    call.on('error', () => undefined);
  }

  private answerBatch(correlation: NonNullable<ReturnType<BatchAppendReq['getCorrelationId']>>, stream: string, expected: ExpectedRevision, events: ProposedEvent[]): BatchAppendResp {
    this.appendCount += 1;
    const every = this.faults.refuseEveryNthAppend ?? 0;
    const refusal = this.refusalQueue.shift()
      ?? (every > 0 && this.appendCount % every === 0 ? (REFUSALS[this.refusalCount++ % REFUSALS.length] as BatchAppendRefusal) : null);
    if (refusal !== null) {
      this.refusedAppends += 1;
      // A commit timeout is answered after the write may well have happened: the retry must be idempotent.
      if (refusal === 'timeout') this.log.append(stream, expected, events);
      return batchRefusalResponse(correlation, stream, refusal);
    }
    return batchAppendResponse(correlation, stream, this.log.append(stream, expected, events), expected);
  }

  private readonly supportedMethods = (
    _call: ServerUnaryCall<InstanceType<typeof sharedPb.Empty>, unknown>,
    callback: sendUnaryData<InstanceType<typeof serverFeaturesPb.SupportedMethods>>,
  ): void => {
    const methods = new serverFeaturesPb.SupportedMethods();
    methods.setEventStoreServerVersion('0.0.0-esdb-stand-in');
    for (const name of ['Read', 'Append', 'BatchAppend']) {
      const method = new serverFeaturesPb.SupportedMethod();
      method.setServiceName(STREAMS_SERVICE);
      method.setMethodName(name);
      methods.addMethods(method);
    }
    callback(null, methods);
  };

  private read(call: ServerWritableStream<ReadReq, ReadResp>): void {
    this.callCount += 1;
    if (this.rejectAsFollower(call.metadata, (error) => call.emit('error', error))) return;
    const options = call.request.getOptions();
    if (options === undefined) return void call.emit('error', { code: status.INVALID_ARGUMENT, details: 'no read options' });
    const isSubscription = options.hasSubscription();
    const view = this.lag ?? LEADER_VIEW;
    if (options.hasStream() && !isSubscription) return readStream(this.log, options, call, view);
    if (options.hasAll() && !isSubscription) return readAll(this.log, options, call, view);
    if (options.hasAll()) {
      const shape = { endOfLogCheckpoint: this.faults.endOfLogCheckpoint === true };
      const unsubscribe = subscribeAll(this.log, options, call, randomUUID(), shape);
      this.liveSubscriptions.add(unsubscribe);
      call.on('close', () => this.liveSubscriptions.delete(unsubscribe));
      return;
    }
    call.emit('error', { code: status.UNIMPLEMENTED, details: 'stream subscriptions are not implemented by the esdb stand-in' });
  }

  private append(call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>): void {
    this.callCount += 1;
    if (this.rejectAsFollower(call.metadata, (error) => callback(error))) return;
    let stream: string | null = null;
    let expected: ExpectedRevision = { kind: 'any' };
    const proposed: ProposedEvent[] = [];
    call.on('data', (request: AppendReq) => {
      const options = request.getOptions();
      if (options !== undefined) {
        stream = streamNameOf(options.getStreamIdentifier());
        expected = expectedRevisionOf(options);
        return;
      }
      const event = proposedEventOf(request);
      if (event !== null) proposed.push(event);
    });
    // Nothing is written until the client has sent every event: an append is all or nothing.
    call.on('end', () => {
      if (stream === null) return callback({ code: status.INVALID_ARGUMENT, details: 'append without options' });
      const outcome = this.log.append(stream, expected, proposed);
      if (outcome.kind === 'stream_deleted') return callback(streamDeletedError(stream));
      callback(null, appendResponse(outcome, expected));
    });
    call.on('error', () => undefined);
  }

  private rejectAsFollower(request: Metadata, fail: (error: { code: number; details: string; metadata: Metadata }) => void): boolean {
    if (this.leader === null) return false;
    // A lagging follower serves (and forwards) what does not insist on the leader.
    if (this.lag !== null && request.get('requires-leader')[0] !== 'true') return false;
    const metadata = new Metadata();
    metadata.set('exception', 'not-leader');
    metadata.set('leader-endpoint-host', this.leader.host);
    metadata.set('leader-endpoint-port', String(this.leader.port));
    fail({ code: status.NOT_FOUND, details: 'Leader info available', metadata });
    return true;
  }
}

export { StandInLog };
