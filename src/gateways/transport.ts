/**
 * How the rustchain adapter reaches a node: a pluggable transport (undici over the network, or the
 * embedded sandbox in-process) whose failures say whether the request could have reached the node.
 */
import { Agent, request } from 'undici';

export interface NodeTransportRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

/**
 * The answer as text, or (an in-process transport only) already decoded: `json` must be exactly what
 * `JSON.parse(body)` would have given, a fresh value sharing nothing with the sender.
 */
export type NodeTransportResponse = NodeTextResponse | { readonly status: number; readonly json: unknown };

/** An answer as the network delivers it. */
export interface NodeTextResponse {
  readonly status: number;
  readonly body: string;
}

export type NodeTransport = (request: NodeTransportRequest) => Promise<NodeTransportResponse>;

/**
 * - `never_connected`: no connection was established (refused, DNS, TLS handshake), so the node
 *   cannot have seen the request: the outcome is `rejected`.
 * - `sent_then_failed`: the request may have been written (timeout, reset, abort): `unknown`.
 */
export type TransportFailureKind = 'never_connected' | 'sent_then_failed';

export class NodeTransportError extends Error {
  constructor(
    readonly kind: TransportFailureKind,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'NodeTransportError';
  }
}

/** Error codes that prove no connection was ever established. Anything else counts as maybe sent. */
const NEVER_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'EPROTO',
]);

const isNeverConnectedCode = (code: string): boolean =>
  NEVER_CONNECTED_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_');

/** Every error code in an error, its causes and (for happy-eyeballs connects) its aggregated errors. */
function errorCodes(error: unknown, depth = 0): string[] {
  if (depth > 5 || typeof error !== 'object' || error === null) return [];
  const record = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof record.code === 'string' ? [record.code] : [];
  const nested = Array.isArray(record.errors) ? record.errors.flatMap((e) => errorCodes(e, depth + 1)) : [];
  return [...own, ...errorCodes(record.cause, depth + 1), ...nested];
}

/** Classifies a network error; a timeout or an unrecognised failure is conservatively "maybe sent". */
export function classifyNetworkError(error: unknown): NodeTransportError {
  if (error instanceof NodeTransportError) return error;
  const codes = errorCodes(error);
  const name = error instanceof Error ? error.name : 'Error';
  const timedOut = name === 'TimeoutError' || name === 'AbortError' || codes.includes('UND_ERR_ABORTED');
  const neverConnected = !timedOut && codes.length > 0 && codes.every(isNeverConnectedCode);
  const code = codes[0] ?? (timedOut ? 'timeout' : name);
  return new NodeTransportError(neverConnected ? 'never_connected' : 'sent_then_failed', code, `${name}: ${code}`);
}

export interface UndiciTransport {
  (request: NodeTransportRequest): Promise<NodeTextResponse>;
  /** Closes the connection pool this transport owns. */
  close(): Promise<void>;
}

/**
 * The network transport. Certificate checks stay on (undici's default); the whole exchange, body
 * included, is bounded by the request's `timeoutMs`, and connecting by `connectTimeoutMs`.
 */
export function createUndiciTransport(options: { connectTimeoutMs?: number } = {}): UndiciTransport {
  const dispatcher = new Agent({ connect: { timeout: options.connectTimeoutMs ?? 10_000, rejectUnauthorized: true } });
  const transport = async (req: NodeTransportRequest): Promise<NodeTextResponse> => {
    try {
      const response = await request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher,
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      return { status: response.statusCode, body: await response.body.text() };
    } catch (error) {
      throw classifyNetworkError(error);
    }
  };
  return Object.assign(transport, { close: () => dispatcher.close() });
}

/** localhost, 127.0.0.0/8 and ::1: the hosts the admin key may be sent to over plain http. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost' || host === '::1') return true;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets[1] === '127' && octets.slice(2).every((o) => Number(o) <= 255);
}

/**
 * The transport rule: https (certificate checks are never turned off here), or plain http to a
 * loopback host, or anything when the operator explicitly allowed insecure transport.
 */
export function isTransportAllowed(baseUrl: string, allowInsecure: boolean): boolean {
  if (allowInsecure) return true;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && isLoopbackHost(url.hostname);
}
