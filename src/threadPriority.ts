import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * The request thread first (issue 14): on a small machine the event loop is the bottleneck, and
 * the process's other threads (the read-model writer, the event-store writer, libuv's pool running
 * Ed25519 checks, V8's GC and compiler helpers) wake up and take its core in the middle of a
 * request: 2.6 involuntary switches of the loop per trade at 64 clients on 2 cores, and an Ed25519
 * check handed to libuv's pool cost the loop ~90 µs of wall time per signature (as much as checking
 * it on the loop), because the pool thread it woke ran on the loop's core at once.
 *
 * Two ways to stop that, each measured in docs/PERFORMANCE.md ("Session 8, lead"):
 * - **SCHED_BATCH** (`policy: 'batch'`, the default): Linux's scheduler never lets a batch thread
 *   preempt a running one when it wakes (it waits for the tick or an idle core), yet the thread keeps
 *   its full fair share of CPU, so against other busy processes on the host it loses nothing. Node
 *   has no call for a thread's scheduling policy, so this runs util-linux's `chrt --batch --pid 0
 *   <tid>` once per new thread, asynchronously; without `chrt` it does nothing more and says why.
 * - **A nice value** (`nice` 1..19): the same effect by priority, at the cost of a smaller share
 *   against other processes (session 7: 5–25 % fewer trades/s on a host busy with other work).
 *
 * Linux only: there a thread has its own nice value and policy, and `/proc/self/task` lists the
 * thread ids that `setpriority` and `sched_setscheduler` take. Elsewhere this does nothing. A
 * thread whose nice value is already at least `nice`, or that runs under another policy than
 * SCHED_OTHER (already batch, idle or real-time), is left alone: this only ever lowers.
 */
export type BackgroundThreadPolicy = 'batch' | 'normal';

export interface ThreadPriorityOptions {
  /** The nice value (1..19) for every thread of this process but the main one; 0 = leave nice values alone. */
  readonly nice: number;
  /** 'batch': SCHED_BATCH for every thread but the main one; 'normal' (the default here): leave policies alone. */
  readonly policy?: BackgroundThreadPolicy;
  /** How often threads started later (a restarted worker, libuv's pool on first use) are looked for. */
  readonly rescanMs?: number;
  /** The thread kept at its priority; default the calling thread (the event loop's, called from `serve`). */
  readonly keepThreadId?: number;
  /** Where the threads are listed (tests point this elsewhere); the default is this process's. */
  readonly taskDir?: string;
  /** Puts one thread under SCHED_BATCH; the default runs `chrt`. Tests inject a failing one. */
  readonly setBatchPolicy?: (tid: number) => Promise<void>;
}

export interface BackgroundThreads {
  /** Thread ids given the lower nice value so far. */
  readonly lowered: ReadonlySet<number>;
  /** Thread ids put under SCHED_BATCH so far. */
  readonly batched: ReadonlySet<number>;
  /** Why SCHED_BATCH could not be set (no `chrt`, refused); null while it works or was not asked for. */
  readonly batchUnavailable: string | null;
  /** Looks for new threads now (also done every rescanMs). */
  rescan(): void;
  /** Resolves once every policy change started so far has ended (`serve` logs what was done after it). */
  settled(): Promise<void>;
  stop(): void;
}

const DEFAULT_RESCAN_MS = 2_000;
const TASK_DIR = '/proc/self/task';

export function lowerBackgroundThreads(options: ThreadPriorityOptions): BackgroundThreads {
  const lowered = new Set<number>();
  const batched = new Set<number>();
  const onLinux = process.platform === 'linux';
  const lowerNice = options.nice > 0 && onLinux;
  const keepThreadId = options.keepThreadId ?? callingThreadId();
  const taskDir = options.taskDir ?? TASK_DIR;
  const setBatchPolicy = options.setBatchPolicy ?? batchPolicyByChrt;
  let batchUnavailable: string | null = null;
  const wantBatch = (): boolean => options.policy === 'batch' && onLinux && batchUnavailable === null;
  const pending = new Map<number, Promise<void>>();
  const toBatch = (tid: number): void => {
    if (pending.has(tid) || schedulingPolicy(taskDir, tid) !== SCHED_OTHER) return;
    const change = setBatchPolicy(tid).then(
      () => void batched.add(tid),
      // A thread that ended meanwhile is not a failure; anything else (no chrt, a sandbox that
      // forbids it) stops further attempts: priority is an optimisation, never a reason to fail.
      (error: unknown) => {
        if (schedulingPolicy(taskDir, tid) !== null) batchUnavailable ??= reasonOf(error);
      },
    ).finally(() => pending.delete(tid));
    pending.set(tid, change);
  };
  const rescan = (): void => {
    if (!lowerNice && !wantBatch()) return;
    for (const tid of threadIds(taskDir)) {
      if (tid === keepThreadId) continue;
      // Every look asks each thread again (a cheap read): a thread id reused by a new thread is lowered too.
      if (lowerNice && lowerOne(tid, options.nice)) lowered.add(tid);
      if (wantBatch()) toBatch(tid);
    }
  };
  rescan();
  const timer = lowerNice || wantBatch() ? setInterval(rescan, options.rescanMs ?? DEFAULT_RESCAN_MS) : null;
  timer?.unref();
  return {
    lowered,
    batched,
    get batchUnavailable() {
      return batchUnavailable;
    },
    rescan,
    settled: async () => {
      while (pending.size > 0) await Promise.all(pending.values());
    },
    stop: () => {
      if (timer !== null) clearInterval(timer);
    },
  };
}

/** The kernel's SCHED_OTHER: the only policy this moves a thread from. */
const SCHED_OTHER = 0;
/** `policy` is field 41 of /proc/<pid>/task/<tid>/stat, the 39th after the command name's closing parenthesis. */
const POLICY_FIELD_AFTER_COMM = 38;

/** A thread's scheduling policy from its stat line; null when the thread is gone or the line unreadable. */
export function schedulingPolicy(taskDir: string, tid: number): number | null {
  try {
    const stat = readFileSync(`${taskDir}/${tid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after its last ')'.
    const policy = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[POLICY_FIELD_AFTER_COMM]);
    return Number.isInteger(policy) ? policy : null;
  } catch {
    return null;
  }
}

/** util-linux's chrt on one thread id (without --all-tasks it changes that thread alone). */
function batchPolicyByChrt(tid: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('chrt', ['--batch', '--pid', '0', String(tid)], { timeout: 5_000 }, (error) => (error ? reject(error) : resolve()));
  });
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'chrt (util-linux) is not installed';
  return error instanceof Error ? error.message.split('\n')[0] ?? error.name : String(error);
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
