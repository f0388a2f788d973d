import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import type { RunningLedger } from '../../src/main.js';
import { isLoopback } from '../../src/sandbox/chainControls.js';
import {
  baseEnv, fundViaLedger, generateWallet, get, matchBody, placeSellBody, post, startFromEnv, tempDir, until, useSandboxLedger, type ClientWallet,
} from './support.js';

/**
 * `/__sandbox/chain/*` on a ledger started in sandbox mode (its own anvil), over real HTTP on
 * loopback, and the operator's reads of the chain follower and of verify (`/admin/chain`,
 * `/admin/verify`). Every control is shown doing its job, refusing with its code, and the chain's
 * own refusals named without echoing what was sent.
 */

const ADMIN_TOKEN = 'sandbox-chain-admin-token-0123456789abcdef';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const sandbox = useSandboxLedger('sandbox-chain', { LEDGER_ADMIN_TOKEN: ADMIN_TOKEN });
/** The chain's development accounts: [1] and [2] play the buyer's and the seller's quote addresses. */
const dev = (): readonly Address[] => sandbox.chain.devAddresses;

const control = (path: string, body: unknown = {}) => post(sandbox.ledger.url, `/__sandbox/chain/${path}`, body);
const orderOf = async (id: string) => (await get(sandbox.ledger.url, `/api/orders/${id}`)).body.order;

/** A sell of 10 RTC at 0.1 USDC (1 USDC = 1,000,000 base units), matched by a buyer quoting `buyerQuote`. */
async function matchedSell(buyerQuote: Address, sellerQuote: Address = dev()[2]!): Promise<{ orderId: string; secret: string; seller: ClientWallet }> {
  const [seller, buyer] = [generateWallet(), generateWallet()];
  await fundViaLedger(sandbox.ledger.url, seller);
  const placed = await post(sandbox.ledger.url, '/api/orders', placeSellBody(seller, '10', '0.1', sellerQuote));
  expect(placed.status).toBe(201);
  const orderId = placed.body.order.order_id as string;
  // A match checks the buyer's quote address holds the amount at the finalized block (quote_funds_missing).
  expect((await control('fund', { address: buyerQuote, usdc_base_units: '1000000' })).status).toBe(200);
  expect((await control('mine')).status).toBe(200);
  const matched = await post(sandbox.ledger.url, `/api/orders/${orderId}/match`, matchBody(buyer, orderId, buyerQuote));
  expect(matched.status).toBe(200);
  return { orderId, secret: placed.body.htlc_secret as string, seller };
}

