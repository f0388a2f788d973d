import { existsSync } from 'node:fs';
import { verifyLedger, type VerifyPhase } from '../audit/verify.js';
import type { EventStore } from '../eventstore/types.js';
import { openReadDb } from '../projections/registry.js';
import { progressReporter, type Output, type ProgressReporter } from './progress.js';
import { Registry } from 'prom-client';
import type { Address } from 'viem';
import type { QuoteChainAudit } from '../audit/quoteChainAudit.js';
import type { QuoteChainConfig } from '../config.js';
import type { Finality } from '../gateways/quoteChain.js';
import { createEvmQuoteChain } from '../gateways/quoteChainEvm.js';

export interface VerifyArgs {
  readonly store: EventStore;
  /** The read DB file; opened read-only, so a running server is undisturbed. Null: log only. */
  readonly readDbPath: string | null;
  /** One JSON document on stdout (no progress lines): `{ok, streams, events, read_models, findings}`. */
  readonly json?: boolean;
  /** The quote chain every observation is checked against (chain mode); null or absent: not checked. */
  readonly quoteChain?: QuoteChainAudit | null;
}

/**
 * The quote chain verify reads: the configured one in evm mode; in sandbox mode the chain of the
 * running ledger named by `ledgerUrl` (its anvil lives only as long as it does, so a sandbox data dir
 * is checked only against the ledger that wrote it, when asked); none in manual mode.
 */
export async function quoteChainAuditFor(qc: QuoteChainConfig, ledgerUrl: string | null): Promise<QuoteChainAudit | null> {
  const audit = (rpcUrl: string, chainId: number, htlcAddress: string, finality: Finality): QuoteChainAudit => ({
    chainId, chain: createEvmQuoteChain({ rpcUrl, htlcAddress: htlcAddress as Address, finality, registry: new Registry(), timeoutMs: 10_000, retries: 2 }),
  });
  if (qc.mode === 'evm' && qc.evm !== null) return audit(qc.evm.rpcUrl, qc.evm.chainId, qc.evm.htlcContract, qc.evm.finality);
  if (qc.mode !== 'sandbox' || ledgerUrl === null) return null;
  const response = await fetch(`${ledgerUrl}/__sandbox/chain`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`the ledger at ${ledgerUrl} announces no sandbox chain (HTTP ${response.status})`);
  const info = (await response.json()) as { rpc_url: string; chain_id: number; htlc_contract: string };
  return audit(info.rpc_url, info.chain_id, info.htlc_contract, qc.sandboxFinality);
}

/** `otc-ledger verify [--json]`: prints every finding; exit 1 on any, 0 on a clean ledger. */
export async function runVerify(args: VerifyArgs, out: Output): Promise<number> {
  const readDb = args.readDbPath !== null && existsSync(args.readDbPath) ? openReadDb(args.readDbPath, { readonly: true }) : null;
  const json = args.json === true;
  if (!json && args.readDbPath !== null && readDb === null) out.write(`read DB ${args.readDbPath} not found: checking the event log only\n`);
  const bars = new Map<VerifyPhase, ProgressReporter>();
  try {
    const report = await verifyLedger({
      store: args.store,
      readDb,
      quoteChain: args.quoteChain ?? null,
      onProgress: json ? undefined : (phase, done, total) => {
        let bar = bars.get(phase);
        if (bar === undefined) {
          for (const other of bars.values()) other.stop();
          bar = progressReporter(out, phase === 'streams' ? 'streams' : 'read models');
          bars.set(phase, bar);
        }
        bar.update(done, total);
      },
    });
    for (const bar of bars.values()) bar.stop();
    if (json) {
      const document = {
        ok: report.findings.length === 0, streams: report.streams, events: report.events, read_models: readDb !== null,
        quote_chain: args.quoteChain?.chainId ?? null, findings: report.findings,
      };
      out.write(`${JSON.stringify(document, null, 2)}\n`);
      return report.findings.length === 0 ? 0 : 1;
    }
    for (const f of report.findings) out.write(`FINDING ${f.kind}${f.stream ? ` ${f.stream}` : ''}${f.version !== undefined ? ` v${f.version}` : ''}: ${f.message}\n`);
    const verdict = report.findings.length === 0 ? 'OK' : `${report.findings.length} finding(s)`;
    const chain = args.quoteChain ? `, the quote-chain observations against chain ${args.quoteChain.chainId}` : '';
    out.write(`verified ${report.streams} order streams, ${report.events} events${readDb === null ? '' : ' and the read models'}${chain}: ${verdict}\n`);
    return report.findings.length === 0 ? 0 : 1;
  } finally {
    readDb?.close();
  }
}
