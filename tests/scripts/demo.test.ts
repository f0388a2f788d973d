import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoUrl, runDemo } from '../../scripts/demo.js';
import { loadConfig } from '../../src/config.js';
import { startLedger, type RunningLedger } from '../../src/main.js';

let dir: string;
let ledger: RunningLedger;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'otc-demo-'));
  // Port 0: whatever port the system gives, which is the point (the demo must not assume 5580).
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LEDGER_DATA_DIR: dir, LEDGER_RECONCILE_INTERVAL_MS: '200', LOG_LEVEL: 'silent' });
  ledger = await startLedger(config);
}, 60_000);
afterAll(async () => {
  await ledger?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the demo', () => {
  it('plays a whole trade against a ledger on any port, given by --url', async () => {
    expect(ledger.url).not.toContain(':5580');
    const lines: string[] = [];
    await runDemo(demoUrl(['--url', ledger.url], loadConfig({})), (line) => lines.push(line));
    const text = lines.join('\n');
    expect(text).toContain(`ledger ${ledger.url}`);
    expect(text).toMatch(/== place a sell order for 100 RTC at 0\.1 USDC: HTTP 201/);
    expect(text).toMatch(/== the buyer matches it: HTTP 200, order otc_[0-9a-f]{16} is matched/);
    expect(text).toContain('== completed: the preimage is now readable');
    expect(text).toContain('chain_valid: true');
    expect(text).toMatch(/PayoutConfirmed .*→ completed/);
  }, 60_000);

  it('takes its URL from --url, then LEDGER_URL, then the HOST and PORT the ledger reads', () => {
    expect(demoUrl(['--url', 'http://127.0.0.1:6123/'], loadConfig({}))).toBe('http://127.0.0.1:6123');
    expect(demoUrl(['--url=http://10.0.0.5:7000'], loadConfig({ LEDGER_URL: 'http://127.0.0.1:1' }))).toBe('http://10.0.0.5:7000');
    expect(demoUrl([], loadConfig({ LEDGER_URL: 'http://ledger.internal:8080' }))).toBe('http://ledger.internal:8080');
    expect(demoUrl([], loadConfig({ PORT: '6001' }))).toBe('http://127.0.0.1:6001');
    expect(demoUrl([], loadConfig({ HOST: '::1', PORT: '6002' }))).toBe('http://[::1]:6002');
    expect(() => demoUrl(['--url'], loadConfig({}))).toThrow(/--url needs a URL/);
    expect(() => demoUrl(['--url', 'not a url'], loadConfig({}))).toThrow();
    expect(() => loadConfig({ LEDGER_URL: 'nope' })).toThrow(/LEDGER_URL/);
  });
});
