/**
 * Failed admin authentications per client address, in fixed one-minute windows. Once an address
 * has failed `maxPerWindow` times, every admin call from it is refused (429) until the window
 * ends, even with the right token, so guessing the token costs a minute per few tries. Bounded:
 * at most `maxAddresses` are tracked, the oldest forgotten first.
 */
export interface AuthFailureLimiter {
  /** Milliseconds until the address may try again, or 0 when it may try now. */
  blockedForMs(address: string, nowMs: number): number;
  recordFailure(address: string, nowMs: number): void;
}

export interface AuthFailureOptions {
  readonly maxPerWindow: number;
  readonly windowMs?: number;
  readonly maxAddresses?: number;
}

export function createAuthFailureLimiter(options: AuthFailureOptions): AuthFailureLimiter {
  const windowMs = options.windowMs ?? 60_000;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const windows = new Map<string, { startMs: number; failures: number }>();
  const current = (address: string, nowMs: number) => {
    const entry = windows.get(address);
    if (entry === undefined || nowMs - entry.startMs >= windowMs) return null;
    return entry;
  };
  return {
    blockedForMs(address, nowMs) {
      const entry = current(address, nowMs);
      return entry !== null && entry.failures >= options.maxPerWindow ? entry.startMs + windowMs - nowMs : 0;
    },
    recordFailure(address, nowMs) {
      const entry = current(address, nowMs);
      if (entry !== null) {
        entry.failures += 1;
        return;
      }
      windows.delete(address);
      if (windows.size >= maxAddresses) windows.delete(windows.keys().next().value as string);
      windows.set(address, { startMs: nowMs, failures: 1 });
    },
  };
}
