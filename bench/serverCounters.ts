/**
 * What the server process spends per trade, beyond CPU: bytes it made the kernel write to disk
 * (/proc/self/io write_bytes: page-cache write-back charged to this process, WAL and checkpoints
 * included) and the SQLite transactions it committed, per database file. The commit count wraps
 * better-sqlite3's Statement#run in this process (the bench's server), so it counts every explicit
 * `COMMIT` (better-sqlite3 transactions and `exec('COMMIT')`); single statements that commit on
 * their own (autocommit) are counted separately as writes outside any transaction.
 */
import { readFileSync } from 'node:fs';
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
