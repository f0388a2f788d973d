/**
 * Read-model rebuild throughput and audit replay latency on a large ledger (>= 1,000,000 events
 * by default; BENCH_REBUILD_EVENTS overrides). Targets: a rebuild at >= 200,000 events/s in
 * < 256 MB RSS; one order's replay (read stream, verify chain, fold) < 2 ms at p99 whatever the
 * store's size.
 *
 * Every step runs in a child process of its own (bench/rebuildWorker.ts), so each one's peak RSS
 * is its own: generating the ledger, each projection's blue/green rebuild, the runner catching all
 * six up from zero, and the replays.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_PROJECTIONS } from '../src/projections/all.js';
import type { StepResult } from './rebuildWorker.js';
import type { Benchmark, BenchOptions, BenchResult, Measurement } from './types.js';

const DEFAULT_EVENTS = 1_000_000;
const REPLAYS = 5000;
/** The catch-up batch the bench has always used, and the live subscription's batch (followLog). */
const RUNNER_BATCHES = (process.env.BENCH_REBUILD_RUNNER_BATCHES ?? '5000,500').split(',').filter(Boolean).map(Number);
const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'rebuildWorker.js');

/** A V8 old-space limit for the rebuild steps (BENCH_REBUILD_HEAP_MB): RSS is garbage V8 lets pile up otherwise. */
function heapFlags(args: readonly string[]): string[] {
  const heapMb = process.env.BENCH_REBUILD_HEAP_MB;
  return heapMb !== undefined && args[0] !== 'generate' ? [`--max-old-space-size=${Number(heapMb)}`] : [];
}

function runStep(args: readonly string[]): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...heapFlags(args), WORKER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${args[0]} step exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as StepResult);
    });
  });
}

const toMeasurement = (label: string, ops: number, step: StepResult): Measurement => ({
  label,
  ops,
  elapsedMs: step.elapsedMs,
  opsPerSec: ops / (step.elapsedMs / 1000),
});

const perEvent = (ms: number | undefined, events: number): string => (ms === undefined ? '?' : ((1000 * ms) / events).toFixed(2));

const describeStep = (label: string, step: StepResult): string =>
  `${label}: ${Math.round(step.events / (step.cpuMs / 1000))} events per CPU-second, max RSS ${step.maxRssMb.toFixed(0)} MB, peak heap ${step.peakHeapMb.toFixed(0)} MB`;

async function runRebuildBench(options: BenchOptions): Promise<BenchResult> {
  const target = Number(process.env.BENCH_REBUILD_EVENTS ?? DEFAULT_EVENTS);
  const dir = mkdtempSync(join(options.tempDir, 'otc-rebuild-bench-'));
  const storePath = join(dir, 'events.db');
  const measurements: Measurement[] = [];
  const notes: string[] = [];
  try {
    const generated = await runStep(['generate', storePath, String(target)]);
    measurements.push(toMeasurement('generate ledger (decider + hash chain)', generated.events, generated));
    notes.push(`ledger: ${generated.events} events, ${generated.extra?.orders ?? '?'} orders (+ one sig- stream each)`);
    let separateMs = 0;
    let separateCpuMs = 0;
    for (const projection of ALL_PROJECTIONS) {
      const step = await runStep(['rebuild', storePath, join(dir, `read-${projection.name}.db`), projection.name]);
      measurements.push(toMeasurement(`rebuild ${projection.name}`, step.events, step));
      notes.push(describeStep(`rebuild ${projection.name}`, step));
      separateMs += step.elapsedMs;
      separateCpuMs += step.cpuMs;
    }
    const onePass = await runStep(['rebuild-all', storePath, join(dir, 'read-one-pass.db')]);
    measurements.push(toMeasurement(`rebuild all ${ALL_PROJECTIONS.length} in one pass`, onePass.events, onePass));
    notes.push(describeStep(`rebuild all in one pass`, onePass));
    notes.push(`one pass vs one rebuild per read model, same run: wall ${(separateMs / onePass.elapsedMs).toFixed(2)}x faster, CPU ${(separateCpuMs / onePass.cpuMs).toFixed(2)}x less; heap limit ${process.env.BENCH_REBUILD_HEAP_MB ?? 'none'} MB`);
    for (const batch of RUNNER_BATCHES) {
      const runner = await runStep(['runner', storePath, join(dir, `read-all-${batch}.db`), String(batch)]);
      measurements.push(toMeasurement(`runner catch-up, all 6 projections (batch ${batch})`, runner.events, runner));
      notes.push(describeStep(`runner, all projections, batch ${batch}`, runner));
    }
    const replay = await runStep(['replay', storePath, String(REPLAYS)]);
    measurements.push(toMeasurement(`replay one order (x${REPLAYS})`, REPLAYS, replay));
    const r = replay.extra ?? {};
    notes.push(`replay latency over ${r.orders} orders: p50 ${r.p50Ms?.toFixed(3)} ms, p99 ${r.p99Ms?.toFixed(3)} ms, max ${r.maxMs?.toFixed(3)} ms; max RSS ${replay.maxRssMb.toFixed(0)} MB`);
    const fold = await runStep(['fold', storePath]);
    measurements.push(toMeasurement('read, parse and fold every order event (no read model)', fold.events, fold));
    const f = fold.extra ?? {};
    notes.push(`per order event, CPU: read (every row of the log) ${perEvent(f.readMs, fold.events)}, JSON ${perEvent(f.parseMs, fold.events)}, fold ${perEvent(f.foldMs, fold.events)} µs (the floor every reader of the log pays)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { measurements, notes };
}

export const rebuildBenchmark: Benchmark = {
  name: 'rebuild',
  description: 'projection rebuild throughput and audit replay latency on a >= 1M-event ledger, each step in its own process',
  run: runRebuildBench,
};
