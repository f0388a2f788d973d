import { describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { startSandboxChain } from '../../src/sandbox/chain.js';
import { freshOrderId, freshSecret, HOUR } from './support.js';

describe('the sandbox chain', () => {
  it('says SANDBOX loudly, plays a whole USDC swap for two typed-in addresses, moves chain time, and ends its anvil on stop', async () => {
    const lines: { details: object; message: string }[] = [];
    const chain = await startSandboxChain({ chainId: 31_339, log: { warn: (details, message) => void lines.push({ details, message }) } });
    try {
      expect(lines).toEqual([{ details: expect.objectContaining({ chainId: 31_339, htlc: chain.htlcAddress, usdc: chain.usdcAddress }), message: expect.stringMatching(/^SANDBOX/) }]);
      expect(chain.settings).toEqual({
        rpcUrl: chain.rpcUrl, chainId: 31_339, htlcAddress: chain.htlcAddress, htlcCodeHash: chain.htlcCodeHash, usdcToken: chain.usdcAddress,
        finality: { kind: 'confirmations', count: 1 }, startBlock: 1n,
      });
      // Addresses nobody holds a key for: the sandbox acts for them by impersonation, with no gas.
      const buyer: Address = '0x1111111111111111111111111111111111111111';
      const seller: Address = '0x2222222222222222222222222222222222222222';
      await chain.fundUsdc(buyer, 5_000_000n);
      expect(await chain.usdcBalance(buyer)).toBe(5_000_000n);
      const secret = freshSecret();
      const before = await chain.latestBlock();
      const lock = await chain.lockUsdc({ buyer, seller, hashlock: secret.hashlock, timelock: before.timestamp + 2n * HOUR, orderId: freshOrderId(), amount: 5_000_000n });
      await chain.claim(seller, lock.swapId, secret.preimage);
      expect(await chain.usdcBalance(seller)).toBe(5_000_000n);
      expect(await chain.usdcBalance(buyer)).toBe(0n);
      await chain.advanceTime(3600);
      expect((await chain.latestBlock()).timestamp).toBeGreaterThanOrEqual(before.timestamp + 3600n);
      await chain.fundEth(buyer, 7n);
      expect(await chain.client.getBalance({ address: buyer })).toBe(7n);
    } finally {
      await chain.stop();
    }
    await expect(fetch(chain.rpcUrl, { method: 'POST', body: '{}' })).rejects.toThrow(TypeError);
    await chain.stop();
  });
});
