import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { BRIDGE_WORKER_WALLET } from '../../src/gateways/node.js';
import { SandboxNode } from '../../src/sandbox/index.js';
import { Checker } from '../../src/sim/checks.js';
import { Prng } from '../../src/sim/prng.js';
import { chainWitness } from '../../src/sim/chainWitness.js';
import { SimChain } from '../../src/sim/simChain.js';
import { htlcHashOf } from '../../src/crypto/preimage.js';
import { MAKER, STRANGER, TAKER } from '../support/wallets.js';

/** The simulator's checks must be able to fail: each breach below is one a buggy ledger could commit. */
const ORDER = 'otc_00000000000000aa';
const STREAM = `order-${ORDER}`;
let position = 0n;
const event = (version: number, type: string, data: Record<string, string>): RecordedEvent => ({
  eventId: `e${version}`, stream: STREAM, type, version: BigInt(version), position: ++position, data,
  metadata: { event_id: `e${version}`, correlation_id: 'c', causation_id: null, actor: 'a', recorded_at: '2026-01-01T00:00:00.000Z', schema_version: 1, prev_hash: '', hash: '' },
});

function world() {
  const node = new SandboxNode({ autoConfirm: 'off', now: () => Date.UTC(2026, 0, 1) });
  const minted = { total: 0n };
  node.fund(MAKER, 100_000_000n);
  minted.total += 100_000_000n;
  return { node, checker: new Checker(node, minted), minted };
}

async function postJob(node: SandboxNode): Promise<string> {
  const reply = await node.handle({
    method: 'POST', path: '/agent/jobs',
    body: { poster_wallet: MAKER, title: `OTC Escrow ${ORDER} maker`, description: 'an escrow job for the checks test', category: 'other', reward_rtc: 10, ttl_seconds: 7200 },
  });
  return ((reply as { body: { job_id: string } }).body).job_id;
}

