import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { refusalOf } from './support/configRefusal.js';

const errorOf = (env: Record<string, string>): string => refusalOf(() => loadConfig(env));

describe('configuration from the environment', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 5580, host: '127.0.0.1', dataDir: './data', store: 'sqlite', rustchainNode: null, nodeTimeoutMs: 15_000,
      adminToken: null, rateLimitPerMinute: 10, trustedProxies: [], reconcileIntervalMs: 10_000, settlementStuckMs: 120_000,
      settleWindowSeconds: 86_400, maxOrderMicroRtc: 10_000_000_000n, corsOrigins: [], logLevel: 'info',
      leaseHeartbeatTimeoutMs: 10_000, sqliteWriter: 'adaptive', readModelWriter: 'worker',
      backgroundThreadPolicy: 'batch', backgroundThreadNice: 0,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable it documents', () => {
    const c = loadConfig({
      PORT: '6000', HOST: '0.0.0.0', LEDGER_DATA_DIR: '/tmp/x', RUSTCHAIN_NODE: 'https://node.example', RC_ADMIN_KEY: 'k',
      RUSTCHAIN_ALLOW_INSECURE: '1', LEDGER_NODE_TIMEOUT_MS: '500', LEDGER_ADMIN_TOKEN: 't'.repeat(32), LEDGER_SECRET_KEY: 'ab'.repeat(32),
      LEDGER_RATE_LIMIT_PER_MINUTE: '0', LEDGER_TRUSTED_PROXIES: '10.0.0.5, 10.1.0.0/16,::1', LEDGER_RECONCILE_INTERVAL_MS: '0',
      LEDGER_SETTLEMENT_STUCK_MS: '2000', LEDGER_ADMIN_AUTH_FAILURES_PER_MINUTE: '3', LEDGER_SANDBOX_PUBLIC: '1',
      LEDGER_HTTP_REQUEST_TIMEOUT_MS: '20000', LEDGER_HTTP_HEADERS_TIMEOUT_MS: '5000', LEDGER_HTTP_KEEP_ALIVE_TIMEOUT_MS: '4000',
      LEDGER_HTTP_CONNECTION_TIMEOUT_MS: '90000', LEDGER_HTTP_MAX_REQUESTS_PER_SOCKET: '50', LEDGER_START_TIMEOUT_MS: '3000', LEDGER_SETTLE_WINDOW_SECONDS: '3600', LEDGER_MAX_ORDER_RTC: '2500.5',
      LEDGER_CORS_ORIGINS: 'https://a.example, https://b.example', LOG_LEVEL: 'warn', LEDGER_LEASE_HEARTBEAT_MS: '1000',
      LEDGER_SQLITE_WRITER: 'inline', LEDGER_READ_MODEL_WRITER: 'inline',
      LEDGER_BACKGROUND_THREAD_POLICY: 'normal', LEDGER_BACKGROUND_THREAD_NICE: '10',
    });
    expect(c).toMatchObject({
      port: 6000, host: '0.0.0.0', rustchainNode: 'https://node.example', rustchainAllowInsecure: true, nodeTimeoutMs: 500,
      rateLimitPerMinute: 0, trustedProxies: ['10.0.0.5', '10.1.0.0/16', '::1'], reconcileIntervalMs: 0, maxOrderMicroRtc: 2_500_500_000n,
      corsOrigins: ['https://a.example', 'https://b.example'], logLevel: 'warn', settlementStuckMs: 2000, leaseHeartbeatTimeoutMs: 1000, sqliteWriter: 'inline', readModelWriter: 'inline',
      backgroundThreadPolicy: 'normal', backgroundThreadNice: 10,
      adminToken: 't'.repeat(32), adminAuthFailuresPerMinute: 3, sandboxPublic: true, startTimeoutMs: 3000,
      http: { requestTimeoutMs: 20_000, headersTimeoutMs: 5_000, keepAliveTimeoutMs: 4_000, connectionTimeoutMs: 90_000, maxRequestsPerSocket: 50 },
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'invalid configuration: PORT must be an integer from 0 to 65535'],
    [{ PORT: '70000' }, 'invalid configuration: PORT must be an integer from 0 to 65535'],
    [{ LEDGER_NODE_TIMEOUT_MS: '1.5' }, 'invalid configuration: LEDGER_NODE_TIMEOUT_MS must be an integer from 100 to 600000'],
    [{ LEDGER_NODE_TIMEOUT_MS: '99' }, 'invalid configuration: LEDGER_NODE_TIMEOUT_MS must be an integer from 100 to 600000'],
    [{ LEDGER_RECONCILE_INTERVAL_MS: '5' }, 'invalid configuration: LEDGER_RECONCILE_INTERVAL_MS must be 0 (off) or at least 100'],
    [{ LEDGER_STORE: 'postgres' }, 'LEDGER_STORE'],
    [{ LEDGER_SQLITE_WRITER: 'thread' }, 'LEDGER_SQLITE_WRITER'],
    [{ LEDGER_BACKGROUND_THREAD_POLICY: 'idle' }, 'LEDGER_BACKGROUND_THREAD_POLICY'],
    [{ LEDGER_BACKGROUND_THREAD_NICE: '20' }, 'LEDGER_BACKGROUND_THREAD_NICE'],
    [{ LEDGER_STORE: 'esdb' }, 'EVENTSTORE_CONNECTION_STRING is required when LEDGER_STORE=esdb'],
    [{ LEDGER_SECRET_KEY: 'short' }, 'LEDGER_SECRET_KEY must be 64 hex digits'],
    [{ LEDGER_CORS_ORIGINS: 'https://a.example,*' }, 'LEDGER_CORS_ORIGINS must list origins'],
    [{ LEDGER_MAX_ORDER_RTC: '1.0000001' }, 'LEDGER_MAX_ORDER_RTC must be a positive RTC amount'],
    [{ RUSTCHAIN_ALLOW_INSECURE: 'maybe' }, 'RUSTCHAIN_ALLOW_INSECURE must be 0 or 1'],
    [{ RUSTCHAIN_NODE: 'not a url' }, 'RUSTCHAIN_NODE'],
    // perimeter (issue 10): each unsafe or unusable setting stops start-up, naming what to change.
    [{ LEDGER_ADMIN_TOKEN: 'x'.repeat(31) }, 'LEDGER_ADMIN_TOKEN must be at least 32 characters'],
    [{ HOST: 'not a host!' }, 'HOST must be an IP address or a host name'],
    [{ HOST: 'http://0.0.0.0' }, 'HOST must be an IP address or a host name'],
    [{ HOST: '0.0.0.0' }, 'HOST 0.0.0.0 is not a loopback address and RUSTCHAIN_NODE is unset'],
    [{ HOST: '::' }, 'LEDGER_SANDBOX_PUBLIC=1'],
    [{ RUSTCHAIN_NODE: 'http://node.example:8099' }, 'RUSTCHAIN_NODE must be https, or plain http to a loopback host'],
    [{ RUSTCHAIN_NODE: 'http://10.0.0.7' }, 'RUSTCHAIN_ALLOW_INSECURE=1'],
    [{ LEDGER_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: 'http://127.0.0.1:2113' }, 'EVENTSTORE_CONNECTION_STRING must look like esdb://'],
    [{ LEDGER_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: 'esdb://' }, 'EVENTSTORE_CONNECTION_STRING must look like esdb://'],
    [{ LEDGER_SETTLEMENT_STUCK_MS: '59999' }, 'LEDGER_SETTLEMENT_STUCK_MS must be at least 60000'],
    [{ LEDGER_NODE_TIMEOUT_MS: '40000' }, 'LEDGER_SETTLEMENT_STUCK_MS must be at least 160000'],
    [{ LEDGER_HTTP_HEADERS_TIMEOUT_MS: '40000' }, 'LEDGER_HTTP_HEADERS_TIMEOUT_MS must not exceed LEDGER_HTTP_REQUEST_TIMEOUT_MS'],
    [{ LEDGER_HTTP_REQUEST_TIMEOUT_MS: '10' }, 'LEDGER_HTTP_REQUEST_TIMEOUT_MS must be an integer from 1000'],
    [{ LEDGER_TRUST_PROXY: '1' }, 'list the proxies in LEDGER_TRUSTED_PROXIES'],
    [{ LEDGER_TRUSTED_PROXIES: '10.0.0.0/33' }, 'LEDGER_TRUSTED_PROXIES must be a comma list of IP addresses or CIDR blocks'],
    [{ LEDGER_TRUSTED_PROXIES: 'proxy.example' }, 'LEDGER_TRUSTED_PROXIES must be a comma list'],
    // Longer, and not even a one-hour order's escrow would fit the node's 30-day cap.
    [{ LEDGER_SETTLE_WINDOW_SECONDS: '2584801' }, 'LEDGER_SETTLE_WINDOW_SECONDS must be an integer from 60 to 2584800'],
    [{ LEDGER_LEASE_HEARTBEAT_MS: '299' }, 'invalid configuration: LEDGER_LEASE_HEARTBEAT_MS must be an integer from 300 to 600000'],
  ])('stops start-up with one line naming the variable: %o', (env, expected) => {
    const message = errorOf(env);
    expect(message).toContain(expected);
    expect(message.split('\n')).toHaveLength(1);
  });

  it.each([
    [{ HOST: '0.0.0.0', RUSTCHAIN_NODE: 'https://node.example' }, 'a real node on any address'],
    [{ HOST: '0.0.0.0', LEDGER_SANDBOX_PUBLIC: '1' }, 'the sandbox exposed deliberately'],
    [{ HOST: 'localhost' }, 'the sandbox on loopback by name'],
    [{ HOST: '::1' }, 'the sandbox on IPv6 loopback'],
    [{ RUSTCHAIN_NODE: 'http://127.0.0.1:5590' }, 'plain http to a loopback node'],
    [{ RUSTCHAIN_NODE: 'http://10.0.0.7', RUSTCHAIN_ALLOW_INSECURE: '1' }, 'plain http allowed explicitly'],
    [{ LEDGER_SETTLEMENT_STUCK_MS: '60000' }, 'the stuck threshold at exactly a whole release'],
    [{ LEDGER_TRUST_PROXY: '1', LEDGER_TRUSTED_PROXIES: '10.0.0.5' }, 'the old flag beside the proxy list'],
    [{ LEDGER_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: 'esdb+discover://a:2113,b:2113?tls=false' }, 'an esdb+discover cluster string'],
  ] as [Record<string, string>, string][])('starts with %o (%s)', (env) => {
    expect(errorOf(env)).toBe('no error');
  });

  it('never echoes a secret value in its error', () => {
    expect(errorOf({ LEDGER_ADMIN_TOKEN: 'short-secret-token' })).not.toContain('short-secret');
    expect(errorOf({ LEDGER_SECRET_KEY: 'zz-super-secret-zz' })).not.toContain('super-secret');
  });
});
