/**
 * `npm run simulate -- --seed S --steps N` replays one seeded run; `--seeds K` runs seeds
 * S, S+1, ... S+K-1. Each run prints its seed, step count and event-log hash; a violation prints
 * the seed, the step and a minimal trace, and the exit code is 1.
 */
import { Command, InvalidArgumentError } from 'commander';
import { runSimulation, type SimResult } from './run.js';

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('a non-negative integer');
  return n;
};

const program = new Command('simulate')
  .description('deterministic simulation of the settlement over the real decider, driver, reconciler and projections')
  .option('--seed <n>', 'the first seed', integer, 1)
  .option('--seeds <k>', 'how many seeds to run, from --seed on', integer, 1)
  .option('--steps <n>', 'steps per seed', integer, 300)
  .option('--json', 'one JSON line per run')
  .option('--quiet', 'print only failures and the total');

async function main(): Promise<void> {
  const opts = program.parse().opts<{ seed: number; seeds: number; steps: number; json?: boolean; quiet?: boolean }>();
  const totals = { runs: 0, steps: 0, events: 0, orders: 0, faults: {} as Record<string, number>, checks: {} as Record<string, number> };
  const started = Date.now();
  let failed = 0;
  // RSS after each run: a long run must stay bounded (every run builds its world afresh).
  const rssMb = { first: 0, max: 0, last: 0 };
  for (let seed = opts.seed; seed < opts.seed + opts.seeds; seed++) {
    const result = await runSimulation({ seed, steps: opts.steps });
    add(totals, result);
    if (result.violation !== null) failed += 1;
    rssMb.last = Math.round(process.memoryUsage().rss / 1e6);
    rssMb.first ||= rssMb.last;
    rssMb.max = Math.max(rssMb.max, rssMb.last);
    if (opts.json) console.log(JSON.stringify(result));
    else if (!opts.quiet || result.violation !== null) print(result);
  }
  const summary = { ...totals, failed, seconds: Math.round((Date.now() - started) / 1000), rss_mb: rssMb };
  console.log(opts.json ? JSON.stringify({ summary }) : `total: ${JSON.stringify(summary)}`);
  process.exitCode = failed > 0 ? 1 : 0;
}

function add(totals: { runs: number; steps: number; events: number; orders: number; faults: Record<string, number>; checks: Record<string, number> }, r: SimResult): void {
  totals.runs += 1;
  totals.steps += r.steps;
  totals.events += r.events;
  totals.orders += r.orders;
  for (const [k, v] of Object.entries(r.faults)) totals.faults[k] = (totals.faults[k] ?? 0) + v;
  for (const [k, v] of Object.entries(r.checks)) totals.checks[k] = (totals.checks[k] ?? 0) + v;
}

function print(r: SimResult): void {
  console.log(`seed ${r.seed} steps ${r.steps} hash ${r.hash} events ${r.events} orders ${r.orders} ${r.violation ? 'FAILED' : 'ok'}`);
  if (r.violation === null) return;
  console.log(`  violation at step ${r.violation.step}:\n    ${r.violation.message.split('\n').join('\n    ')}`);
  console.log(`  replay: npm run simulate -- --seed ${r.seed} --steps ${r.steps}`);
  console.log('  trace:');
  for (const line of r.violation.trace) console.log(`    ${line}`);
}

await main();
