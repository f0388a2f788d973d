/**
 * Browser-test helpers: the web app built from the sources, a ledger in sandbox mode over real
 * HTTP on 127.0.0.1, and Debian's Chromium through playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, CHROMIUM_PATH, launchBrowser, type Browser } from '../../scripts/browser.js';

export { chromiumAvailable, CHROMIUM_PATH, launchBrowser, type Browser };

/** Builds web/ into dist/web, so the tests drive the app as the sources are now. */
export function buildWebApp(): void {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts'], { stdio: 'pipe', timeout: 120_000 });
}

/** Why the browser tests cannot run here, or null when they can. Under CI a missing Chromium is a failure. */
export function browserSkipReason(): string | null {
  return chromiumAvailable() ? null : `${CHROMIUM_PATH} not found (apt-get install chromium)`;
}

export const underCi = (): boolean => process.env['CI'] === 'true';

/**
 * A describe block of tests in a real Chromium: the web app built from the sources and one browser
 * for the block, launched before the block's own beforeAll hooks and closed after its afterAll
 * hooks. `body` registers the block's hooks and tests; `browser()` is usable once the hooks ran.
 * Without Chromium the block is one test saying why it did not run, and a failure under CI.
 */
export function describeInChromium(title: string, body: (browser: () => Browser) => void): void {
  const skipReason = browserSkipReason();
  describe(title, () => {
    if (skipReason !== null) {
      if (underCi()) {
        it('needs Chromium under CI', () => {
          throw new Error(`CI=true but ${skipReason}: .ci/run installs it with apt`);
        });
      } else {
        it(`did not run: ${skipReason}`, () => {
          console.warn(`browser tests did not run: ${skipReason}`);
          expect(skipReason).toContain('chromium');
        });
      }
      return;
    }
    let browser: Browser | undefined;
    beforeAll(async () => {
      buildWebApp();
      browser = await launchBrowser();
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
    });
    body(() => {
      if (browser === undefined) throw new Error('the browser is used before beforeAll launched it');
      return browser;
    });
  });
}

/** The label of the page's wallet picker option for the wallet named `name`. */
export async function optionLabel(page: Page, name: string): Promise<string> {
  const labels = await page.locator('#active-wallet option').allTextContents();
  const found = labels.find((l) => l.startsWith(`${name} ·`));
  if (found === undefined) throw new Error(`no wallet named ${name}`);
  return found;
}

/**
 * Collects what the page reports as errors (CSP violations, exceptions), to assert none happened.
 * A refused request's status line is not one: the tests assert refusals where they expect them.
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** Watches every request body the page sends, to prove a seed or preimage never leaves in one. */
export function watchBodies(page: Page): string[] {
  const bodies: string[] = [];
  page.on('request', (r) => bodies.push(`${r.url()} ${r.postData() ?? ''}`));
  return bodies;
}

/**
 * Presses Tab until the focused element matches, as a keyboard user would (bounded): fails when
 * the element cannot be reached by keyboard.
 */
/** The focused element as the predicate sees it (the root tsconfig has no DOM types). */
export interface Focused { readonly id: string; readonly textContent: string | null }

export async function tabTo(page: Page, matches: (el: Focused) => boolean, what: string, limit = 60): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const reached = await page.evaluate(`(${matches.toString()})(document.activeElement)`);
    if (reached) return;
  }
  throw new Error(`${what} is not reachable with the Tab key`);
}

export async function statusOf(page: Page): Promise<string> {
  return (await page.locator('.headline .status').textContent()) ?? '';
}

export async function waitForStatus(page: Page, status: string, timeoutMs = 30_000): Promise<void> {
  await page.locator('.headline .status', { hasText: new RegExp(`^${status}$`) }).waitFor({ timeout: timeoutMs });
  expect(await statusOf(page)).toBe(status);
}

export const readDownload = (path: string): string => readFileSync(path, 'utf8');

/**
 * On the place page, fills and signs a sell order, then reads what the page shows once: the
 * one-time secret in the reveal dialog and the new order's id from the URL it moved to.
 */
export async function signSellOrder(page: Page, amountRtc: string, pricePerRtc: string): Promise<{ secret: string; orderId: string }> {
  await page.getByLabel('Amount (RTC, up to 6 decimals)').fill(amountRtc);
  await page.getByLabel(/Price per RTC/).fill(pricePerRtc);
  await page.getByRole('button', { name: 'Sign and place sell order' }).click();
  const reveal = page.getByRole('alertdialog');
  await reveal.waitFor();
  const secret = (await reveal.locator('code.secret').textContent()) ?? '';
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
  const orderId = /#\/order\/(otc_[0-9a-f]{16})$/.exec(page.url())?.[1];
  expect(orderId).toBeDefined();
  return { secret, orderId: orderId as string };
}
