/**
 * What the server process spends per trade, beyond CPU: bytes it made the kernel write to disk
 * (/proc/self/io write_bytes: page-cache write-back charged to this process, WAL and checkpoints
 * included) and the SQLite transactions it committed, per database file. The commit count wraps
 * better-sqlite3's Statement#run in this process (the bench's server), so it counts every explicit
 * `COMMIT` (better-sqlite3 transactions and `exec('COMMIT')`); single statements that commit on
 * their own (autocommit) are counted separately as writes outside any transaction.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { MessagePort, Worker } from 'node:worker_threads';
import { basename } from 'node:path';
import Database from 'better-sqlite3';

export interface ServerCounters {
  readonly writeBytes: number;
  readonly writeSyscalls: number;
  /** COMMITs by database file name. */
  readonly commits: Readonly<Record<string, number>>;
  /** Write statements run outside a transaction (each its own commit), by database file name. */
  readonly autocommitWrites: Readonly<Record<string, number>>;
}

const commits = new Map<string, number>();
const autocommitWrites = new Map<string, number>();
let installed = false;

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
const fileOf = (db: { name: string }): string => (db.name === ':memory:' ? ':memory:' : basename(db.name));

/** Installs the commit counter once, before the server opens its databases. */
export function installCommitCounter(): void {
  if (installed) return;
  installed = true;
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as { run: (...args: unknown[]) => unknown };
  probe.close();
  const run = proto.run;
  proto.run = function countedRun(this: { source: string; reader: boolean; database: { name: string; inTransaction: boolean } }, ...args: unknown[]) {
    if (this.source === 'COMMIT') bump(commits, fileOf(this.database));
    else if (!this.reader && !this.database.inTransaction && !/^\s*(BEGIN|SAVEPOINT|RELEASE|ROLLBACK|PRAGMA)/i.test(this.source)) {
      bump(autocommitWrites, fileOf(this.database));
    }
    return run.apply(this, args);
  };
  const dbProto = Database.prototype as unknown as { exec: (sql: string) => unknown };
  const exec = dbProto.exec;
  dbProto.exec = function countedExec(this: { name: string }, sql: string) {
    if (/^\s*COMMIT\b/i.test(sql)) bump(commits, fileOf(this));
    return exec.call(this, sql);
  };
}

function procIo(): { writeBytes: number; writeSyscalls: number } {
  try {
    const text = readFileSync('/proc/self/io', 'utf8');
    const field = (name: string): number => {
      const match = new RegExp(`^${name}: (\\d+)$`, 'm').exec(text);
      return match ? Number(match[1]) : NaN;
    };
    return { writeBytes: field('write_bytes'), writeSyscalls: field('syscw') };
  } catch {
    return { writeBytes: NaN, writeSyscalls: NaN };
  }
}

export function readServerCounters(): ServerCounters {
  return { ...procIo(), commits: Object.fromEntries(commits), autocommitWrites: Object.fromEntries(autocommitWrites) };
}

/** after − before, per trade. */
export function perTrade(before: ServerCounters, after: ServerCounters, trades: number): {
  writeBytes: number;
  writeSyscalls: number;
  commits: Record<string, number>;
  autocommitWrites: Record<string, number>;
} {
  const per = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
    Object.fromEntries(Object.keys(b).map((k) => [k, ((b[k] ?? 0) - (a[k] ?? 0)) / Math.max(1, trades)]));
  return {
    writeBytes: (after.writeBytes - before.writeBytes) / Math.max(1, trades),
    writeSyscalls: (after.writeSyscalls - before.writeSyscalls) / Math.max(1, trades),
    commits: per(before.commits, after.commits),
    autocommitWrites: per(before.autocommitWrites, after.autocommitWrites),
  };
}

/**
 * One thread of this process as Linux shows it: CPU (user + system, ms, 10 ms ticks) and its
 * context switches. A voluntary switch is the thread going to sleep (waiting for work, a lock, a
 * disk); each one is later paid back by a wake-up, so voluntary switches per trade count the
 * hand-offs between threads that a trade costs (the event-store writer, the read-model writer,
 * libuv's pool for Ed25519 checks and fsync, V8's GC helpers).
 */
