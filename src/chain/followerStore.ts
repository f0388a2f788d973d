/**
 * The follower's durable state, in tables of its own in a SQLite database it is given: the checkpoint
 * (last fully processed block, number and hash), the observations already delivered (so a restart or a
 * rescan never delivers one twice), the swaps seen (swap id → order, for refunds and duplicates) and
 * the reorganisations detected and the last finalized block read (for `chain status`). Several processes may share the file.
 */
import type { Database } from 'better-sqlite3';
import type { Hash, Hex } from 'viem';

export interface Checkpoint {
  readonly blockNumber: bigint;
  readonly blockHash: Hash;
}

export interface ReorgRecord {
  readonly blockNumber: bigint;
  readonly checkpointHash: Hash;
  readonly chainHash: Hash | null;
  readonly detectedAtMs: number;
}

/** Where a delivered observation's log was, so a rescan can tell it is gone from the canonical chain. */
export interface DeliveredLog {
  readonly key: string;
  readonly orderId: string;
  readonly kind: 'lock_seen' | 'claim_seen' | 'refund_seen';
  readonly swapId: Hex;
  readonly txHash: Hash;
  readonly blockNumber: bigint;
  readonly blockHash: Hash;
}

export interface FollowerStore {
  checkpoint(chainId: number): Checkpoint | null;
  saveCheckpoint(chainId: number, checkpoint: Checkpoint, nowMs: number): void;
  /** Back to "nothing read yet": the next pass starts at the configured first block. */
  clearCheckpoint(chainId: number): void;
  wasDelivered(key: string): boolean;
  markDelivered(key: string, chainId: number, kind: string, orderId: string, nowMs: number): void;
  rememberLog(chainId: number, log: DeliveredLog): void;
  /** The delivered observations whose logs were in blocks from..to (inclusive). */
  deliveredIn(chainId: number, fromBlock: bigint, toBlock: bigint): DeliveredLog[];
  /** A delivered observation whose log vanished: never delivered, nor its swap seen, as far as the follower knows. */
  forget(chainId: number, key: string): void;
  /** The order a swap id was first seen for; null when never seen. */
  swapOrder(chainId: number, swapId: Hex): { orderId: string; hashlock: Hex; key: string } | null;
  rememberSwap(chainId: number, swapId: Hex, orderId: string, hashlock: Hex, key: string): void;
  /** The finalized block the last pass read, so `chain status` can show the lag with no chain at hand. */
  saveFinalized(chainId: number, blockNumber: bigint, nowMs: number): void;
  lastFinalized(chainId: number): { blockNumber: bigint; seenAtMs: number } | null;
  recordReorg(chainId: number, reorg: ReorgRecord): void;
  lastReorg(chainId: number): ReorgRecord | null;
}

