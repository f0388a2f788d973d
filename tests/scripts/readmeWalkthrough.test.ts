import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLedger } from '../../src/main.js';
import { BIN, parentEnvWithoutSettings, ROOT, useBuiltCli } from '../e2e/builtCli.js';
import { baseEnv, startFromEnv, tempDir } from '../e2e/support.js';

/**
 * The README's "A trade from the command line" block, extracted from README.md and run as written
 * in sh and in bash against a ledger started in sandbox mode (its own anvil), with LEDGER_URL
 * pointing the block at it. `npx otc-ledger` is the package's own bin: a shim on PATH runs
 * bin/otc-ledger.js directly, because npx would first install (and build) the project.
 */

const { dirs } = useBuiltCli();
const ledgerDir = tempDir('readme-ledger');
let ledger: RunningLedger;

beforeAll(async () => {
  // A quick reconciler: the embedded node confirms a payout after a short delay, the next pass completes the order.
  ledger = await startFromEnv(baseEnv(ledgerDir.path, { LEDGER_QUOTE_CHAIN: 'sandbox', LEDGER_RECONCILE_INTERVAL_MS: '300' }));
}, 60_000);
afterAll(async () => {
  await ledger?.close();
  ledgerDir.remove();
});

/** The first ```sh block after the heading, exactly as the README shows it. */
export function fencedBlockAfter(markdown: string, heading: string): string {
  const from = markdown.indexOf(`\n${heading}\n`);
  if (from < 0) throw new Error(`README has no heading ${heading}`);
  const block = /```sh\n([\s\S]*?)```/.exec(markdown.slice(from));
  if (block?.[1] === undefined) throw new Error(`no sh block after ${heading}`);
  return block[1];
}

function run(shell: string, script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // -e: a refused step stops the walk-through (the loops' own conditions do not).
    const child = spawn(shell, ['-e', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

const block = fencedBlockAfter(readFileSync(join(ROOT, 'README.md'), 'utf8'), '## A trade from the command line');

describe('the README walk-through', () => {
  it('is the atomic swap: lock and claim on the sandbox chain, and no confirm', () => {
    expect(block).toContain('/__sandbox/chain/lock');
    expect(block).toContain('/__sandbox/chain/claim');
    expect(block).not.toMatch(/order confirm/);
  });

  it('finds no block under a heading the README lacks (the extraction can fail)', () => {
    expect(() => fencedBlockAfter('# x\n```sh\necho\n```\n', '## Missing')).toThrow('no heading');
  });

  for (const shell of ['sh', 'bash']) {
    it(`runs as written in ${shell}: the order completes and its history shows the claim seen on chain`, async () => {
      const work = tempDir(`readme-${shell}`);
      dirs.push(work);
      const shim = join(work.path, 'bin');
      const npx = join(work.path, 'bin', 'npx');
      mkdirSync(shim);
      writeFileSync(npx, `#!/bin/sh\n[ "$1" = otc-ledger ] || { echo "this npx runs only otc-ledger" >&2; exit 2; }\nshift\nexec "${process.execPath}" "${BIN}" "$@"\n`);
      chmodSync(npx, 0o755);
      const env = { ...parentEnvWithoutSettings(), PATH: `${shim}:${process.env['PATH'] ?? ''}`, LEDGER_URL: ledger.url };
      const result = await run(shell, block, work.path, env);
      expect(result.stderr).not.toMatch(/refused|error/i);
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      const history = JSON.parse(lines.at(-1) ?? '{}') as { ok: boolean; order_id: string; chain_valid: boolean; events: Array<{ type: string; status_after: string }> };
      expect(history).toMatchObject({ ok: true, chain_valid: true });
      const types = history.events.map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['QuoteLockObserved', 'QuoteClaimObserved', 'PayoutConfirmed']));
      expect(types).not.toContain('SettlementClaimed');
      expect(history.events.at(-1)?.status_after).toBe('completed');
    }, 180_000);
  }
});
