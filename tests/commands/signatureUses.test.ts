import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLedger } from '../../src/app/ledger.js';
import { OrderCache } from '../../src/commands/loadOrder.js';
import { signatureSpent } from '../../src/commands/signatures.js';
import { createSecretBox } from '../../src/crypto/preimage.js';
import type { ClientWallet } from '../../src/crypto/signer.js';
import type { EventStore, RecordedEvent } from '../../src/eventstore/types.js';
import { findUsedSignature, listUsedSignatures } from '../../src/projections/signatures.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { facts } from '../support/orderFixtures.js';
import { matchedSell, req, startSettlementHarness, trader, type SettlementHarness } from '../support/settlementHarness.js';
import { wrapStore } from './commandFixtures.js';

/**
 * Issue 14 lever 2: on SQLite a signed request's use of its signature is recorded in the metadata
 * of the first event its command appends (no `sig-` stream per signature), under the store's
 * unique index. Replays are still refused with wallet_auth_replayed, after a restart too; a request
 * that ends without writing (refused by the decider) still spends its signature in a stream of its
 * own; a store without the index (esdb) records every use up front, as before.
 */
let h: SettlementHarness | null = null;
let dir: string | null = null;

afterEach(async () => {
  await h?.close();
  h = null;
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  dir = null;
});

const ts = (harness: SettlementHarness) => Math.floor(harness.clock.nowMs / 1000);

/** A signed buy order (no node call is due after it), with the signature it carries. */
function signedBuy(harness: SettlementHarness, w: ClientWallet, amountMicroRtc = 10_000_000n) {
  const bound = { side: 'buy', pair: 'RTC/USDC', amount_micro_rtc: Number(amountMicroRtc), price_per_rtc_nano_quote: 100_000_000, ttl_seconds: 3600, eth_address: '', htlc_hash: '' };
  const walletAuth = w.sign('create_order', 'create_order', bound, ts(harness));
  const input = { side: 'buy' as const, pair: 'RTC/USDC' as const, wallet: w.wallet, amountMicroRtc, pricePerRtcNanoQuote: 100_000_000n, ttlSeconds: 3600, ethAddress: null, htlcHash: null, walletAuth };
  return { input, sha256: signatureSpent({ signatureHex: walletAuth.signature, action: 'create_order' }).sha256 };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
  return 'no error';
}

const allEvents = (store: EventStore): Promise<RecordedEvent[]> => store.readAll(0n, 10_000);

