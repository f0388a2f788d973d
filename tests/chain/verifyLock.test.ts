import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Address, Hash, Hex } from 'viem';
import { ETH_TOKEN, isUnderOneBaseUnit, quoteBaseUnits, verifyLock } from '../../src/chain/verifyLock.js';
import type { ExpectedLock, LockFacts, LockRejectionReason } from '../../src/chain/verifyLock.js';
import type { SwapState } from '../../src/gateways/quoteChain.js';

const HTLC: Address = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const USDC: Address = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const OTHER_TOKEN: Address = '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0';
const SELLER: Address = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const BUYER: Address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const STRANGER: Address = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const HASH = `0x${'11'.repeat(32)}` as Hex;
const LOCK_TIME = 1_800_000_000n;
const HOUR = 3600n;

/** A USDC order of 2.5 quote units (2,500,000,000 nano = 2,500,000 base units) and a lock that fits it. */
function usdcCase(): { expected: ExpectedLock; facts: LockFacts } {
  const expected: ExpectedLock = {
    orderId: 'otc_abc', htlcHash: '11'.repeat(32), sellerQuoteAddress: SELLER, buyerQuoteAddress: BUYER, htlcAddress: HTLC,
    asset: 'usdc', token: USDC, totalQuoteNano: 2_500_000_000n, lockBySeconds: LOCK_TIME + 600n,
    timelockMinSeconds: HOUR, timelockMaxSeconds: 4n * HOUR, latestTimelockSeconds: LOCK_TIME + 48n * HOUR,
  };
  const swap: SwapState = {
    buyer: BUYER, seller: SELLER, token: USDC, amount: 2_500_000n, hashlock: HASH, timelock: LOCK_TIME + 2n * HOUR,
    claimed: false, refunded: false, rtcOrderId: 'otc_abc',
  };
  const facts: LockFacts = {
    created: {
      event: 'SwapCreated', address: HTLC, blockNumber: 10n, blockHash: `0x${'aa'.repeat(32)}` as Hash, txHash: `0x${'bb'.repeat(32)}` as Hash,
      logIndex: 1, swapId: `0x${'cc'.repeat(32)}` as Hex, ...withoutFlags(swap),
    },
    swapAtLockBlock: swap, swapAtFinalized: swap, lockBlockTimeSeconds: LOCK_TIME,
    transfers: [{ token: USDC, from: BUYER, to: HTLC, value: 2_500_000n, logIndex: 0 }], tokenDecimals: 6,
  };
  return { expected, facts };
}

function withoutFlags(swap: SwapState) {
  const { claimed: _c, refunded: _r, ...rest } = swap;
  return rest;
}

function ethCase(): { expected: ExpectedLock; facts: LockFacts } {
  const base = usdcCase();
  const swap: SwapState = { ...base.facts.swapAtLockBlock!, token: ETH_TOKEN, amount: 2_500_000_000n * 10n ** 9n };
  return {
    expected: { ...base.expected, asset: 'eth', token: ETH_TOKEN },
    facts: { ...base.facts, created: { ...base.facts.created, token: ETH_TOKEN, amount: swap.amount }, swapAtLockBlock: swap, swapAtFinalized: swap, transfers: [], tokenDecimals: null },
  };
}

/** Changes the swap everywhere the chain shows it (log, getSwap at both blocks), as a real lock would. */
function withSwap(c: { expected: ExpectedLock; facts: LockFacts }, change: Partial<SwapState>): LockFacts {
  const swap = { ...c.facts.swapAtLockBlock!, ...change };
  return { ...c.facts, created: { ...c.facts.created, ...withoutFlags(swap) }, swapAtLockBlock: swap, swapAtFinalized: { ...swap, claimed: false, refunded: false } };
}

const reasonOf = (expected: ExpectedLock, facts: LockFacts): LockRejectionReason | 'ok' => {
  const verdict = verifyLock(expected, facts);
  return verdict.ok ? 'ok' : verdict.reason;
};

