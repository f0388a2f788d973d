/**
 * Benchmark entry: `npm run bench` (all) or `node --expose-gc dist/bench/run.js append --n=4000 --rounds=3`.
 * Each benchmark lives in its own module and is listed by name in BENCHMARKS; never part of `npm test`.
 */
import { cpus, tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Benchmark, BenchOptions, BenchResult } from './types.js';

/** A benchmark by name, its module loaded only when it runs, so one module's imports never block another. */
export interface BenchmarkEntry {
  readonly name: string;
  readonly load: () => Promise<Benchmark>;
}

export const BENCHMARKS: readonly BenchmarkEntry[] = [
  { name: 'append', load: async () => (await import('./append.js')).appendBenchmark },
  { name: 'rebuild', load: async () => (await import('./rebuild.js')).rebuildBenchmark },
  { name: 'trades', load: async () => (await import('./trades.js')).tradesBenchmark },
  { name: 'sandbox-node', load: async () => (await import('./sandboxNode.js')).sandboxNodeBenchmark },
  { name: 'wallet-auth', load: async () => (await import('./walletAuth.js')).walletAuthBenchmark },
  { name: 'response-serialise', load: async () => (await import('./responseSerialise.js')).responseSerialiseBenchmark },
  { name: 'quote-follower', load: async () => (await import('./quoteFollower.js')).quoteFollowerBenchmark },
  { name: 'trade-path', load: async () => (await import('./tradePath.js')).tradePathBenchmark },
  { name: 'commit-off-loop', load: async () => (await import('./commitOffLoop.js')).commitOffLoopBenchmark },
  { name: 'quote-swap', load: async () => (await import('./quoteSwap.js')).quoteSwapBenchmark },
  { name: 'leases', load: async () => (await import('./leases.js')).leasesBenchmark },
  { name: 'wal-restart', load: async () => (await import('./walRestart.js')).walRestartBenchmark },
  { name: 'event-ids', load: async () => (await import('./eventIds.js')).eventIdsBenchmark },
];

interface Invocation {
  readonly names: string[];
  readonly options: BenchOptions;
}

export function parseArgs(argv: readonly string[]): Invocation {
  const flag = (name: string, fallback: number): number => {
    const raw = argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
    return value;
  };
  const names = argv.filter((a) => !a.startsWith('--'));
  return { names, options: { n: flag('n', 4000), rounds: flag('rounds', 3), tempDir: tmpdir() } };
}

function select(names: readonly string[]): BenchmarkEntry[] {
  if (names.length === 0) return [...BENCHMARKS];
  return names.map((name) => {
    const found = BENCHMARKS.find((b) => b.name === name);
    if (!found) throw new Error(`unknown benchmark "${name}"; available: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    return found;
  });
}

export function formatResult(name: string, result: BenchResult): string {
  const header = ['measurement', 'ops', 'ms', 'ops/s'];
  const rows = result.measurements.map((m) => [m.label, String(m.ops), m.elapsedMs.toFixed(0), m.opsPerSec.toFixed(0)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [`## ${name}`, line(header), rule, ...rows.map(line), '', ...result.notes].join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  const { names, options } = parseArgs(argv);
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(`node ${process.version}, ${cpus().length} cpus (${cpu}), temp dir ${options.tempDir}, n=${options.n}, rounds=${options.rounds}`);
  for (const entry of select(names)) {
    const benchmark = await entry.load();
    console.log(`\nrunning ${benchmark.name}: ${benchmark.description}`);
    console.log(formatResult(benchmark.name, await benchmark.run(options)));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
