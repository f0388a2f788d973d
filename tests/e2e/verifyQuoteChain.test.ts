import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { orderStream } from '../../src/aggregates/order/index.js';
import { verifyLedger } from '../../src/audit/verify.js';
import { quoteChainAuditFor, runVerify } from '../../src/cli/verifyCommand.js';
import { toNewEvents } from '../../src/commands/handleCommand.js';
import { loadOrder } from '../../src/commands/loadOrder.js';
import { loadQuoteChainConfig } from '../../src/config.js';
import { createEvmQuoteChain } from '../../src/gateways/quoteChainEvm.js';
import { fundViaLedger, generateWallet, get, matchBody, placeSellBody, post, until, useSandboxLedger } from './support.js';

/**
 * `verify` against the quote chain: every Quote* observation in every order must match the chain (the
 * log its key names, the block and its time, the swap and its terms at that block). A swap played on a
 * real anvil verifies clean; a forged observation (a valid hash chain, a fact the chain does not hold)
 * is a finding with a stable code.
 */

const sandbox = useSandboxLedger('verify-chain');
let orderId: string;

beforeAll(async () => {
  const { ledger, chain, buyerQuote, sellerQuote } = sandbox;
  const [seller, buyer] = [generateWallet(), generateWallet()];
  await fundViaLedger(ledger.url, seller);
  const placed = await post(ledger.url, '/api/orders', placeSellBody(seller, '10', '0.1', sellerQuote));
  orderId = placed.body.order.order_id as string;
  // A match checks the buyer's quote address holds the amount at the finalized block (quote_funds_missing).
  await chain.fundUsdc(buyerQuote, 2_000_000n);
  await chain.mine();
  const matched = await post(ledger.url, `/api/orders/${orderId}/match`, matchBody(buyer, orderId, buyerQuote));
  if (matched.status !== 200) throw new Error(`matching answered ${matched.status}: ${JSON.stringify(matched.body)}`);
  const lockArgs = {
    buyer: buyerQuote, seller: sellerQuote, hashlock: `0x${placed.body.order.htlc_hash as string}` as const,
    timelock: (await chain.latestBlock()).timestamp + 7_200n, orderId,
  };
  await chain.lockUsdc({ ...lockArgs, amount: 999_999n });
  const locked = await chain.lockUsdc({ ...lockArgs, amount: 1_000_000n });
  await until(async () => (await get(ledger.url, `/api/orders/${orderId}`)).body.order.quote_leg.status === 'locked', 'the lock verified', 20_000);
  await chain.claim(sellerQuote, locked.swapId, `0x${placed.body.htlc_secret as string}`);
  await until(async () => (await get(ledger.url, `/api/orders/${orderId}`)).body.order.status === 'completed', 'the order completed', 20_000);
}, 90_000);

const audit = () => ({ chainId: sandbox.chain.chainId, chain: createEvmQuoteChain({ rpcUrl: sandbox.chain.rpcUrl, htlcAddress: sandbox.chain.htlcAddress, finality: { kind: 'confirmations', count: 1 }, registry: new Registry() }) });
const QUOTE_KINDS = ['quote_observation_missing', 'quote_observation_mismatch', 'quote_chain_unreachable'];
const quoteFindings = async (quoteChain = audit()) =>
  (await verifyLedger({ store: sandbox.ledger.store, readDb: null, quoteChain })).findings.filter((f) => QUOTE_KINDS.includes(f.kind));

async function observations(): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const loaded = await sandbox.ledger.store.readStream(orderStream(orderId));
  return loaded.filter((e) => e.type.startsWith('Quote')).map((e) => ({ type: e.type, data: e.data as Record<string, unknown> }));
}

async function forge(event: { type: string; data: Record<string, unknown> }): Promise<number> {
  const loaded = await loadOrder(sandbox.ledger.store, orderId);
  const forged = toNewEvents(orderId, loaded, [event] as unknown as Parameters<typeof toNewEvents>[2], {
    correlationId: 'forged', causationId: null, actor: 'intruder', now: () => new Date(),
  });
  await sandbox.ledger.store.append(orderStream(orderId), forged, loaded.version);
  return Number(loaded.version) + 1;
}

describe('verify against the quote chain', () => {
  it('passes a swap played on the chain: the lock, the rejected lock and the claim all match it', async () => {
    expect((await observations()).map((o) => o.type)).toEqual(['QuoteLockRejected', 'QuoteLockObserved', 'QuoteClaimObserved']);
    expect(await quoteFindings()).toEqual([]);
    // The CLI's wiring: in sandbox mode, the chain of the running ledger named by --url.
    let text = '';
    const code = await runVerify({ store: sandbox.ledger.store, readDbPath: null, quoteChain: await quoteChainAuditFor(loadQuoteChainConfig({}), sandbox.ledger.url) }, { write: (t: string) => (text += t) });
    expect(text).toContain(`the quote-chain observations against chain ${sandbox.chain.chainId}: OK`);
    expect(code).toBe(0);
    expect(await quoteChainAuditFor(loadQuoteChainConfig({}), null)).toBeNull();
    expect(await quoteChainAuditFor(loadQuoteChainConfig({ LEDGER_QUOTE_CHAIN: 'manual' }), sandbox.ledger.url)).toBeNull();
  });

  it('finds an observation whose terms differ from the chain (a lock with a tampered amount), naming its version', async () => {
    const lock = (await observations()).find((o) => o.type === 'QuoteLockObserved')!;
    const version = await forge({ type: 'QuoteLockObserved', data: { ...lock.data, amount_base_units: '5000000' } });
    expect(await quoteFindings()).toEqual([{
      kind: 'quote_observation_mismatch', stream: orderStream(orderId), version,
      message: `${orderStream(orderId)} v${version}: QuoteLockObserved has amount 5000000, the log 1000000`,
    }]);
  });

  it('finds an observation naming a log the chain does not have, and one whose block time is not the chain\'s', async () => {
    const claim = (await observations()).find((o) => o.type === 'QuoteClaimObserved')!;
    const fakeTx = `0x${'ee'.repeat(32)}`;
    const missing = await forge({ type: 'QuoteRefundObserved', data: { key: `${sandbox.chain.chainId}:${fakeTx}:0`, chain_id: sandbox.chain.chainId, swap_id: claim.data.swap_id, tx_hash: fakeTx, block_number: claim.data.block_number, block_time_seconds: claim.data.block_time_seconds } });
    const late = await forge({ type: 'QuoteClaimObserved', data: { ...claim.data, block_time_seconds: String(BigInt(String(claim.data.block_time_seconds)) + 3_600n) } });
    const found = (await quoteFindings()).filter((f) => f.version === missing || f.version === late);
    expect(found.map((f) => [f.kind, f.version])).toEqual([['quote_observation_missing', missing], ['quote_observation_mismatch', late]]);
    expect(found[1]?.message).toContain('has time');
  });

  it('reports a chain it cannot read once, and checks nothing more against it', async () => {
    const dead = { chainId: sandbox.chain.chainId, chain: createEvmQuoteChain({ rpcUrl: 'http://127.0.0.1:9', htlcAddress: sandbox.chain.htlcAddress, finality: { kind: 'confirmations', count: 1 }, registry: new Registry(), retries: 0, timeoutMs: 1_000 }) };
    const found = await quoteFindings(dead);
    expect(found.map((f) => f.kind)).toEqual(['quote_chain_unreachable']);
  });
});
