/**
 * `otc-ledger chain status [--json]`: per quote chain, the head and finalized block, the follower's
 * checkpoint (number and hash), its lag in blocks (finalized minus checkpoint: what it has still to
 * read) and the last reorganisation it detected. The follower's state comes from the data dir
 * (`quote-chain.db`, opened read-only); the live chain from the configured RPC (`evm` mode), from
 * `--rpc-url`, or, in `sandbox` mode, from the running ledger, which says where its chain is at
 * `GET /__sandbox/chain`. Without a reachable chain the last finalized block the follower read stands
 * in for it (marked as such). Exit 1 when the configured chain cannot be read.
 *
 * With `--url` and LEDGER_ADMIN_TOKEN the running ledger is asked instead (`GET /admin/chain`, its
 * follower as it runs now), and the data dir is not read: the operator names the ledger they mean,
 * which may run elsewhere. The rows print in the same format, with source `ledger`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { zeroAddress, type Address, type Hash } from 'viem';
import type { Checkpoint, ReorgRecord } from '../chain/followerStore.js';
import type { QuoteChainConfig } from '../config.js';
import type { Finality } from '../gateways/quoteChain.js';
import { createEvmQuoteChain } from '../gateways/quoteChainEvm.js';
import { AdminClient, LedgerClient, type ChainStatus } from '../client/index.js';
import type { Output } from './progress.js';

export interface ChainStatusArgs {
  readonly dataDir: string;
  readonly quoteChain: QuoteChainConfig;
  /** The running ledger, asked for its sandbox chain in sandbox mode. */
  readonly ledgerUrl: string;
  readonly rpcUrl?: string;
  readonly json?: boolean;
  /** Ask the ledger at `ledgerUrl` (GET /admin/chain with this token) instead of reading the data dir: `--url` with LEDGER_ADMIN_TOKEN. */
  readonly askLedger?: { readonly adminToken: string };
}

interface LiveChain {
  readonly chainId: number | null;
  readonly rpcUrl: string;
  readonly htlcAddress: Address;
  readonly finality: Finality;
  readonly source: 'evm' | 'sandbox' | 'rpc_url';
}

export interface ChainStatusRow {
  readonly chain_id: number;
  readonly source: string;
  readonly reachable: boolean;
  readonly head: string | null;
  readonly finalized: string | null;
  /** "chain" when read just now, "follower" when it is the last finalized block the follower read. */
  readonly finalized_from: 'chain' | 'follower' | null;
  readonly checkpoint: { readonly number: string; readonly hash: string } | null;
  readonly lag_blocks: string | null;
  readonly last_reorg: { readonly block: string; readonly checkpoint_hash: string; readonly chain_hash: string | null; readonly detected_at: string } | null;
  readonly error?: string;
}

export async function runChainStatus(args: ChainStatusArgs, out: Output): Promise<number> {
  if (args.askLedger !== undefined) return printStatus(await statusFromLedger(args.ledgerUrl, args.askLedger.adminToken), args, out);
  if (args.quoteChain.mode === 'manual' && args.rpcUrl === undefined) return printStatus({ mode: 'manual', problem: null, rows: [] }, args, out);
  const { live, problem } = await liveChainFor(args);
  const rows = await statusRows(args.dataDir, live);
  return printStatus({ mode: args.quoteChain.mode, problem, rows, whenEmpty: `no quote chain followed yet in ${args.dataDir}` }, args, out);
}

interface StatusReport {
  readonly mode: string;
  readonly problem: string | null;
  readonly rows: readonly ChainStatusRow[];
  /** The line printed when there is no row (none when the problem or the mode already says why). */
  readonly whenEmpty?: string;
}

function printStatus({ mode, problem, rows, whenEmpty }: StatusReport, args: ChainStatusArgs, out: Output): number {
  const failed = problem !== null || rows.some((r) => r.source !== 'data_dir' && !r.reachable);
  if (args.json) {
    out.write(`${JSON.stringify({ mode, ...(problem ? { problem } : {}), chains: rows }, null, 2)}\n`);
    return failed ? 1 : 0;
  }
  if (mode === 'manual' && rows.length === 0) out.write('LEDGER_QUOTE_CHAIN=manual: no quote chain is followed\n');
  if (problem !== null) out.write(`${problem}\n`);
  if (rows.length === 0 && whenEmpty !== undefined) out.write(`${whenEmpty}\n`);
  for (const r of rows) out.write(describeRow(r));
  return failed ? 1 : 0;
}