describe('the simulator\'s checks', () => {
  it('an accept sent for a job another worker claimed is invariant 10\'s breach; the ledger\'s own worker is not', async () => {
    const { node, checker } = world();
    const jobId = await postJob(node);
    await node.handle({ method: 'POST', path: `/agent/jobs/${jobId}/claim`, body: { worker_wallet: STRANGER } });
    expect(checker.request('POST', `/agent/jobs/${jobId}/accept`)[0]).toMatch(/^inv10: /);
    const ownJob = await postJob(node);
    await node.handle({ method: 'POST', path: `/agent/jobs/${ownJob}/claim`, body: { worker_wallet: BRIDGE_WORKER_WALLET } });
    expect(checker.request('POST', `/agent/jobs/${ownJob}/accept`)).toEqual([]);
  });

  it('a refund after the preimage is known is invariant 9\'s breach, in the log and as a request', async () => {
    const { node, checker } = world();
    const jobId = await postJob(node);
    checker.newEvents([event(2, 'EscrowLocked', { party: 'maker', job_id: jobId, amount_micro_rtc: '10000000', locked_at: 'x' })], () => []);
    checker.newEvents([event(4, 'SettlementClaimed', { quote_tx: '0x1', secret_ciphertext: 'v2:x', claimed_at: 'x' })], () => []);
    expect(checker.request('POST', `/agent/jobs/${jobId}/cancel`)[0]).toMatch(/^inv9: /);
    const found = checker.newEvents([event(5, 'RefundIssued', { party: 'maker', job_id: jobId, refunded_at: 'x' })], () => []);
    expect(found.some((v) => v.startsWith('inv9: '))).toBe(true);
  });

  it('a refund of a chain order while a final swap for its seller can still be claimed, or after a claim on the chain, breaks invariant 9; after every swap is refunded it does not', async () => {
    const { node, minted } = world();
    const chain = new SimChain({ prng: new Prng(1), genesisSeconds: 1_767_225_600n, confirmations: 1, faultRate: 0, onFault: () => undefined });
    const checker = new Checker(node, minted, chainWitness(chain));
    const secret = 'cd'.repeat(32);
    const hash = htlcHashOf(secret);
    const seller = '0x1111111111111111111111111111111111111111';
    const buyer = '0x2222222222222222222222222222222222222222';
    const jobId = await postJob(node);
    checker.newEvents([
      event(1, 'OrderPlaced', { side: 'sell', htlc_hash: hash, maker_eth_address: seller } as never),
      event(2, 'EscrowLocked', { party: 'maker', job_id: jobId, amount_micro_rtc: '10000000', locked_at: 'x' }),
      { ...event(3, 'Matched', { taker_eth_address: buyer } as never), data: { taker_eth_address: buyer, htlc_hash: null, quote_leg: { mode: 'sandbox' } } },
    ], () => []);
    expect(checker.request('POST', `/agent/jobs/${jobId}/cancel`)).toEqual([]);
    const terms = { buyer, seller, token: '0x0000000000000000000000000000000000000000', amount: 1n, hashlock: `0x${hash}`, timelock: 1_767_225_600n + 7_200n, rtcOrderId: ORDER } as const;
    chain.submit(buyer, { kind: 'lock', terms });
    chain.mine(1_767_225_610n);
    expect(checker.request('POST', `/agent/jobs/${jobId}/cancel`)[0]).toMatch(/^inv9: .*can still be claimed/);
    const swapId = chain.allSwaps()[0]?.swapId as `0x${string}`;
    chain.mine(1_767_225_600n + 7_200n);
    chain.submit(buyer, { kind: 'refund', swapId });
    chain.mine(1_767_225_600n + 7_210n);
    expect(checker.request('POST', `/agent/jobs/${jobId}/cancel`)).toEqual([]);
    chain.submit(buyer, { kind: 'lock', terms: { ...terms, timelock: 1_767_225_600n + 14_000n } });
    chain.mine(1_767_225_600n + 7_220n);
    chain.submit(seller, { kind: 'claim', swapId: chain.allSwaps()[1]?.swapId as `0x${string}`, preimage: `0x${secret}` });
    chain.mine(1_767_225_600n + 7_230n);
    const found = checker.newEvents([event(5, 'RefundIssued', { party: 'maker', job_id: jobId, refunded_at: 'x' })], () => []);
    expect(found.some((v) => /^inv9: .*was claimed on the chain/.test(v))).toBe(true);
  });

  it('a payout at the node with no release recorded, and RTC appearing from nowhere, are money breaches', async () => {
    const { node, checker } = world();
    expect(checker.nodeBooks()).toEqual([]);
    node.fund(BRIDGE_WORKER_WALLET, 5_000_000n);
    expect(checker.nodeBooks().some((v) => v.includes('were minted'))).toBe(true);
    const { node: node2, checker: checker2, minted } = world();
    node2.fund(BRIDGE_WORKER_WALLET, 5_000_000n);
    minted.total += 5_000_000n;
    await node2.handle({
      method: 'POST', path: '/wallet/transfer', headers: { 'x-admin-key': 'sandbox-admin-key' },
      body: { from_miner: BRIDGE_WORKER_WALLET, to_miner: TAKER, amount_rtc: 1, reason: `otc_payout:${ORDER}`, idempotency_key: `otc_payout:${ORDER}` },
    });
    expect(checker2.nodeBooks().some((v) => v.startsWith('payout_without_release: '))).toBe(true);
  });

  it('a preimage in clear in any event is invariant 4\'s breach', () => {
    const { checker } = world();
    const secret = new Prng(1).hex(32);
    checker.knowSecret(secret);
    expect(checker.newEvents([event(9, 'Note', { note: `leaked ${secret}` })], () => [])[0]).toMatch(/^inv4: /);
  });

  it('the seeded generator replays: the same seed, the same numbers', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    expect([a.u32(), a.hex(8), a.uuid()]).toEqual([b.u32(), b.hex(8), b.uuid()]);
    expect(new Prng(8).u32()).not.toBe(new Prng(7).u32());
  });
});
