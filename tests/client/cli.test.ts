import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerOrderCommands } from '../../src/cli/orderCommand.js';
import { LedgerClient, expectOk } from '../../src/client/index.js';
import type { RunningLedger } from '../../src/main.js';
import { baseEnv, startFromEnv, tempDir } from '../e2e/support.js';

/** `otc-ledger order ...` and the demo, through the typed client, against a real ledger over HTTP. */

const dir = tempDir('cli-order');
let running: RunningLedger;

beforeAll(async () => {
  // A quick reconciler: the demo waits for it to see the confirmed payout.
  running = await startFromEnv(baseEnv(dir.path, { LEDGER_RECONCILE_INTERVAL_MS: '200' }));
});
afterAll(async () => {
  await running.close();
  dir.remove();
});

function capture(): { stream: Writable; text(): string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write(c, _e, done) { chunks.push(String(c)); done(); } }), text: () => chunks.join('') };
}

async function cli(...args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  const out = capture();
  const err = capture();
  const program = new Command('otc-ledger').exitOverride();
  registerOrderCommands(program, out.stream, err.stream);
  process.exitCode = 0;
  await program.parseAsync(['node', 'otc-ledger', ...args]);
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out: out.text(), err: err.text(), exitCode };
}

describe('otc-ledger order', () => {
  const sellerKey = join(dir.path, 'seller.key');
  const buyerKey = join(dir.path, 'buyer.key');

  it('creates key files of mode 0600 and never overwrites one', async () => {
    const made = await cli('order', 'new-key', '--key-file', sellerKey);
    expect(made.out).toMatch(/^RTC[0-9a-f]{40}\n$/);
    expect(statSync(sellerKey).mode & 0o777).toBe(0o600);
    expect(readFileSync(sellerKey, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    await expect(cli('order', 'new-key', '--key-file', sellerKey)).rejects.toThrow(/never overwritten/);
    expect((await cli('order', 'wallet', '--key-file', sellerKey)).out).toBe(made.out);
    await cli('order', 'new-key', '--key-file', buyerKey);
  });

  it('places, matches and confirms a trade, printing the preimage once', async () => {
    const url = running.url;
    const seller = (await cli('order', 'wallet', '--key-file', sellerKey)).out.trim();
    expectOk(await new LedgerClient({ baseUrl: url }).sandbox.fund(seller, '100'));
    const placed = await cli('order', 'place', '--side', 'sell', '--amount', '5', '--price', '0.2', '--key-file', sellerKey, '--url', url);
    expect(placed.exitCode, placed.err).toBe(0);
    const orderId = /order (otc_[0-9a-f]{16}) sell 5.000000 RTC at 0.200000000 USDC — open/.exec(placed.out)?.[1];
    const secret = /preimage ([0-9a-f]{64})/.exec(placed.out)?.[1];
    expect(orderId).toBeDefined();
    expect(secret).toBeDefined();
    expect(placed.out).toContain('shown this once');

    const matched = await cli('order', 'match', orderId!, '--key-file', buyerKey, '--url', url);
    expect(matched.out).toContain('— matched');
    const confirmed = await cli('order', 'confirm', orderId!, '--secret', secret!, '--quote-tx', '0xcli-quote', '--key-file', sellerKey, '--url', url, '--json');
    expect(confirmed.exitCode, confirmed.err).toBe(0);
    expect(JSON.parse(confirmed.out)).toMatchObject({ ok: true, order: { order_id: orderId } });
  });

  it('exits 1 with the server\'s code when the ledger refuses, and changes nothing', async () => {
    const url = running.url;
    const placed = await cli('order', 'place', '--side', 'buy', '--amount', '1', '--price', '0.1', '--key-file', buyerKey, '--url', url);
    const orderId = /order (otc_[0-9a-f]{16})/.exec(placed.out)?.[1];
    const refused = await cli('order', 'cancel', orderId!, '--key-file', sellerKey, '--url', url);
    expect(refused.exitCode).toBe(1);
    expect(refused.err).toContain('refused (HTTP 403): not_maker');
    const still = expectOk(await new LedgerClient({ baseUrl: url }).getOrder(orderId!));
    expect(still.order.status).toBe('open');
    const cancelled = await cli('order', 'cancel', orderId!, '--key-file', buyerKey, '--url', url);
    expect(cancelled.out).toContain('— cancelled');
  });

  it('refuses a key file that is not a 32-byte seed before sending anything', async () => {
    await expect(cli('order', 'cancel', 'otc_0000000000000000', '--key-file', join(dir.path, 'missing.key'))).rejects.toThrow(/cannot read the key file/);
  });
});

// The demo (an atomic swap on the sandbox chain): tests/e2e/demo.test.ts, the built demo against the built ledger.