/** GET /admin/chain of the running ledger, as the rows the data dir would give; its refusal or silence is the problem. */
async function statusFromLedger(ledgerUrl: string, adminToken: string): Promise<StatusReport> {
  const admin = new AdminClient(new LedgerClient({ baseUrl: ledgerUrl, timeoutMs: 5_000 }), adminToken);
  const answer = await admin.chain();
  if (!answer.ok) {
    const why = answer.httpStatus === 0 ? 'did not answer' : `answered ${answer.httpStatus} ${answer.error}`;
    return { mode: 'unknown', problem: `the ledger at ${ledgerUrl} ${why} to GET /admin/chain`, rows: [] };
  }
  const chain = answer.chain;
  // Manual mode: the running ledger follows no chain.
  if (chain === null) return { mode: 'manual', problem: null, rows: [] };
  return { mode: chain.mode, problem: null, rows: [rowFromLedger(chain)] };
}

function rowFromLedger(c: ChainStatus): ChainStatusRow {
  const reorg = c.last_reorg;
  return {
    chain_id: c.chain_id,
    source: 'ledger',
    reachable: c.problem === null && c.head !== null,
    head: c.head?.number ?? null,
    finalized: c.finalized?.number ?? null,
    finalized_from: c.finalized === null ? null : 'chain',
    checkpoint: c.checkpoint,
    lag_blocks: c.lag_blocks === null ? null : String(Math.max(0, c.lag_blocks)),
    last_reorg: reorg === null ? null : { block: reorg.block_number, checkpoint_hash: reorg.checkpoint_hash, chain_hash: reorg.chain_hash, detected_at: reorg.detected_at },
    ...(c.problem === null ? {} : { error: c.problem }),
  };
}

