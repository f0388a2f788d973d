import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { expect } from 'vitest';
import { createRustchainGateway } from '../../src/gateways/rustchain.js';
import type { RustchainGateway, RustchainGatewayOptions } from '../../src/gateways/rustchain.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer } from '../../src/sandbox/index.js';
import type { SandboxNodeOptions, SandboxServer } from '../../src/sandbox/index.js';
import type { LockEscrowRequest, NodeOutcome } from '../../src/gateways/node.js';

/** Short enough to provoke `unknown` quickly, long enough for a loopback round trip on a busy CI box. */
export const TEST_TIMEOUT_MS = 300;

export interface HttpHarness {
  readonly server: SandboxServer;
  readonly node: SandboxNode;
  readonly gateway: RustchainGateway;
  close(): Promise<void>;
}

export async function startHarness(
  nodeOptions: SandboxNodeOptions = {},
  gatewayOptions: Partial<RustchainGatewayOptions> = {},
): Promise<HttpHarness> {
  const server = await startSandboxServer({ node: new SandboxNode(nodeOptions) });
  const gateway = createRustchainGateway({
    baseUrl: server.url,
    adminKey: nodeOptions.adminKey ?? DEFAULT_SANDBOX_ADMIN_KEY,
    timeoutMs: TEST_TIMEOUT_MS,
    ...gatewayOptions,
  });
  return {
    server,
    node: server.node,
    gateway,
    close: async () => {
      await gateway.close();
      await server.close();
    },
  };
}

/** GET /__sandbox/state over HTTP: what an operator (or a test) sees of the node's books. */
export async function fetchState(baseUrl: string): Promise<SandboxStateJson> {
  const response = await request(`${baseUrl}/__sandbox/state`);
  return (await response.body.json()) as SandboxStateJson;
}

export interface SandboxStateJson {
  balances: Record<string, { amount_i64: number; amount_rtc: number }>;
  jobs: Array<{ job_id: string; status: string; reward_i64: number }>;
  transfers: Array<{ id: number; status: string; idempotency_key: string | null; amount_i64: number }>;
  request_counts: { endpoints: Record<string, number>; idempotency_keys: Record<string, number> };
}

export async function postControl(baseUrl: string, path: string, body: unknown): Promise<number> {
  const response = await request(`${baseUrl}/__sandbox/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.body.dump();
  return response.statusCode;
}

/** A port on 127.0.0.1 that nothing listens on: bound once by us, then released. */
export async function closedLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export { BUYER, SELLER } from '../support/wallets.js';
import { SELLER } from '../support/wallets.js';

export const lockRequest = (overrides: Partial<LockEscrowRequest> = {}): LockEscrowRequest => ({
  orderId: 'otc_0000000000000001',
  party: 'maker',
  posterWallet: SELLER,
  amountMicroRtc: 1_000_000n,
  ttlSeconds: 7 * 86_400,
  ...overrides,
});

export function expectOk<T>(outcome: NodeOutcome<T>): T {
  if (outcome.kind !== 'ok') expect.fail(`expected ok, got ${JSON.stringify(outcome)}`);
  return outcome.value;
}

/** Locks, claims and delivers a job so the next step is the accept (the release). */
export async function deliveredJob(gateway: RustchainGateway, request = lockRequest()): Promise<string> {
  const job = expectOk(await gateway.lockEscrow(request));
  expectOk(await gateway.claimJob(job.jobId));
  expectOk(await gateway.deliverJob(job.jobId, 'OTC settlement released by otc-ledger'));
  return job.jobId;
}
