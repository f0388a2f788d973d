import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { currentHolder, decodeHolder, encodeHolder, holderFor, isProvablyGone, lockDirFor, sweepAbandonedLocks, type LeaseHolder } from './leaseHolder.js';
import type { Leases } from './leases.js';

export interface SqliteLeasesOptions {
  /** Called when a lease of a holder proven gone is taken over (for the log). */
  readonly onTakeover?: (name: string, from: LeaseHolder) => void;
  /** This process as holder; tests pass another to stand for a process that has died. */
  readonly holder?: LeaseHolder;
  /** After a hand-off, how long before holding alone again (default SOLE_COOLDOWN_MS; tests race with 0). */
  readonly soleCooldownMs?: number;
}

/** How often a held lease is renewed, as a fraction of its TTL: two renewals may fail before it lapses. */
const RENEW_FRACTION = 3;
/** How often a sole holder looks for a hand-off request (a read of one row; no write). */
export const HANDOFF_POLL_MS = 25;
/** How long an acquire waits for another process's sole holder to hand its leases over before it counts as refused. */
export const HANDOFF_WAIT_MS = 2_000;
/** After a hand-off (given or asked), how long a process keeps its leases as rows before it tries to hold alone again. */
export const SOLE_COOLDOWN_MS = 10_000;
/** The name the sole claim is logged under when a process takes it from a holder that is gone. */
export const SOLE_CLAIM_NAME = 'lease-holder:sole';

interface Held {
  readonly owner: string;
  /** Expiry on the caller's clock (nowMs); renewed by the lease's timer while held. */
  expiresMs: number;
  readonly ttlMs: number;
  /** When the row was last written (caller's clock); meaningful only while inFile. */
  atMs: number;
  /** True when a row in the file stands for it; false while it lives only in memory (sole mode). */
  inFile: boolean;
}

interface SoleRow { token: string; holder: string; expires_at_ms: number; handoff_asked: number }
interface LeaseRow { name: string; owner: string; expires_at_ms: number; holder: string | null }

/**
 * A holder's re-acquire (a driver extends its lease before each step) needs no write while the
 * row it wrote is younger than TTL/RENEW_FRACTION: the row's expiry is then at least two thirds of
 * a TTL away, so no other process can have taken it (they take only an expired lease, or one whose
 * holder process is gone, and this one is running), and the renewal timer extends it from there.
 */
function heldRecently(row: Held | undefined, owner: string, ttlMs: number, nowMs: number): boolean {
  return row !== undefined && row.inFile && row.owner === owner && row.ttlMs === ttlMs && nowMs >= row.atMs && nowMs - row.atMs < ttlMs / RENEW_FRACTION;
}

/** The lease handles open in this process, by token: a sole claim of one of them is handed over in the same call. */
const handlesOfThisProcess = new Map<string, SqliteLeaseFile>();

function openLeaseFile(path: string): Db {
  const db: Db = new Database(path);
  // A new file gets 1 KiB pages: a lease write rewrites one page, and a lease row is ~150 bytes.
  // (Ignored by a file that already has pages.)
  db.pragma('page_size = 1024');
  db.pragma('journal_mode = WAL');
  // A lease only has to exclude processes that are running. Power loss or an OS crash, the only
  // thing an fsync protects against, ends every holder on the machine at once, so a lease write
  // needs no fsync; locking between processes (WAL index in shared memory) is unaffected.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // WITHOUT ROWID: the rows live in the primary key's own B-tree, so a write touches one B-tree, not
  // a table and its key index. Files created before keep their table as it is.
  db.exec('CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at_ms INTEGER NOT NULL) WITHOUT ROWID');
  // Files from before holders were recorded: their rows (holder NULL) only expire.
  const columns = db.prepare('SELECT name FROM pragma_table_info(\'leases\')').all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === 'holder')) db.exec('ALTER TABLE leases ADD COLUMN holder TEXT');
  // The sole claim (issue 14): at most one row, the process that holds its leases in memory.
  db.exec(`CREATE TABLE IF NOT EXISTS lease_sole (id INTEGER PRIMARY KEY CHECK (id = 1), token TEXT NOT NULL,
    holder TEXT NOT NULL, expires_at_ms INTEGER NOT NULL, handoff_asked INTEGER NOT NULL DEFAULT 0)`);
  // Sole holders found gone whose drives nobody has resumed yet: kept in the file, so a process
  // that only passes by (a CLI reconcile) leaves the duty to the next server start.
  db.exec('CREATE TABLE IF NOT EXISTS lease_unknown_drives (holder TEXT NOT NULL, found_at_ms INTEGER NOT NULL)');
  return db;
}

