import { existsSync } from 'node:fs';
import { verifyLedger, type VerifyPhase } from '../audit/verify.js';
import type { EventStore } from '../eventstore/types.js';
import { openReadDb } from '../projections/registry.js';
import { progressReporter, type Output, type ProgressReporter } from './progress.js';

export interface VerifyArgs {
  readonly store: EventStore;
  /** The read DB file; opened read-only, so a running server is undisturbed. Null: log only. */
  readonly readDbPath: string | null;
  /** One JSON document on stdout (no progress lines): `{ok, streams, events, read_models, findings}`. */
  readonly json?: boolean;
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
      const document = { ok: report.findings.length === 0, streams: report.streams, events: report.events, read_models: readDb !== null, findings: report.findings };
      out.write(`${JSON.stringify(document, null, 2)}\n`);
      return report.findings.length === 0 ? 0 : 1;
    }
    for (const f of report.findings) out.write(`FINDING ${f.kind}${f.stream ? ` ${f.stream}` : ''}${f.version !== undefined ? ` v${f.version}` : ''}: ${f.message}\n`);
    const verdict = report.findings.length === 0 ? 'OK' : `${report.findings.length} finding(s)`;
    out.write(`verified ${report.streams} order streams, ${report.events} events${readDb === null ? '' : ' and the read models'}: ${verdict}\n`);
    return report.findings.length === 0 ? 0 : 1;
  } finally {
    readDb?.close();
  }
}
