/** One measured thing: `ops` operations in `elapsedMs`, and the rate that makes. */
export interface Measurement {
  readonly label: string;
  readonly ops: number;
  readonly elapsedMs: number;
  readonly opsPerSec: number;
}

export interface BenchResult {
  /** Rows of the results table, in the order they should print. */
  readonly measurements: readonly Measurement[];
  /** Derived figures (ratios, targets) printed under the table. */
  readonly notes: readonly string[];
}

export interface BenchOptions {
  /** Operations per measured run. */
  readonly n: number;
  /** Measured runs per measurement; the median is reported. */
  readonly rounds: number;
  /** Where temporary databases go: the disk being measured. */
  readonly tempDir: string;
}

/** A benchmark module exports one or more of these; bench/run.ts runs all or the named ones. */
export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(options: BenchOptions): Promise<BenchResult>;
}

/** Times one synchronous-or-async loop of `ops` operations. */
export async function measure(label: string, ops: number, body: () => Promise<void> | void): Promise<Measurement> {
  collectGarbage();
  const started = process.hrtime.bigint();
  await body();
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { label, ops, elapsedMs, opsPerSec: ops / (elapsedMs / 1000) };
}

/** With `node --expose-gc`, start every measurement from a collected heap so one run's garbage is not billed to the next. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

/** The median run of several, by rate: steadier than the mean on a shared VM disk. */
export function median(runs: readonly Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => a.opsPerSec - b.opsPerSec);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (!middle) throw new Error('median of no runs');
  return middle;
}
