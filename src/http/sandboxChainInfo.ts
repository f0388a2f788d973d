/**
 * `GET /__sandbox/chain`: where the ledger's embedded sandbox chain is (its loopback RPC URL, chain id,
 * the HTLC and test USDC, anvil's development addresses), so a client on this machine (the demo, a
 * walk-through) can act as a party on that chain with viem. Mounted only when the ledger itself
 * started the sandbox chain: a real chain's RPC is never announced here.
 */
import type { FastifyInstance } from 'fastify';

export interface SandboxChainInfo {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly htlcAddress: string;
  readonly usdcAddress: string;
  readonly devAddresses: readonly string[];
}

export function mountSandboxChainInfo(app: FastifyInstance, info: SandboxChainInfo): void {
  const body = {
    ok: true as const, mode: 'sandbox' as const, rpc_url: info.rpcUrl, chain_id: info.chainId,
    htlc_contract: info.htlcAddress, usdc_token: info.usdcAddress, dev_addresses: [...info.devAddresses],
  };
  app.get('/__sandbox/chain', { schema: { hide: true } }, async () => body);
}
