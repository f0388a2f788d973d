import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFollowerStore } from '../../src/chain/followerStore.js';
import { runChainStatus, type ChainStatusRow } from '../../src/cli/chainCommand.js';
import { loadQuoteChainConfig } from '../../src/config.js';
import { tempDir, until, useSandboxLedger } from './support.js';

/**
 * `otc-ledger chain status` and the follower in /metrics, against a ledger started in sandbox mode
 * (its own anvil, its follower running): the status reads the follower's checkpoint from the data dir
 * and the live head from the chain, which the ledger announces at GET /__sandbox/chain.
 */

const sandbox = useSandboxLedger('chain-status');

async function status(args: { env?: Record<string, string>; ledgerUrl?: string; rpcUrl?: string; dataDir?: string }) {
  let text = '';
  const code = await runChainStatus({
    dataDir: args.dataDir ?? sandbox.dataDir, quoteChain: loadQuoteChainConfig(args.env ?? {}), ledgerUrl: args.ledgerUrl ?? sandbox.ledger.url, rpcUrl: args.rpcUrl, json: true,
  }, { write: (t: string) => (text += t) });
  return { code, doc: JSON.parse(text) as { mode: string; problem?: string; chains: ChainStatusRow[] } };
}

const metricsText = async (): Promise<string> => (await fetch(`${sandbox.ledger.url}/metrics`)).text();

describe('otc-ledger chain status', () => {
  it('shows the head, the checkpoint (number and hash), the lag in blocks and no reorg, for the running sandbox chain', async () => {
    await sandbox.chain.mine(3);
    const head = await sandbox.chain.latestBlock();
    await until(async () => (await status({})).doc.chains[0]?.checkpoint?.number === head.number.toString(), 'the follower at the head', 20_000);
    const { code, doc } = await status({});
    expect(code).toBe(0);
    expect(doc.chains).toEqual([{
      chain_id: sandbox.chain.chainId, source: 'sandbox', reachable: true, head: head.number.toString(), finalized: head.number.toString(), finalized_from: 'chain',
      checkpoint: { number: head.number.toString(), hash: head.hash }, lag_blocks: '0', last_reorg: null,
    }]);
  }, 60_000);

  it('counts the blocks the follower has still to read as lag, and shows the last reorg the follower recorded', async () => {
    const db = new Database(join(sandbox.dataDir, 'quote-chain.db'));
    const cp = createFollowerStore(db).checkpoint(sandbox.chain.chainId)!;
    createFollowerStore(db).recordReorg(sandbox.chain.chainId, { blockNumber: 7n, checkpointHash: `0x${'11'.repeat(32)}`, chainHash: `0x${'22'.repeat(32)}`, detectedAtMs: Date.UTC(2026, 0, 2) });
    db.close();
    // Read through a bare RPC URL with a data dir whose checkpoint stays put: the chain moves on alone.
    const copy = tempDir('chain-status-copy');
    try {
      const frozen = new Database(join(copy.path, 'quote-chain.db'));
      const store = createFollowerStore(frozen);
      store.saveCheckpoint(sandbox.chain.chainId, cp, Date.now());
      frozen.close();
      await sandbox.chain.mine(5);
      const head = await sandbox.chain.latestBlock();
      const { code, doc } = await status({ dataDir: copy.path, rpcUrl: sandbox.chain.rpcUrl, env: { LEDGER_QUOTE_CHAIN: 'sandbox' } });
      expect(code).toBe(0);
      expect(doc.chains[0]).toMatchObject({ source: 'rpc_url', head: head.number.toString(), lag_blocks: String(head.number - cp.blockNumber), last_reorg: null });
    } finally {
      copy.remove();
    }
    const { doc } = await status({});
    expect(doc.chains[0]?.last_reorg).toEqual({ block: '7', checkpoint_hash: `0x${'11'.repeat(32)}`, chain_hash: `0x${'22'.repeat(32)}`, detected_at: '2026-01-02T00:00:00.000Z' });
  }, 60_000);

  it('exits 1 when the configured evm chain cannot be read, still showing what the data dir knows', async () => {
    const env = {
      LEDGER_QUOTE_CHAIN: 'evm', LEDGER_EVM_RPC_URL: 'http://127.0.0.1:9/', LEDGER_EVM_CHAIN_ID: String(sandbox.chain.chainId),
      LEDGER_HTLC_CONTRACT: sandbox.chain.htlcAddress, LEDGER_HTLC_CODE_HASH: sandbox.chain.htlcCodeHash,
    };
    const { code, doc } = await status({ env });
    expect(code).toBe(1);
    expect(doc.chains).toHaveLength(1);
    expect(doc.chains[0]).toMatchObject({ chain_id: sandbox.chain.chainId, source: 'evm', reachable: false, head: null, finalized_from: 'follower', checkpoint: { number: expect.any(String) } });
    expect(doc.chains[0]?.error).toMatch(/^chain id: /);
  }, 30_000);

  it('says so, exit 0, in manual mode and on a data dir no follower has written', async () => {
    expect(await status({ env: { LEDGER_QUOTE_CHAIN: 'manual' } })).toEqual({ code: 0, doc: { mode: 'manual', chains: [] } });
    const empty = tempDir('chain-status-empty');
    try {
      // No ledger answers there: the sandbox chain went with its sandbox.ledger, the data dir knows nothing.
      expect(await status({ dataDir: empty.path, ledgerUrl: 'http://127.0.0.1:9' })).toEqual({ code: 0, doc: { mode: 'sandbox', chains: [] } });
    } finally {
      empty.remove();
    }
  });
});

describe('the follower in /metrics', () => {
  it('exports the checkpoint and finalized block, the lag, passes and the alert counter of the running follower', async () => {
    const text = await metricsText();
    const id = `chain_id="${sandbox.chain.chainId}"`;
    expect(text).toMatch(new RegExp(`otc_ledger_quote_follower_block\\{${id},which="checkpoint"\\} \\d+`));
    expect(text).toMatch(new RegExp(`otc_ledger_quote_follower_block\\{${id},which="finalized"\\} \\d+`));
    expect(text).toMatch(new RegExp(`otc_ledger_quote_follower_lag_blocks\\{${id}\\} \\d+`));
    expect(text).toMatch(new RegExp(`otc_ledger_quote_follower_passes_total\\{${id},outcome="(advanced|caught_up)"\\} \\d+`));
    expect(text).toContain('# TYPE otc_ledger_quote_follower_alerts_total counter');
  });
});
