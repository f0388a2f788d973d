/**
 * Generates a large, realistic ledger straight into an event store file: order streams driven by
 * the real decider (so every event, amount and hash link is what the service would write), with
 * a pool of live orders advanced in random order so streams interleave in the global log, plus
 * one `sig-` stream per order. Rows go in through the store's own schema in large transactions:
 * a million fsynced appends would measure the disk, not the rebuild.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { decide, evolve, initialState, type OrderCommand, type OrderState } from '../src/aggregates/order/index.js';
import { toNewEvents } from '../src/commands/handleCommand.js';
import { chainHash, GENESIS_HASH } from '../src/eventstore/hashChain.js';
import { EVENTS_SCHEMA } from '../src/eventstore/sqlite.js';
import type { NewEvent } from '../src/eventstore/types.js';
import { htlcHashOf } from '../src/crypto/preimage.js';

const SECRET = 'cd'.repeat(32);
const HTLC_HASH = htlcHashOf(SECRET);
const POOL_SIZE = 2000;
const TX_ROWS = 20_000;

type Step = (state: OrderState, now: Date) => OrderCommand;
interface LiveOrder {
  readonly orderId: string;
  readonly steps: Step[];
  state: OrderState;
  version: bigint;
  lastHash: string;
}

const wallet = (i: number): string => `RTC${(i % 997).toString(16).padStart(40, '0')}`;

/** The life of one order as a list of commands: completed, cancelled, expired or left open. */
function lifeOf(i: number, rand: () => number): Step[] {
  const orderId = `otc_${i.toString(16).padStart(16, '0')}`;
  const sell = rand() < 0.6;
  const maker = wallet(i);
  const taker = wallet(i + 1);
  const job = `job-${i}`;
  const place: Step = (_s, now) => ({
    type: 'PlaceOrder', orderId, side: sell ? 'sell' : 'buy', pair: rand() < 0.7 ? 'RTC/USDC' : 'RTC/ETH', makerWallet: maker,
    amountMicroRtc: BigInt(1 + Math.floor(rand() * 5000)) * 1_000_000n, pricePerRtcNanoQuote: BigInt(50 + Math.floor(rand() * 100)) * 1_000_000n,
    ttlSeconds: 86_400, makerEthAddress: null, htlcHash: sell ? HTLC_HASH : null, now,
  });
  const lock = (party: 'maker' | 'taker'): Step => (_s, now) => ({ type: 'RecordEscrowLocked', party, jobId: job, now });
  const match: Step = (_s, now) => ({ type: 'MatchOrder', takerWallet: taker, takerEthAddress: null, htlcHash: sell ? null : HTLC_HASH, settleWindowSeconds: 86_400, now });
  const seller = sell ? maker : taker;
  const settle: Step[] = [
    (_s, now) => ({ type: 'ConfirmSettlement', wallet: seller, quoteTx: `0xq${i}`, secret: SECRET, secretCiphertext: 'enc:bench', now }),
    (_s, now) => ({ type: 'RecordEscrowReleased', jobId: job, now }),
    (_s, now) => ({ type: 'RecordPayoutStatus', payoutKey: `otc_payout:${orderId}`, txHash: `tx${i}`, phase: 'pending', now }),
    (_s, now) => ({ type: 'RecordPayoutStatus', payoutKey: `otc_payout:${orderId}`, txHash: `tx${i}`, phase: 'confirmed', now }),
  ];
  const fate = rand();
  const opened = sell ? [place, lock('maker')] : [place];
  if (fate < 0.55) return sell ? [...opened, match, ...settle] : [...opened, match, lock('taker'), ...settle];
  if (fate < 0.75 && sell) return [...opened, (_s, now) => ({ type: 'CancelOrder', wallet: maker, now }), (_s, now) => ({ type: 'RecordRefundIssued', party: 'maker', jobId: job, now })];
  if (fate < 0.9) return [...opened, (_s, now) => ({ type: 'ExpireOrder', now: new Date(now.getTime() + 2 * 86_400_000) }), ...(sell ? [(_s: OrderState, now: Date): OrderCommand => ({ type: 'RecordRefundIssued', party: 'maker', jobId: job, now })] : [])];
  return opened;
}

/** A small deterministic PRNG, so every run generates the same ledger. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedLedger {
  readonly events: number;
  readonly orders: number;
  readonly orderIds: string[];
}

/** Writes at least `targetEvents` events into a new store file at `path`. */
export function generateLedger(path: string, targetEvents: number): GeneratedLedger {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec(EVENTS_SCHEMA);
  const insert = db.prepare('INSERT INTO events (stream, version, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const rand = mulberry32(42);
  const pool: LiveOrder[] = [];
  const orderIds: string[] = [];
  let written = 0;
  let nextOrder = 1;
  let clockMs = Date.parse('2026-01-01T00:00:00Z');
  const write = (stream: string, events: readonly NewEvent[], firstVersion: bigint) => {
    events.forEach((e, k) => insert.run(stream, Number(firstVersion) + k, e.eventId, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)));
    written += events.length;
  };
  const batch = db.transaction(() => {
    const stop = written + TX_ROWS;
    while (written < stop && written < targetEvents) {
      while (pool.length < POOL_SIZE) {
        const id = nextOrder++;
        const steps = lifeOf(id, rand);
        pool.push({ orderId: `otc_${id.toString(16).padStart(16, '0')}`, steps, state: initialState, version: 0n, lastHash: GENESIS_HASH });
        write(`sig-${id.toString(16).padStart(64, '0')}`, [signatureEvent(id, clockMs)], 1n);
      }
      const index = Math.floor(rand() * pool.length);
      const order = pool[index] as LiveOrder;
      clockMs += 50;
      if (order.version === 0n) orderIds.push(order.orderId);
      advance(order, new Date(clockMs), write);
      if (order.steps.length === 0) pool.splice(index, 1);
    }
  });
  while (written < targetEvents) batch();
  db.close();
  return { events: written, orders: orderIds.length, orderIds };
}

function advance(order: LiveOrder, now: Date, write: (stream: string, events: readonly NewEvent[], firstVersion: bigint) => void): void {
  const step = order.steps.shift();
  if (step === undefined) return;
  const decided = decide(step(order.state, now), order.state);
  if (decided.length === 0) return;
  const ctx = { correlationId: randomUUID(), causationId: null, actor: 'bench', now: () => now };
  const events = toNewEvents(order.orderId, { version: order.version, lastHash: order.lastHash }, decided, ctx);
  write(`order-${order.orderId}`, events, order.version + 1n);
  for (const event of decided) order.state = evolve(order.state, event);
  order.version += BigInt(events.length);
  order.lastHash = events[events.length - 1]?.metadata.hash ?? order.lastHash;
}

function signatureEvent(id: number, clockMs: number): NewEvent {
  const stream = `sig-${id.toString(16).padStart(64, '0')}`;
  const data = { wallet: wallet(id), action: 'create_order', order_id: `otc_${id.toString(16).padStart(16, '0')}`, used_at: new Date(clockMs).toISOString() };
  const hash = chainHash(GENESIS_HASH, { stream, version: 1n, type: 'SignatureUsed', data });
  const eventId = randomUUID();
  const metadata = { event_id: eventId, correlation_id: eventId, causation_id: null, actor: data.wallet, recorded_at: data.used_at, schema_version: 1, prev_hash: GENESIS_HASH, hash };
  return { eventId, type: 'SignatureUsed', data, metadata };
}
