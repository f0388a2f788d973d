import { closeSync, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs';

/**
 * What can happen to the read DB's file under a running service. Deleting it goes unnoticed by
 * SQLite (the open descriptor still reads the unlinked inode), so the file is checked by name:
 * `missing` (deleted), `replaced` (another file now at the path), `corrupt` (its header is no
 * SQLite header, or a query met SQLITE_CORRUPT / SQLITE_NOTADB). The event store is another file:
 * every read model can be rebuilt from it.
 */
export type ReadDbDamage = 'missing' | 'replaced' | 'corrupt';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export class ReadDbFile {
  private readonly dev: number;
  private readonly ino: number;
  private corrupt = false;

  /** Call right after opening the DB at `path`: the file found there now is the one in use. */
  constructor(readonly path: string) {
    const stat = statSync(path);
    this.dev = stat.dev;
    this.ino = stat.ino;
  }

  /** Null while the file at the path is the one opened and looks like a SQLite file. Cheap (a stat and a 16-byte read). */
  check(): ReadDbDamage | null {
    if (this.corrupt) return 'corrupt';
    let stat;
    try {
      stat = statSync(this.path);
    } catch {
      return 'missing';
    }
    if (stat.dev !== this.dev || stat.ino !== this.ino) return 'replaced';
    if (!hasSqliteHeader(this.path)) this.corrupt = true;
    return this.corrupt ? 'corrupt' : null;
  }

  /** A query met corruption: the file stays damaged (sticky) until it is restored. */
  markCorrupt(): void {
    this.corrupt = true;
  }

  /**
   * Moves the damaged file and its WAL and shared-memory files aside (kept for a post-mortem, never
   * deleted), so a fresh DB can be created at the path without replaying a stale WAL into it.
   */
  moveAside(nowMs: number): string[] {
    const moved: string[] = [];
    for (const suffix of ['', '-wal', '-shm']) {
      const from = `${this.path}${suffix}`;
      if (!existsSync(from)) continue;
      const to = `${this.path}.damaged-${nowMs}${suffix}`;
      renameSync(from, to);
      moved.push(to);
    }
    return moved;
  }
}

function hasSqliteHeader(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(SQLITE_HEADER.length);
    // An empty file is what SQLite itself creates before its first write: not damage.
    const read = readSync(fd, header, 0, header.length, 0);
    return read === 0 || header.equals(SQLITE_HEADER);
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
