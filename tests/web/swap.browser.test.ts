import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectOk, LedgerClient } from '../../src/client/index.js';
import type { RunningLedger } from '../../src/main.js';
import { baseEnv, startFromEnv, tempDir } from '../e2e/support.js';
import { describeInChromium, optionLabel, signSellOrder, waitForStatus, watchErrors } from './support.js';

/**
 * The whole atomic swap played in a real browser (Debian's Chromium, headless) against a ledger in
 * sandbox mode with its own anvil: two wallets, place, match, the buyer's lock and the seller's claim
 * on chain from the page's sandbox buttons, and the ledger, seeing the claim, pays the RTC to the
 * buyer with nobody clicking confirm. Then the operator page shows the chain follower and verify.
 */

const ADMIN_TOKEN = 'web-swap-admin-token-42-0123456789abcdef';
describeInChromium('the atomic swap in Chromium', (browser) => {
  const dir = tempDir('web-swap');
  let running: RunningLedger;

  beforeAll(async () => {
    running = await startFromEnv(baseEnv(dir.path, { LEDGER_ADMIN_TOKEN: ADMIN_TOKEN, LEDGER_QUOTE_CHAIN: 'sandbox' }));
    // The sandbox node confirms payouts at once: the only clicks are the parties' own.
    running.sandbox!.setAutoConfirm('immediate');
  }, 120_000);
  afterAll(async () => {
    await running?.close();
    dir.remove();
  });

  it('plays the swap in the page: lock and claim on chain, and the order completes with the RTC paid to the buyer, no confirm', async () => {
    const url = running.url;
    const dev = running.quoteChain!.sandbox!.devAddresses;
    const page = await browser().context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${url}/#/wallet`);
    for (const name of ['Seller', 'Buyer']) {
      await page.getByLabel('Name for the next wallet (optional)').fill(name);
      await page.getByRole('button', { name: 'Generate a new wallet' }).click();
    }
    const sellerCard = page.locator('li.card', { hasText: 'Seller' });
    const buyerCard = page.locator('li.card', { hasText: 'Buyer' });
    // Each wallet of the page gets its own development account as its quote address.
    expect(await sellerCard.locator('code.quote-address').textContent()).toBe(dev[1]);
    expect(await buyerCard.locator('code.quote-address').textContent()).toBe(dev[2]);
    const buyerWallet = (await buyerCard.locator('code.wallet-id').textContent()) ?? '';
    await sellerCard.getByRole('button', { name: 'Fund' }).click();
    await sellerCard.getByText('Funded 1000 RTC at the sandbox node.').waitFor();
    await page.getByLabel('Signing as').selectOption({ label: await optionLabel(page, 'Seller') });

    await page.getByRole('link', { name: 'Place order' }).click();
    expect(await page.getByLabel(/Your USDC address/).inputValue()).toBe(dev[1]);
    const { secret, orderId } = await signSellOrder(page, '10', '0.1');
    await waitForStatus(page, 'open');
    await page.getByRole('button', { name: 'I saved it — hide' }).click();

    await page.getByLabel('Signing as').selectOption({ label: await optionLabel(page, 'Buyer') });
    await page.getByRole('button', { name: 'Sign and match' }).click();
    await waitForStatus(page, 'matched');
    const leg = page.getByRole('region', { name: 'Quote leg' });
    // What to lock, exactly: 10 RTC at 0.1 USDC is 1 USDC, 1000000 base units; the hashlock is the order's.
    expect(await leg.locator('code.base-units').textContent()).toBe('1000000');
    const order = expectOk(await new LedgerClient({ baseUrl: url }).getOrder(orderId)).order;
    expect(await leg.locator('code.hashlock').textContent()).toBe(`0x${order.htlc_hash}`);
    await leg.getByText('Buyer: lock the quote').waitFor();
    await leg.getByText('awaiting lock').waitFor();
    // The confirm form is there, and is never used in this test.
    expect(await page.getByRole('button', { name: 'Sign and confirm' }).count()).toBe(1);

    // A short lock first (made on the chain directly): the page lists it as rejected, claimable until its T.
    const sandboxChain = running.quoteChain!.sandbox!;
    await sandboxChain.fundUsdc(dev[2]!, 999_999n);
    const head = await sandboxChain.latestBlock();
    await sandboxChain.lockUsdc({
      buyer: dev[2]!, seller: dev[1]!, hashlock: `0x${order.htlc_hash}`, timelock: head.timestamp + 7_200n, orderId, amount: 999_999n,
    });
    const rejected = page.getByRole('region', { name: 'Rejected locks' });
    await rejected.getByText('amount_short').waitFor({ timeout: 30_000 });
    expect(await rejected.textContent()).toContain('claimable by the seller until');
    await leg.getByText('awaiting lock').waitFor();

    await leg.getByRole('button', { name: 'Lock on chain (sandbox)' }).click();
    await leg.locator('.status', { hasText: /^locked$/ }).waitFor({ timeout: 30_000 });
    expect(await leg.getByRole('button', { name: 'Lock on chain (sandbox)' }).count()).toBe(0);

    // The seller pastes the preimage they saved and claims on chain.
    await leg.getByLabel(/^Preimage \(64 hex/).fill(secret);
    await leg.getByRole('button', { name: 'Claim on chain (sandbox)' }).click();
    await waitForStatus(page, 'completed');
    await leg.locator('.status', { hasText: /^claimed$/ }).waitFor();
    const money = page.getByRole('region', { name: 'Escrow, payout and fees' });
    await money.locator('.status', { hasText: /^confirmed$/ }).waitFor();

    // The RTC went to the buyer, at the node; the history has the claim seen on chain and no confirm.
    await page.goto(`${url}/#/wallet`);
    await page.locator('li.card', { hasText: 'Buyer' }).getByText('10.000000 RTC').waitFor();
    const client = new LedgerClient({ baseUrl: url });
    expect(expectOk(await client.sandbox.balanceMicroRtc(buyerWallet)).balance_micro_rtc).toBe(10_000_000n);
    const types = expectOk(await client.history(orderId)).events.map((e) => e.type);
    expect(types).toContain('QuoteClaimObserved');
    expect(types).toContain('PayoutConfirmed');
    expect(types).not.toContain('SettlementClaimed');

    // The operator page: the follower's checkpoint and lag, and verify with no findings.
    await page.goto(`${url}/#/operator`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    const chain = page.getByRole('region', { name: 'Quote chain follower' });
    await chain.locator('.chain-lag').waitFor();
    expect(await chain.textContent()).toContain(running.quoteChain!.sandbox!.htlcAddress);
    await page.getByRole('button', { name: 'Run verify' }).click();
    await page.getByRole('region', { name: 'Verify', exact: true }).getByText('no findings').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('lists verify findings in the operator page', async () => {
    // A read model loses a row behind the ledger's back: verify names it.
    const client = new LedgerClient({ baseUrl: running.url });
    const before = expectOk(await client.admin(ADMIN_TOKEN).verify());
    expect(before.findings).toEqual([]);
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(`${dir.path}/read.db`);
    const table = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'orders\\_\\_%' ESCAPE '\\' ORDER BY name DESC").get() as { name: string }).name;
    const victim = (db.prepare(`SELECT order_id FROM ${table} LIMIT 1`).get() as { order_id: string }).order_id;
    db.prepare(`DELETE FROM ${table} WHERE order_id = ?`).run(victim);
    db.close();

    const page = await browser().context.newPage();
    await page.goto(`${running.url}/#/operator`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('button', { name: 'Run verify' }).click();
    const findings = page.getByRole('region', { name: 'Verify findings' });
    await findings.getByText('read_model_row_missing').first().waitFor();
    expect(await findings.textContent()).toContain(victim);
    await page.getByRole('region', { name: 'Verify', exact: true }).getByText(/\d+ finding\(s\)/).waitFor();
    await page.close();
  }, 60_000);
});