export function createFollowerStore(db: Database): FollowerStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS quote_chain_checkpoints (
      chain_id INTEGER PRIMARY KEY, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL, updated_at_ms INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS quote_chain_delivered (
      key TEXT PRIMARY KEY, chain_id INTEGER NOT NULL, kind TEXT NOT NULL, order_id TEXT NOT NULL, delivered_at_ms INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS quote_chain_swaps (
      chain_id INTEGER NOT NULL, swap_id TEXT NOT NULL, order_id TEXT NOT NULL, hashlock TEXT NOT NULL, key TEXT NOT NULL,
      PRIMARY KEY (chain_id, swap_id));
    CREATE TABLE IF NOT EXISTS quote_chain_reorgs (
      chain_id INTEGER NOT NULL, block_number INTEGER NOT NULL, checkpoint_hash TEXT NOT NULL, chain_hash TEXT,
      detected_at_ms INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS quote_chain_delivered_logs (
      key TEXT PRIMARY KEY, chain_id INTEGER NOT NULL, order_id TEXT NOT NULL, kind TEXT NOT NULL, swap_id TEXT NOT NULL,
      tx_hash TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS quote_chain_delivered_logs_block ON quote_chain_delivered_logs (chain_id, block_number);
    CREATE TABLE IF NOT EXISTS quote_chain_finalized (
      chain_id INTEGER PRIMARY KEY, block_number INTEGER NOT NULL, seen_at_ms INTEGER NOT NULL);
  `);
  const putFinalized = db.prepare(
    `INSERT INTO quote_chain_finalized (chain_id, block_number, seen_at_ms) VALUES (?, ?, ?)
     ON CONFLICT (chain_id) DO UPDATE SET block_number = excluded.block_number, seen_at_ms = excluded.seen_at_ms`,
  );
  const getFinalized = db.prepare('SELECT block_number, seen_at_ms FROM quote_chain_finalized WHERE chain_id = ?');
  const getCheckpoint = db.prepare('SELECT block_number, block_hash FROM quote_chain_checkpoints WHERE chain_id = ?');
  const putCheckpoint = db.prepare(
    `INSERT INTO quote_chain_checkpoints (chain_id, block_number, block_hash, updated_at_ms) VALUES (?, ?, ?, ?)
     ON CONFLICT (chain_id) DO UPDATE SET block_number = excluded.block_number, block_hash = excluded.block_hash, updated_at_ms = excluded.updated_at_ms`,
  );
  const dropCheckpoint = db.prepare('DELETE FROM quote_chain_checkpoints WHERE chain_id = ?');
  const getDelivered = db.prepare('SELECT 1 FROM quote_chain_delivered WHERE key = ?');
  const putDelivered = db.prepare('INSERT OR IGNORE INTO quote_chain_delivered (key, chain_id, kind, order_id, delivered_at_ms) VALUES (?, ?, ?, ?, ?)');
  const putLog = db.prepare(
    `INSERT OR IGNORE INTO quote_chain_delivered_logs (key, chain_id, order_id, kind, swap_id, tx_hash, block_number, block_hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const getLogs = db.prepare(
    `SELECT key, order_id, kind, swap_id, tx_hash, block_number, block_hash FROM quote_chain_delivered_logs
     WHERE chain_id = ? AND block_number BETWEEN ? AND ? ORDER BY block_number, key`,
  );
  const forgetKey = db.transaction((chainId: number, key: string) => {
    db.prepare('DELETE FROM quote_chain_delivered WHERE key = ?').run(key);
    db.prepare('DELETE FROM quote_chain_delivered_logs WHERE key = ?').run(key);
    db.prepare('DELETE FROM quote_chain_swaps WHERE chain_id = ? AND key = ?').run(chainId, key);
  });
  const getSwap = db.prepare('SELECT order_id, hashlock, key FROM quote_chain_swaps WHERE chain_id = ? AND swap_id = ?');
  const putSwap = db.prepare('INSERT OR IGNORE INTO quote_chain_swaps (chain_id, swap_id, order_id, hashlock, key) VALUES (?, ?, ?, ?, ?)');
  const putReorg = db.prepare('INSERT INTO quote_chain_reorgs (chain_id, block_number, checkpoint_hash, chain_hash, detected_at_ms) VALUES (?, ?, ?, ?, ?)');
  const getReorg = db.prepare(
    'SELECT block_number, checkpoint_hash, chain_hash, detected_at_ms FROM quote_chain_reorgs WHERE chain_id = ? ORDER BY rowid DESC LIMIT 1',
  );
  return {
    checkpoint(chainId) {
      const row = getCheckpoint.get(chainId) as { block_number: number; block_hash: Hash } | undefined;
      return row ? { blockNumber: BigInt(row.block_number), blockHash: row.block_hash } : null;
    },
    saveCheckpoint(chainId, checkpoint, nowMs) {
      putCheckpoint.run(chainId, Number(checkpoint.blockNumber), checkpoint.blockHash, nowMs);
    },
    clearCheckpoint(chainId) {
      dropCheckpoint.run(chainId);
    },
    wasDelivered: (key) => getDelivered.get(key) !== undefined,
    markDelivered(key, chainId, kind, orderId, nowMs) {
      putDelivered.run(key, chainId, kind, orderId, nowMs);
    },
    rememberLog(chainId, log) {
      putLog.run(log.key, chainId, log.orderId, log.kind, log.swapId.toLowerCase(), log.txHash.toLowerCase(), Number(log.blockNumber), log.blockHash.toLowerCase());
    },
    deliveredIn(chainId, fromBlock, toBlock) {
      type Row = { key: string; order_id: string; kind: DeliveredLog['kind']; swap_id: Hex; tx_hash: Hash; block_number: number; block_hash: Hash };
      const rows = getLogs.all(chainId, Number(fromBlock), Number(toBlock)) as Row[];
      return rows.map((r) => ({ key: r.key, orderId: r.order_id, kind: r.kind, swapId: r.swap_id, txHash: r.tx_hash, blockNumber: BigInt(r.block_number), blockHash: r.block_hash }));
    },
    forget(chainId, key) {
      forgetKey(chainId, key);
    },
    swapOrder(chainId, swapId) {
      const row = getSwap.get(chainId, swapId.toLowerCase()) as { order_id: string; hashlock: Hex; key: string } | undefined;
      return row ? { orderId: row.order_id, hashlock: row.hashlock, key: row.key } : null;
    },
    rememberSwap(chainId, swapId, orderId, hashlock, key) {
      putSwap.run(chainId, swapId.toLowerCase(), orderId, hashlock.toLowerCase(), key);
    },
    saveFinalized(chainId, blockNumber, nowMs) {
      putFinalized.run(chainId, Number(blockNumber), nowMs);
    },
    lastFinalized(chainId) {
      const row = getFinalized.get(chainId) as { block_number: number; seen_at_ms: number } | undefined;
      return row ? { blockNumber: BigInt(row.block_number), seenAtMs: row.seen_at_ms } : null;
    },
    recordReorg(chainId, reorg) {
      putReorg.run(chainId, Number(reorg.blockNumber), reorg.checkpointHash, reorg.chainHash, reorg.detectedAtMs);
    },
    lastReorg(chainId) {
      const row = getReorg.get(chainId) as { block_number: number; checkpoint_hash: Hash; chain_hash: Hash | null; detected_at_ms: number } | undefined;
      return row ? { blockNumber: BigInt(row.block_number), checkpointHash: row.checkpoint_hash, chainHash: row.chain_hash, detectedAtMs: row.detected_at_ms } : null;
    },
  };
}
