import { describe, expect, it } from 'vitest';
import { demoUrl } from '../../scripts/demo.js';
import { loadConfig } from '../../src/config.js';

// The demo's run itself: tests/e2e/demo.test.ts (the built demo against the built ledger).

describe('the demo', () => {
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