describe('signature uses without a stream of their own (SQLite)', () => {
  it('a whole trade writes no sig- stream: each command\'s first event names the signature it spent', async () => {
    h = await startSettlementHarness();
    const { orderId, secret } = await matchedSell(h);
    await trader(h).confirm(h.seller, orderId, secret);
    const events = await allEvents(h.store);
    expect(events.filter((e) => e.stream.startsWith('sig-'))).toEqual([]);
    const signed = events.filter((e) => e.metadata.signature_sha256 !== undefined);
    expect(signed.map((e) => [e.type, e.metadata.signature_action])).toEqual([
      ['OrderPlaced', 'create_order'], [expect.any(String), 'match_order'], [expect.any(String), 'confirm_settlement'],
    ]);
    expect(signed.every((e) => e.stream === `order-${orderId}` && /^[0-9a-f]{64}$/.test(e.metadata.signature_sha256 ?? ''))).toBe(true);
    // The rest of the order's events (the driver's) spend nothing.
    expect(events.length - signed.length).toBeGreaterThan(0);
  });

  it('the used-signatures read model lists uses from order-event metadata and from sig- streams alike', async () => {
    h = await startSettlementHarness();
    const { orderId, secret } = await matchedSell(h);
    await trader(h).confirm(h.seller, orderId, secret);
    expect(await codeOf(trader(h).cancel(h.buyer, orderId))).not.toBe('no error');
    const runner = new ProjectionRunner({ store: h.store, db: ':memory:' });
    try {
      await runner.catchUp();
      const events = await allEvents(h.store);
      const hashes = events.map((e) => e.metadata.signature_sha256).filter((x): x is string => x !== undefined);
      expect(hashes).toHaveLength(4);
      const rows = hashes.map((hash) => findUsedSignature(runner.db, hash));
      expect(rows.map((r) => [r?.action, r?.order_id])).toEqual([
        ['create_order', orderId], ['match_order', orderId], ['confirm_settlement', orderId], ['cancel_order', orderId],
      ]);
      expect(rows.map((r) => r?.wallet)).toEqual([h.seller.wallet, h.buyer.wallet, h.seller.wallet, h.buyer.wallet]);
      expect(listUsedSignatures(runner.db, { limit: 10 })).toHaveLength(4);
    } finally {
      await runner.close();
    }
  });

  it('records exactly the signature\'s sha256 and refuses a replay with wallet_auth_replayed, writing nothing', async () => {
    h = await startSettlementHarness();
    const { input, sha256 } = signedBuy(h, h.buyer);
    const placed = await h.ledger.placeOrder(input, req());
    const first = (await h.store.readStream(`order-${facts(placed.state).orderId as string}`))[0];
    expect(first?.metadata).toMatchObject({ signature_sha256: sha256, signature_action: 'create_order', actor: h.buyer.wallet });
    const head = await h.store.headPosition();
    expect(await codeOf(h.ledger.placeOrder(input, req()))).toBe('wallet_auth_replayed');
    expect(await h.store.headPosition()).toBe(head);
  });

  it('refuses a replayed match on an order that has moved on with the replay code, not the state\'s', async () => {
    h = await startSettlementHarness();
    const placed = await trader(h).place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    await trader(h).match(h.buyer, orderId);
    expect(await codeOf(trader(h).match(h.buyer, orderId))).toBe('wallet_auth_replayed');
  });

  it('of two copies of one request sent at once, one is carried out and the other answers wallet_auth_replayed', async () => {
    h = await startSettlementHarness();
    const { input } = signedBuy(h, h.buyer);
    const answers = await Promise.allSettled([h.ledger.placeOrder(input, req()), h.ledger.placeOrder(input, req())]);
    expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    const refused = answers.find((a) => a.status === 'rejected');
    expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: 'wallet_auth_replayed' });
    expect((await allEvents(h.store)).filter((e) => e.type === 'OrderPlaced')).toHaveLength(1);
  });

  it('a request the decider refuses spends its signature in a sig- stream, also indexed, and its resend is a replay', async () => {
    h = await startSettlementHarness();
    const placed = await trader(h).place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    expect(await codeOf(trader(h).match(h.seller, orderId))).toBe('self_match');
    const sig = (await allEvents(h.store)).filter((e) => e.stream.startsWith('sig-'));
    expect(sig.map((e) => [e.type, e.metadata.signature_action, e.data.order_id])).toEqual([['SignatureUsed', 'match_order', orderId]]);
    expect(await h.store.signatureUsed(sig[0]?.metadata.signature_sha256 ?? '')).toBe(true);
    expect(await codeOf(trader(h).match(h.seller, orderId))).toBe('wallet_auth_replayed');
  });

  it('refuses a replay after a restart: a new store and ledger on the same file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'otc-sig-restart-'));
    const storePath = join(dir, 'events.db');
    h = await startSettlementHarness({ storePath });
    const { input } = signedBuy(h, h.buyer);
    await h.ledger.placeOrder(input, req());
    await h.close();
    h = await startSettlementHarness({ storePath });
    const head = await h.store.headPosition();
    expect(await codeOf(h.ledger.placeOrder(input, req()))).toBe('wallet_auth_replayed');
    expect(await h.store.headPosition()).toBe(head);
  });
});

describe('a store without signatureUsed (the esdb adapter) records each use up front, as before', () => {
  it('writes a sig- stream before the command, no signature in the order\'s metadata, and refuses a replay', async () => {
    h = await startSettlementHarness();
    const plain = wrapStore(h.store, {});
    expect(plain.signatureUsed).toBeUndefined();
    const ledger = createLedger({ store: plain, node: h.gateway, leases: h.leases, secretBox: createSecretBox('5e'.repeat(32)), settleWindowSeconds: 86_400, leaseTtlMs: 60_000, now: () => new Date(h!.clock.nowMs), orderCache: new OrderCache() });
    const { input } = signedBuy(h, h.buyer);
    await ledger.placeOrder(input, req());
    const events = await allEvents(h.store);
    expect(events.map((e) => e.type)).toEqual(['SignatureUsed', 'OrderPlaced']);
    expect(events[1]?.metadata.signature_sha256).toBeUndefined();
    expect(await codeOf(ledger.placeOrder(input, req()))).toBe('wallet_auth_replayed');
  });
});
