import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteLeases, type Leases } from '../../src/settlement/leases.js';
import { SOLE_CLAIM_NAME } from '../../src/settlement/sqliteLeases.js';

/**
 * Issue 14 lever 1: a process alone on leases.db keeps its order leases in memory under one sole
 * claim; these tests run the other process for real (a child on the same file).
 */
const CHILD = join(__dirname, 'fixtures', 'soleLeaseChild.ts');
const children: ChildProcess[] = [];
const opened: Leases[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      await killed(child);
    }
  }
  for (const leases of opened.splice(0)) leases.close();
});

/** Kills a child as a crash would (no hand-off, no clean-up) and waits until it is gone. */
async function killed(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

const leaseFile = () => join(mkdtempSync(join(tmpdir(), 'otc-sole-')), 'leases.db');
const open = (path: string, options?: Parameters<typeof createSqliteLeases>[1]): Leases => {
  const leases = createSqliteLeases(path, options);
  opened.push(leases);
  return leases;
};

interface Child { readonly child: ChildProcess; next(pattern: RegExp): Promise<string>; send(line: string): void }

function start(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let buffer = '';
  const waiting: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let at: number;
    while ((at = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      const i = waiting.findIndex((w) => w.pattern.test(line));
      if (i >= 0) waiting.splice(i, 1)[0]!.resolve(line);
    }
  });
  return {
    child,
    next: (pattern) => new Promise((resolve, reject) => {
      waiting.push({ pattern, resolve });
      child.once('exit', () => reject(new Error(`the child ended before ${String(pattern)}`)));
    }),
    send: (line) => child.stdin!.write(`${line}\n`),
  };
}

