/**
 * Browser-test helpers: the web app built from the sources, a ledger in sandbox mode over real
 * HTTP on 127.0.0.1, and Debian's Chromium through playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { chromiumAvailable, CHROMIUM_PATH } from '../../scripts/browser.js';

export { chromiumAvailable, CHROMIUM_PATH };
export { launchBrowser, type Browser } from '../../scripts/browser.js';

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