function statementsOf(db: Db) {
  return {
    take: db.prepare(
      `INSERT INTO leases (name, owner, expires_at_ms, holder) VALUES (@name, @owner, @expires, @holder)
       ON CONFLICT (name) DO UPDATE SET owner = @owner, expires_at_ms = @expires, holder = @holder
       WHERE leases.owner = @owner OR leases.expires_at_ms <= @now`,
    ),
    /** A hand-off's rows: leases this process held in memory while no other process could write one. */
    publish: db.prepare(
      `INSERT INTO leases (name, owner, expires_at_ms, holder) VALUES (@name, @owner, @expires, @holder)
       ON CONFLICT (name) DO UPDATE SET owner = @owner, expires_at_ms = @expires, holder = @holder`,
    ),
    read: db.prepare('SELECT owner, holder FROM leases WHERE name = ?'),
    // Only the row as it was read is taken over: a live process that took it meanwhile keeps it.
    takeOver: db.prepare(
      `UPDATE leases SET owner = @owner, expires_at_ms = @expires, holder = @holder
       WHERE name = @name AND owner = @previousOwner AND holder IS @previousHolder`,
    ),
    extend: db.prepare('UPDATE leases SET expires_at_ms = expires_at_ms + @byMs WHERE name = @name AND owner = @owner'),
    drop: db.prepare('DELETE FROM leases WHERE name = ? AND owner = ?'),
    dropRow: db.prepare('DELETE FROM leases WHERE name = ? AND owner = ? AND holder IS ?'),
    all: db.prepare('SELECT name, owner, expires_at_ms, holder FROM leases'),
    withPrefix: db.prepare('SELECT name, holder FROM leases WHERE instr(name, ?) = 1 AND holder IS NOT NULL'),
    naming: db.prepare('SELECT 1 FROM leases WHERE instr(holder, @lock) > 0 UNION ALL SELECT 1 FROM lease_sole WHERE instr(holder, @lock) > 0 LIMIT 1'),
    sole: db.prepare('SELECT token, holder, expires_at_ms, handoff_asked FROM lease_sole WHERE id = 1') as Statement<[], SoleRow>,
    claimSole: db.prepare('INSERT INTO lease_sole (id, token, holder, expires_at_ms) VALUES (1, @token, @holder, @expires)'),
    renewSole: db.prepare('UPDATE lease_sole SET expires_at_ms = @expires WHERE id = 1 AND token = @token'),
    askHandOff: db.prepare('UPDATE lease_sole SET handoff_asked = 1 WHERE id = 1 AND token = ?'),
    dropSole: db.prepare('DELETE FROM lease_sole WHERE id = 1 AND token = ?'),
    noteUnknownDrives: db.prepare('INSERT INTO lease_unknown_drives (holder, found_at_ms) VALUES (?, ?)'),
    takeUnknownDrives: db.prepare('DELETE FROM lease_unknown_drives'),
  };
}

/**
 * Leases in a SQLite file that every process of one installation opens (see createSqliteLeases).
 *
 * Two modes. **Sole**: while no other process uses the file, this one holds the sole claim (one row
 * in `lease_sole`, renewed every TTL/3 like a lease) and keeps its per-order leases in memory, so
 * a drive's acquire and release write nothing. **Shared**: every lease is a row, as before issue 14.
 * Another process that wants a lease while a sole claim is held asks for a hand-off (a flag on the
 * claim row) and waits: the sole holder, which looks for the flag every HANDOFF_POLL_MS, writes its
 * leases held in memory as rows and deletes its claim in one transaction, and both go on shared.
 * A process takes the sole claim only in a transaction that finds no claim and no live lease of
 * another process, and takes a lease row only in a transaction that finds no claim of another
 * process, so the two never overlap. A claim whose holder is gone is taken over at once; a claim
 * not renewed (frozen holder) lapses after the TTL, exactly as its leases would have.
 */
