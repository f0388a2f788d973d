import type { Database as Db } from 'better-sqlite3';
import { SIGNATURE_STREAM_PREFIX } from '../commands/signatures.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { ORDER_STREAM_PREFIX, orderIdFromStream } from '../streamNames.js';
import { activeTables, cachedStatement } from './registry.js';
import { tableName, type Projection, type TableNames } from './types.js';

/**
 * Every wallet signature accepted once (replay protection): from the metadata of the order event
 * that spent it, or from a `sig-<hash>` stream (uses recorded on their own, and every use before
 * issue 14 lever 2).
 */
export const signaturesProjection: Projection = {
  name: 'signatures',
  // 2: the spending event's position is the rowid and signature_hash a unique index; the wallet
  // index went (issue 14): per signature one B-tree page at a random place instead of two. Nothing
  // in the service lists by wallet; that listing walks the newest rows back (see listUsedSignatures).
  version: 2,
  tables: [
    {
      base: 'used_signatures',
      key: ['signature_hash'],
      ddl: (t) => `
        CREATE TABLE IF NOT EXISTS ${t} (
          position INTEGER PRIMARY KEY, signature_hash TEXT NOT NULL UNIQUE, wallet TEXT, action TEXT, order_id TEXT, used_at TEXT);`,
    },
  ],
  apply(db: Db, event: RecordedEvent, tables: TableNames): void {
    applySignatures(db, [event], tables);
  },
  applyBatch: applySignatures,
};

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** The statement is looked up once per batch (a rebuild applies every event of the log). */
function applySignatures(db: Db, events: readonly RecordedEvent[], tables: TableNames): void {
  // The first use is the fact that matters; a repeat (same stream, a later position) or the same
  // event applied again (same position) changes nothing.
  const insert = cachedStatement(
    db,
    `INSERT OR IGNORE INTO ${tableName(tables, 'used_signatures')} (signature_hash, wallet, action, order_id, used_at, position)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  for (const event of events) {
    if (event.stream.startsWith(ORDER_STREAM_PREFIX)) {
      // Issue 14 lever 2: a command's first event records the signature it spent in its metadata.
      const m = event.metadata;
      if (typeof m.signature_sha256 !== 'string') continue;
      insert.run(m.signature_sha256, text(m.actor), text(m.signature_action), orderIdFromStream(event.stream), text(m.recorded_at), event.position);
      continue;
    }
    if (!event.stream.startsWith(SIGNATURE_STREAM_PREFIX) || event.type !== 'SignatureUsed') continue;
    const d = event.data;
    insert.run(event.stream.slice(SIGNATURE_STREAM_PREFIX.length), text(d.wallet), text(d.action), text(d.order_id), text(d.used_at), event.position);
  }
}

export interface UsedSignature {
  signature_hash: string;
  wallet: string | null;
  action: string | null;
  order_id: string | null;
  used_at: string | null;
}

export function findUsedSignature(db: Db, signatureHash: string): UsedSignature | null {
  const tables = activeTables(db, signaturesProjection);
  if (tables === null) return null;
  const row = cachedStatement(
    db,
    `SELECT signature_hash, wallet, action, order_id, used_at FROM ${tableName(tables, 'used_signatures')} WHERE signature_hash = ?`,
  ).get(signatureHash) as UsedSignature | undefined;
  return row ?? null;
}

/**
 * Newest first. By wallet, SQLite walks the rows from the newest back until it has `limit` of the
 * wallet's (no wallet index: an audit listing, not a path any request takes).
 */
export function listUsedSignatures(db: Db, query: { wallet?: string; limit: number }): UsedSignature[] {
  const tables = activeTables(db, signaturesProjection);
  if (tables === null) return [];
  const where = query.wallet === undefined ? '' : 'WHERE wallet = ?';
  const params: unknown[] = query.wallet === undefined ? [] : [query.wallet];
  return cachedStatement(
    db,
    `SELECT signature_hash, wallet, action, order_id, used_at FROM ${tableName(tables, 'used_signatures')} ${where}
     ORDER BY position DESC LIMIT ?`,
  ).all(...params, query.limit) as UsedSignature[];
}

