import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { openStore } from '../src/main.js';
import { SqliteEventStore } from '../src/eventstore/sqlite.js';
import type { EventStore } from '../src/eventstore/types.js';
import { checkedStore, createDependencyHealth, prepareDataDir, runStartChecks } from '../src/startChecks.js';
import { refusalOf as refusal } from './support/configRefusal.js';
import { startHttpHarness } from './support/httpHarness.js';

const roots: string[] = [];
const scratch = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'otc-start-'));
  roots.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});


describe('the data dir at start', () => {
  it('creates a missing data dir 0700', () => {
    const dir = join(scratch(), 'nested', 'data');
    prepareDataDir({ dataDir: dir });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('tightens an earlier run\'s dir to 0700 and its database files to 0600; new files are 0600', () => {
    const dir = join(scratch(), 'data');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'events.db'), '', { mode: 0o644 });
    chmodSync(join(dir, 'events.db'), 0o644);
    prepareDataDir({ dataDir: dir });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'events.db')).mode & 0o777).toBe(0o600);
    const store = new SqliteEventStore({ path: join(dir, 'read-new.db') });
    expect(statSync(join(dir, 'read-new.db')).mode & 0o777).toBe(0o600);
    void store.close();
  });

  it('refuses a data dir that is a file, naming LEDGER_DATA_DIR', () => {
    const file = join(scratch(), 'a-file');
    writeFileSync(file, 'x');
    expect(refusal(() => prepareDataDir({ dataDir: file }))).toMatch(/^invalid configuration: LEDGER_DATA_DIR .* is not a directory$/);
  });

  it('refuses a data dir that cannot be created (its parent is a file)', () => {
    const file = join(scratch(), 'a-file');
    writeFileSync(file, 'x');
    expect(refusal(() => prepareDataDir({ dataDir: join(file, 'data') }))).toMatch(/^invalid configuration: LEDGER_DATA_DIR .* cannot be created \(ENOTDIR\)$/);
  });

  it.each(['/proc/self', '/proc/otc-ledger-data', '/sys/kernel/otc'])('refuses a data dir under a pseudo file system: %s', (dir) => {
    expect(refusal(() => prepareDataDir({ dataDir: dir }))).toMatch(/^invalid configuration: LEDGER_DATA_DIR .* cannot hold a ledger's files$/);
  });

  it('refuses a data dir holding a secret.key readable by others, before tightening anything', () => {
    const dir = join(scratch(), 'data');
    mkdirSync(dir);
    writeFileSync(join(dir, 'secret.key'), `${'ab'.repeat(32)}\n`);
    chmodSync(join(dir, 'secret.key'), 0o644);
    expect(refusal(() => prepareDataDir({ dataDir: dir }))).toContain(`run chmod 600 ${join(dir, 'secret.key')}`);
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o644);
  });
});

describe('the socket inactivity timeout at start', () => {
  const http = { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, maxRequestsPerSocket: 1_000 };

  it('refuses one shorter than an order\'s lease, which an inline settlement may keep a request silent for', () => {
    const dataDir = scratch();
    expect(refusal(() => runStartChecks({ dataDir, nodeTimeoutMs: 30_000, http: { ...http, connectionTimeoutMs: 300_000 } }))).toBe(
      'invalid configuration: LEDGER_HTTP_CONNECTION_TIMEOUT_MS must be at least 480000 (an order\'s lease at LEDGER_NODE_TIMEOUT_MS), or answers to inline settlements would be cut off',
    );
  });

  it('accepts the defaults, and one exactly at the lease', () => {
    expect(refusal(() => runStartChecks({ dataDir: scratch(), nodeTimeoutMs: 15_000, http: { ...http, connectionTimeoutMs: 300_000 } }))).toBe('no error');
    expect(refusal(() => runStartChecks({ dataDir: scratch(), nodeTimeoutMs: 30_000, http: { ...http, connectionTimeoutMs: 480_000 } }))).toBe('no error');
  });
});

describe('the event store at start', () => {
  const config = { store: 'esdb' as const, startTimeoutMs: 200 };

  it('refuses a store that does not answer within LEDGER_START_TIMEOUT_MS, and closes it', async () => {
    let closed = false;
    const silent = { headPosition: () => new Promise<bigint>(() => undefined), close: async () => void (closed = true) } as unknown as EventStore;
    await expect(checkedStore(config, async () => silent)).rejects.toThrow('invalid configuration: EVENTSTORE_CONNECTION_STRING: the event store did not answer within 200 ms (LEDGER_START_TIMEOUT_MS)');
    expect(closed).toBe(true);
  });

  it('refuses a store that cannot be opened, in one line without credentials', async () => {
    const open = async (): Promise<EventStore> => {
      throw new Error('bad connection string esdb://admin:changeit@host:2113\nstack line');
    };
    const error = (await checkedStore(config, open).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('invalid configuration: EVENTSTORE_CONNECTION_STRING: the event store cannot be opened (bad connection string esdb://host:2113)');
  });

  it('refuses a connection string the EventStoreDB client cannot parse, through the real openStore', async () => {
    const env = { LEDGER_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:abc?tls=false', LEDGER_START_TIMEOUT_MS: '500' };
    const parsed = loadConfig(env);
    await expect(checkedStore(parsed, () => openStore(parsed))).rejects.toThrow(
      /^invalid configuration: EVENTSTORE_CONNECTION_STRING: the event store cannot be opened \(.*expected port number\.\)$/,
    );
  });

  it('passes a store that answers', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    expect(await checkedStore({ store: 'sqlite', startTimeoutMs: 1_000 }, async () => store)).toBe(store);
    await store.close();
  });
});

describe('/ready and dependencies known to be unusable', () => {
  it('is 503 not_ready naming the dependency while one is reported, and 200 once it is cleared', async () => {
    const health = createDependencyHealth();
    const h = await startHttpHarness({ dependencyProblem: health.problem });
    try {
      expect((await h.get('/ready')).statusCode).toBe(200);
      health.report('RUSTCHAIN_NODE', 'refused POST /wallet/transfer/signed: plain http to a non-loopback node');
      const res = await h.get('/ready');
      expect(res.statusCode).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: 'not_ready' });
      health.clear('RUSTCHAIN_NODE');
      expect((await h.get('/ready')).statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });
});