class SqliteLeaseFile implements Leases {
  private readonly db: Db;
  private readonly q: ReturnType<typeof statementsOf>;
  private readonly token = randomUUID();
  private readonly holder: string;
  private readonly lockDir: string | null;
  private readonly held = new Map<string, Held>();
  private readonly renewals = new Map<string, NodeJS.Timeout>();
  private sole: { ttlMs: number; renewedAtMs: number; timer: NodeJS.Timeout } | null = null;
  /** Date.now() of the last hand-off given or asked for, or of another process's live lease seen. */
  private contendedAtMs = -Infinity;
  /** Leases of gone holders whose rows this process removed when it took the sole claim (not yet driven again). */
  private readonly orphans = new Set<string>();

  constructor(path: string, private readonly options: SqliteLeasesOptions) {
    this.db = openLeaseFile(path);
    this.q = statementsOf(this.db);
    this.lockDir = lockDirFor(path);
    this.holder = encodeHolder(options.holder ?? holderFor(this.lockDir));
    sweepAbandonedLocks(this.lockDir, (lock) => this.q.naming.get({ lock }) !== undefined);
    handlesOfThisProcess.set(this.token, this);
  }

  acquire(name: string, owner: string, ttlMs: number, nowMs: number): boolean | Promise<boolean> {
    const outcome = this.tryAcquire(name, owner, ttlMs, nowMs);
    return outcome === 'sole_elsewhere' ? this.afterHandOff(name, owner, ttlMs, nowMs) : outcome;
  }

  release(name: string, owner: string): void {
    const held = this.held.get(name);
    if (held?.owner === owner) {
      this.stopRenewing(name, owner);
      this.held.delete(name);
      if (!held.inFile) return;
    }
    this.q.drop.run(name, owner);
  }

  orphaned(prefix: string): readonly string[] {
    const rows = this.q.withPrefix.all(prefix) as Array<{ name: string; holder: string }>;
    const inFile = rows.filter((row) => {
      const previous = decodeHolder(row.holder);
      return previous !== null && this.isGone(previous);
    }).map((row) => row.name);
    return [...new Set([...inFile, ...[...this.orphans].filter((name) => name.startsWith(prefix))])];
  }

  /** Takes the duty to resume every order in flight, once: true when a gone sole holder's drives await it. */
  everyDriveOrphaned(): boolean {
    return this.db.transaction(() => {
      const row = this.q.sole.get();
      if (row !== undefined && row.token !== this.token && !handlesOfThisProcess.has(row.token)) this.clearForeignSole(false);
      return this.q.takeUnknownDrives.run().changes > 0;
    }).immediate();
  }

  close(): void {
    try {
      if (this.sole !== null) this.handOff();
    } catch {
      // A busy or broken file: the claim then lapses after its TTL, as a frozen holder's would.
    }
    for (const timer of this.renewals.values()) clearInterval(timer);
    this.renewals.clear();
    this.stopSole();
    handlesOfThisProcess.delete(this.token);
    this.db.close();
  }

  private isGone(previous: LeaseHolder): boolean {
    return isProvablyGone(previous, currentHolder(), this.lockDir);
  }

  private tryAcquire(name: string, owner: string, ttlMs: number, nowMs: number): boolean | 'sole_elsewhere' {
    if (this.sole !== null && this.soleStillHeld()) return this.grantInMemory(name, owner, ttlMs, nowMs);
    if (heldRecently(this.held.get(name), owner, ttlMs, nowMs)) return true;
    return this.acquireInFile(name, owner, ttlMs, nowMs);
  }

