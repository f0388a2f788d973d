import { existsSync } from 'node:fs';
import type { EventStore } from '../eventstore/types.js';
import { ALL_PROJECTIONS, projectionByName } from '../projections/all.js';
import { rebuildProjections } from '../projections/rebuild.js';
import { RebuildBusy } from '../projections/rebuildLease.js';
import { openReadDb } from '../projections/registry.js';
import { projectionStatus } from '../projections/runner.js';
import type { Projection } from '../projections/types.js';
import { progressReporter, type Output } from './progress.js';

export interface ProjectionsArgs {
  readonly store: EventStore;
  readonly readDbPath: string;
}

/** `otc-ledger projections status`: checkpoint, lag and state of each read model. */
export async function runProjectionsStatus(args: ProjectionsArgs, out: Output): Promise<number> {
  // A status look must not create the read DB: report its absence instead.
  if (args.readDbPath !== ':memory:' && !existsSync(args.readDbPath)) {
    out.write(`no read models at ${args.readDbPath}: the service has not run on this data dir yet\n`);
    return 0;
  }
  // Read-only: a status look takes no lock from a running server and creates nothing.
  const db = openReadDb(args.readDbPath, { readonly: true });
  try {
    const head = await args.store.headPosition();
    out.write(`${'projection'.padEnd(12)} ${'position'.padStart(12)} ${'lag'.padStart(10)}  state\n`);
    for (const s of ALL_PROJECTIONS.map((p) => projectionStatus(db, p, head, { failure: null, phase: 'stopped' }))) {
      const rebuild = s.rebuild === null ? '' : ` (rebuild by ${s.rebuild.owner} at ${s.rebuild.position})`;
      const error = s.lastError === null ? '' : ` — ${s.lastError}`;
      // Nothing follows the log in this process, so "stopped" here only means "not in this process".
      const state = s.state === 'stopped' && s.lastError === null ? 'idle' : s.state;
      out.write(`${s.name.padEnd(12)} ${String(s.position).padStart(12)} ${String(s.lag).padStart(10)}  ${state}${rebuild}${error}\n`);
    }
    return 0;
  } finally {
    db.close();
  }
}

/** `otc-ledger projections rebuild [name]`: blue/green rebuild of one or every read model. */
export async function runProjectionsRebuild(args: ProjectionsArgs & { readonly name?: string }, out: Output): Promise<number> {
  const projections = args.name === undefined ? ALL_PROJECTIONS : [projectionByName(args.name)];
  if (projections.some((p) => p === null)) {
    out.write(`unknown projection ${args.name}; known: ${ALL_PROJECTIONS.map((p) => p.name).join(', ')}\n`);
    return 1;
  }
  const db = openReadDb(args.readDbPath);
  try {
    // Every read model in one pass over the log: one read and one fold per batch for all of them.
    const chosen = projections.filter((p): p is Projection => p !== null);
    const bar = progressReporter(out, `rebuild ${chosen.map((p) => p.name).join(', ')}`);
    const results = await rebuildProjections({
      store: args.store,
      db,
      projections: chosen,
      owner: `cli-${process.pid}`,
      onProgress: (position, head) => bar.update(Number(position), Number(head)),
    }).catch((error: unknown) => {
      if (!(error instanceof RebuildBusy)) throw error;
      out.write(`${error.message}; try again once it has finished\n`);
      return null;
    });
    bar.stop();
    if (results === null) return 1;
    for (const result of results) out.write(`${result.name}: switched to copy ${result.rebuildId} at position ${result.position}\n`);
    return 0;
  } finally {
    db.close();
  }
}