describe('the sandbox chain controls', () => {
  it('tells what the chain is: rpc url, chain id, contract, token, head and the development addresses', async () => {
    const info = await get(sandbox.ledger.url, '/__sandbox/chain/info');
    const chain = sandbox.chain;
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ ok: true, rpc_url: chain.rpcUrl, chain_id: chain.chainId, contract: chain.htlcAddress, token: chain.usdcAddress, dev_addresses: dev() });
    expect(info.body.rpc_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    expect(info.body.head).toMatchObject({ number: expect.stringMatching(/^\d+$/), timestamp: expect.any(String) });
  });

  it('funds any address with test USDC and ETH, and refuses a bad address or an empty request', async () => {
    const someone = '0x1111111111111111111111111111111111111111';
    const funded = await control('fund', { address: someone, usdc_base_units: '2500000', eth_wei: '1000' });
    expect(funded.status).toBe(200);
    expect(funded.body).toMatchObject({ ok: true, address: someone, usdc_balance_base_units: '2500000' });
    expect(await sandbox.chain.client.getBalance({ address: someone })).toBe(1000n);
    const again = await control('fund', { address: someone, usdc_base_units: '1' });
    expect(again.body.usdc_balance_base_units).toBe('2500001');

    for (const body of [{ address: '0x12', usdc_base_units: '1' }, { address: someone }, { address: someone, usdc_base_units: '-5' }, { address: someone, usdc_base_units: 5 }]) {
      const refused = await control('fund', body);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('sandbox_request_invalid');
    }
    expect((await control('fund', { address: someone, usdc_base_units: '0' })).body.usdc_balance_base_units).toBe('2500001');
  });

  it('plays the whole swap: the buyer\'s lock, the chain\'s refusals, the seller\'s claim, and the order completes with no confirm', async () => {
    const [buyerQuote, sellerQuote] = [dev()[1]!, dev()[2]!];
    const trade = await matchedSell(buyerQuote, sellerQuote);
    // Nothing seen on chain yet: a claim has no swap to name.
    const early = await control('claim', { order_id: trade.orderId, preimage: trade.secret });
    expect(early.status).toBe(409);
    expect(early.body.error).toBe('sandbox_swap_missing');

    await control('fund', { address: buyerQuote, usdc_base_units: '1000000' });
    const locked = await control('lock', { order_id: trade.orderId });
    expect(locked.status).toBe(200);
    expect(locked.body).toMatchObject({ ok: true, swap_id: expect.stringMatching(/^0x[0-9a-f]{64}$/), tx_hash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    await until(async () => (await orderOf(trade.orderId)).quote_leg.status === 'locked', 'the lock seen by the ledger', 20_000);
    const leg = (await orderOf(trade.orderId)).quote_leg;
    expect(leg).toMatchObject({ swap_id: locked.body.swap_id, lock_tx: locked.body.tx_hash });
    expect(Date.parse(locked.body.timelock)).toBeGreaterThanOrEqual(Date.parse(leg.timelock_min));

    // The contract's own refusals, named, and never echoing the preimage sent.
    const refundEarly = await control('refund', { order_id: trade.orderId });
    expect(refundEarly.status).toBe(409);
    expect(refundEarly.body).toMatchObject({ error: 'sandbox_chain_reverted', message: 'the contract refused: NotExpired' });
    const wrong = 'ab'.repeat(32);
    const wrongClaim = await control('claim', { order_id: trade.orderId, preimage: wrong });
    expect(wrongClaim.body).toMatchObject({ error: 'sandbox_chain_reverted', message: 'the contract refused: InvalidPreimage' });
    expect(JSON.stringify(wrongClaim.body)).not.toContain(wrong);

    const claimed = await control('claim', { order_id: trade.orderId, preimage: trade.secret });
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({ ok: true, swap_id: locked.body.swap_id, tx_hash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    await until(async () => (await orderOf(trade.orderId)).status === 'completed', 'the order completed', 20_000);
    expect((await orderOf(trade.orderId)).quote_leg).toMatchObject({ status: 'claimed', claim_tx: claimed.body.tx_hash });
    // Already claimed: the chain refuses a second claim, and the order stays as it is.
    const twice = await control('claim', { order_id: trade.orderId, preimage: trade.secret });
    expect(twice.body).toMatchObject({ error: 'sandbox_chain_reverted', message: 'the contract refused: AlreadyClaimed' });
    expect((await orderOf(trade.orderId)).status).toBe('completed');
  }, 60_000);

  it('acts only for development addresses, only on matched orders of the sandbox chain, and 404s an unknown order', async () => {
    const outsider = '0x2222222222222222222222222222222222222222' as Address;
    await control('fund', { address: outsider, usdc_base_units: '1000000', eth_wei: '1000000000000000000' });
    const trade = await matchedSell(outsider);
    const notDev = await control('lock', { order_id: trade.orderId });
    expect(notDev.status).toBe(409);
    expect(notDev.body.error).toBe('sandbox_address_not_dev');
    expect((await orderOf(trade.orderId)).quote_leg.status).toBe('awaiting_lock');

    const seller = generateWallet();
    await fundViaLedger(sandbox.ledger.url, seller);
    const open = await post(sandbox.ledger.url, '/api/orders', placeSellBody(seller, '10', '0.1', dev()[3]));
    const unmatched = await control('lock', { order_id: open.body.order.order_id });
    expect(unmatched.status).toBe(409);
    expect(unmatched.body.error).toBe('sandbox_order_not_on_chain');

    const missing = await control('lock', { order_id: 'otc_00000000000000ff' });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('order_not_found');
    for (const body of [{ order_id: 'nope' }, {}, { order_id: trade.orderId, extra: 1 }]) {
      expect((await control('lock', body)).body.error).toBe('sandbox_request_invalid');
    }
    expect((await control('claim', { order_id: trade.orderId, preimage: 'xyz' })).body.error).toBe('sandbox_request_invalid');
  }, 60_000);

  it('moves chain time and mines blocks, within bounds', async () => {
    const before = (await get(sandbox.ledger.url, '/__sandbox/chain/info')).body.head;
    const moved = await control('time', { seconds: 7_200 });
    expect(moved.status).toBe(200);
    expect(moved.body.head.timestamp_seconds - before.timestamp_seconds).toBeGreaterThanOrEqual(7_200);
    const mined = await control('mine', { blocks: 3 });
    expect(BigInt(mined.body.head.number) - BigInt(moved.body.head.number)).toBe(3n);
    expect(BigInt((await control('mine')).body.head.number) - BigInt(mined.body.head.number)).toBe(1n);
    for (const [path, body] of [['time', { seconds: 0 }], ['time', { seconds: 31 * 24 * 3600 }], ['mine', { blocks: 101 }], ['time', {}]] as const) {
      const refused = await control(path, body);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('sandbox_request_invalid');
    }
  });

  it('answers loopback peers only (the socket\'s address, whatever a forwarded-for header says)', async () => {
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.8.9.10'].every(isLoopback)).toBe(true);
    expect(['10.0.0.1', '::ffff:10.0.0.1', '192.168.1.2', undefined, '1127.0.0.1'].some(isLoopback)).toBe(false);
    const forwarded = await post(sandbox.ledger.url, '/__sandbox/chain/mine', {}, { 'x-forwarded-for': '203.0.113.9' });
    expect(forwarded.status).toBe(200);
    // A peer from elsewhere (injected: the tests reach loopback only) is refused, and nothing is mined.
    const headBefore = (await get(sandbox.ledger.url, '/__sandbox/chain/info')).body.head.number;
    const remote = await sandbox.ledger.app.inject({ method: 'POST', url: '/__sandbox/chain/mine', payload: {}, remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(403);
    expect(remote.json()).toMatchObject({ ok: false, error: 'sandbox_loopback_only' });
    expect((await get(sandbox.ledger.url, '/__sandbox/chain/info')).body.head.number).toBe(headBefore);
  });
});

describe('the operator\'s chain status and verify', () => {
  it('shows the head, the finalized block, the follower\'s checkpoint and its lag', async () => {
    await until(async () => (await get(sandbox.ledger.url, '/admin/chain', admin)).body.chain?.checkpoint !== null, 'a checkpoint', 20_000);
    const answer = await get(sandbox.ledger.url, '/admin/chain', admin);
    expect(answer.status).toBe(200);
    const chain = answer.body.chain;
    expect(chain).toMatchObject({ mode: 'sandbox', chain_id: sandbox.chain.chainId, contract: sandbox.chain.htlcAddress, problem: null, last_reorg: null });
    expect(BigInt(chain.head.number)).toBeGreaterThanOrEqual(BigInt(chain.finalized.number));
    expect(chain.lag_blocks).toBe(Number(BigInt(chain.finalized.number) - BigInt(chain.checkpoint.number)));
    expect(chain.lag_blocks).toBeGreaterThanOrEqual(0);
    expect((await get(sandbox.ledger.url, '/admin/chain')).body.error).toBe('unauthorized');
  });

  it('runs verify: no finding on a clean ledger, then the row a damaged read model lost', async () => {
    const clean = await get(sandbox.ledger.url, '/admin/verify', admin);
    expect(clean.status).toBe(200);
    expect(clean.body).toMatchObject({ ok: true, read_models: true, findings: [] });
    expect(clean.body.streams).toBeGreaterThanOrEqual(3);
    expect(clean.body.events).toBeGreaterThan(clean.body.streams);
    expect((await get(sandbox.ledger.url, '/admin/verify', { authorization: 'Bearer wrong' })).status).toBe(401);

    const db = new Database(join(sandbox.dataDir, 'read.db'));
    try {
      const table = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'orders\\_\\_%' ESCAPE '\\' ORDER BY name DESC").get() as { name: string }).name;
      const victim = (db.prepare(`SELECT order_id FROM ${table} LIMIT 1`).get() as { order_id: string }).order_id;
      db.prepare(`DELETE FROM ${table} WHERE order_id = ?`).run(victim);
      const found = await get(sandbox.ledger.url, '/admin/verify', admin);
      expect(found.body.findings).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'read_model_row_missing', message: expect.stringContaining(victim) })]));
    } finally {
      db.close();
    }
  });
});

describe('in manual mode', () => {
  const manualDir = tempDir('sandbox-chain-manual');
  let manual: RunningLedger;
  beforeAll(async () => {
    manual = await startFromEnv(baseEnv(manualDir.path, { LEDGER_ADMIN_TOKEN: ADMIN_TOKEN }));
  });
  afterAll(async () => {
    await manual?.close();
    manualDir.remove();
  });

  it('mounts no chain controls and reports no chain', async () => {
    expect((await get(manual.url, '/__sandbox/chain/info')).status).toBe(404);
    expect((await post(manual.url, '/__sandbox/chain/lock', { order_id: 'otc_00000000000000ff' })).status).toBe(404);
    expect((await get(manual.url, '/admin/chain', admin)).body).toEqual({ ok: true, chain: null });
  });
});