  private grantInMemory(name: string, owner: string, ttlMs: number, nowMs: number): boolean {
    const current = this.held.get(name);
    if (current !== undefined && current.owner !== owner && current.expiresMs > nowMs) return false;
    if (current !== undefined && current.owner !== owner) this.stopRenewing(name, current.owner);
    // A longer TTL than the claim's: the claim is renewed with it first, and a claim found gone
    // (lapsed while this process was frozen) grants nothing in memory; the trust window never
    // outlasts what the file says (a failed renewal keeps the old TTL).
    if (this.sole !== null && ttlMs > this.sole.ttlMs && !this.renewSoleWithTtl(ttlMs)) return false;
    this.held.set(name, { owner, expiresMs: nowMs + ttlMs, ttlMs, atMs: nowMs, inFile: false });
    this.orphans.delete(name);
    this.keepRenewing(name, owner, ttlMs);
    return true;
  }

  /** True while this process's sole claim is certainly its own: renewed recently, or confirmed by a write now. */
  private soleStillHeld(): boolean {
    const sole = this.sole as NonNullable<typeof this.sole>;
    if (performance.now() - sole.renewedAtMs < (sole.ttlMs * 2) / RENEW_FRACTION) return true;
    return this.renewSole();
  }

  /** One transaction: a lease row (shared mode) or the sole claim; 'sole_elsewhere' when a live process holds the claim. */
  private acquireInFile(name: string, owner: string, ttlMs: number, nowMs: number): boolean | 'sole_elsewhere' {
    this.handOverWithinProcess();
    return this.db.transaction((): boolean | 'sole_elsewhere' => {
      if (this.clearForeignSole(true) === 'alive') return 'sole_elsewhere';
      if (this.mayHoldAlone(nowMs)) {
        this.claimSole(ttlMs);
        return this.grantInMemory(name, owner, ttlMs, nowMs);
      }
      return this.takeRow(name, owner, ttlMs, nowMs);
    }).immediate();
  }

  /** Another handle of this process holds the sole claim (tests open several): it hands over here and now. */
  private handOverWithinProcess(): void {
    const row = this.q.sole.get();
    const other = row === undefined || row.token === this.token ? undefined : handlesOfThisProcess.get(row.token);
    if (other === undefined) return;
    other.handOff();
    this.contendedAtMs = Date.now();
  }

  /** Inside a transaction: removes another process's claim if it is gone or lapsed; 'alive' (hand-off asked if `ask`) otherwise. */
  private clearForeignSole(ask: boolean): 'none' | 'alive' {
    const row = this.q.sole.get();
    if (row === undefined || row.token === this.token) return 'none';
    const previous = decodeHolder(row.holder);
    const gone = previous !== null && this.isGone(previous);
    if (!gone && Date.now() < row.expires_at_ms) {
      if (!ask) return 'alive';
      if (row.handoff_asked === 0) this.q.askHandOff.run(row.token);
      this.contendedAtMs = Date.now();
      return 'alive';
    }
    this.q.dropSole.run(row.token);
    if (gone) {
      // Its leases lived in its memory: every drive it may have cut short is an orphan now.
      this.q.noteUnknownDrives.run(row.holder, Date.now());
      this.options.onTakeover?.(SOLE_CLAIM_NAME, previous);
    }
    return 'none';
  }

  /**
   * Inside a transaction: true when no other process needs to see this one's leases: no lease row
   * of this handle (they stay rows until released), no recent contention, and no live lease row of
   * another process. Expired rows are removed (as a take would overwrite them); rows of holders
   * proven gone, live or expired, are removed and remembered as orphans, to be resumed: in this
   * handle's memory and, in the file, as unknown drives (lease_unknown_drives), because the process
   * that removes them may be one that never resumes anything (a CLI reconcile, or a server's
   * follower taking its first lease before the start-up resume), and the next server start must
   * still resume them (everyDriveOrphaned), as it found such rows before the sole claim existed.
   */
  private mayHoldAlone(nowMs: number): boolean {
    if (Date.now() - this.contendedAtMs < (this.options.soleCooldownMs ?? SOLE_COOLDOWN_MS)) return false;
    for (const held of this.held.values()) if (held.inFile) return false;
    const rows = this.q.all.all() as LeaseRow[];
    const goneHolders = rows.map((row) => decodeHolder(row.holder)).map((h) => (h !== null && this.isGone(h) ? h : null));
    if (rows.some((row, i) => row.expires_at_ms > nowMs && goneHolders[i] === null)) {
      this.contendedAtMs = Date.now();
      return false;
    }
    const noted = new Set<string>();
    rows.forEach((row, i) => {
      this.q.dropRow.run(row.name, row.owner, row.holder);
      const gone = goneHolders[i];
      if (gone === null || gone === undefined || row.holder === null) return;
      this.orphans.add(row.name);
      if (!noted.has(row.holder)) this.q.noteUnknownDrives.run(row.holder, Date.now());
      noted.add(row.holder);
      if (row.expires_at_ms > nowMs) this.options.onTakeover?.(row.name, gone);
    });
    return true;
  }

