import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import { createLedger } from '../../src/app/ledger.js';
import { createSecretBox, generatePreimage, sha256Hex } from '../../src/crypto/preimage.js';
import { walletFromSeed } from '../../src/crypto/signer.js';
import { verifyChain } from '../../src/eventstore/hashChain.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { createRustchainGateway } from '../../src/gateways/rustchain.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer, type SandboxServer } from '../../src/sandbox/index.js';
import { createSqliteLeases } from '../../src/settlement/leases.js';
import { reconcilePass, scanAllOrders } from '../../src/settlement/reconciler.js';

const SECRET_KEY = '7a'.repeat(32);
const SELLER_SEED = '01'.repeat(32);
const BUYER_SEED = '02'.repeat(32);
const FUNDS_MICRO_RTC = 1_000_000_000n;
const ENDPOINT_OF: Record<string, string> = {
  lockEscrow: 'POST /agent/jobs',
  getJob: 'GET /agent/jobs/:id',
  claimJob: 'POST /agent/jobs/:id/claim',
  deliverJob: 'POST /agent/jobs/:id/deliver',
  acceptJob: 'POST /agent/jobs/:id/accept',
  transfer: 'POST /wallet/transfer',
  cancelJob: 'POST /agent/jobs/:id/cancel',
};

const settleSteps = ['lockEscrow', 'getJob', 'claimJob', 'deliverJob', 'acceptJob', 'transfer'];
const refundSteps = ['cancelJob'];
const whens = ['before', 'during', 'after'] as const;
const cases = [
  ...settleSteps.flatMap((step) => whens.map((when) => ({ scenario: 'settle', step, when }))),
  ...refundSteps.flatMap((step) => whens.map((when) => ({ scenario: 'refund', step, when }))),
];
let exercised = 0;

function runChild(env: Record<string, string>): Promise<{ signal: NodeJS.Signals | null; code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'crashChild.ts')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

async function recoverAndFinish(dir: string, sandbox: SandboxServer, orderId: string, secret: string, scenario: string) {
  const store = new SqliteEventStore({ path: join(dir, 'events.db') });
  const gateway = createRustchainGateway({ baseUrl: sandbox.url, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: 2000 });
  const leases = createSqliteLeases(join(dir, 'leases.db'));
  // A fresh process, later: past the stuck threshold and the dead process's lease.
  const later = () => new Date(Date.now() + 3_600_000);
  const deps = { store, node: gateway, leases, settleWindowSeconds: 86_400, leaseTtlMs: 60_000 };
  const reconcile = () => reconcilePass({ ...deps, stuckMs: 0, now: later, candidates: scanAllOrders({ store }) });
  await reconcile();
  const ledger = createLedger({ ...deps, secretBox: createSecretBox(SECRET_KEY), now: later });
  const afterRecovery = (await ledger.getOrder(orderId))?.state.status;
  // The client retries what it had asked for, as a trader would after an error.
  const seller = walletFromSeed(SELLER_SEED);
  const buyer = walletFromSeed(BUYER_SEED);
  const ts = Math.floor(later().getTime() / 1000);
  const status = async () => (await ledger.getOrder(orderId))?.state.status;
  if (scenario === 'refund' && (await status()) === 'open') {
    await ledger.cancelOrder(orderId, { wallet: seller.wallet, walletAuth: seller.sign('cancel_order', orderId, {}, ts) }, { requestId: 'retry' });
  }
  if (scenario === 'settle' && (await status()) === 'open') {
    await ledger.matchOrder(orderId, { wallet: buyer.wallet, ethAddress: null, htlcHash: null, walletAuth: buyer.sign('match_order', orderId, { eth_address: '', htlc_hash: '' }, ts) }, { requestId: 'retry-m' });
  }
  if (scenario === 'settle' && (await status()) === 'matched') {
    const auth = seller.sign('confirm_settlement', orderId, { quote_tx: '0xquote', secret_sha256: sha256Hex(Buffer.from(secret, 'hex')) }, ts);
    await ledger.confirmSettlement(orderId, { wallet: seller.wallet, quoteTx: '0xquote', secret, walletAuth: auth }, { requestId: 'retry-c' });
  }
  await reconcile();
  const final = (await ledger.getOrder(orderId))?.state;
  const events = await store.readStream(orderStream(orderId));
  const log = JSON.stringify((await store.readAll(0n, 10_000)).map((e) => [e.data, e.metadata]));
  await gateway.close();
  await store.close();
  leases.close();
  return { afterRecovery, final, events, log };
}

describe('a ledger process killed at each external step recovers without double effects', () => {
  afterAll(() => {
    // Reported for the record: how many distinct crash points ran to a SIGKILL.
    console.info(`crash points exercised: ${exercised} of ${cases.length}`);
  });

  it.each(cases)('$scenario: killed $when $step', async ({ scenario, step, when }) => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-crash-'));
    const sandbox = await startSandboxServer({ node: new SandboxNode({ autoConfirm: 'immediate' }) });
    try {
      const seller = walletFromSeed(SELLER_SEED);
      const buyer = walletFromSeed(BUYER_SEED);
      sandbox.node.fund(seller.wallet, FUNDS_MICRO_RTC);
      sandbox.node.fund(buyer.wallet, FUNDS_MICRO_RTC);
      if (when === 'during') sandbox.node.injectFault(ENDPOINT_OF[step] as string, 'timeout_after_effect', 1);
      const { secretHex, htlcHash } = generatePreimage();
      const orderId = `otc_${'c'.repeat(12)}${String(cases.findIndex((c) => c.step === step && c.when === when && c.scenario === scenario)).padStart(4, '0')}`;
      const child = await runChild({
        STORE_PATH: join(dir, 'events.db'), LEASES_PATH: join(dir, 'leases.db'), SANDBOX_URL: sandbox.url, SECRET_KEY,
        SELLER_SEED, BUYER_SEED, ORDER_ID: orderId, HTLC_HASH: htlcHash, SECRET: secretHex, SCENARIO: scenario, CRASH_AT: `${step}:${when}`,
      });
      expect(child.signal, child.output).toBe('SIGKILL');
      exercised += 1;

      const { final, events, log } = await recoverAndFinish(dir, sandbox, orderId, secretHex, scenario);
      const jobs = sandbox.node.jobs().filter((j) => j.title.includes(orderId));
      const types = events.map((e) => e.type);
      expect(jobs).toHaveLength(1);
      expect(verifyChain(events)).toEqual({ ok: true });
      expect(types.includes('EscrowReleased') && types.includes('RefundIssued')).toBe(false);
      expect(log).not.toContain(secretHex);
      if (scenario === 'settle') {
        expect(final?.status).toBe('completed');
        expect(jobs[0]?.status).toBe('completed');
        expect(sandbox.node.transfers()).toHaveLength(1);
        expect(sandbox.node.keyRequestCount(`otc_payout:${orderId}`)).toBeGreaterThanOrEqual(1);
        expect(sandbox.node.balanceMicroRtc(buyer.wallet)).toBe(FUNDS_MICRO_RTC + 5_000_000n);
      } else {
        expect(final?.status).toBe('cancelled');
        expect(jobs[0]?.status).toBe('cancelled');
        expect(sandbox.node.balanceMicroRtc(seller.wallet)).toBe(FUNDS_MICRO_RTC);
      }
    } finally {
      await sandbox.close();
    }
  });
});
