/**
 * `npm run screenshots`: the web app's main screens as PNGs in docs/screenshots/, for the README.
 * Starts its own ledger (sandbox mode, a temp data dir, a loopback port), puts a few orders and
 * trades on it through the typed client, then photographs the pages in headless Chromium.
 * Needs the web app built (`npm run build`) and /usr/bin/chromium.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expectOk, generateWalletKey, LedgerClient, type WalletKey } from '../src/client/index.js';
import { loadConfig } from '../src/config.js';
import { createLogger, startLedger } from '../src/main.js';
import { launchBrowser } from './browser.js';

const OUT_DIR = 'docs/screenshots';
const ADMIN_TOKEN = 'screenshots-admin-token';

async function seedMarket(client: LedgerClient, trader: WalletKey): Promise<{ completed: string; matched: string; secret: string }> {
  const others = [generateWalletKey(), generateWalletKey()] as const;
  for (const w of [trader, ...others]) expectOk(await client.sandbox.fund(w.wallet, '5000'));
  for (const [amount, price] of [['120', '0.105'], ['80', '0.11'], ['250', '0.12'], ['40', '0.105']] as const) {
    expectOk(await client.placeOrder(others[0], { side: 'sell', amountRtc: amount, pricePerRtc: price }));
  }
  for (const [amount, price] of [['60', '0.095'], ['150', '0.09'], ['30', '0.085']] as const) {
    expectOk(await client.placeOrder(others[1], { side: 'buy', amountRtc: amount, pricePerRtc: price }));
  }
  // Two completed trades (last price, volume), one of them the trader's; one matched order of the trader.
  let completed = '';
  for (const [seller, buyer, amount, price] of [[others[0], others[1], '50', '0.1'], [trader, others[1], '75', '0.102']] as const) {
    const placed = expectOk(await client.placeOrder(seller, { side: 'sell', amountRtc: amount, pricePerRtc: price }));
    completed = placed.order.order_id;
    expectOk(await client.matchOrder(buyer, completed));
    const confirmed = expectOk(await client.confirmSettlement(seller, completed, { secret: placed.htlc_secret as string, quoteTx: `0x${'ab'.repeat(32)}` }));
    if (confirmed.order.payout.key !== null && confirmed.order.status !== 'completed') expectOk(await client.sandbox.confirmPayout(confirmed.order.payout.key));
  }
  expectOk(await client.admin(ADMIN_TOKEN).reconcile());
  const placed = expectOk(await client.placeOrder(trader, { side: 'sell', amountRtc: '20', pricePerRtc: '0.115' }));
  expectOk(await client.matchOrder(others[1], placed.order.order_id));
  // A recovery case for the operator screen: the node refuses one payout after the release.
  const stuck = expectOk(await client.placeOrder(others[0], { side: 'sell', amountRtc: '10', pricePerRtc: '0.1' }));
  expectOk(await client.matchOrder(others[1], stuck.order.order_id));
  expectOk(await client.sandbox.fault('POST /wallet/transfer', 'reject_400', 1));
  await client.confirmSettlement(others[0], stuck.order.order_id, { secret: stuck.htlc_secret as string, quoteTx: '0xstuck' });
  return { completed, matched: placed.order.order_id, secret: placed.htlc_secret as string };
}

async function shoot(page: Page, name: string, ready: () => Promise<unknown>): Promise<void> {
  await ready();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(OUT_DIR, `${name}.png`), fullPage: true });
  console.log(`${OUT_DIR}/${name}.png`);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'otc-screenshots-'));
  const config = loadConfig({
    HOST: '127.0.0.1', PORT: '0', LEDGER_DATA_DIR: dataDir, LEDGER_RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'silent',
    LEDGER_ADMIN_TOKEN: ADMIN_TOKEN, LEDGER_RECONCILE_INTERVAL_MS: '0',
  });
  const running = await startLedger(config, createLogger(config));
  const browser = await launchBrowser({ width: 1280, height: 900 });
  try {
    mkdirSync(OUT_DIR, { recursive: true });
    const client = new LedgerClient({ baseUrl: running.url });
    const trader = generateWalletKey();
    const { completed, matched } = await seedMarket(client, trader);
    const page = await browser.context.newPage();
    await page.goto(`${running.url}/#/wallet`);
    await page.getByLabel('Name for the next wallet (optional)').fill('Trader');
    await page.getByLabel('Import a 32-byte seed (64 hex)').fill(trader.seedHex);
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByLabel('Name for the next wallet (optional)').fill('Desk');
    await page.getByRole('button', { name: 'Generate a new wallet' }).click();
    await page.getByLabel('Signing as').selectOption({ index: 0 });
    await shoot(page, 'wallets', () => page.locator('li.card').nth(1).getByText(/RTC$/).first().waitFor());

    await page.goto(`${running.url}/#/`);
    await shoot(page, 'market', () => page.getByRole('region', { name: 'Recent trades' }).getByRole('link').first().waitFor());

    await page.goto(`${running.url}/#/place`);
    await page.getByLabel('Amount (RTC, up to 6 decimals)').fill('100');
    await page.getByLabel(/Price per RTC/).fill('0.125');
    await page.getByRole('button', { name: 'Sign and place sell order' }).click();
    await shoot(page, 'place-preimage-once', () => page.getByRole('alertdialog').waitFor());
    await page.getByRole('button', { name: 'I saved it — hide' }).click();

    await page.goto(`${running.url}/#/order/${matched}`);
    await shoot(page, 'order-matched', () => page.getByRole('button', { name: 'Sign and confirm' }).waitFor());
    await page.goto(`${running.url}/#/order/${completed}`);
    await shoot(page, 'order-completed-timeline', () => page.getByText('valid (chain_valid: true)').waitFor());

    await page.goto(`${running.url}/#/orders`);
    await shoot(page, 'my-orders', () => page.getByRole('region', { name: 'My orders' }).getByRole('link').first().waitFor());

    await page.goto(`${running.url}/#/operator`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('button', { name: 'Reconcile now' }).click();
    await shoot(page, 'operator', () => page.getByRole('region', { name: 'Recovery queue' }).getByRole('link').first().waitFor());

    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${running.url}/#/`);
    await shoot(phone, 'phone-market', () => phone.getByRole('region', { name: 'Asks (sell orders)' }).getByText('0.105000000').waitFor());
    await phone.goto(`${running.url}/#/order/${completed}`);
    await shoot(phone, 'phone-order', () => phone.getByText('valid (chain_valid: true)').waitFor());
  } finally {
    await browser.close();
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`screenshots failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