  private claimSole(ttlMs: number): void {
    this.q.claimSole.run({ token: this.token, holder: this.holder, expires: Date.now() + ttlMs });
    const timer = setInterval(() => this.soleTick(), HANDOFF_POLL_MS);
    timer.unref();
    this.sole = { ttlMs, renewedAtMs: performance.now(), timer };
  }

  /** Every HANDOFF_POLL_MS while sole: hand over if asked, renew every TTL/3, notice a claim lost. */
  private soleTick(): void {
    const sole = this.sole;
    if (sole === null) return;
    try {
      const row = this.q.sole.get();
      if (row === undefined || row.token !== this.token) this.loseSole();
      else if (row.handoff_asked !== 0) this.handOff();
      else if (performance.now() - sole.renewedAtMs >= sole.ttlMs / RENEW_FRACTION) this.renewSole();
    } catch {
      // A busy or closed file: the next tick tries again, and the TTL covers the gap.
    }
  }

  private renewSoleWithTtl(ttlMs: number): boolean {
    const sole = this.sole as NonNullable<typeof this.sole>;
    const previousTtlMs = sole.ttlMs;
    sole.ttlMs = ttlMs;
    let renewed = false;
    try {
      renewed = this.renewSole();
    } finally {
      if (!renewed) sole.ttlMs = previousTtlMs;
    }
    return renewed;
  }

  private renewSole(): boolean {
    const sole = this.sole;
    if (sole === null) return false;
    if (this.q.renewSole.run({ token: this.token, expires: Date.now() + sole.ttlMs }).changes === 1) {
      sole.renewedAtMs = performance.now();
      return true;
    }
    this.loseSole();
    return false;
  }

  /** The claim is no longer ours (it lapsed while this process was frozen): the leases held in memory are void. */
  private loseSole(): void {
    this.stopSole();
    for (const [name, held] of [...this.held]) {
      if (held.inFile) continue;
      this.stopRenewing(name, held.owner);
      this.held.delete(name);
    }
  }

  /** Writes every lease held in memory as a row and gives the claim up, in one transaction; shared from here on. */
  private handOff(): void {
    // The claim must still be ours to hand over: a holder frozen past its TTL (and woken into a
    // close()) would otherwise write its void leases over rows another process has taken since.
    const stillOurs = this.db.transaction(() => {
      if (this.q.dropSole.run(this.token).changes !== 1) return false;
      for (const [name, held] of this.held) {
        if (!held.inFile) this.q.publish.run({ name, owner: held.owner, expires: held.expiresMs, holder: this.holder });
      }
      return true;
    }).immediate();
    if (!stillOurs) {
      this.loseSole();
      return;
    }
    for (const held of this.held.values()) {
      if (held.inFile) continue;
      held.inFile = true;
      held.atMs = held.expiresMs - held.ttlMs;
    }
    this.stopSole();
    this.contendedAtMs = Date.now();
  }

  private stopSole(): void {
    if (this.sole !== null) clearInterval(this.sole.timer);
    this.sole = null;
  }

