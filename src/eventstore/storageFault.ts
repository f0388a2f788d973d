/**
 * Faults of the machine under a SQLite file (disk full, read-only or failing file system, a lock
 * held too long, a damaged file), told apart from bugs: each is a 503 with a stable code, never a
 * 500, because the request was fine and a retry after the operator's fix succeeds. SQLite rolls
 * the failed transaction back, so a command that met one wrote nothing.
 */
export type StorageFaultCode = 'store_full' | 'store_unavailable';

/** SQLite's primary result codes (extended codes such as SQLITE_IOERR_WRITE start with these). */
const UNAVAILABLE_PREFIXES = ['SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_PROTOCOL'];
/** The same faults met by plain file I/O (a key file, a data dir). */
const UNAVAILABLE_ERRNOS = ['EROFS', 'EACCES', 'EPERM', 'EIO'];

/** The fault's code, or null when the error is not a storage fault. */
export function storageFaultOf(error: unknown): StorageFaultCode | null {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return null;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'store_full';
  if (code === 'store_writer_stopped') return 'store_unavailable';
  if (UNAVAILABLE_PREFIXES.some((prefix) => code === prefix || code.startsWith(`${prefix}_`))) return 'store_unavailable';
  if (UNAVAILABLE_ERRNOS.includes(code)) return 'store_unavailable';
  return null;
}

/** True for faults that mean the file itself is damaged (not merely unwritable right now). */
export function isCorruption(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** The group-commit queue is full: the append was refused, nothing written (503 store_busy). */
export class StoreOverloaded extends Error {
  readonly code = 'store_busy';
  constructor(readonly pending: number) {
    super(`${pending} appends already wait for the next commit`);
    this.name = 'StoreOverloaded';
  }
}

/**
 * The store's writer thread is gone (issue 14 lever 3: it crashed or was ended): every append that
 * waited for it failed, and the store refuses appends until it is reopened (a restart). What it
 * committed before is on disk; nothing it did not report committed was acknowledged. A 503
 * store_unavailable, as for any other storage that refuses writes.
 */
export class StoreWriterStopped extends Error {
  readonly code = 'store_writer_stopped';
  constructor(reason: string) {
    super(`the event store accepts no appends until it is reopened: ${reason}`);
    this.name = 'StoreWriterStopped';
  }
}
