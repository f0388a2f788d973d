import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Address, Hash, Hex } from 'viem';
import { expectedLock, lockInstructions } from '../../src/chain/lockTerms.js';
import type { OrderQuoteTerms } from '../../src/chain/lockTerms.js';
import { verifyLock } from '../../src/chain/verifyLock.js';
import type { SwapState } from '../../src/gateways/quoteChain.js';

const HTLC: Address = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const USDC: Address = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const chain = { chainId: 31337, htlcAddress: HTLC };
const windows = { lockWindowSeconds: 1800n, claimWindowMaxSeconds: 14_400n };
const order: OrderQuoteTerms = {
  orderId: 'otc_0123456789abcdef', htlcHash: '11'.repeat(32),
  sellerQuoteAddress: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', buyerQuoteAddress: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  asset: 'usdc', token: USDC, totalQuoteNano: 2_000_000_001n, matchedAtSeconds: 1_000_000n, latestTimelockSeconds: null,
};

/** A lock exactly as the instructions say, landing at `lockTime` with timelock `timelock`. */
function lockAt(lockTime: bigint, timelock: bigint, amount: bigint) {
  const swap: SwapState = { buyer: order.buyerQuoteAddress, seller: order.sellerQuoteAddress, token: USDC, amount, hashlock: `0x${order.htlcHash}` as Hex, timelock, claimed: false, refunded: false, rtcOrderId: order.orderId };
  const { claimed: _c, refunded: _r, ...logFields } = swap;
  return {
    created: { event: 'SwapCreated' as const, address: HTLC, blockNumber: 5n, blockHash: `0x${'aa'.repeat(32)}` as Hash, txHash: `0x${'bb'.repeat(32)}` as Hash, logIndex: 1, swapId: `0x${'cc'.repeat(32)}` as Hex, ...logFields },
    swapAtLockBlock: swap, swapAtFinalized: swap, lockBlockTimeSeconds: lockTime,
    transfers: [{ token: USDC, from: order.buyerQuoteAddress, to: HTLC, value: amount, logIndex: 0 }], tokenDecimals: 6,
  };
}

describe('lock instructions for the buyer', () => {
  it('name the chain, contract, token, the amount rounded up to base units, lock_by and a timelock window', () => {
    expect(lockInstructions(chain, order, windows)).toEqual({
      chainId: 31337, contract: HTLC, token: USDC, amountBaseUnits: 2_000_001n,
      lockBySeconds: 1_001_800n, timelockMinSeconds: 1_005_400n, timelockMaxSeconds: 1_014_400n,
    });
  });

  it('never offer a timelock past the escrow limit', () => {
    expect(lockInstructions(chain, { ...order, latestTimelockSeconds: 1_010_000n }, windows).timelockMaxSeconds).toBe(1_010_000n);
    expect(lockInstructions(chain, { ...order, latestTimelockSeconds: 2_000_000n }, windows).timelockMaxSeconds).toBe(1_014_400n);
  });

  it('a lock that follows them, landing anywhere from the match to lock_by, is verified (property)', () => {
    const terms = lockInstructions(chain, order, windows);
    const expected = expectedLock(chain, order, windows);
    fc.assert(
      fc.property(
        fc.bigInt({ min: order.matchedAtSeconds, max: terms.lockBySeconds }),
        fc.bigInt({ min: terms.timelockMinSeconds, max: terms.timelockMaxSeconds }),
        (lockTime, timelock) => {
          expect(verifyLock(expected, lockAt(lockTime, timelock, terms.amountBaseUnits))).toMatchObject({ ok: true });
        },
      ),
    );
  });

  it('a lock one base unit short, or landing a second after lock_by, is not', () => {
    const terms = lockInstructions(chain, order, windows);
    const expected = expectedLock(chain, order, windows);
    expect(verifyLock(expected, lockAt(terms.lockBySeconds, terms.timelockMinSeconds, terms.amountBaseUnits - 1n))).toMatchObject({ ok: false, reason: 'amount_short' });
    expect(verifyLock(expected, lockAt(terms.lockBySeconds + 1n, terms.timelockMinSeconds + 1n, terms.amountBaseUnits))).toMatchObject({ ok: false, reason: 'locked_after_lock_by' });
  });
});