function describeRow(r: ChainStatusRow): string {
  const lines = [
    `chain ${r.chain_id} (${r.source}${r.reachable ? '' : ', not reachable'})${r.error ? `: ${r.error}` : ''}`,
    `  head        ${r.head ?? '-'}`,
    `  finalized   ${r.finalized ?? '-'}${r.finalized_from === 'follower' ? ' (last read by the follower)' : ''}`,
    `  checkpoint  ${r.checkpoint ? `${r.checkpoint.number} ${r.checkpoint.hash}` : '- (nothing read yet)'}`,
    `  lag         ${r.lag_blocks === null ? '-' : `${r.lag_blocks} blocks`}`,
    `  last reorg  ${r.last_reorg ? `at block ${r.last_reorg.block}, ${r.last_reorg.detected_at} (checkpoint ${r.last_reorg.checkpoint_hash}, chain ${r.last_reorg.chain_hash ?? 'none'})` : 'none'}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The chain to read live: --rpc-url, the configured evm chain, or the running ledger's sandbox chain. */
async function liveChainFor(args: ChainStatusArgs): Promise<{ live: LiveChain | null; problem: string | null }> {
  const qc = args.quoteChain;
  if (args.rpcUrl !== undefined) {
    return { live: { chainId: null, rpcUrl: args.rpcUrl, htlcAddress: zeroAddress, finality: qc.evm?.finality ?? qc.sandboxFinality, source: 'rpc_url' }, problem: null };
  }
  if (qc.mode === 'evm' && qc.evm !== null) {
    return { live: { chainId: qc.evm.chainId, rpcUrl: qc.evm.rpcUrl, htlcAddress: qc.evm.htlcContract as Address, finality: qc.evm.finality, source: 'evm' }, problem: null };
  }
  try {
    const response = await fetch(`${args.ledgerUrl}/__sandbox/chain`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return { live: null, problem: `the ledger at ${args.ledgerUrl} announces no sandbox chain (HTTP ${response.status})` };
    const info = (await response.json()) as { rpc_url: string; chain_id: number; htlc_contract: Address };
    return { live: { chainId: info.chain_id, rpcUrl: info.rpc_url, htlcAddress: info.htlc_contract, finality: qc.sandboxFinality, source: 'sandbox' }, problem: null };
  } catch {
    // The sandbox chain lives only as long as its ledger: with none running, the data dir is all there is.
    return { live: null, problem: null };
  }
}

async function statusRows(dataDir: string, live: LiveChain | null): Promise<ChainStatusRow[]> {
  const path = join(dataDir, 'quote-chain.db');
  const db = existsSync(path) ? new Database(path, { readonly: true, fileMustExist: true }) : null;
  try {
    const store = db === null ? null : createReadOnlyStore(db);
    const reading = live === null ? null : await readLive(live);
    const ids = new Set<number>(store?.chainIds() ?? []);
    if (reading?.chainId !== undefined && reading.chainId !== null) ids.add(reading.chainId);
    return [...ids].sort((a, b) => a - b).map((chainId) => rowFor(chainId, store, reading !== null && reading.chainId === chainId ? reading : null, live));
  } finally {
    db?.close();
  }
}

interface LiveReading {
  readonly chainId: number | null;
  readonly head: bigint | null;
  readonly finalized: bigint | null;
  readonly error: string | null;
}

async function readLive(live: LiveChain): Promise<LiveReading> {
  const chain = createEvmQuoteChain({ rpcUrl: live.rpcUrl, htlcAddress: live.htlcAddress, finality: live.finality, registry: new Registry(), timeoutMs: 5_000, retries: 1 });
  const id = await chain.chainId();
  if (id.kind !== 'ok') return { chainId: live.chainId, head: null, finalized: null, error: `chain id: ${id.kind} ${id.reason}` };
  if (live.chainId !== null && id.value !== live.chainId) {
    return { chainId: live.chainId, head: null, finalized: null, error: `the RPC reports chain ${id.value}, not the configured ${live.chainId}` };
  }
  const [head, finalized] = [await chain.headBlock(), await chain.finalizedBlock()];
  const failure = head.kind !== 'ok' ? head : finalized.kind !== 'ok' ? finalized : null;
  return {
    chainId: id.value,
    head: head.kind === 'ok' ? head.value.number : null,
    finalized: finalized.kind === 'ok' ? finalized.value.number : null,
    error: failure === null ? null : `${failure.kind} ${failure.reason}`,
  };
}

function rowFor(chainId: number, store: ReadOnlyStore | null, reading: LiveReading | null, live: LiveChain | null): ChainStatusRow {
  const checkpoint = store?.follower.checkpoint(chainId) ?? null;
  const reorg = store?.follower.lastReorg(chainId) ?? null;
  const recorded = store?.follower.lastFinalized(chainId) ?? null;
  const finalized = reading?.finalized ?? recorded?.blockNumber ?? null;
  const lag = finalized !== null && checkpoint !== null ? (finalized > checkpoint.blockNumber ? finalized - checkpoint.blockNumber : 0n) : null;
  return {
    chain_id: chainId,
    source: reading !== null && live !== null ? live.source : 'data_dir',
    reachable: reading !== null && reading.error === null,
    head: reading?.head?.toString() ?? null,
    finalized: finalized?.toString() ?? null,
    finalized_from: reading?.finalized != null ? 'chain' : recorded !== null ? 'follower' : null,
    checkpoint: checkpoint === null ? null : { number: checkpoint.blockNumber.toString(), hash: checkpoint.blockHash },
    lag_blocks: lag?.toString() ?? null,
    last_reorg: reorg === null ? null : {
      block: reorg.blockNumber.toString(), checkpoint_hash: reorg.checkpointHash, chain_hash: reorg.chainHash, detected_at: new Date(reorg.detectedAtMs).toISOString(),
    },
    ...(reading?.error ? { error: reading.error } : {}),
  };
}

type ReadOnlyStore = ReturnType<typeof createReadOnlyStore>;

/**
 * The follower's tables (followerStore.ts) read-only, table by table: a data dir written by an older
 * ledger may lack the newer ones, and a read-only handle can create none.
 */
function createReadOnlyStore(db: Database.Database) {
  const has = (table: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
  const one = <T>(table: string, sql: string, chainId: number): T | null => (has(table) ? ((db.prepare(sql).get(chainId) as T | undefined) ?? null) : null);
  return {
    chainIds: (): number[] => (has('quote_chain_checkpoints')
      ? (db.prepare('SELECT chain_id FROM quote_chain_checkpoints').all() as { chain_id: number }[]).map((r) => r.chain_id) : []),
    follower: {
      checkpoint(chainId: number): Checkpoint | null {
        const row = one<{ block_number: number; block_hash: Hash }>('quote_chain_checkpoints', 'SELECT block_number, block_hash FROM quote_chain_checkpoints WHERE chain_id = ?', chainId);
        return row === null ? null : { blockNumber: BigInt(row.block_number), blockHash: row.block_hash };
      },
      lastReorg(chainId: number): ReorgRecord | null {
        const row = one<{ block_number: number; checkpoint_hash: Hash; chain_hash: Hash | null; detected_at_ms: number }>('quote_chain_reorgs',
          'SELECT block_number, checkpoint_hash, chain_hash, detected_at_ms FROM quote_chain_reorgs WHERE chain_id = ? ORDER BY rowid DESC LIMIT 1', chainId);
        return row === null ? null : { blockNumber: BigInt(row.block_number), checkpointHash: row.checkpoint_hash, chainHash: row.chain_hash, detectedAtMs: row.detected_at_ms };
      },
      lastFinalized(chainId: number): { blockNumber: bigint } | null {
        const row = one<{ block_number: number }>('quote_chain_finalized', 'SELECT block_number FROM quote_chain_finalized WHERE chain_id = ?', chainId);
        return row === null ? null : { blockNumber: BigInt(row.block_number) };
      },
    },
  };
}
