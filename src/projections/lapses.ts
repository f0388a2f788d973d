import type { Database as Db } from 'better-sqlite3';
import { ORDER_STREAM_PREFIX } from '../aggregates/order/events.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { activeTables, cachedStatement } from './registry.js';
import { tableName, type Projection, type TableNames } from './types.js';

/**
 * Every lapse (MatchLapsed) with the buyer who locked nothing in time, by wallet and by quote address:
 * what 429 match_cooldown counts (quote-chain.md, "Griefing"). One row per event (order and version),
 * so replaying an event changes nothing and an order re-armed and lapsed again counts twice.
 */
export const lapsesProjection: Projection = {
  name: 'lapses',
  version: 1,
  tables: [
    {
      base: 'lapses',
      key: ['order_id', 'version'],
      ddl: (t) => `
        CREATE TABLE IF NOT EXISTS ${t} (
          order_id TEXT NOT NULL, version INTEGER NOT NULL, buyer_wallet TEXT NOT NULL, buyer_eth_address TEXT,
          lapsed_at_ms INTEGER NOT NULL, PRIMARY KEY (order_id, version));
        CREATE INDEX IF NOT EXISTS ${t}_wallet ON ${t} (buyer_wallet, lapsed_at_ms);
        CREATE INDEX IF NOT EXISTS ${t}_address ON ${t} (buyer_eth_address, lapsed_at_ms);`,
    },
  ],
  apply(db: Db, event: RecordedEvent, tables: TableNames): void {
    applyLapses(db, [event], tables);
  },
  applyBatch: applyLapses,
};

/** The statement is looked up once per batch (a rebuild applies every event of the log). */
function applyLapses(db: Db, events: readonly RecordedEvent[], tables: TableNames): void {
  let insert: ReturnType<typeof cachedStatement> | null = null;
  for (const event of events) {
    if (event.type !== 'MatchLapsed' || !event.stream.startsWith(ORDER_STREAM_PREFIX)) continue;
    const d = event.data;
    const wallet = typeof d.buyer_wallet === 'string' ? d.buyer_wallet.toLowerCase() : null;
    const lapsedAtMs = typeof d.lapsed_at === 'string' ? Date.parse(d.lapsed_at) : Number.NaN;
    // A recorded fact is never refused; one this model cannot read is simply not counted.
    if (wallet === null || Number.isNaN(lapsedAtMs)) continue;
    const address = typeof d.buyer_eth_address === 'string' ? d.buyer_eth_address.toLowerCase() : null;
    insert ??= cachedStatement(
      db,
      `INSERT OR IGNORE INTO ${tableName(tables, 'lapses')} (order_id, version, buyer_wallet, buyer_eth_address, lapsed_at_ms) VALUES (?, ?, ?, ?, ?)`,
    );
    insert.run(event.stream.slice(ORDER_STREAM_PREFIX.length), event.version, wallet, address, lapsedAtMs);
  }
}

/** Lapse times (ms, ascending) since `sinceMs` of a wallet (canonical) or a quote address; null when the model is not there. */
export function lapseTimes(db: Db, who: { readonly wallet?: string; readonly ethAddress?: string }, sinceMs: number): number[] | null {
  const tables = activeTables(db, lapsesProjection);
  if (tables === null) return null;
  const [column, value] = who.wallet !== undefined ? ['buyer_wallet', who.wallet.toLowerCase()] : ['buyer_eth_address', (who.ethAddress ?? '').toLowerCase()];
  const rows = cachedStatement(
    db,
    `SELECT lapsed_at_ms FROM ${tableName(tables, 'lapses')} WHERE ${column} = ? AND lapsed_at_ms >= ? ORDER BY lapsed_at_ms LIMIT 1000`,
  ).all(value, sinceMs) as { lapsed_at_ms: number }[];
  return rows.map((r) => r.lapsed_at_ms);
}