describe('quote amounts in base units', () => {
  it('converts ETH exactly (wei = nano × 10^9) and rounds USDC up (ceil(nano / 1000))', () => {
    expect(quoteBaseUnits(1n, 'eth')).toBe(1_000_000_000n);
    expect(quoteBaseUnits(2_500_000_000n, 'usdc')).toBe(2_500_000n);
    expect(quoteBaseUnits(1_000n, 'usdc')).toBe(1n);
    expect(quoteBaseUnits(1_001n, 'usdc')).toBe(2n);
    expect(quoteBaseUnits(0n, 'usdc')).toBe(0n);
    expect(() => quoteBaseUnits(-1n, 'eth')).toThrow(RangeError);
  });

  it('knows a total under one base unit', () => {
    expect(isUnderOneBaseUnit(999n, 'usdc')).toBe(true);
    expect(isUnderOneBaseUnit(1_000n, 'usdc')).toBe(false);
    expect(isUnderOneBaseUnit(1n, 'eth')).toBe(false);
    expect(isUnderOneBaseUnit(0n, 'eth')).toBe(true);
  });

  it('never asks for less than the total, nor a whole unit more (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 24n }), (nano) => {
        const units = quoteBaseUnits(nano, 'usdc');
        expect(units * 1000n >= nano).toBe(true);
        expect(units === 0n || (units - 1n) * 1000n < nano).toBe(true);
        expect(quoteBaseUnits(nano, 'eth')).toBe(nano * 10n ** 9n);
      }),
    );
  });
});

