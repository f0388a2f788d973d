/**
 * Classifies what viem threw into the port's outcomes. The rule is the node gateway's: an answer that
 * refuses is `rejected`; anything that leaves the answer unknown (timeout, 5xx, reset, garbage) is
 * `unknown`. A JSON-RPC error on eth_getLogs that speaks of limits means the range was capped.
 */
import { BaseError, HttpRequestError, RpcError, TimeoutError } from 'viem';
import { classifyNetworkError } from './transport.js';
import type { ChainFailureReason, ChainOutcome } from './quoteChain.js';

const MAX_DETAIL_CHARS = 200;
/** What RPC providers say when a log query is too wide or returns too much. */
const CAPPED_MESSAGE = /limit|too many|more than|range|exceed|too large|max results|block range/i;
/** JSON-RPC "limit exceeded" (EIP-1474) and the -32602/-32600 some providers use for too-wide ranges. */
const LIMIT_CODE = -32005;
/** Internal errors and "resource unavailable" are the node's trouble, not an answer about the request. */
const TRANSIENT_RPC_CODES = new Set([-32603, -32002, -32000]);

const DEFINITE_CALL_ERRORS = new Set(['ContractFunctionRevertedError', 'ContractFunctionZeroDataError']);

type Failure = Exclude<ChainOutcome<never>, { kind: 'ok' }>;

const fail = (kind: Failure['kind'], reason: ChainFailureReason, detail: string): Failure => ({
  kind,
  reason,
  detail: detail.slice(0, MAX_DETAIL_CHARS),
});

export function classifyChainError(error: unknown, isLogCall: boolean): Failure {
  if (error instanceof Error && error.name === 'RangeCappedError') return fail('rejected', 'range_capped', error.message);
  if (!(error instanceof BaseError)) return fail('unknown', 'malformed', error instanceof Error ? error.message : String(error));
  const timeout = error.walk((e) => e instanceof TimeoutError);
  if (timeout) return fail('unknown', 'timeout', 'request timed out');
  // A view call that reverts, or finds no code at the address, got a definite answer.
  if (error.walk((e) => e instanceof Error && DEFINITE_CALL_ERRORS.has(e.name))) {
    return fail('rejected', 'reverted', error.shortMessage);
  }
  const httpError = error.walk((e) => e instanceof HttpRequestError) as HttpRequestError | null;
  if (httpError) return classifyHttp(httpError);
  const rpcError = error.walk((e) => e instanceof RpcError) as RpcError | null;
  if (rpcError) return classifyRpc(rpcError, isLogCall);
  // An answer viem could not read (bad JSON, a wrong shape): nothing is known.
  return fail('unknown', 'malformed', error.shortMessage);
}

function classifyHttp(error: HttpRequestError): Failure {
  const status = error.status;
  if (status === undefined) {
    // No HTTP answer at all: the fetch failed. Refused connections never reached the RPC node.
    const network = classifyNetworkError(error.cause);
    return network.kind === 'never_connected'
      ? fail('rejected', 'never_connected', network.code)
      : fail('unknown', 'network', network.code);
  }
  if (status >= 500 || status === 429) return fail('unknown', status === 429 ? 'http_4xx' : 'http_5xx', `HTTP ${status}`);
  return fail('rejected', 'http_4xx', `HTTP ${status}`);
}

function classifyRpc(error: RpcError, isLogCall: boolean): Failure {
  const message = error.details || error.shortMessage;
  if (isLogCall && (error.code === LIMIT_CODE || CAPPED_MESSAGE.test(message))) return fail('rejected', 'range_capped', message);
  if (TRANSIENT_RPC_CODES.has(error.code)) return fail('unknown', 'rpc_error', `${error.code}: ${message}`);
  return fail('rejected', 'rpc_error', `${error.code}: ${message}`);
}