  /** Shared mode, inside a transaction: today's row protocol. */
  private takeRow(name: string, owner: string, ttlMs: number, nowMs: number): boolean {
    const expires = nowMs + ttlMs;
    const acquired = this.q.take.run({ name, owner, expires, now: nowMs, holder: this.holder }).changes === 1 || this.takeFromTheGone(name, owner, expires);
    if (acquired) {
      const previous = this.held.get(name);
      if (previous !== undefined && previous.owner !== owner) this.stopRenewing(name, previous.owner);
      this.held.set(name, { owner, expiresMs: expires, ttlMs, atMs: nowMs, inFile: true });
      this.keepRenewing(name, owner, ttlMs);
    }
    return acquired;
  }

  private takeFromTheGone(name: string, owner: string, expires: number): boolean {
    const row = this.q.read.get(name) as { owner: string; holder: string | null } | undefined;
    const previous = decodeHolder(row?.holder ?? null);
    if (row === undefined || previous === null || !this.isGone(previous)) return false;
    const taken = this.q.takeOver.run({ name, owner, expires, holder: this.holder, previousOwner: row.owner, previousHolder: row.holder }).changes === 1;
    if (taken) this.options.onTakeover?.(name, previous);
    return taken;
  }

  /** Waits (bounded) for another process's sole holder to hand over, then tries once more. */
  private async afterHandOff(name: string, owner: string, ttlMs: number, nowMs: number): Promise<boolean> {
    const deadline = performance.now() + HANDOFF_WAIT_MS;
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, HANDOFF_POLL_MS / 2));
      const row = this.q.sole.get();
      if (row !== undefined && row.token !== this.token && Date.now() < row.expires_at_ms && !this.holderGone(row.holder)) continue;
      const outcome = this.tryAcquire(name, owner, ttlMs, nowMs);
      return outcome === 'sole_elsewhere' ? false : outcome;
    }
    return false;
  }

  private holderGone(text: string): boolean {
    const previous = decodeHolder(text);
    return previous !== null && this.isGone(previous);
  }

  /**
   * Renews by the real time elapsed, not to "now + TTL": the caller's clock (nowMs) may be a
   * test's or a simulation's, and only its offset from the real clock is kept. A lease held in
   * memory is renewed in memory (its expiry is what a hand-off writes).
   */
  private keepRenewing(name: string, owner: string, ttlMs: number): void {
    const key = `${name}\u0000${owner}`;
    if (this.renewals.has(key)) return;
    const everyMs = Math.max(1, Math.floor(ttlMs / RENEW_FRACTION));
    const timer = setInterval(() => this.renew(name, owner, everyMs), everyMs);
    timer.unref();
    this.renewals.set(key, timer);
  }

  private renew(name: string, owner: string, byMs: number): void {
    const held = this.held.get(name);
    if (held === undefined || held.owner !== owner) return this.stopRenewing(name, owner);
    held.expiresMs += byMs;
    if (!held.inFile) return;
    try {
      if (this.q.extend.run({ name, owner, byMs }).changes === 0) {
        // Lost (taken over after it lapsed): a re-acquire must ask the file again.
        this.stopRenewing(name, owner);
        this.held.delete(name);
      }
    } catch {
      // A busy or closed file: the next tick tries again, and the TTL covers the gap.
    }
  }

  private stopRenewing(name: string, owner: string): void {
    const key = `${name}\u0000${owner}`;
    clearInterval(this.renewals.get(key));
    this.renewals.delete(key);
  }
}

/**
 * Leases in a SQLite file that every process of one installation opens. Each row names its holder
 * process (see leaseHolder.ts), so a lease dies with its holder: a process that finds a lease held
 * by a process proven gone takes it at once instead of waiting out the TTL, which lets a restarted
 * ledger resume a crashed settlement on its first reconciler pass. While a lease is held, a timer
 * renews it, so a node call slower than the TTL never loses it to another driver; a holder that
 * stops without dying (frozen, on another host) stops renewing and loses it when the TTL runs out.
 * A process alone on the file keeps its leases in memory under one claim row (SqliteLeaseFile).
 */
export function createSqliteLeases(path: string, options: SqliteLeasesOptions = {}): Leases {
  return new SqliteLeaseFile(path, options);
}
