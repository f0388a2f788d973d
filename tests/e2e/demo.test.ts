import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, freePort, parentEnvWithoutSettings, ROOT, useBuiltCli } from './builtCli.js';
import { tempDir, until } from './support.js';

/**
 * `npm run demo` as a person runs it: the BUILT ledger started as `npm start` runs it (sandbox node,
 * sandbox chain: anvil spawned by the ledger), then the BUILT demo (dist/scripts/demo.js) against it
 * with --url. The demo plays the whole atomic swap on that chain and must end with the buyer paid
 * from the on-chain claim, no confirm sent; a ledger without a sandbox chain makes it exit non-zero.
 */

const { dirs, children } = useBuiltCli();
const DEMO = join(ROOT, 'dist', 'scripts', 'demo.js');

interface Run {
  readonly child: ChildProcess;
  readonly out: () => string;
  readonly exited: Promise<number | null>;
}

function run(args: readonly string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...parentEnvWithoutSettings(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  return { child, out: () => out, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

/** The built service on a free port; resolves once /health answers. */
async function serve(quoteChain: 'sandbox' | 'manual'): Promise<{ url: string; served: Run }> {
  const dir = tempDir('demo');
  dirs.push(dir);
  const port = await freePort();
  const served = run([BIN, 'serve'], {
    PORT: String(port), HOST: '127.0.0.1', LEDGER_DATA_DIR: dir.path, LEDGER_QUOTE_CHAIN: quoteChain, LEDGER_RECONCILE_INTERVAL_MS: '200', LOG_LEVEL: 'warn',
  });
  const url = `http://127.0.0.1:${port}`;
  await until(async () => {
    if (served.child.exitCode !== null) throw new Error(`serve exited early: ${served.out()}`);
    return (await fetch(`${url}/health`).then((r) => r.status).catch(() => null)) === 200;
  }, `/health at ${url}`, 60_000);
  return { url, served };
}

async function stop(served: Run): Promise<void> {
  served.child.kill('SIGTERM');
  await served.exited;
}

describe('npm run demo', () => {
  it('plays the whole atomic swap against npm start: lock and claim on the sandbox chain, the buyer paid with no confirm', async () => {
    const { url, served } = await serve('sandbox');
    try {
      const info = (await (await fetch(`${url}/__sandbox/chain`)).json()) as Record<string, unknown>;
      expect(info).toMatchObject({ ok: true, mode: 'sandbox', rpc_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+/), chain_id: expect.any(Number) });
      const demo = run([DEMO, '--url', url], {});
      expect(await demo.exited, demo.out()).toBe(0);
      const text = demo.out();
      expect(text).toContain(`ledger ${url}`);
      expect(text).toMatch(/== the buyer matches it: HTTP 200, order otc_[0-9a-f]{16} is matched/);
      expect(text).toMatch(/== the buyer locks the USDC on chain: swap 0x[0-9a-f]{64}\n {3}tx 0x[0-9a-f]{64}/);
      expect(text).toContain('the ledger verified the lock: quote_leg locked');
      expect(text).toMatch(/== the seller claims the USDC on chain with the preimage .*\n {3}tx 0x[0-9a-f]{64}/);
      expect(text).toMatch(/the ledger read the claim: order payout_pending, .*nobody called confirm/);
      expect(text).toContain('== completed');
      expect(text).toContain('chain_valid: true');
      expect(text).toMatch(/QuoteClaimObserved .*→ settling/);
      expect(text).toMatch(/PayoutConfirmed .*→ completed/);
      expect(text).not.toContain('SettlementClaimed');
    } finally {
      await stop(served);
    }
  }, 150_000);

  it('exits non-zero, saying why, against a ledger with no sandbox chain', async () => {
    const { url, served } = await serve('manual');
    try {
      expect((await fetch(`${url}/__sandbox/chain`)).status).toBe(404);
      const demo = run([DEMO, `--url=${url}`], {});
      expect(await demo.exited).toBe(1);
      expect(demo.out()).toContain('demo failed: the ledger at');
      expect(demo.out()).toContain('runs no sandbox chain');
    } finally {
      await stop(served);
    }
  }, 90_000);
});
