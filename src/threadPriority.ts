import { readdirSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * The request thread first (issue 14): on a small machine the event loop is the bottleneck, and
 * the process's other threads (the read-model writer, the event-store writer, libuv's pool running
 * Ed25519 checks, V8's GC and compiler helpers) wake up and take its core in the middle of a
 * request: 2.6 involuntary switches of the loop per trade at 64 clients on 2 cores. Giving those
 * threads a higher nice value (a lower priority) lets the loop finish what it is doing first; they
 * still get every idle cycle, and the loop waits for them only where a request needs their answer.
 * Measured in docs/PERFORMANCE.md ("Session 7, lead": p99 at half load and trades/s at the peak).
 *
 * Linux only: there a nice value belongs to a thread and `setpriority` takes a thread id, which
 * `/proc/self/task` lists. Elsewhere (a thread id is not a process id there) this does nothing.
 * A thread whose nice value is already at least `nice` is left alone: this only ever lowers.
 */
export interface ThreadPriorityOptions {
  /** The nice value (1..19) for every thread of this process but the main one; 0 = leave them all alone. */
  readonly nice: number;
  /** How often threads started later (a restarted worker, libuv's pool on first use) are looked for. */
  readonly rescanMs?: number;
  /** The thread kept at its priority; default the calling thread (the event loop's, called from `serve`). */
  readonly keepThreadId?: number;
  /** Where the threads are listed (tests point this elsewhere); the default is this process's. */
  readonly taskDir?: string;
}

export interface BackgroundThreads {
  /** Thread ids given the lower priority so far. */
  readonly lowered: ReadonlySet<number>;
  /** Looks for new threads now (also done every rescanMs). */
  rescan(): void;
  stop(): void;
}

const DEFAULT_RESCAN_MS = 2_000;
const TASK_DIR = '/proc/self/task';

export function lowerBackgroundThreads(options: ThreadPriorityOptions): BackgroundThreads {
  const lowered = new Set<number>();
  const active = options.nice > 0 && process.platform === 'linux';
  const keepThreadId = options.keepThreadId ?? callingThreadId();
  const taskDir = options.taskDir ?? TASK_DIR;
  const rescan = (): void => {
    if (!active) return;
    for (const tid of threadIds(taskDir)) {
      // Every look asks each thread again (a cheap syscall): a thread id reused by a new thread is lowered too.
      if (tid !== keepThreadId && lowerOne(tid, options.nice)) lowered.add(tid);
    }
  };
  rescan();
  const timer = active ? setInterval(rescan, options.rescanMs ?? DEFAULT_RESCAN_MS) : null;
  timer?.unref();
  return {
    lowered,
    rescan,
    stop: () => {
      if (timer !== null) clearInterval(timer);
    },
  };
}

/** /proc/thread-self links to `<pid>/task/<tid>`; a process's main thread has its pid as its tid. */
function callingThreadId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return process.pid;
  }
}

/** The ids under /proc/self/task; none where it cannot be read (not Linux, no /proc mounted). */
function threadIds(taskDir: string): number[] {
  try {
    return readdirSync(taskDir).map(Number).filter((tid) => Number.isSafeInteger(tid) && tid > 0);
  } catch {
    return [];
  }
}

/**
 * One thread's nice value raised to `nice`, unless it is there already. A thread that ended
 * between the listing and the call, or a sandbox that forbids setpriority, is skipped: priority
 * is an optimisation, never a reason to fail.
 */
function lowerOne(tid: number, nice: number): boolean {
  try {
    if (getPriority(tid) >= nice) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
