import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectOk, generateWalletKey, LedgerClient } from '../../src/client/index.js';
import type { RunningLedger } from '../../src/main.js';
import { baseEnv, startFromEnv, tempDir } from '../e2e/support.js';
import { describeInChromium, optionLabel, readDownload, signSellOrder, tabTo, waitForStatus, watchBodies, watchErrors } from './support.js';

/**
 * The web app in a real browser (Debian's Chromium, headless) against a real ledger in sandbox
 * mode over HTTP: a whole trade signed in the page, an operator's re-drive, a keyboard-only place.
 */

const ADMIN_TOKEN = 'web-test-admin-token-42-0123456789abcdef';
describeInChromium('web app in Chromium', (browser) => {
  const dir = tempDir('web');
  let running: RunningLedger;
  let url: string;

  beforeAll(async () => {
    // A quick reconciler: it completes an order once the sandbox node confirms its payout.
    running = await startFromEnv(baseEnv(dir.path, { LEDGER_ADMIN_TOKEN: ADMIN_TOKEN, LEDGER_RECONCILE_INTERVAL_MS: '300' }));
    url = running.url;
  }, 120_000);
  afterAll(async () => {
    await running?.close();
    dir.remove();
  });

  it('trades in the page: two wallets, place, match, confirm, the order completes, its timeline downloads', async () => {
    const page = await browser().context.newPage();
    const errors = watchErrors(page);
    const bodies = watchBodies(page);
    await page.goto(`${url}/#/wallet`);
    for (const name of ['Seller', 'Buyer']) {
      await page.getByLabel('Name for the next wallet (optional)').fill(name);
      await page.getByRole('button', { name: 'Generate a new wallet' }).click();
    }
    const seller = page.locator('li.card', { hasText: 'Seller' });
    await seller.getByRole('button', { name: 'Fund' }).click();
    await seller.getByText('Funded 1000 RTC at the sandbox node.').waitFor();
    await seller.getByText('1000.000000 RTC').waitFor();
    await page.getByLabel('Signing as').selectOption({ label: await optionLabel(page, 'Seller') });

    await page.getByRole('link', { name: 'Place order' }).click();
    const { secret, orderId } = await signSellOrder(page, '25', '0.2');
    await waitForStatus(page, 'open');
    await page.getByText('1.250000 RTC, paid by the seller').waitFor();
    await page.getByRole('button', { name: 'I saved it — hide' }).click();
    expect(await page.getByRole('alertdialog').count()).toBe(0);

    await page.getByLabel('Signing as').selectOption({ label: await optionLabel(page, 'Buyer') });
    await page.getByRole('button', { name: 'Sign and match' }).click();
    await waitForStatus(page, 'matched');
    await page.locator('.countdown').first().waitFor();

    await page.getByLabel('Preimage (64 hex)').fill(secret);
    await page.getByLabel('Quote transaction').fill('0xweb-quote-tx-1');
    await page.getByRole('button', { name: 'Sign and confirm' }).click();
    await page.locator('.headline .status', { hasText: /payout pending|completed/ }).waitFor();
    const payoutButton = page.getByRole('button', { name: 'Sandbox: confirm the queued payout' });
    if (await payoutButton.count()) await payoutButton.click();
    await waitForStatus(page, 'completed');
    await page.getByText(`Preimage (revealed after the payout confirmed)`).waitFor();

    const timeline = page.getByRole('region', { name: 'Audit timeline' });
    await timeline.getByText('PayoutConfirmed').waitFor();
    await page.getByText('valid (chain_valid: true)').waitFor();
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
    const exported = JSON.parse(readDownload(await json.path())) as { order_id: string; chain_valid: boolean; events: Array<{ type: string }> };
    expect(exported).toMatchObject({ order_id: orderId, chain_valid: true });
    const history = expectOk(await new LedgerClient({ baseUrl: url }).history(orderId));
    expect(exported.events.map((e) => e.type)).toEqual(history.events.map((e) => e.type));
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const lines = readDownload(await csv.path()).trim().split('\r\n');
    expect(lines[0]).toBe('order_id,chain_valid,version,recorded_at,type,actor,status_after,correlation_id,causation_id,event_id,prev_hash,hash,data');
    expect(lines).toHaveLength(history.events.length + 1);

    // The keys stayed in the page: no request carried a seed, and nothing went to local storage.
    const seeds = await page.evaluate('localStorage.length');
    expect(seeds).toBe(0);
    const sellerSeed = await seedOf(page, 'Seller');
    expect(bodies.some((b) => b.includes(sellerSeed))).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('lets an operator re-drive an order in settlement_recovery, audited with name and reason', async () => {
    const client = new LedgerClient({ baseUrl: url });
    const [seller, buyer] = [generateWalletKey(), generateWalletKey()];
    expectOk(await client.sandbox.fund(seller.wallet, '100'));
    const placed = expectOk(await client.placeOrder(seller, { side: 'sell', amountRtc: '10', pricePerRtc: '0.1' }));
    const orderId = placed.order.order_id;
    expectOk(await client.matchOrder(buyer, orderId));
    // The node refuses the payout once, after the escrow was released: the order needs an operator.
    expectOk(await client.sandbox.fault('POST /wallet/transfer', 'reject_400', 1));
    const confirmed = await client.confirmSettlement(seller, orderId, { secret: placed.htlc_secret as string, quoteTx: '0xweb-redrive' });
    expect(confirmed).toMatchObject({ ok: false, error: 'settlement_recovery' });

    const page = await browser().context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${url}/#/operator`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    const row = page.getByRole('region', { name: 'Recovery queue' }).locator('tr', { hasText: orderId });
    await row.waitFor();
    expect(await row.textContent()).toContain('settlement recovery');
    await page.getByRole('region', { name: 'Read models' }).getByText('running').first().waitFor();
    const redriveForm = page.getByRole('form', { name: `Re-drive ${orderId}` });
    await redriveForm.getByLabel('Operator').fill('alice');
    await redriveForm.getByLabel('Reason').fill('node refused the payout once; retrying');
    await redriveForm.getByRole('button', { name: 'Re-drive' }).click();
    await page.getByText(new RegExp(`Re-drove ${orderId}: now (payout_pending|completed)`)).waitFor();

    const history = expectOk(await client.history(orderId));
    const redrive = history.events.find((e) => e.type === 'OperatorRedriveRequested');
    expect(redrive?.data).toMatchObject({ operator: 'alice', reason: 'node refused the payout once; retrying' });
    await page.getByRole('button', { name: 'Reconcile now' }).click();
    await page.getByRole('status').filter({ hasText: 'examined' }).waitFor();
    await page.getByRole('button', { name: 'Rebuild orders' }).click();
    await page.getByText(/Rebuild \S+ of orders started\./).waitFor();
    await page.getByRole('region', { name: 'Read models' }).locator('tr', { hasText: 'orders' }).first().getByText('running').waitFor();
    // Refused: a wrong token is answered with the server's code, in the page.
    await page.getByRole('button', { name: 'Forget token' }).click();
    await page.getByLabel('Admin token').fill('wrong-token');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('alert').filter({ hasText: 'unauthorized' }).first().waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('places an order with the keyboard alone', async () => {
    const page = await browser().context.newPage();
    await page.goto(`${url}/#/wallet`);
    await tabTo(page, (el) => el.textContent === 'Generate a new wallet', 'the generate button');
    await page.keyboard.press('Enter');
    await page.locator('li.card').waitFor();
    await tabTo(page, (el) => el.textContent === 'Fund', 'the fund button');
    await page.keyboard.press('Enter');
    await page.getByText('Funded 1000 RTC').waitFor();
    await tabTo(page, (el) => el.textContent === 'Place order', 'the place link');
    await page.keyboard.press('Enter');
    await tabTo(page, (el) => el.id === 'place-amount', 'the amount field');
    await page.keyboard.type('3.5');
    await tabTo(page, (el) => el.id === 'place-price', 'the price field');
    await page.keyboard.type('0.15');
    await tabTo(page, (el) => (el.textContent ?? '').startsWith('Sign and place'), 'the submit button');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog').waitFor();
    await waitForStatus(page, 'open');
    expect(await page.getByText('3.500000 RTC', { exact: true }).count()).toBeGreaterThan(0);
    await page.close();
  });

  it('fits a phone\'s width: no page-wide sideways scrolling on the market and order pages', async () => {
    const page = await browser().context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}/#/`);
    await page.getByRole('region', { name: 'Asks (sell orders)' }).waitFor();
    const overflow = async () => Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.getByRole('region', { name: 'Open orders' }).getByRole('link').first().click();
    await page.locator('.headline').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.close();
  });
});

async function seedOf(page: import('playwright-core').Page, name: string): Promise<string> {
  await page.goto(page.url().replace(/#.*$/, '#/wallet'));
  const card = page.locator('li.card', { hasText: name });
  await card.getByRole('button', { name: 'Show seed' }).click();
  return (await card.locator('code.secret').textContent()) ?? '';
}
