/**
 * Reads waiting for the read models to reach a position (min_position, read-your-writes) or for
 * the runner to catch up. Shared by the in-process runner and the main thread's handle on the
 * worker-thread writer, so both answer waits alike: each check runs on every notify() (a batch
 * committed) and on a 50 ms poll (another process or thread may advance the read DB unannounced).
 */
export class PositionWaiters {
  private readonly waiters = new Set<() => void>();

  constructor(
    /** At most this many reads wait at once; more are answered "not reached" at once. */
    private readonly maxWaiters: number,
    private readonly onFull?: (waiting: number) => void,
  ) {}

  /**
   * Resolves true once `reached()` holds, false after `timeoutMs`. `reached` must not throw (it
   * runs on timers). Capped at maxWaiters: a flood of waits must not pile up timers and polls.
   */
  waitFor(reached: () => boolean, timeoutMs: number): Promise<boolean> {
    if (reached()) return Promise.resolve(true);
    if (this.waiters.size >= this.maxWaiters) {
      // The read answers as lagging (503 read_model_lagging, retry) instead of queueing.
      this.onFull?.(this.waiters.size);
      return Promise.resolve(false);
    }
    return this.wait(reached, timeoutMs, 50);
  }

  /** Like waitFor, without the cap or the poll: for a state only notify() changes (caught up). */
  waitUntil(reached: () => boolean, timeoutMs: number): Promise<boolean> {
    if (reached()) return Promise.resolve(true);
    return this.wait(reached, timeoutMs, null);
  }

  notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private wait(reached: () => boolean, timeoutMs: number, pollMs: number | null): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (reached()) finish(true);
      };
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        if (poll !== null) clearInterval(poll);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => finish(reached()), timeoutMs);
      const poll = pollMs === null ? null : setInterval(check, pollMs);
      this.waiters.add(check);
    });
  }
}
