import { randomUUID } from 'node:crypto';
import type { OrderCommand, Pair } from '../../../src/aggregates/order/index.js';
import { handleOrderCommand, type CommandOutcome } from '../../../src/commands/handleCommand.js';
import { chainHash, GENESIS_HASH } from '../../../src/eventstore/hashChain.js';
import { SqliteEventStore } from '../../../src/eventstore/sqlite.js';
import type { EventStore } from '../../../src/eventstore/types.js';
import { htlcHashOf } from '../../../src/crypto/preimage.js';

/** Builds test ledgers through the real command handler, on a clock the test moves. */
export { BUYER, SELLER, wallet } from '../../support/wallets.js';
import { BUYER, SELLER } from '../../support/wallets.js';
export const SECRET = 'ab'.repeat(32);
export const HTLC_HASH = htlcHashOf(SECRET);
export const T0 = new Date('2026-03-01T10:00:00.000Z');

export class TestLedger {
  nowMs = T0.getTime();
  constructor(readonly store: EventStore) {}

  static memory(): TestLedger {
    return new TestLedger(new SqliteEventStore({ path: ':memory:' }));
  }

  /** Each call moves the clock one second, so every command has its own time. */
  now(): Date {
    this.nowMs += 1000;
    return new Date(this.nowMs);
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  run(orderId: string, command: OrderCommand, actor = 'reconciler'): Promise<CommandOutcome> {
    const now = new Date(this.nowMs);
    return handleOrderCommand(this.store, orderId, command, { correlationId: randomUUID(), causationId: null, actor, now: () => now });
  }

  async placeSell(orderId: string, o: { amountMicroRtc?: bigint; priceNano?: bigint; pair?: Pair; ttlSeconds?: number; maker?: string } = {}) {
    await this.run(orderId, {
      type: 'PlaceOrder', orderId, side: 'sell', pair: o.pair ?? 'RTC/USDC', makerWallet: o.maker ?? SELLER,
      amountMicroRtc: o.amountMicroRtc ?? 100_000_000n, pricePerRtcNanoQuote: o.priceNano ?? 100_000_000n,
      ttlSeconds: o.ttlSeconds ?? 86_400, makerEthAddress: `0x${'1'.repeat(40)}`, htlcHash: HTLC_HASH, now: this.now(),
    }, o.maker ?? SELLER);
    return this.run(orderId, { type: 'RecordEscrowLocked', party: 'maker', jobId: `job-${orderId}`, now: this.now() });
  }

  async placeBuy(orderId: string, o: { amountMicroRtc?: bigint; priceNano?: bigint; pair?: Pair; ttlSeconds?: number; maker?: string } = {}) {
    return this.run(orderId, {
      type: 'PlaceOrder', orderId, side: 'buy', pair: o.pair ?? 'RTC/USDC', makerWallet: o.maker ?? BUYER,
      amountMicroRtc: o.amountMicroRtc ?? 100_000_000n, pricePerRtcNanoQuote: o.priceNano ?? 100_000_000n,
      ttlSeconds: o.ttlSeconds ?? 86_400, makerEthAddress: null, htlcHash: null, now: this.now(),
    }, o.maker ?? BUYER);
  }

  match(orderId: string, taker: string, htlcHash: string | null = null) {
    return this.run(orderId, { type: 'MatchOrder', takerWallet: taker, takerEthAddress: null, htlcHash, settleWindowSeconds: 86_400, now: this.now() }, taker);
  }

  /** Seller confirms, escrow is released and the payout confirmed: a completed trade. */
  async settle(orderId: string, seller: string, jobId = `job-${orderId}`) {
    await this.run(orderId, { type: 'ConfirmSettlement', wallet: seller, quoteTx: `0xquote-${orderId}`, secret: SECRET, secretCiphertext: 'enc:v1:opaque', now: this.now() }, seller);
    await this.run(orderId, { type: 'RecordEscrowReleased', jobId, now: this.now() });
    return this.run(orderId, { type: 'RecordPayoutStatus', payoutKey: `otc_payout:${orderId}`, txHash: `tx-${orderId}`, phase: 'confirmed', now: this.now() });
  }

  /** A sell order placed, locked, matched and settled. */
  async completedSell(orderId: string, o: { priceNano?: bigint; amountMicroRtc?: bigint; pair?: Pair } = {}) {
    await this.placeSell(orderId, o);
    await this.match(orderId, BUYER);
    return this.settle(orderId, SELLER);
  }

  /** A sell order matched on a chain whose buyer never locked: lapsed at lock_by (chain time). */
  async lapsedSell(orderId: string) {
    await this.placeSell(orderId);
    await this.run(orderId, {
      type: 'MatchOrder', takerWallet: BUYER, takerEthAddress: `0x${'2'.repeat(40)}`, htlcHash: null, settleWindowSeconds: 86_400,
      quoteLeg: { mode: 'sandbox', chainId: 31337, lockWindowSeconds: 1_800 }, now: this.now(),
    }, BUYER);
    const pastLockBy = BigInt(Math.floor(this.nowMs / 1000) + 1_801);
    return this.run(orderId, { type: 'ExpireOrder', now: this.now(), quoteChain: { decision: 'no_swap', finalizedTimeSeconds: pastLockBy } });
  }

  async cancelWithRefund(orderId: string) {
    await this.placeSell(orderId);
    await this.run(orderId, { type: 'CancelOrder', wallet: SELLER, now: this.now() }, SELLER);
    return this.run(orderId, { type: 'RecordRefundIssued', party: 'maker', jobId: `job-${orderId}`, now: this.now() });
  }

  /** What the signature guard appends: one `sig-<hash>` stream per accepted signature. */
  async useSignature(signatureHash: string, orderId: string) {
    const stream = `sig-${signatureHash}`;
    const data = { wallet: SELLER, action: 'create_order', order_id: orderId, used_at: this.now().toISOString() };
    const hash = chainHash(GENESIS_HASH, { stream, version: 1n, type: 'SignatureUsed', data });
    const eventId = randomUUID();
    return this.store.append(stream, [{
      eventId, type: 'SignatureUsed', data,
      metadata: { event_id: eventId, correlation_id: 'c', causation_id: null, actor: SELLER, recorded_at: this.now().toISOString(), schema_version: 1, prev_hash: GENESIS_HASH, hash },
    }], 'no_stream');
  }
}

/** A small mixed ledger: every kind of order life, on two pairs, plus signatures. */
export async function buildMixedLedger(ledger: TestLedger, count = 1): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = (n: number): string => `otc_${(i * 16 + n).toString(16).padStart(16, '0')}`;
    await ledger.completedSell(id(1), { priceNano: 110_000_000n });
    await ledger.placeSell(id(2), { priceNano: 120_000_000n });
    await ledger.placeSell(id(3), { priceNano: 120_000_000n, amountMicroRtc: 5_000_000n });
    await ledger.placeBuy(id(4), { priceNano: 90_000_000n });
    await ledger.placeBuy(id(5), { priceNano: 95_000_000n, pair: 'RTC/ETH' });
    await ledger.cancelWithRefund(id(6));
    await ledger.placeBuy(id(7));
    await ledger.match(id(7), SELLER, HTLC_HASH);
    await ledger.run(id(7), { type: 'RecordEscrowLocked', party: 'taker', jobId: `job-${id(7)}`, now: ledger.now() });
    await ledger.settle(id(7), SELLER);
    await ledger.useSignature(`${i}`.padStart(64, 'f'), id(1));
  }
}
