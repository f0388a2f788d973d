/**
 * What the order leases cost a drive (issue 14 lever 1): one drive's lease work is an acquire, a
 * re-acquire before a later step and a release. Sole mode (this process alone on leases.db: the
 * leases in memory under one claim row) against shared mode (another process has asked for a
 * hand-off: one row per lease, the write pattern every drive paid before), alternating per round
 * on files in the temp dir. Reported per drive: CPU of this thread and bytes written to disk
 * (/proc/self/io). A trade makes two drives (the lock, then release + payout).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSqliteLeases } from '../src/settlement/leases.js';
import { measure, type Benchmark, type Measurement } from './types.js';

const TTL_MS = 60_000;

function writtenBytes(): number | null {
  try {
    return Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
  } catch {
    return null;
  }
}

async function drives(tempDir: string, n: number, shared: boolean): Promise<{ m: Measurement; cpuUs: number; bytes: number | null }> {
  const dir = mkdtempSync(join(tempDir, 'otc-bench-leases-'));
  const path = join(dir, 'leases.db');
  const leases = createSqliteLeases(path, { soleCooldownMs: 3_600_000 });
  const other = createSqliteLeases(path, { soleCooldownMs: 3_600_000 });
  // The other handle takes one lease: the first becomes sole, the second's acquire takes its hand-off.
  await leases.acquire('warm-up', 'w', TTL_MS, Date.now());
  if (shared) await other.acquire('warm-up-other', 'w', TTL_MS, Date.now());
  const bytesBefore = writtenBytes();
  const cpu = process.cpuUsage();
  const m = await measure(`${shared ? 'shared (a row per lease)' : 'sole (leases in memory)'}: drives`, n, async () => {
    for (let i = 0; i < n; i++) {
      const name = `order-driver:otc_${i}`;
      const owner = randomUUID();
      const now = Date.now();
      await leases.acquire(name, owner, TTL_MS, now);
      await leases.acquire(name, owner, TTL_MS, now + 1);
      await leases.release(name, owner);
    }
  });
  const used = process.cpuUsage(cpu);
  const bytesAfter = writtenBytes();
  leases.close();
  other.close();
  rmSync(dir, { recursive: true, force: true });
  return { m, cpuUs: (used.user + used.system) / n, bytes: bytesBefore === null || bytesAfter === null ? null : (bytesAfter - bytesBefore) / n };
}

export const leasesBenchmark: Benchmark = {
  name: 'leases',
  description: 'one drive\'s order-lease work (acquire, re-acquire, release): sole mode vs shared mode',
  async run(options) {
    const rows: Array<Awaited<ReturnType<typeof drives>> & { shared: boolean }> = [];
    for (let round = 0; round < options.rounds; round++) {
      for (const shared of [true, false]) rows.push({ ...(await drives(options.tempDir, options.n, shared)), shared });
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const of = (shared: boolean) => rows.filter((r) => r.shared === shared);
    const note = (shared: boolean) => {
      const r = of(shared);
      const bytes = r.map((x) => x.bytes).filter((b): b is number => b !== null);
      return `${shared ? 'shared' : 'sole  '}: CPU ${median(r.map((x) => x.cpuUs)).toFixed(1)} us per drive, ${bytes.length ? (median(bytes) / 1024).toFixed(2) : '?'} KiB written per drive (medians of ${r.length})`;
    };
    const cpuRatio = median(of(false).map((x) => x.cpuUs)) / median(of(true).map((x) => x.cpuUs));
    return { measurements: rows.map((r) => r.m), notes: [note(true), note(false), `sole / shared CPU per drive = ${cpuRatio.toFixed(3)}`] };
  },
};
