import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { bytesToHex, sha256 } from 'viem';
import type { Address, Hex } from 'viem';
import { startSandboxChain } from '../../src/sandbox/chain.js';
import type { SandboxChain, SandboxChainOptions } from '../../src/sandbox/chain.js';
import { startFaultProxy } from './faultProxy.js';
import type { FaultProxy } from './faultProxy.js';

/** A fresh 32-byte preimage and its sha256 hashlock, as an order's htlc_hash. */
export function freshSecret(): { preimage: Hex; hashlock: Hex } {
  const preimage = bytesToHex(randomBytes(32));
  return { preimage, hashlock: sha256(preimage) };
}

/** A distinct order id per call, shaped like the ledger's (otc_ + 16 hex). */
export const freshOrderId = (): string => `otc_${randomBytes(8).toString('hex')}`;

export const HOUR = 3600n;
export const DAY = 86_400n;

export interface ChainAndProxy {
  readonly chain: SandboxChain;
  /** The fault proxy in front of the chain: the RPC URL a gateway under test is given. */
  readonly proxy: FaultProxy;
  /** anvil's development accounts 1, 2, 3: the parties the chain tests lock, claim and refund as. */
  readonly buyer: Address;
  readonly seller: Address;
  readonly stranger: Address;
}

/**
 * One sandbox chain (anvil with the HTLC and the test USDC) and a fault proxy in front of it for the
 * whole file, started in beforeAll and ended in afterAll; the proxy's queued faults and counts are
 * cleared before each test. Read the fields inside tests and hooks (they exist once beforeAll ran).
 */
export function useChainAndProxy(options: SandboxChainOptions = {}): ChainAndProxy {
  let chain: SandboxChain | undefined;
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    chain = await startSandboxChain(options);
    proxy = await startFaultProxy(chain.rpcUrl);
  });
  afterAll(async () => {
    await proxy?.close();
    await chain?.stop();
  });
  beforeEach(() => proxy?.clear());
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the chain is used before beforeAll started it');
    return value;
  };
  return {
    get chain() { return started(chain); },
    get proxy() { return started(proxy); },
    get buyer() { return started(chain).devAddresses[1]!; },
    get seller() { return started(chain).devAddresses[2]!; },
    get stranger() { return started(chain).devAddresses[3]!; },
  };
}
