/**
 * One classified exchange with the node: the transport rule is checked before anything is sent, the
 * admin key rides only on calls that need it, and every result becomes an outcome of domain.md §6
 * (2xx ok, 4xx or never connected rejected, 5xx or timeout/reset unknown). Never throws.
 */
import { classifyNetworkError, isTransportAllowed } from './transport.js';
import type { NodeTransport } from './transport.js';
import type { NodeOutcome } from './node.js';

const MAX_REASON_CHARS = 300;

export interface NodeAlert {
  readonly code: 'insecure_transport_refused';
  readonly message: string;
}

export interface NodeClientOptions {
  readonly baseUrl: string;
  readonly adminKey: string;
  readonly allowInsecure: boolean;
  readonly timeoutMs: number;
  readonly transport: NodeTransport;
  readonly onAlert?: (alert: NodeAlert) => void;
}

export interface NodeCall {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  /** Only the transfer carries the admin key: the fewer requests hold it, the fewer can leak it. */
  readonly admin?: boolean;
}

export interface NodeAnswer {
  readonly status: number;
  readonly json: unknown;
}

/** Reads a 2xx answer (null: unreadable); `special` may claim a non-2xx answer first (a 404 meaning "none"). */
export type NodeExchange = <T>(
  call: NodeCall,
  parse: (json: unknown) => T | null,
  special?: (answer: NodeAnswer) => NodeOutcome<T> | null,
) => Promise<NodeOutcome<T>>;

export const rejectedOutcome = (reason: string, httpStatus: number | null = null) => ({ kind: 'rejected', reason, httpStatus }) as const;
export const unknownOutcome = (reason: string) => ({ kind: 'unknown', reason }) as const;
export const okOutcome = <T>(value: T): NodeOutcome<T> => ({ kind: 'ok', value });

export function createNodeExchange(options: NodeClientOptions): NodeExchange {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  // A pure function of two fixed options: decided once, not by parsing the URL on every call.
  const transportAllowed = isTransportAllowed(baseUrl, options.allowInsecure);
  const redact = (text: string): string =>
    (options.adminKey ? text.split(options.adminKey).join('[redacted]') : text).slice(0, MAX_REASON_CHARS);

  async function send(call: NodeCall): Promise<NodeAnswer | Exclude<NodeOutcome<never>, { kind: 'ok' }>> {
    if (!transportAllowed) {
      alert(options, call);
      return rejectedOutcome('insecure_transport_refused');
    }
    try {
      const response = await options.transport({
        method: call.method,
        url: `${baseUrl}${call.path}${call.query ? `?${new URLSearchParams(call.query).toString()}` : ''}`,
        headers: headersFor(call, options.adminKey),
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        timeoutMs: options.timeoutMs,
      });
      return { status: response.status, json: 'json' in response ? response.json : parseJson(response.body) };
    } catch (error) {
      const failure = classifyNetworkError(error);
      const reason = redact(`${failure.kind}: ${failure.code}`);
      return failure.kind === 'never_connected' ? rejectedOutcome(reason) : unknownOutcome(reason);
    }
  }

  return async (call, parse, special) => {
    const answer = await send(call);
    if ('kind' in answer) return answer;
    const claimed = special?.(answer) ?? null;
    if (claimed) return claimed;
    const { status, json } = answer;
    if (status >= 200 && status < 300) {
      const value = parse(json);
      return value === null ? unknownOutcome(`malformed_response: http_${status}`) : okOutcome(value);
    }
    const reason = redact(errorText(json) ?? `http_${status}`);
    return status >= 400 && status < 500 ? rejectedOutcome(reason, status) : unknownOutcome(`http_${status}: ${reason}`);
  };
}

function headersFor(call: NodeCall, adminKey: string): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.admin) headers['x-admin-key'] = adminKey;
  return headers;
}

function alert(options: NodeClientOptions, call: NodeCall): void {
  try {
    options.onAlert?.({
      code: 'insecure_transport_refused',
      message: `refused ${call.method} ${call.path}: plain http to a non-loopback node; use https or set RUSTCHAIN_ALLOW_INSECURE=1`,
    });
  } catch {
    // A failing alert sink must not turn a clean refusal into a thrown error.
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The node's `{"error": "..."}` text, if any. */
export function errorText(json: unknown): string | null {
  if (typeof json !== 'object' || json === null) return null;
  const error = (json as { error?: unknown }).error;
  return typeof error === 'string' ? error : null;
}