function tableOf(path: string): { leases: Array<{ name: string; owner: string }>; sole: number } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      leases: db.prepare('SELECT name, owner FROM leases ORDER BY name').all() as Array<{ name: string; owner: string }>,
      sole: (db.prepare('SELECT count(*) AS n FROM lease_sole').get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

async function holding(path: string, ttlMs = 600_000): Promise<Child> {
  const c = start({ LEASE_MODE: 'hold', LEASES_PATH: path, LEASE_NAME: 'order-driver:x', LEASE_TTL_MS: String(ttlMs) });
  await c.next(/^held$/);
  return c;
}

describe('sqlite leases held in memory by a process alone on the file (sole claim)', () => {
  it('another process asks for a hand-off: refused the order the holder drives, allowed another; both write rows from then on', async () => {
    const path = leaseFile();
    const c = await holding(path);
    // Alone, the child wrote its claim and no lease row.
    expect(tableOf(path)).toEqual({ leases: [], sole: 1 });
    const here = open(path);
    expect(await here.acquire('order-driver:x', 'here', 60_000, Date.now())).toBe(false);
    expect(tableOf(path)).toEqual({ leases: [{ name: 'order-driver:x', owner: `child-${c.child.pid}` }], sole: 0 });
    expect(await here.acquire('order-driver:y', 'here', 60_000, Date.now())).toBe(true);
    // The child, shared now, writes what it takes, and is refused what this process holds.
    c.send('acquire order-driver:z');
    expect(await c.next(/^acquire order-driver:z /)).toBe('acquire order-driver:z true');
    c.send('acquire order-driver:y');
    expect(await c.next(/^acquire order-driver:y /)).toBe('acquire order-driver:y false');
    expect(tableOf(path).leases.map((l) => l.name)).toEqual(['order-driver:x', 'order-driver:y', 'order-driver:z']);
    // Its release is written at once: this process takes the order right after.
    c.send('release order-driver:x');
    await c.next(/^released order-driver:x$/);
    expect(await here.acquire('order-driver:x', 'here', 60_000, Date.now())).toBe(true);
    // No-op: a process that took no claim from a gone holder has no unknown drives to resume.
    expect(here.everyDriveOrphaned?.()).toBe(false);
    // Nor does a start-up check ask a live sole holder to hand over: the claim stays where it is.
    const lone = leaseFile();
    const alone = await holding(lone);
    expect(open(lone).everyDriveOrphaned?.()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(tableOf(lone)).toEqual({ leases: [], sole: 1 });
    alone.child.kill('SIGKILL');
  }, 30_000);

  it('a sole holder killed (SIGKILL) gives no hand-off: its claim is taken at once, long before the TTL, and every drive counts as orphaned', async () => {
    const path = leaseFile();
    const c = await holding(path);
    await killed(c.child);
    const takenOver: Array<[string, number]> = [];
    const here = open(path, { onTakeover: (name, from) => takenOver.push([name, from.pid]) });
    expect(here.everyDriveOrphaned?.()).toBe(true);
    expect(takenOver).toEqual([[SOLE_CLAIM_NAME, c.child.pid]]);
    // The lease the child held (in its memory only, 10 minutes TTL) is free now.
    expect(await here.acquire('order-driver:x', 'here', 60_000, Date.now())).toBe(true);
    // The duty to resume passed once: a later process finds this live one's claim, not a gone holder's.
    const later = open(path);
    expect(later.everyDriveOrphaned?.()).toBe(false);
    expect(here.everyDriveOrphaned?.()).toBe(false);
  }, 30_000);

  it('a process that only passes by (a CLI reconcile) and takes a killed sole holder\'s claim leaves the resume of every drive to the next server start', async () => {
    const path = leaseFile();
    const c = await holding(path);
    await killed(c.child);
    const cli = open(path);
    expect(await cli.acquire('order-driver:y', 'cli', 60_000, Date.now())).toBe(true);
    cli.release('order-driver:y', 'cli');
    cli.close();
    const server = open(path);
    expect(server.everyDriveOrphaned?.()).toBe(true);
  }, 30_000);

  it('rows a killed shared-mode holder left (live or expired) and a passing process removed when it took the claim are still resumed at the next server start', async () => {
    for (const ttlMs of [600_000, 1_000]) {
      const path = leaseFile();
      const c = await holding(path, ttlMs);
      // A hand-off puts the child in shared mode: what it takes from then on is a row.
      const other = open(path);
      expect(await other.acquire('order-driver:y', 'other', 60_000, Date.now())).toBe(true);
      c.send('acquire order-driver:z');
      expect(await c.next(/^acquire order-driver:z /)).toBe('acquire order-driver:z true');
      other.release('order-driver:y', 'other');
      other.close();
      await killed(c.child);
      if (ttlMs < 60_000) await new Promise((resolve) => setTimeout(resolve, ttlMs + 100));
      expect(tableOf(path).leases.map((l) => l.name)).toEqual(['order-driver:x', 'order-driver:z']);
      // A CLI reconcile passes by: alone on the file, it takes the claim and removes the dead rows.
      const cli = open(path, { soleCooldownMs: 0 });
      expect(await cli.acquire('order-driver:w', 'cli', 60_000, Date.now())).toBe(true);
      cli.release('order-driver:w', 'cli');
      cli.close();
      expect(tableOf(path)).toEqual({ leases: [], sole: 0 });
      // The restarted server is told to resume every drive in flight, once.
      const server = open(path);
      expect(server.everyDriveOrphaned?.()).toBe(true);
      expect(server.everyDriveOrphaned?.()).toBe(false);
    }
  }, 30_000);

  it('a frozen sole holder (SIGSTOP) keeps its leases until its claim lapses, not after; thawed, it has lost them', async () => {
    const path = leaseFile();
    const c = await holding(path, 1_500);
    c.child.kill('SIGSTOP');
    const db = new Database(path, { readonly: true });
    const claimExpiresAtMs = (db.prepare('SELECT expires_at_ms FROM lease_sole').get() as { expires_at_ms: number }).expires_at_ms;
    db.close();
    const here = open(path);
    // Refused while the claim runs (it waits for a hand-off that never comes), granted once it has lapsed.
    expect(await here.acquire('order-driver:x', 'here', 60_000, Date.now())).toBe(true);
    expect(Date.now()).toBeGreaterThanOrEqual(claimExpiresAtMs);
    expect(here.everyDriveOrphaned?.()).toBe(false);
    c.child.kill('SIGCONT');
    c.send('acquire order-driver:x');
    expect(await c.next(/^acquire order-driver:x /)).toBe('acquire order-driver:x false');
  }, 30_000);

  it('a holder whose claim another process has taken since (it was frozen past its TTL) writes nothing at close: the other process\'s rows stand', async () => {
    const path = leaseFile();
    const frozen = open(path);
    expect(await frozen.acquire('order-driver:x', 'frozen', 60_000, Date.now())).toBe(true);
    expect(tableOf(path)).toEqual({ leases: [], sole: 1 });
    // What another process did while this one was frozen: the lapsed claim replaced by its own, and x taken as a row.
    const db = new Database(path);
    db.prepare('DELETE FROM lease_sole').run();
    db.prepare("INSERT INTO lease_sole (id, token, holder, expires_at_ms) VALUES (1, 'another-token', 'another-holder', ?)").run(Date.now() + 60_000);
    db.prepare("INSERT INTO leases (name, owner, expires_at_ms, holder) VALUES ('order-driver:x', 'other', ?, NULL)").run(Date.now() + 60_000);
    db.close();
    frozen.close();
    opened.splice(opened.indexOf(frozen), 1);
    expect(tableOf(path)).toEqual({ leases: [{ name: 'order-driver:x', owner: 'other' }], sole: 1 });
  }, 30_000);

  it('a lease asked with a longer TTL than the claim\'s renews the claim first: found gone, nothing is granted in memory', async () => {
    const path = leaseFile();
    const here = open(path);
    expect(await here.acquire('order-driver:x', 'here', 60_000, Date.now())).toBe(true);
    // Allowed: a longer TTL while the claim is ours renews it with that TTL.
    expect(await here.acquire('order-driver:y', 'here', 90_000, Date.now())).toBe(true);
    const db = new Database(path);
    const expiresAtMs = (db.prepare('SELECT expires_at_ms FROM lease_sole').get() as { expires_at_ms: number }).expires_at_ms;
    expect(expiresAtMs).toBeGreaterThan(Date.now() + 60_000);
    // The claim gone behind this process's back (it lapsed while frozen and another process dropped it).
    db.prepare('DELETE FROM lease_sole').run();
    db.close();
    // Refused: the renewal finds no claim, so no lease is granted on its strength.
    expect(await here.acquire('order-driver:z', 'here', 120_000, Date.now())).toBe(false);
    expect(tableOf(path)).toEqual({ leases: [], sole: 0 });
  }, 30_000);

  it('two processes racing over the same orders, switching between sole and shared, never hold one order at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-sole-race-'));
    const env = { LEASE_MODE: 'race', LEASES_PATH: join(dir, 'leases.db'), INSIDE_PATH: join(dir, 'inside.db'), RACE_ORDERS: '3', RACE_MS: '2000', LEASE_TTL_MS: '60000' };
    const racers = [start(env), start(env)];
    const exits = racers.map((r) => new Promise<number | null>((resolve) => r.child.once('exit', (code) => resolve(code))));
    const done = await Promise.all(racers.map((r) => r.next(/^done \d+$/)));
    expect(await Promise.all(exits)).toEqual([0, 0]);
    const grants = done.map((line) => Number(line.split(' ')[1]));
    // Both got turns (hand-offs both ways), and every turn was exclusive (the child's primary key would have thrown).
    expect(grants.every((n) => n > 0)).toBe(true);
  }, 60_000);
});
