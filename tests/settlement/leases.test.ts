import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { createMemoryLeases, createSqliteLeases, type Leases } from '../../src/settlement/leases.js';
import { createStoreLeases } from '../../src/settlement/storeLeases.js';
import { currentHolder, holderFor, isProvablyGone } from '../../src/settlement/leaseHolder.js';

const kinds: Array<[string, () => { a: Leases; b: Leases }]> = [
  ['memory (one process)', () => { const l = createMemoryLeases(); return { a: l, b: l }; }],
  ['sqlite file (processes sharing a data dir)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'otc-lease-')), 'leases.db');
    return { a: createSqliteLeases(file), b: createSqliteLeases(file) };
  }],
  // The TTL rule of leases naming no holder; holder heartbeats are tested in storeLeaseHeartbeat.test.ts.
  ['event store (instances sharing only the store, heartbeats off)', () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    return { a: createStoreLeases(store, { heartbeatTimeoutMs: null }), b: createStoreLeases(store, { heartbeatTimeoutMs: null }) };
  }],
];

describe.each(kinds)('order leases: %s', (_name, make) => {
  it('grants a free lease, refuses it to another owner, and extends it for its holder', async () => {
    const { a, b } = make();
    expect(await a.acquire('order-driver:x', 'one', 1000, 0)).toBe(true);
    expect(await b.acquire('order-driver:x', 'two', 1000, 10)).toBe(false);
    expect(await a.acquire('order-driver:x', 'one', 1000, 20)).toBe(true);
    expect(await b.acquire('order-driver:y', 'two', 1000, 20)).toBe(true);
  });

  it('lets another owner take a lease once it has expired (a crashed holder cannot wedge an order)', async () => {
    const { a, b } = make();
    expect(await a.acquire('order-driver:x', 'one', 1000, 0)).toBe(true);
    expect(await b.acquire('order-driver:x', 'two', 1000, 999)).toBe(false);
    expect(await b.acquire('order-driver:x', 'two', 1000, 1000)).toBe(true);
  });

  it('frees a lease on release by its holder only', async () => {
    const { a, b } = make();
    expect(await a.acquire('order-driver:x', 'one', 60_000, 0)).toBe(true);
    await b.release('order-driver:x', 'two');
    expect(await b.acquire('order-driver:x', 'two', 60_000, 1)).toBe(false);
    await a.release('order-driver:x', 'one');
    expect(await b.acquire('order-driver:x', 'two', 60_000, 2)).toBe(true);
  });
});

