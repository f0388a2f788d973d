import { facts } from '../support/orderFixtures.js';
import { createSecretBox, htlcHashOf } from '../../src/crypto/preimage.js';
import { generateWallet, type ClientWallet } from '../../src/crypto/signer.js';
import { createLedger, type Ledger, type RequestContext } from '../../src/app/ledger.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { createRustchainGateway, type RustchainGateway } from '../../src/gateways/rustchain.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer, type FaultMode, type SandboxServer } from '../../src/sandbox/index.js';
import { createMemoryLeases, type Leases } from '../../src/settlement/leases.js';
import { reconcilePass, scanAllOrders, type ReconcileSummary } from '../../src/settlement/reconciler.js';
import type { NodeGateway } from '../../src/gateways/node.js';
import type { Pair, Side } from '../../src/aggregates/order/index.js';

/** Short enough to provoke `unknown` quickly, long enough for a loopback round trip on a busy box. */
export const NODE_TIMEOUT_MS = 400;

export interface SettlementHarness {
  readonly store: SqliteEventStore;
  readonly sandbox: SandboxServer;
  readonly node: SandboxNode;
  readonly gateway: RustchainGateway;
  readonly leases: Leases;
  readonly ledger: Ledger;
  readonly seller: ClientWallet;
  readonly buyer: ClientWallet;
  readonly stranger: ClientWallet;
  readonly clock: { nowMs: number };
  fault(endpoint: string, mode: FaultMode, count?: number): void;
  reconcile(stuckMs?: number): Promise<ReconcileSummary>;
  ledgerWith(node: NodeGateway): Ledger;
  close(): Promise<void>;
}

let requestSeq = 0;
export const req = (extra: Partial<RequestContext> = {}): RequestContext => ({ requestId: `req-${++requestSeq}`, ...extra });

export async function startSettlementHarness(options: { autoConfirm?: 'immediate' | 'off' | number; storePath?: string } = {}): Promise<SettlementHarness> {
  const clock = { nowMs: Date.now() };
  const now = () => new Date(clock.nowMs);
  const sandbox = await startSandboxServer({ node: new SandboxNode({ autoConfirm: options.autoConfirm ?? 'immediate', maxActiveJobsPerPoster: 1000 }) });
  const gateway = createRustchainGateway({ baseUrl: sandbox.url, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: NODE_TIMEOUT_MS });
  const store = new SqliteEventStore({ path: options.storePath ?? ':memory:' });
  const leases = createMemoryLeases();
  const secretBox = createSecretBox('5e'.repeat(32));
  const ledgerWith = (node: NodeGateway) =>
    createLedger({ store, node, leases, secretBox, settleWindowSeconds: 86_400, leaseTtlMs: 60_000, now });
  const [seller, buyer, stranger] = [generateWallet(), generateWallet(), generateWallet()];
  for (const w of [seller, buyer, stranger]) sandbox.node.fund(w.wallet, 1_000_000_000_000n);
  return {
    store, sandbox, node: sandbox.node, gateway, leases, ledger: ledgerWith(gateway), seller, buyer, stranger, clock, ledgerWith,
    fault: (endpoint, mode, count = 1) => sandbox.node.injectFault(endpoint, mode, count),
    reconcile: (stuckMs = 0) =>
      reconcilePass({
        store, node: gateway, leases, settleWindowSeconds: 86_400, leaseTtlMs: 60_000, stuckMs, now,
        candidates: scanAllOrders({ store }),
      }),
    async close() {
      await gateway.close();
      await sandbox.close();
      await store.close();
    },
  };
}

/** Signs and sends the ledger's commands the way a trader's client would. */
export function trader(h: SettlementHarness) {
  const ts = () => Math.floor(h.clock.nowMs / 1000);
  return {
    place(w: ClientWallet, side: Side, o: { amountMicroRtc?: bigint; priceNano?: bigint; htlcHash?: string | null; pair?: Pair; ttlSeconds?: number } = {}) {
      const amountMicroRtc = o.amountMicroRtc ?? 10_000_000n;
      const priceNano = o.priceNano ?? 100_000_000n;
      const pair = o.pair ?? 'RTC/USDC';
      const ttlSeconds = o.ttlSeconds ?? 604_800;
      const htlcHash = o.htlcHash ?? null;
      const auth = w.sign('create_order', 'create_order', {
        side, pair, amount_micro_rtc: Number(amountMicroRtc), price_per_rtc_nano_quote: Number(priceNano),
        ttl_seconds: ttlSeconds, eth_address: '', htlc_hash: htlcHash ?? '',
      }, ts());
      return h.ledger.placeOrder({ side, pair, wallet: w.wallet, amountMicroRtc, pricePerRtcNanoQuote: priceNano, ttlSeconds, ethAddress: null, htlcHash, walletAuth: auth }, req());
    },
    match(w: ClientWallet, orderId: string, htlcHash: string | null = null, ledger = h.ledger) {
      const auth = w.sign('match_order', orderId, { eth_address: '', htlc_hash: htlcHash ?? '' }, ts());
      return ledger.matchOrder(orderId, { wallet: w.wallet, ethAddress: null, htlcHash, walletAuth: auth }, req());
    },
    cancel(w: ClientWallet, orderId: string) {
      const auth = w.sign('cancel_order', orderId, {}, ts());
      return h.ledger.cancelOrder(orderId, { wallet: w.wallet, walletAuth: auth }, req());
    },
    confirm(w: ClientWallet, orderId: string, secret: string, quoteTx = '0xquote', ledger = h.ledger) {
      const secretSha = htlcHashOf(secret);
      const auth = w.sign('confirm_settlement', orderId, { quote_tx: quoteTx, secret_sha256: secretSha }, ts());
      return ledger.confirmSettlement(orderId, { wallet: w.wallet, quoteTx, secret, walletAuth: auth }, req());
    },
  };
}


/** Places a sell order by the harness's seller and matches it by the buyer: status matched. */
export async function matchedSell(h: SettlementHarness) {
  const t = trader(h);
  const placed = await t.place(h.seller, 'sell');
  const orderId = facts(placed.state).orderId as string;
  await t.match(h.buyer, orderId);
  return { orderId, secret: placed.htlcSecret as string };
}
