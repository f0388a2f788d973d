/**
 * The simulated network between the ledger and the sandbox node: a NodeTransport that hands each
 * request to the real SandboxNode in-process and, when the seed says so, loses, delays, duplicates
 * or refuses it. Nothing waits on a real timer: a slow answer moves the simulated clock instead.
 */
import { NodeTransportError, type NodeTransport, type NodeTransportRequest, type NodeTransportResponse } from '../gateways/transport.js';
import type { SandboxNode, SandboxReply, SandboxRequest } from '../sandbox/index.js';
import type { Prng } from './prng.js';

/** What can go wrong with one request, as the issue lists them. */
export const NETWORK_FAULTS = [
  'answer_lost_after_effect',
  'timeout_before_send',
  'timeout_after_send',
  'timeout_after_effect',
  'error_500',
  'error_500_after_effect',
  'reject_400',
  'slow_answer',
  'duplicate_delivery',
  'node_restarting',
] as const;
export type NetworkFault = (typeof NETWORK_FAULTS)[number];

export interface SimClock {
  nowMs: number;
}

/** Seen before each request reaches the node: the checks of what the ledger may send (invariants 9, 10). */
export type RequestWatcher = (request: SandboxRequest) => void;

export interface SimNetworkOptions {
  readonly node: SandboxNode;
  readonly prng: Prng;
  readonly clock: SimClock;
  /** Probability that one request meets a fault (0 once faults stop). */
  faultRate: number;
  /** Requests still refused while the node restarts (its state survives: it is the same ledger). */
  restartingFor: number;
  readonly onFault: (fault: NetworkFault, request: SandboxRequest) => void;
  readonly watch: RequestWatcher;
}

export class SimCrash extends Error {
  constructor(where: string) {
    super(`simulated crash of the ledger at ${where}`);
    this.name = 'SimCrash';
  }
}

const reset = (): NodeTransportError => new NodeTransportError('sent_then_failed', 'ECONNRESET', 'connection reset');
const timedOut = (): NodeTransportError => new NodeTransportError('sent_then_failed', 'timeout', 'TimeoutError: timeout');
const refused = (): NodeTransportError => new NodeTransportError('never_connected', 'ECONNREFUSED', 'connection refused');
const connectTimeout = (): NodeTransportError => new NodeTransportError('never_connected', 'UND_ERR_CONNECT_TIMEOUT', 'connect timeout');

const FAULT_WEIGHTS: Readonly<Record<Exclude<NetworkFault, 'node_restarting'>, number>> = {
  answer_lost_after_effect: 3,
  timeout_before_send: 2,
  timeout_after_send: 2,
  timeout_after_effect: 3,
  error_500: 2,
  error_500_after_effect: 1,
  reject_400: 1,
  slow_answer: 3,
  duplicate_delivery: 3,
};

/**
 * The transport one ledger instance uses. `beforeSend`/`afterAnswer` are its crash points: the
 * instance may die there, after which nothing it does reaches the node.
 */
export function simTransport(net: SimNetworkOptions, crashPoint: (where: string) => void): NodeTransport {
  return async (request: NodeTransportRequest): Promise<NodeTransportResponse> => {
    crashPoint('before a node call');
    const url = new URL(request.url);
    const req: SandboxRequest = {
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])),
      body: request.body,
    };
    if (net.restartingFor > 0) {
      net.restartingFor -= 1;
      net.onFault('node_restarting', req);
      throw refused();
    }
    const fault = net.faultRate > 0 && net.prng.chance(net.faultRate) ? net.prng.weighted(FAULT_WEIGHTS) : null;
    if (fault !== null) net.onFault(fault, req);
    const deliver = async (): Promise<SandboxReply> => {
      net.watch(req);
      return net.node.handle(req);
    };
    let reply: SandboxReply;
    switch (fault) {
      case 'timeout_before_send':
        net.clock.nowMs += request.timeoutMs;
        throw connectTimeout();
      case 'timeout_after_send':
        net.clock.nowMs += request.timeoutMs;
        throw timedOut();
      case 'reject_400':
        return { status: 400, body: JSON.stringify({ ok: false, error: 'Rejected (simulated)' }) };
      case 'error_500':
        return { status: 500, body: JSON.stringify({ ok: false, error: 'Internal error (simulated)' }) };
      case 'answer_lost_after_effect':
        await deliver();
        throw reset();
      case 'timeout_after_effect':
        await deliver();
        net.clock.nowMs += request.timeoutMs;
        throw timedOut();
      case 'error_500_after_effect':
        await deliver();
        return { status: 500, body: JSON.stringify({ ok: false, error: 'Internal error (simulated)' }) };
      case 'duplicate_delivery': {
        const first = await deliver();
        const second = await deliver();
        reply = net.prng.chance(0.5) ? first : second;
        break;
      }
      case 'slow_answer':
        reply = await deliver();
        net.clock.nowMs += net.prng.int(request.timeoutMs);
        break;
      default:
        reply = await deliver();
    }
    crashPoint('after a node answer');
    if (reply === 'drop') throw reset();
    if (reply === 'hang') {
      net.clock.nowMs += request.timeoutMs;
      throw timedOut();
    }
    return { status: reply.status, body: JSON.stringify(reply.body) };
  };
}