export interface ThreadSample {
  readonly tid: string;
  readonly name: string;
  readonly cpuMs: number;
  readonly voluntary: number;
  readonly involuntary: number;
  /** Bytes handed to write(2) (/proc/.../io wchar). */
  readonly writeBytes: number;
}

export function threadSamples(): Map<string, ThreadSample> {
  const samples = new Map<string, ThreadSample>();
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return samples;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
      const count = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)$`, 'm').exec(status)?.[1] ?? Number.NaN);
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const writeBytes = Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/self/task/${tid}/io`, 'utf8'))?.[1] ?? Number.NaN);
      samples.set(tid, { tid, name, cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, voluntary: count('voluntary_ctxt_switches'), involuntary: count('nonvoluntary_ctxt_switches'), writeBytes });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return samples;
}

/** Per trade, each thread that ran (main first, then by CPU): "name tid: CPU ms, wake-ups". */
export function threadsPerTrade(before: Map<string, ThreadSample>, after: Map<string, ThreadSample>, trades: number, mainTid: string): string {
  const rows: { label: string; cpuMs: number; voluntary: number; involuntary: number; main: boolean }[] = [];
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { cpuMs: 0, voluntary: 0, involuntary: 0 };
    const row = { label: `${tid === mainTid ? 'main' : a.name}#${tid}`, cpuMs: (a.cpuMs - b.cpuMs) / trades, voluntary: (a.voluntary - b.voluntary) / trades, involuntary: (a.involuntary - b.involuntary) / trades, main: tid === mainTid };
    if (row.cpuMs > 0 || row.voluntary >= 0.05) rows.push(row);
  }
  rows.sort((x, y) => Number(y.main) - Number(x.main) || y.cpuMs - x.cpuMs);
  const total = rows.reduce((s, r) => s + r.voluntary, 0);
  return `wake-ups (voluntary switches) ${total.toFixed(1)}: ` + rows.map((r) => `${r.label} ${r.cpuMs.toFixed(2)} ms/${r.voluntary.toFixed(1)}v/${r.involuntary.toFixed(1)}i`).join(', ');
}

const calls = new Map<string, number>();

/**
 * Counts, on this thread (the bench's server), the calls that make work for another thread or a
 * later turn of the loop: timers set, postMessages sent, and GCs (by kind, and their pauses in ms).
 * Installed once.
 */
export function installCallCounters(): void {
  if (calls.size > 0) return;
  calls.set('gc', 0);
  const wrap = <T extends object>(owner: T, key: keyof T & string, label: string) => {
    const original = owner[key] as unknown as (...args: unknown[]) => unknown;
    (owner as Record<string, unknown>)[key] = function counted(this: unknown, ...args: unknown[]) {
      bump(calls, label);
      return original.apply(this, args);
    };
  };
  wrap(globalThis, 'setTimeout', 'setTimeout');
  wrap(globalThis, 'setInterval', 'setInterval');
  wrap(globalThis, 'setImmediate', 'setImmediate');
  wrap(MessagePort.prototype, 'postMessage', 'postMessage');
  wrap(Worker.prototype, 'postMessage', 'postMessage');
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      bump(calls, `gc.${(entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? '?'}`);
      // The pause itself (ms of this thread): what a GC costs per trade, not only how often one runs.
      calls.set('gc pause ms', (calls.get('gc pause ms') ?? 0) + entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
}

export function readCallCounts(): Record<string, number> {
  return Object.fromEntries(calls);
}

export function callsPerTrade(before: Record<string, number>, after: Record<string, number>, trades: number): string {
  return Object.keys(after).sort().filter((k) => (after[k] ?? 0) > (before[k] ?? 0))
    .map((k) => `${k} ${(((after[k] ?? 0) - (before[k] ?? 0)) / Math.max(1, trades)).toFixed(2)}`).join(', ') || 'none';
}
