import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** `otc-ledger/client` as a consumer imports it: the package's exports entry over the build (`npm ci` builds). */
describe('the otc-ledger/client export', () => {
  it('resolves to the built client, with its type declarations, and signs in plain Node', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, { types: string; default: string }>; bin: Record<string, string> };
    expect(pkg.exports['./client']).toEqual({ types: './dist/src/client/index.d.ts', default: './dist/src/client/index.js' });
    expect(existsSync(pkg.exports['./client']!.types)).toBe(true);
    expect(pkg.bin['otc-ledger']).toBe('bin/otc-ledger.js');
    const script = "const m = await import('otc-ledger/client'); const k = m.walletKeyFromSeed('11'.repeat(32)); console.log(k.wallet, typeof m.LedgerClient);";
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
    expect(stdout.trim()).toMatch(/^RTC[0-9a-f]{40} function$/);
  });
});
