/**
 * EventStoreDB STAND-IN for tests: a test double of the server's gRPC wire protocol, NOT a product
 * and not a database. It serves the service definitions that @eventstore/db-client itself ships
 * (generated/*_grpc_pb.js) over insecure HTTP/2 on 127.0.0.1, keeps everything in memory, and
 * implements only what the ledger's esdb adapter uses:
 *
 * - ServerFeatures.GetSupportedMethods: lists Streams.Read and Streams.Append only, so the client
 *   does not use BatchAppend (it checks this list before every append; see the README);
 * - Streams.Append: expected revision, idempotent retries, wrong-expected-version answers;
 * - Streams.Read: one stream forwards/backwards, $all forwards/backwards, stream_not_found, and
 *   catch-up subscriptions to $all with stream-name/event-type filters, checkpoints and caught_up.
 *
 * Everything else answers UNIMPLEMENTED. stop() drops every connection like a crashed node;
 * start() again serves the same in-memory log on the same port. A node can be told it is a
 * follower, so Streams calls answer NotLeader with the leader's address, as a real follower does
 * to requests that require the leader.
 */
import { randomUUID } from 'node:crypto';
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { serverFeaturesGrpc, serverFeaturesPb, sharedPb, streamsGrpc, type AppendReq, type AppendResp, type ReadReq, type ReadResp } from './generated.js';
import { StandInLog, type ExpectedRevision, type ProposedEvent } from './log.js';
import { readAll, readStream, subscribeAll } from './reads.js';
import { appendResponse, expectedRevisionOf, proposedEventOf, streamNameOf } from './wire.js';

export interface EsdbStandInOptions {
  /** Share one log between nodes (a leader and a follower) or across a restart; default a fresh one. */
  readonly log?: StandInLog;
  /** 0 (default) picks a free port on first start; restarts reuse it. */
  readonly port?: number;
}

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
  private readonly liveSubscriptions = new Set<() => void>();
  /** How many Streams calls this node has answered; lets tests see that traffic moved. */
  callCount = 0;

  constructor(options: EsdbStandInOptions = {}) {
    this.log = options.log ?? new StandInLog();
    this.currentPort = options.port ?? 0;
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

  /** From now on answer Streams calls with NotLeader pointing at `leader` (null: be the leader again). */
  followLeader(leader: LeaderAddress | null): void {
    this.leader = leader;
  }

  private streamsImplementation() {
    const unimplemented = (_call: unknown, callback: sendUnaryData<never>) =>
      callback({ code: status.UNIMPLEMENTED, details: 'not implemented by the esdb stand-in' });
    return {
      read: (call: ServerWritableStream<ReadReq, ReadResp>) => this.read(call),
      append: (call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>) => this.append(call, callback),
      delete: unimplemented,
      tombstone: unimplemented,
      batchAppend: (call: ServerWritableStream<unknown, unknown>) =>
        call.emit('error', { code: status.UNIMPLEMENTED, details: 'BatchAppend is not implemented by the esdb stand-in' }),
    };
  }

  private readonly supportedMethods = (
    _call: ServerUnaryCall<InstanceType<typeof sharedPb.Empty>, unknown>,
    callback: sendUnaryData<InstanceType<typeof serverFeaturesPb.SupportedMethods>>,
  ): void => {
    const methods = new serverFeaturesPb.SupportedMethods();
    methods.setEventStoreServerVersion('0.0.0-esdb-stand-in');
    for (const name of ['Read', 'Append']) {
      const method = new serverFeaturesPb.SupportedMethod();
      method.setServiceName(STREAMS_SERVICE);
      method.setMethodName(name);
      methods.addMethods(method);
    }
    callback(null, methods);
  };

  private read(call: ServerWritableStream<ReadReq, ReadResp>): void {
    this.callCount += 1;
    if (this.rejectAsFollower((error) => call.emit('error', error))) return;
    const options = call.request.getOptions();
    if (options === undefined) return void call.emit('error', { code: status.INVALID_ARGUMENT, details: 'no read options' });
    const isSubscription = options.hasSubscription();
    if (options.hasStream() && !isSubscription) return readStream(this.log, options, call);
    if (options.hasAll() && !isSubscription) return readAll(this.log, options, call);
    if (options.hasAll()) {
      const unsubscribe = subscribeAll(this.log, options, call, randomUUID());
      this.liveSubscriptions.add(unsubscribe);
      call.on('close', () => this.liveSubscriptions.delete(unsubscribe));
      return;
    }
    call.emit('error', { code: status.UNIMPLEMENTED, details: 'stream subscriptions are not implemented by the esdb stand-in' });
  }

  private append(call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>): void {
    this.callCount += 1;
    if (this.rejectAsFollower((error) => callback(error))) return;
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
      callback(null, appendResponse(this.log.append(stream, expected, proposed), expected));
    });
    call.on('error', () => undefined);
  }

  private rejectAsFollower(fail: (error: { code: number; details: string; metadata: Metadata }) => void): boolean {
    if (this.leader === null) return false;
    const metadata = new Metadata();
    metadata.set('exception', 'not-leader');
    metadata.set('leader-endpoint-host', this.leader.host);
    metadata.set('leader-endpoint-port', String(this.leader.port));
    fail({ code: status.NOT_FOUND, details: 'Leader info available', metadata });
    return true;
  }
}

export { StandInLog };
