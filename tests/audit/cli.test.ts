import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runProjectionsRebuild, runProjectionsStatus } from '../../src/cli/projectionsCommand.js';
import { runReplay } from '../../src/cli/replayCommand.js';
import { runVerify } from '../../src/cli/verifyCommand.js';
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
  return { store, storePath, readDbPath };
}

describe('CLI pieces', () => {
  it('replay prints a timeline with status after each event and the chain check', async () => {
    const { store } = await setup();
    const c = collector();
    expect(await runReplay({ store, orderId: 'otc_0000000000000001', json: false }, c.out)).toBe(0);
    const lines = c.text().split('\n');
    expect(lines[0]).toBe('order otc_0000000000000001, 7 events');
    expect(lines[1]).toMatch(/^v1 +2026-03-01T10:00:01\.000Z +OrderPlaced +RTCa{40} +→ escrow_pending +side=sell pair=RTC\/USDC/);
    expect(lines[7]).toMatch(/PayoutConfirmed .*→ completed .*tx_hash=tx-otc_0000000000000001/);
    expect(c.text()).toContain('hash chain: valid');
    expect(c.text()).not.toContain('enc:v1');
    const at = collector();
    expect(await runReplay({ store, orderId: 'otc_0000000000000001', at: 3n, json: true }, at.out)).toBe(0);
    expect(JSON.parse(at.text())).toMatchObject({ ok: true, order: { status: 'matched', version: 3 } });
    const missing = collector();
    expect(await runReplay({ store, orderId: 'otc_00000000000000ff', json: false }, missing.out)).toBe(1);
    expect(await runReplay({ store, orderId: 'otc_0000000000000001', at: 99n, json: false }, collector().out)).toBe(1);
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
