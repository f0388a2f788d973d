/**
 * Reads waiting for the read models to reach a position (min_position, read-your-writes) or for
 * the runner to catch up. Shared by the in-process runner and the main thread's handle on the
 * worker-thread writer, so both answer waits alike: each check runs on every notify() (a batch
 * committed) and on a 50 ms poll (another process or thread may advance the read DB unannounced).
 * The poll is one timer for every waiting read, not one each: `beforePoll` (the worker handle's
 * one look at the read DB) runs once per tick however many reads wait.
 */
export class PositionWaiters {
  private readonly waiters = new Set<() => void>();
  /** The waiters the poll checks (waitFor's); waitUntil's are only woken by notify(). */
  private readonly polled = new Set<() => void>();
  private pollTimer: NodeJS.Timeout | null = null;

  constructor(
    /** At most this many reads wait at once; more are answered "not reached" at once. */
    private readonly maxWaiters: number,
    private readonly onFull?: (waiting: number) => void,
    /** Runs at each poll tick before the checks; must not throw (it runs on a timer). */
    private readonly beforePoll?: () => void,
    private readonly pollMs = 50,
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
    return this.wait(reached, timeoutMs, true);
  }

  /** Like waitFor, without the cap or the poll: for a state only notify() changes (caught up). */
  waitUntil(reached: () => boolean, timeoutMs: number): Promise<boolean> {
    if (reached()) return Promise.resolve(true);
    return this.wait(reached, timeoutMs, false);
  }

  /** How many waitFor reads are waiting (waitUntil's are not counted). */
  polledCount(): number {
    return this.polled.size;
  }

  notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private poll(): void {
    this.beforePoll?.();
    for (const waiter of [...this.polled]) waiter();
  }

  private wait(reached: () => boolean, timeoutMs: number, polled: boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (reached()) finish(true);
      };
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (this.polled.delete(check) && this.polled.size === 0 && this.pollTimer !== null) {
          clearInterval(this.pollTimer);
          this.pollTimer = null;
        }
        resolve(value);
      };
      const timer = setTimeout(() => {
        // The last look before answering "not reached" sees what the poll would have seen.
        if (polled) this.beforePoll?.();
        finish(reached());
      }, timeoutMs);
      this.waiters.add(check);
      if (!polled) return;
      this.polled.add(check);
      this.pollTimer ??= setInterval(() => this.poll(), this.pollMs);
    });
  }
}
