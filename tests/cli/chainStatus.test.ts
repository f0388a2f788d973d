import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFollowerStore } from '../../src/chain/followerStore.js';
import { runChainStatus, type ChainStatusRow } from '../../src/cli/chainCommand.js';
import { loadQuoteChainConfig } from '../../src/config.js';
import type { RunningLedger } from '../../src/main.js';
import { parentEnvWithoutSettings } from '../e2e/builtCli.js';
import { baseEnv, startFromEnv, tempDir, until, useSandboxLedger } from '../e2e/support.js';

/**
 * `otc-ledger chain status --url <ledger>` with LEDGER_ADMIN_TOKEN asks the running ledger's
 * follower (GET /admin/chain, real HTTP on loopback) instead of reading a data dir, and prints the
 * same rows in the same format; a refusal or a silent ledger is a problem, exit 1. The ledger runs
 * in sandbox mode with its own anvil.
 */

const ADMIN_TOKEN = 'cli-chain-status-admin-token-0123456789abcdef';
const sandbox = useSandboxLedger('cli-chain-status', { LEDGER_ADMIN_TOKEN: ADMIN_TOKEN });
const ROOT = join(import.meta.dirname, '..', '..');
const nowhere = tempDir('cli-chain-status-nowhere');
afterAll(() => nowhere.remove());

interface Run { readonly code: number; readonly text: string }

async function status(args: { askLedger?: { adminToken: string }; dataDir?: string; ledgerUrl?: string; json?: boolean }): Promise<Run> {
  let text = '';
  const code = await runChainStatus({
    dataDir: args.dataDir ?? sandbox.dataDir, quoteChain: loadQuoteChainConfig({ LEDGER_QUOTE_CHAIN: 'sandbox' }), ledgerUrl: args.ledgerUrl ?? sandbox.ledger.url,
    json: args.json ?? true, ...(args.askLedger ? { askLedger: args.askLedger } : {}),
  }, { write: (t: string) => (text += t) });
  return { code, text };
}
const doc = (run: Run) => JSON.parse(run.text) as { mode: string; problem?: string; chains: ChainStatusRow[] };
const asLedger = (rows: readonly ChainStatusRow[]) => rows.map((r) => ({ ...r, source: 'ledger' }));
const fromLedger = (json = true) => status({ askLedger: { adminToken: ADMIN_TOKEN }, dataDir: nowhere.path, json });

/** The follower at the chain's head, so both views read a chain standing still. */
async function settled(): Promise<void> {
  await sandbox.chain.mine(2);
  const head = (await sandbox.chain.latestBlock()).number.toString();
  await until(async () => doc(await status({})).chains[0]?.checkpoint?.number === head, 'the follower at the head', 20_000);
}

describe('chain status --url with an admin token', () => {
  it('prints what the running follower says, the same rows as the data dir gives, without reading a data dir', async () => {
    await settled();
    const fromDir = await status({});
    const asked = await fromLedger();
    expect(asked.code).toBe(0);
    expect(doc(asked)).toEqual({ mode: 'sandbox', chains: asLedger(doc(fromDir).chains) });
    expect(doc(asked).chains[0]).toMatchObject({ chain_id: sandbox.chain.chainId, source: 'ledger', reachable: true, finalized_from: 'chain', lag_blocks: '0', last_reorg: null });
    // The text format too: line for line, but the source.
    const text = (await fromLedger(false)).text;
    expect(text).toBe((await status({ json: false })).text.replace('(sandbox)', '(ledger)'));
    expect(text).toMatch(/^chain \d+ \(ledger\)\n {2}head {8}\d+\n/);
  }, 60_000);

  it('shows the last reorganisation the follower recorded, with both hashes, as the data dir does', async () => {
    const db = new Database(join(sandbox.dataDir, 'quote-chain.db'));
    createFollowerStore(db).recordReorg(sandbox.chain.chainId, { blockNumber: 7n, checkpointHash: `0x${'11'.repeat(32)}`, chainHash: null, detectedAtMs: Date.UTC(2026, 0, 2) });
    db.close();
    await settled();
    const asked = doc(await fromLedger()).chains[0];
    expect(asked?.last_reorg).toEqual({ block: '7', checkpoint_hash: `0x${'11'.repeat(32)}`, chain_hash: null, detected_at: '2026-01-02T00:00:00.000Z' });
    expect(asked).toEqual(asLedger(doc(await status({})).chains)[0]);
  }, 60_000);

  it('exits 1 naming the refusal on a wrong token, and on a ledger that does not answer, never printing the token', async () => {
    const refused = await status({ askLedger: { adminToken: `${ADMIN_TOKEN}x` }, json: false });
    expect(refused.code).toBe(1);
    expect(refused.text).toBe(`the ledger at ${sandbox.ledger.url} answered 401 unauthorized to GET /admin/chain\n`);
    expect(refused.text).not.toContain(ADMIN_TOKEN);
    const silent = await status({ askLedger: { adminToken: ADMIN_TOKEN }, ledgerUrl: 'http://127.0.0.1:9' });
    expect(silent.code).toBe(1);
    expect(doc(silent)).toEqual({ mode: 'unknown', problem: 'the ledger at http://127.0.0.1:9 did not answer to GET /admin/chain', chains: [] });
  });
});

describe('a ledger in manual mode, asked', () => {
  const dir = tempDir('cli-chain-status-manual');
  let manual: RunningLedger;
  beforeAll(async () => {
    manual = await startFromEnv(baseEnv(dir.path, { LEDGER_ADMIN_TOKEN: ADMIN_TOKEN }));
  });
  afterAll(async () => {
    await manual?.close();
    dir.remove();
  });

  it('says it follows no chain, exit 0', async () => {
    expect(await status({ askLedger: { adminToken: ADMIN_TOKEN }, ledgerUrl: manual.url, json: false })).toEqual({ code: 0, text: 'LEDGER_QUOTE_CHAIN=manual: no quote chain is followed\n' });
    expect(doc(await status({ askLedger: { adminToken: ADMIN_TOKEN }, ledgerUrl: manual.url }))).toEqual({ mode: 'manual', chains: [] });
  });
});

/** `otc-ledger chain status --json ...` from the sources in a child process, with this environment. */
function cli(args: readonly string[], env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'cli.ts'), 'chain', 'status', '--json', ...args], {
    cwd: ROOT, env: { ...parentEnvWithoutSettings(), LOG_LEVEL: 'silent', LEDGER_QUOTE_CHAIN: 'sandbox', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer);
    resolve({ code: code ?? -1, text });
  }));
}

describe('the CLI command', () => {
  it('asks the ledger when --url and LEDGER_ADMIN_TOKEN are given, and reads the data dir otherwise', async () => {
    await settled();
    const asked = await cli(['--url', sandbox.ledger.url], { LEDGER_DATA_DIR: nowhere.path, LEDGER_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(asked.code, asked.text).toBe(0);
    expect(doc(asked).chains.map((r) => r.source)).toEqual(['ledger']);
    // No token: the data dir (here empty) and the sandbox chain the ledger announces, as before.
    const dataDir = await cli(['--url', sandbox.ledger.url], { LEDGER_DATA_DIR: nowhere.path });
    expect(dataDir.code, dataDir.text).toBe(0);
    expect(doc(dataDir).chains).toEqual([expect.objectContaining({ source: 'sandbox', checkpoint: null })]);
  }, 60_000);
});
