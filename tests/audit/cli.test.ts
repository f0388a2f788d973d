import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runProjectionsRebuild, runProjectionsStatus } from '../../src/cli/projectionsCommand.js';
import { CommanderError } from 'commander';
import { buildCli } from '../../src/cli/index.js';
import { runReconcileOnce } from '../../src/cli/reconcileCommand.js';
import { runReplay } from '../../src/cli/replayCommand.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer } from '../../src/sandbox/index.js';
import { colourFor } from '../../src/cli/table.js';
import { runVerify } from '../../src/cli/verifyCommand.js';
import { loadConfig } from '../../src/config.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { buildMixedLedger, TestLedger } from '../projections/support/ledger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function collector() {
  let text = '';
  return { out: { write: (s: string) => (text += s), isTTY: false }, text: () => text };
}

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'otc-cli-'));
  dirs.push(dir);
  const storePath = join(dir, 'events.db');
  const readDbPath = join(dir, 'read.db');
  const store = new SqliteEventStore({ path: storePath });
  await buildMixedLedger(new TestLedger(store), 1);
  const runner = new ProjectionRunner({ store, db: readDbPath });
  await runner.catchUp();
  await runner.close();
  return { store, storePath, readDbPath, dir };
}

describe('CLI pieces', () => {
  it('replay prints a table with headers and amounts in RTC, and the chain check', async () => {
    const { store } = await setup();
    const c = collector();
    expect(await runReplay({ store, orderId: 'otc_0000000000000001', json: false }, c.out)).toBe(0);
    const lines = c.text().split('\n');
    expect(lines[0]).toBe('order otc_0000000000000001: sell 100.000000 RTC at 0.110000000 USDC/RTC (RTC/USDC), 7 events, now completed');
    expect(lines[1]).toMatch(/^v +recorded at +event +actor +status after +details$/);
    expect(lines[2]).toMatch(/^-+ +-+ +-+/);
    expect(lines[3]).toMatch(/^1 +2026-03-01T10:00:01\.000Z +OrderPlaced +RTCa{40} +escrow_pending +side=sell pair=RTC\/USDC amount=100\.000000 RTC price=0\.110000000 USDC\/RTC/);
    expect(lines[9]).toMatch(/PayoutConfirmed .* completed .*tx_hash=tx-otc_0000000000000001/);
    expect(c.text()).toContain('hash chain: valid');
    expect(c.text()).not.toContain('enc:v1');
    // Not a terminal: no escape codes at all.
    expect(c.text()).not.toContain('\u001b[');
    const at = collector();
    expect(await runReplay({ store, orderId: 'otc_0000000000000001', at: 3n, json: true }, at.out)).toBe(0);
    expect(JSON.parse(at.text())).toMatchObject({ ok: true, order: { status: 'matched', version: 3 } });
    const missing = collector();
    expect(await runReplay({ store, orderId: 'otc_00000000000000ff', json: false }, missing.out)).toBe(1);
    expect(await runReplay({ store, orderId: 'otc_0000000000000001', at: 99n, json: false }, collector().out)).toBe(1);
  });

  it('replay colours only when asked (a terminal without NO_COLOR), and never in --json', async () => {
    const { store } = await setup();
    const coloured = collector();
    expect(await runReplay({ store, orderId: 'otc_0000000000000001', json: false, colour: true }, coloured.out)).toBe(0);
    expect(coloured.text()).toContain('\u001b[32mcompleted');
    // Escapes are added after padding: the columns line up exactly as in the plain table.
    const plain = collector();
    await runReplay({ store, orderId: 'otc_0000000000000001', json: false }, plain.out);
    expect(coloured.text().replace(/\u001b\[\d+m/g, '')).toBe(plain.text());
    const json = collector();
    await runReplay({ store, orderId: 'otc_0000000000000001', json: true, colour: true }, json.out);
    expect(json.text()).not.toContain('\u001b[');
    expect(colourFor({ write: () => true, isTTY: true }, false)).toBe(true);
    expect(colourFor({ write: () => true, isTTY: true }, true)).toBe(false);
    expect(colourFor({ write: () => true, isTTY: false }, false)).toBe(false);
    expect(colourFor({ write: () => true }, false)).toBe(false);
    expect(loadConfig({ NO_COLOR: '1' }).noColor).toBe(true);
    expect(loadConfig({ NO_COLOR: '' }).noColor).toBe(false);
    expect(loadConfig({}).noColor).toBe(false);
  });

  it('replay --json carries each event\'s ids, correlation, causation and hash links', async () => {
    const { store } = await setup();
    const c = collector();
    expect(await runReplay({ store, orderId: 'otc_0000000000000001', json: true }, c.out)).toBe(0);
    const history = JSON.parse(c.text()) as { chain_valid: boolean; events: Record<string, unknown>[] };
    expect(history.chain_valid).toBe(true);
    const recorded = await store.readStream('order-otc_0000000000000001');
    expect(history.events).toHaveLength(recorded.length);
    history.events.forEach((e, i) => {
      const r = recorded[i]!;
      expect(e).toMatchObject({ event_id: r.eventId, correlation_id: r.metadata.correlation_id, causation_id: r.metadata.causation_id, prev_hash: r.metadata.prev_hash, hash: r.metadata.hash });
      expect(e['hash']).toMatch(/^[0-9a-f]{64}$/);
      if (i > 0) expect(e['prev_hash']).toBe(history.events[i - 1]!['hash']);
    });
    expect(history.events[0]!['prev_hash']).toBe('0'.repeat(64));
  });

  it('replay exits 2 when the hash chain is broken, in the table and in --json', async () => {
    const { store, storePath } = await setup();
    const raw = new Database(storePath);
    raw.prepare("UPDATE events SET type = 'OrderCancelled' WHERE stream = 'order-otc_0000000000000004' AND version = 1").run();
    raw.close();
    const table = collector();
    expect(await runReplay({ store, orderId: 'otc_0000000000000004', json: false }, table.out)).toBe(2);
    expect(table.text()).toContain('hash chain: BROKEN at version 1: hash does not match the event content');
    const json = collector();
    expect(await runReplay({ store, orderId: 'otc_0000000000000004', json: true }, json.out)).toBe(2);
    expect(JSON.parse(json.text())).toMatchObject({ ok: true, chain_valid: false, chain_problem: { version: 1 } });
    // Another order's chain is untouched.
    expect(await runReplay({ store, orderId: 'otc_0000000000000001', json: false }, collector().out)).toBe(0);
  });

  it('verify exits 0 on a clean ledger and 1 with the finding printed on a tampered one', async () => {
    const { store, storePath, readDbPath } = await setup();
    const clean = collector();
    expect(await runVerify({ store, readDbPath }, clean.out)).toBe(0);
    expect(clean.text()).toContain('verified 7 order streams, 24 events and the read models: OK');
    expect(clean.text()).toContain('streams: 7/7');
    const raw = new Database(storePath);
    raw.prepare("UPDATE events SET type = 'OrderCancelled' WHERE stream = 'order-otc_0000000000000004' AND version = 1").run();
    raw.close();
    const dirty = collector();
    expect(await runVerify({ store, readDbPath }, dirty.out)).toBe(1);
    expect(dirty.text()).toContain('FINDING hash_chain_broken order-otc_0000000000000004 v1: order-otc_0000000000000004 v1: hash does not match the event content');
  });

  it('verify --json prints one JSON document, findings included, and no progress lines', async () => {
    const { store, storePath, readDbPath } = await setup();
    const clean = collector();
    expect(await runVerify({ store, readDbPath, json: true }, clean.out)).toBe(0);
    expect(JSON.parse(clean.text())).toEqual({ ok: true, streams: 7, events: 24, read_models: true, quote_chain: null, findings: [] });
    const raw = new Database(storePath);
    raw.prepare("UPDATE events SET type = 'OrderCancelled' WHERE stream = 'order-otc_0000000000000004' AND version = 1").run();
    raw.close();
    const dirty = collector();
    expect(await runVerify({ store, readDbPath, json: true }, dirty.out)).toBe(1);
    const report = JSON.parse(dirty.text()) as { ok: boolean; findings: { kind: string; stream?: string; version?: number }[] };
    expect(report.ok).toBe(false);
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'hash_chain_broken', stream: 'order-otc_0000000000000004', version: 1 }));
    const logOnly = collector();
    expect(await runVerify({ store, readDbPath: join(tmpdir(), 'otc-no-such-read.db'), json: true }, logOnly.out)).toBe(1);
    expect(JSON.parse(logOnly.text())).toMatchObject({ read_models: false });
  });

  it('reconcile prints what it examined and a table of outcomes; --json gives the same as data', async () => {
    const { store, dir } = await setup();
    const sandbox = await startSandboxServer({ node: new SandboxNode({ autoConfirm: 'immediate' }) });
    try {
      const config = loadConfig({ LEDGER_DATA_DIR: dir, RUSTCHAIN_NODE: sandbox.url, RC_ADMIN_KEY: DEFAULT_SANDBOX_ADMIN_KEY, LEDGER_NODE_TIMEOUT_MS: '2000' });
      const text = collector();
      expect(await runReconcileOnce(config, text.out)).toBe(0);
      const lines = text.text().split('\n');
      expect(lines[0]).toBe(`reconciler pass against ${new URL(sandbox.url).toString()}, store sqlite`);
      expect(lines[1]).toMatch(/^examined 7 orders \(every order stream: 7 scanned\); \d+ open and matched orders' escrow jobs looked up$/);
      expect(text.text()).toMatch(/orders +outcome +meaning/);
      // The fixture's open orders are long past expires_at by the real clock: the pass expires them.
      expect(text.text()).toMatch(/\n[1-9]\d* +expired +past expires_at or settle_by; expired\n/);
      expect(text.text()).not.toContain('\u001b[');
      const json = collector();
      expect(await runReconcileOnce(config, json.out, { json: true })).toBe(0);
      // The second pass finds the expiries done: nothing more to expire, the same streams examined.
      expect(JSON.parse(json.text())).toMatchObject({ ok: true, summary: { examined: 7, expired: 0 }, examined: { order_streams: 7, read_models: true } });
    } finally {
      await sandbox.close();
      await store.close();
    }
  });

  it('--version prints the package version', async () => {
    const program = buildCli(() => loadConfig({})).exitOverride();
    let printed = '';
    program.configureOutput({ writeOut: (s) => (printed += s), writeErr: () => undefined });
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    await expect(program.parseAsync(['node', 'otc-ledger', '--version'])).rejects.toBeInstanceOf(CommanderError);
    expect(printed.trim()).toBe(version);
  });

  it('projections status shows checkpoints and lag; rebuild switches each read model', async () => {
    const { store, readDbPath } = await setup();
    const head = await store.headPosition();
    const status = collector();
    expect(await runProjectionsStatus({ store, readDbPath }, status.out)).toBe(0);
    expect(status.text()).toMatch(new RegExp(`orders +${head} +0  idle`));
    const rebuild = collector();
    expect(await runProjectionsRebuild({ store, readDbPath, name: 'trades' }, rebuild.out)).toBe(0);
    expect(rebuild.text()).toMatch(new RegExp(`trades: switched to copy r[a-z0-9_]+ at position ${head}`));
    expect(rebuild.text()).toContain(`rebuild trades: ${head}/${head}`);
    expect(await runProjectionsRebuild({ store, readDbPath, name: 'nope' }, collector().out)).toBe(1);
    expect(await runVerify({ store, readDbPath }, collector().out)).toBe(0);
  });
});
