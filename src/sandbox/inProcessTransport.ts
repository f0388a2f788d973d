/**
 * A NodeTransport that calls an embedded SandboxNode directly, with the same failure classes as the
 * network: 'drop' is a reset and 'hang' a timeout after `timeoutMs` (both "sent then failed").
 */
import { NodeTransportError } from '../gateways/transport.js';
import type { NodeTransport, NodeTransportRequest, NodeTransportResponse } from '../gateways/transport.js';
import type { SandboxNode } from './sandboxNode.js';
import { jsonCopy, NOT_PLAIN } from './jsonCopy.js';

/**
 * The nominal base URL for a gateway over the in-process transport: nothing leaves the process, and a
 * loopback name keeps the transport rule satisfied without turning on RUSTCHAIN_ALLOW_INSECURE.
 */
export const EMBEDDED_SANDBOX_BASE_URL = 'http://localhost';

export function createInProcessTransport(node: SandboxNode): NodeTransport {
  return async (request: NodeTransportRequest): Promise<NodeTransportResponse> => {
    const url = new URL(request.url);
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
    const reply = await withTimeout(
      node.handle({ method: request.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body: request.body }),
      request.timeoutMs,
    );
    if (reply === 'drop') throw new NodeTransportError('sent_then_failed', 'ECONNRESET', 'connection reset by the sandbox node');
    if (reply === 'hang') {
      await delay(request.timeoutMs);
      throw timeoutError();
    }
    // What the client would parse off the wire, without the text in between (jsonCopy.ts); the rest
    // takes the real round trip.
    const json = jsonCopy(reply.body);
    return json === NOT_PLAIN ? { status: reply.status, body: JSON.stringify(reply.body) } : { status: reply.status, json };
  };
}

const timeoutError = (): NodeTransportError => new NodeTransportError('sent_then_failed', 'timeout', 'TimeoutError: timeout');

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
