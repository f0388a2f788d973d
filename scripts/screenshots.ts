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
import { expectOk, generateWalletKey, LedgerClient, type Order, type WalletKey } from '../src/client/index.js';
import { loadConfig, loadQuoteChainConfig } from '../src/config.js';
import { createLogger, startLedger } from '../src/main.js';
import { launchBrowser } from './browser.js';

const OUT_DIR = 'docs/screenshots';
const ADMIN_TOKEN = 'screenshots-admin-token-0123456789abcdef';

interface Seeded {
  readonly completed: string;
  readonly matched: string;
  readonly locked: string;
}

/** Polls an order until `done` holds (bounded): the ledger follows the sandbox chain once a second. */
async function until(client: LedgerClient, orderId: string, done: (o: Order) => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (done(expectOk(await client.getOrder(orderId)).order)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`order ${orderId} never got there`);
}

/**
 * The market the screens show, played as the atomic swap it is: every RTC/USDC order names a
 * development account as its quote address (the trader's is the page's first wallet's, dev[1]), and
 * completed trades are locked and claimed on the sandbox chain. The recovery case is an RTC/ERG
 * order (manual quote leg), whose confirm the node's refused payout parks.
 */
async function seedMarket(client: LedgerClient, trader: WalletKey, dev: readonly string[]): Promise<Seeded> {
  const others = [generateWalletKey(), generateWalletKey()] as const;
  const quote = new Map([[trader.wallet, dev[1]], [others[0].wallet, dev[3]], [others[1].wallet, dev[4]]]);
  const eth = (w: WalletKey) => quote.get(w.wallet) ?? null;
  for (const w of [trader, ...others]) expectOk(await client.sandbox.fund(w.wallet, '5000'));
  expectOk(await client.sandbox.chain.fund(dev[4] as string, { usdcBaseUnits: 1_000_000_000n }));
  for (const [amount, price] of [['120', '0.105'], ['80', '0.11'], ['250', '0.12'], ['40', '0.105']] as const) {
    expectOk(await client.placeOrder(others[0], { side: 'sell', amountRtc: amount, pricePerRtc: price, ethAddress: eth(others[0]) }));
  }
  for (const [amount, price] of [['60', '0.095'], ['150', '0.09'], ['30', '0.085']] as const) {
    expectOk(await client.placeOrder(others[1], { side: 'buy', amountRtc: amount, pricePerRtc: price, ethAddress: eth(others[1]) }));
  }
  const matchedSell = async (seller: WalletKey, amount: string, price: string) => {
    const placed = expectOk(await client.placeOrder(seller, { side: 'sell', amountRtc: amount, pricePerRtc: price, ethAddress: eth(seller) }));
    const id = placed.order.order_id;
    expectOk(await client.matchOrder(others[1], id, { ethAddress: eth(others[1]) }));
    return { id, secret: placed.htlc_secret as string };
  };
  // Two completed trades (last price, volume), one of them the trader's: locked and claimed on chain.
  let completed = '';
  for (const [seller, amount, price] of [[others[0], '50', '0.1'], [trader, '75', '0.102']] as const) {
    const trade = await matchedSell(seller, amount, price);
    expectOk(await client.sandbox.chain.lock(trade.id));
    await until(client, trade.id, (o) => o.quote_leg?.status === 'locked');
    expectOk(await client.sandbox.chain.claim(trade.id, trade.secret));
    await until(client, trade.id, (o) => o.status === 'completed');
    completed = trade.id;
  }
  // The trader's orders waiting for the buyer's lock, and locked, waiting for the trader's claim.
  const matched = (await matchedSell(trader, '20', '0.115')).id;
  const locked = (await matchedSell(trader, '15', '0.11')).id;
  expectOk(await client.sandbox.chain.lock(locked));
  await until(client, locked, (o) => o.quote_leg?.status === 'locked');
  // A recovery case for the operator screen: the node refuses one payout after the release.
  const stuck = expectOk(await client.placeOrder(others[0], { side: 'sell', pair: 'RTC/ERG', amountRtc: '10', pricePerRtc: '0.1' }));
  expectOk(await client.matchOrder(others[1], stuck.order.order_id));
  expectOk(await client.sandbox.fault('POST /wallet/transfer', 'reject_400', 1));
  await client.confirmSettlement(others[0], stuck.order.order_id, { secret: stuck.htlc_secret as string, quoteTx: '0xstuck' });
  return { completed, matched, locked };
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
  // Sandbox mode, as `npm start`: the quote leg on the ledger's own anvil, payouts confirmed at once.
  const running = await startLedger(config, createLogger(config), { quoteChain: loadQuoteChainConfig({ LEDGER_QUOTE_CHAIN: 'sandbox' }) });
  running.sandbox?.setAutoConfirm('immediate');
  const browser = await launchBrowser({ width: 1280, height: 900 });
  try {
    mkdirSync(OUT_DIR, { recursive: true });
    const client = new LedgerClient({ baseUrl: running.url });
    const trader = generateWalletKey();
    const { completed, matched, locked } = await seedMarket(client, trader, running.quoteChain?.sandbox?.devAddresses ?? []);
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
    await shoot(page, 'order-matched', () => page.getByText('Buyer: lock the quote').waitFor());
    await page.goto(`${running.url}/#/order/${locked}`);
    await shoot(page, 'order-locked-claim', () => page.getByRole('button', { name: 'Claim on chain (sandbox)' }).waitFor());
    await page.goto(`${running.url}/#/order/${completed}`);
    await shoot(page, 'order-completed-timeline', () => page.getByText('valid (chain_valid: true)').waitFor());

    await page.goto(`${running.url}/#/orders`);
    await shoot(page, 'my-orders', () => page.getByRole('region', { name: 'My orders' }).getByRole('link').first().waitFor());

    await page.goto(`${running.url}/#/operator`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('button', { name: 'Reconcile now' }).click();
    await page.getByRole('button', { name: 'Run verify' }).click();
    await shoot(page, 'operator', async () => {
      await page.getByRole('region', { name: 'Recovery queue' }).getByRole('link').first().waitFor();
      await page.locator('.chain-lag').waitFor();
      await page.getByRole('region', { name: 'Verify', exact: true }).getByRole('status').waitFor();
    });

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