describe('verifyLock', () => {
  it('verifies a USDC lock that fits the order, and an ETH one', () => {
    const usdc = usdcCase();
    const verdict = verifyLock(usdc.expected, usdc.facts);
    expect(verdict).toEqual({
      ok: true,
      lock: expect.objectContaining({ swapId: usdc.facts.created.swapId, amountBaseUnits: 2_500_000n, requiredBaseUnits: 2_500_000n, timelockSeconds: LOCK_TIME + 2n * HOUR, lockBlockTimeSeconds: LOCK_TIME }),
    });
    const eth = ethCase();
    expect(reasonOf(eth.expected, eth.facts)).toBe('ok');
  });

  it('compares addresses and the hashlock without regard to case or 0x', () => {
    const c = usdcCase();
    expect(reasonOf({ ...c.expected, sellerQuoteAddress: SELLER.toLowerCase() as Address, htlcHash: `0x${'11'.repeat(32)}`.toUpperCase().replace('0X', '0x') }, c.facts)).toBe('ok');
  });

  const rejections: [LockRejectionReason, (c: ReturnType<typeof usdcCase>) => [ExpectedLock, LockFacts]][] = [
    ['wrong_contract', (c) => [c.expected, { ...c.facts, created: { ...c.facts.created, address: STRANGER } }]],
    ['swap_missing', (c) => [c.expected, { ...c.facts, swapAtLockBlock: null }]],
    ['swap_missing', (c) => [c.expected, { ...c.facts, swapAtFinalized: null }]],
    ['swap_mismatch', (c) => [c.expected, { ...c.facts, swapAtFinalized: { ...c.facts.swapAtFinalized!, amount: 1n } }]],
    ['wrong_order_id', (c) => [c.expected, withSwap(c, { rtcOrderId: 'otc_other' })]],
    ['wrong_hashlock', (c) => [c.expected, withSwap(c, { hashlock: `0x${'22'.repeat(32)}` })]],
    ['same_addresses', (c) => [{ ...c.expected, buyerQuoteAddress: SELLER }, withSwap(c, { buyer: SELLER })]],
    ['same_addresses', (c) => [{ ...c.expected, buyerQuoteAddress: SELLER.toLowerCase() as Address }, c.facts]],
    ['wrong_seller', (c) => [c.expected, withSwap(c, { seller: STRANGER })]],
    ['wrong_buyer', (c) => [c.expected, withSwap(c, { buyer: STRANGER })]],
    ['wrong_token', (c) => [c.expected, withSwap(c, { token: OTHER_TOKEN })]],
    ['wrong_token', (c) => [c.expected, withSwap(c, { token: ETH_TOKEN })]],
    ['wrong_decimals', (c) => [c.expected, { ...c.facts, tokenDecimals: 18 }]],
    ['wrong_decimals', (c) => [c.expected, { ...c.facts, tokenDecimals: null }]],
    ['amount_short', (c) => [c.expected, withSwap(c, { amount: 2_499_999n })]],
    ['transfer_short', (c) => [c.expected, { ...c.facts, transfers: [{ ...c.facts.transfers[0]!, value: 2_499_000n }] }]],
    ['transfer_short', (c) => [c.expected, { ...c.facts, transfers: [{ ...c.facts.transfers[0]!, to: STRANGER }] }]],
    ['transfer_short', (c) => [c.expected, { ...c.facts, transfers: [{ ...c.facts.transfers[0]!, token: OTHER_TOKEN }] }]],
    ['transfer_short', (c) => [c.expected, { ...c.facts, transfers: [] }]],
    ['timelock_too_short', (c) => [c.expected, withSwap(c, { timelock: LOCK_TIME + HOUR - 1n })]],
    ['timelock_too_long', (c) => [c.expected, withSwap(c, { timelock: LOCK_TIME + 4n * HOUR + 1n })]],
    ['timelock_after_escrow', (c) => [{ ...c.expected, latestTimelockSeconds: LOCK_TIME + 2n * HOUR - 1n }, c.facts]],
    ['locked_after_lock_by', (c) => [{ ...c.expected, lockBySeconds: LOCK_TIME - 1n }, c.facts]],
    ['already_claimed', (c) => [c.expected, { ...c.facts, swapAtLockBlock: { ...c.facts.swapAtLockBlock!, claimed: true } }]],
    ['already_refunded', (c) => [c.expected, { ...c.facts, swapAtLockBlock: { ...c.facts.swapAtLockBlock!, refunded: true } }]],
  ];

  it.each(rejections)('rejects with %s', (reason, mutate) => {
    const [expected, facts] = mutate(usdcCase());
    const verdict = verifyLock(expected, facts);
    expect(verdict).toEqual({ ok: false, reason, swapId: facts.created.swapId, timelockSeconds: facts.created.timelock });
  });

  it('rejects an ETH lock one wei short, and a token lock where ETH is expected', () => {
    const c = ethCase();
    expect(reasonOf(c.expected, withSwap(c, { amount: 2_500_000_000n * 10n ** 9n - 1n }))).toBe('amount_short');
    expect(reasonOf(c.expected, withSwap(c, { token: USDC }))).toBe('wrong_token');
  });

  it('accepts the boundaries: T exactly 1 h and exactly the maximum after the lock block, a lock at lock_by, the exact amount, more than the amount', () => {
    const c = usdcCase();
    expect(reasonOf(c.expected, withSwap(c, { timelock: LOCK_TIME + HOUR }))).toBe('ok');
    expect(reasonOf(c.expected, withSwap(c, { timelock: LOCK_TIME + 4n * HOUR }))).toBe('ok');
    expect(reasonOf({ ...c.expected, lockBySeconds: LOCK_TIME }, c.facts)).toBe('ok');
    expect(reasonOf({ ...c.expected, latestTimelockSeconds: LOCK_TIME + 2n * HOUR }, c.facts)).toBe('ok');
    expect(reasonOf({ ...c.expected, latestTimelockSeconds: null }, c.facts)).toBe('ok');
    const more = withSwap(c, { amount: 3_000_000n });
    expect(reasonOf(c.expected, { ...more, transfers: [{ ...c.facts.transfers[0]!, value: 3_000_000n }] })).toBe('ok');
  });

  it('still verifies a lock that the finalized block shows claimed (the claim is its own observation)', () => {
    const c = usdcCase();
    expect(reasonOf(c.expected, { ...c.facts, swapAtFinalized: { ...c.facts.swapAtFinalized!, claimed: true } })).toBe('ok');
  });

  it('rejects any single changed term of a valid lock (property)', () => {
    const fields = ['rtcOrderId', 'hashlock', 'seller', 'buyer', 'token', 'amount', 'timelockShort', 'timelockLong'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.bigInt({ min: 1n, max: 10n ** 6n }), (field, delta) => {
        const c = usdcCase();
        const s = c.facts.swapAtLockBlock!;
        const change: Partial<SwapState> = {
          rtcOrderId: { rtcOrderId: `${s.rtcOrderId}x` },
          hashlock: { hashlock: `0x${(BigInt(s.hashlock) ^ delta).toString(16).padStart(64, '0')}` as Hex },
          seller: { seller: STRANGER },
          buyer: { buyer: STRANGER },
          token: { token: OTHER_TOKEN },
          amount: { amount: s.amount - (delta % s.amount === 0n ? 1n : delta % s.amount) },
          timelockShort: { timelock: LOCK_TIME + HOUR - delta },
          timelockLong: { timelock: LOCK_TIME + 4n * HOUR + delta },
        }[field];
        expect(verifyLock(c.expected, withSwap(c, change)).ok).toBe(false);
      }),
    );
  });
});
