import { CancelledError, DeadlineExceededError, NotLeaderError, UnavailableError, UnknownError } from '@eventstore/db-client';

/**
 * Bounded retry for calls to EventStoreDB. The client library drops its channel on UNAVAILABLE,
 * server-side CANCELLED and NotLeader (and reconnects to the named leader), but it does not retry
 * the call; this does. Retrying is safe for reads, and for appends because every event carries our
 * event id: the server answers a repeated append at the same expected version with the original
 * result instead of writing twice.
 */

export interface RetryPolicy {
  /** Attempts in total, the first included; past this the last error is thrown. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** gRPC status codes; @grpc/grpc-js is not a runtime dependency of the ledger itself. */
const GRPC_INTERNAL = 13;
const GRPC_UNAVAILABLE = 14;

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 3_000 };

/**
 * A BatchAppend the node refused before writing because it is starting, electing or overloaded.
 * KurrentDB answers these with a Status whose detail is an Empty, which client 6.2.1 cannot
 * recognise, so it throws UnknownError("Could not recognize Server Is Not Ready") (see
 * dist/streams/appendToStream/unpackError.js); the message is all there is to go by.
 */
const REFUSED_NOT_WRITTEN = /Server Is (Not Ready|Busy|Too Busy)/i;

/** The node is gone, restarting, refusing for now, or no longer the leader: the same call may succeed shortly. */
export function isTransient(error: unknown): boolean {
  if (error instanceof NotLeaderError || error instanceof UnavailableError) return true;
  if (error instanceof CancelledError || error instanceof DeadlineExceededError) return true;
  if (error instanceof UnknownError && REFUSED_NOT_WRITTEN.test(error.message)) return true;
  // A connection torn down mid-call can surface as a bare gRPC status the client did not map.
  const code = (error as { code?: unknown } | null)?.code;
  return code === GRPC_UNAVAILABLE || code === GRPC_INTERNAL;
}

/** Exponential backoff with jitter, so instances that lost the same node do not return in step. */
export function backoffDelayMs(policy: RetryPolicy, failures: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

export async function withRetry<T>(policy: RetryPolicy, action: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (!isTransient(error) || attempt >= policy.maxAttempts || signal?.aborted) throw error;
      await sleep(backoffDelayMs(policy, attempt), signal);
    }
  }
}
