import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const errorOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
    return 'no error';
  } catch (error) {
    return error instanceof ConfigError ? error.message : `unexpected: ${String(error)}`;
  }
};

describe('configuration from the environment', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 5580, host: '127.0.0.1', dataDir: './data', store: 'sqlite', rustchainNode: null, nodeTimeoutMs: 15_000,
      adminToken: null, rateLimitPerMinute: 10, trustProxy: false, reconcileIntervalMs: 10_000, settlementStuckMs: 120_000,
      settleWindowSeconds: 86_400, maxOrderMicroRtc: 10_000_000_000n, corsOrigins: [], logLevel: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable it documents', () => {
    const c = loadConfig({
      PORT: '6000', HOST: '0.0.0.0', LEDGER_DATA_DIR: '/tmp/x', RUSTCHAIN_NODE: 'https://node.example', RC_ADMIN_KEY: 'k',
      RUSTCHAIN_ALLOW_INSECURE: '1', LEDGER_NODE_TIMEOUT_MS: '500', LEDGER_ADMIN_TOKEN: 't', LEDGER_SECRET_KEY: 'ab'.repeat(32),
      LEDGER_RATE_LIMIT_PER_MINUTE: '0', LEDGER_TRUST_PROXY: 'true', LEDGER_RECONCILE_INTERVAL_MS: '0',
      LEDGER_SETTLEMENT_STUCK_MS: '1000', LEDGER_SETTLE_WINDOW_SECONDS: '3600', LEDGER_MAX_ORDER_RTC: '2500.5',
      LEDGER_CORS_ORIGINS: 'https://a.example, https://b.example', LOG_LEVEL: 'warn',
    });
    expect(c).toMatchObject({
      port: 6000, host: '0.0.0.0', rustchainNode: 'https://node.example', rustchainAllowInsecure: true, nodeTimeoutMs: 500,
      rateLimitPerMinute: 0, trustProxy: true, reconcileIntervalMs: 0, maxOrderMicroRtc: 2_500_500_000n,
      corsOrigins: ['https://a.example', 'https://b.example'], logLevel: 'warn',
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'invalid configuration: PORT must be an integer from 0 to 65535'],
    [{ PORT: '70000' }, 'invalid configuration: PORT must be an integer from 0 to 65535'],
    [{ LEDGER_NODE_TIMEOUT_MS: '1.5' }, 'invalid configuration: LEDGER_NODE_TIMEOUT_MS must be an integer from 1 to 600000'],
    [{ LEDGER_STORE: 'postgres' }, 'LEDGER_STORE'],
    [{ LEDGER_STORE: 'esdb' }, 'EVENTSTORE_CONNECTION_STRING is required when LEDGER_STORE=esdb'],
    [{ LEDGER_SECRET_KEY: 'short' }, 'LEDGER_SECRET_KEY must be 64 hex digits'],
    [{ LEDGER_CORS_ORIGINS: 'https://a.example,*' }, 'LEDGER_CORS_ORIGINS must list origins'],
    [{ LEDGER_MAX_ORDER_RTC: '1.0000001' }, 'LEDGER_MAX_ORDER_RTC must be a positive RTC amount'],
    [{ RUSTCHAIN_ALLOW_INSECURE: 'maybe' }, 'RUSTCHAIN_ALLOW_INSECURE must be 0 or 1'],
    [{ RUSTCHAIN_NODE: 'not a url' }, 'RUSTCHAIN_NODE'],
    // Longer, and not even a one-hour order's escrow would fit the node's 30-day cap.
    [{ LEDGER_SETTLE_WINDOW_SECONDS: '2584801' }, 'LEDGER_SETTLE_WINDOW_SECONDS must be an integer from 60 to 2584800'],
  ])('stops start-up with one line naming the variable: %o', (env, expected) => {
    const message = errorOf(env);
    expect(message).toContain(expected);
    expect(message.split('\n')).toHaveLength(1);
  });

  it('never echoes a secret value in its error', () => {
    expect(errorOf({ LEDGER_SECRET_KEY: 'zz-super-secret-zz' })).not.toContain('super-secret');
  });
});