describe('sqlite leases die with their holder process', () => {
  const file = () => join(mkdtempSync(join(tmpdir(), 'otc-lease-')), 'leases.db');
  /** A process that ran and exited (reaped): its pid is free, or later someone else's. */
  const exitedPid = (): number => {
    const child = spawnSync(process.execPath, ['-e', '0']);
    return child.pid as number;
  };
  const me = currentHolder();

  it('takes a lease at once, before its TTL, when its holder process has exited', () => {
    const path = file();
    const dead = createSqliteLeases(path, { holder: { ...me, pid: exitedPid(), start: null } });
    const takenOver: string[] = [];
    const live = createSqliteLeases(path, { onTakeover: (name) => takenOver.push(name) });
    expect(dead.acquire('order-driver:x', 'dead-owner', 60_000, 0)).toBe(true);
    expect(live.acquire('order-driver:x', 'live-owner', 60_000, 10)).toBe(true);
    expect(takenOver).toEqual(['order-driver:x']);
    // It is now the live holder's: the dead owner's release changes nothing.
    dead.release('order-driver:x', 'dead-owner');
    const third = createSqliteLeases(path);
    expect(third.acquire('order-driver:x', 'third', 60_000, 20)).toBe(false);
    third.close();
    dead.close();
    live.close();
  });

  it('takes a lease whose pid now belongs to another process (pid reused: another start time)', () => {
    const path = file();
    // The parent process is alive; a holder naming its pid with another start time is not it.
    expect(isProvablyGone({ ...me, pid: process.ppid, start: null })).toBe(false);
    const reused = createSqliteLeases(path, { holder: { ...me, pid: process.ppid, start: '1' } });
    expect(reused.acquire('order-driver:x', 'old-owner', 60_000, 0)).toBe(true);
    const fresh = createSqliteLeases(path);
    expect(fresh.acquire('order-driver:x', 'new-owner', 60_000, 10)).toBe(true);
    fresh.close();
    reused.close();
  });

  it('refuses a lease whose holder is alive (this process), on another host, or unknown, until its TTL', () => {
    const path = file();
    const sameProcess = createSqliteLeases(path);
    const otherHost = createSqliteLeases(path, { holder: { ...me, host: 'another-host', pid: exitedPid(), start: null } });
    const otherNs = createSqliteLeases(path, { holder: { ...me, pidns: 'pid:[1]', pid: exitedPid(), start: null } });
    const probe = createSqliteLeases(path);
    expect(sameProcess.acquire('a', 'one', 1000, 0)).toBe(true);
    expect(otherHost.acquire('b', 'one', 1000, 0)).toBe(true);
    expect(otherNs.acquire('c', 'one', 1000, 0)).toBe(true);
    for (const name of ['a', 'b', 'c']) {
      expect(probe.acquire(name, 'two', 1000, 999)).toBe(false);
      expect(probe.acquire(name, 'two', 1000, 1000)).toBe(true);
    }
    for (const l of [sameProcess, otherHost, otherNs, probe]) l.close();
  });

  it('leaves rows written before holders were recorded to their TTL (an old leases.db still opens)', () => {
    const path = file();
    const old = new Database(path);
    old.exec('CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at_ms INTEGER NOT NULL)');
    old.prepare('INSERT INTO leases VALUES (?, ?, ?)').run('order-driver:x', 'old-owner', 1000);
    old.close();
    const leases = createSqliteLeases(path);
    expect(leases.acquire('order-driver:x', 'new-owner', 1000, 999)).toBe(false);
    expect(leases.acquire('order-driver:x', 'new-owner', 1000, 1000)).toBe(true);
    leases.close();
  });

  it('renews a held lease while its holder works, so a call slower than the TTL keeps it; release stops that', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const path = file();
      const holder = createSqliteLeases(path);
      const other = createSqliteLeases(path);
      expect(holder.acquire('order-driver:x', 'one', 1500, 0)).toBe(true);
      vi.advanceTimersByTime(6000);
      // Four TTLs later the lease still holds: renewed every TTL/3.
      expect(other.acquire('order-driver:x', 'two', 1500, 6000)).toBe(false);
      expect(other.acquire('order-driver:y', 'two', 1500, 0)).toBe(true);
      other.release('order-driver:y', 'two');
      holder.release('order-driver:x', 'one');
      expect(other.acquire('order-driver:x', 'two', 1500, 6000)).toBe(true);
      other.release('order-driver:x', 'two');
      // A lease that is never renewed (its holder froze) lapses after the TTL.
      expect(holder.acquire('order-driver:z', 'one', 1500, 0)).toBe(true);
      holder.close();
      vi.advanceTimersByTime(6000);
      expect(other.acquire('order-driver:z', 'two', 1500, 1499)).toBe(false);
      expect(other.acquire('order-driver:z', 'two', 1500, 1500)).toBe(true);
      other.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('lists the leases of holders that are gone (drives a crash cut short), never a live holder\'s', () => {
    const path = file();
    const dead = createSqliteLeases(path, { holder: { ...me, pid: exitedPid(), start: null } });
    const live = createSqliteLeases(path);
    expect(dead.acquire('order-driver:a', 'x', 60_000, 0)).toBe(true);
    expect(dead.acquire('rebuild:b', 'x', 60_000, 0)).toBe(true);
    expect(live.acquire('order-driver:c', 'y', 60_000, 0)).toBe(true);
    expect(live.orphaned?.('order-driver:')).toEqual(['order-driver:a']);
    // Once resumed (taken over and released) it is no longer an orphan.
    expect(live.acquire('order-driver:a', 'y', 60_000, 1)).toBe(true);
    live.release('order-driver:a', 'y');
    expect(live.orphaned?.('order-driver:')).toEqual([]);
    dead.close();
    live.close();
  });

  it('tells by its lock file whether a holder in another pid namespace (another container) lives: refused while it runs, taken once it is killed', async () => {
    const path = file();
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'leaseHolderChild.ts')], {
      env: { ...process.env, LEASES_PATH: path }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('held')) resolve(); });
        child.once('exit', () => reject(new Error('the holder process ended early')));
      });
      const leases = createSqliteLeases(path);
      // The child holds its lease in memory (alone on the file): the acquire waits for its hand-off.
      expect(await leases.acquire('order-driver:x', 'here', 60_000, Date.now())).toBe(false);
      expect(leases.orphaned?.('order-driver:')).toEqual([]);
      child.kill('SIGKILL');
      await exited;
      expect(leases.orphaned?.('order-driver:')).toEqual(['order-driver:x']);
      expect(leases.acquire('order-driver:x', 'here', 60_000, Date.now())).toBe(true);
      // The dead holder's lock file, named by no lease now, is swept by the next process to open the file.
      const lockDir = join(dirname(path), 'lease-holders');
      expect(readdirSync(lockDir)).toHaveLength(2);
      createSqliteLeases(path).close();
      expect(readdirSync(lockDir)).toEqual([holderFor(lockDir).lock]);
      leases.close();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  }, 30_000);
});
