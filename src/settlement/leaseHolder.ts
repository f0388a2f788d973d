import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Which running process holds a lease, precisely enough that another process on the same machine
 * can prove it gone: a pid alone is not enough, because pids are reused, so the holder also names
 * its start time (clock ticks since boot, from /proc/<pid>/stat). Host, boot and pid namespace
 * scope the pid: a holder on another machine, from before a reboot we cannot see, or in another
 * container's pid namespace is never judged by our process table, and keeps the lease until its TTL.
 */
export interface LeaseHolder {
  readonly host: string;
  /** /proc/sys/kernel/random/boot_id; null where there is no /proc. */
  readonly boot: string | null;
  /** The pid namespace (/proc/self/ns/pid); null where there is no /proc. */
  readonly pidns: string | null;
  readonly pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat); null where unknown. */
  readonly start: string | null;
}

let self: LeaseHolder | null = null;

/** This process as a lease holder (read once: none of it changes while the process runs). */
export function currentHolder(): LeaseHolder {
  self ??= {
    host: hostname(),
    boot: readOrNull(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
    pidns: readOrNull(() => readlinkSync('/proc/self/ns/pid')),
    pid: process.pid,
    start: procStat(process.pid)?.start ?? null,
  };
  return self;
}

export function encodeHolder(holder: LeaseHolder): string {
  return JSON.stringify(holder);
}

/** The holder a lease row names, or null for rows written before holders were recorded (or damaged). */
export function decodeHolder(text: string | null): LeaseHolder | null {
  if (text === null) return null;
  try {
    const h = JSON.parse(text) as Partial<LeaseHolder>;
    if (typeof h.host !== 'string' || typeof h.pid !== 'number' || !Number.isSafeInteger(h.pid) || h.pid <= 0) return null;
    return { host: h.host, boot: h.boot ?? null, pidns: h.pidns ?? null, pid: h.pid, start: h.start ?? null };
  } catch {
    return null;
  }
}

/**
 * True only when the holder certainly no longer runs: same host, boot and pid namespace as us, and
 * its pid is free (ESRCH), a zombie, or now another process (another start time). Anything we
 * cannot see (another host, EPERM, no /proc) counts as alive: a wrong "alive" costs a wait for the
 * TTL, a wrong "gone" would let two drivers call the node for one order.
 */
export function isProvablyGone(holder: LeaseHolder, me: LeaseHolder = currentHolder()): boolean {
  if (holder.host !== me.host || holder.boot !== me.boot || holder.pidns !== me.pidns) return false;
  if (holder.pid === me.pid) return holder.start !== null && me.start !== null && holder.start !== me.start;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const now = procStat(holder.pid);
  if (now === null) return false;
  if (now.state === 'Z' || now.state === 'X') return true;
  return holder.start !== null && now.start !== holder.start;
}

/** State and start time of a process from /proc/<pid>/stat; null where that cannot be read. */
function procStat(pid: number): { state: string; start: string } | null {
  return readOrNull(() => {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const start = fields[19];
    if (state === undefined || start === undefined || !/^\d+$/.test(start)) throw new Error('unreadable stat');
    return { state, start };
  });
}

function readOrNull<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
