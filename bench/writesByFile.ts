/**
 * Bytes written and fsyncs per database file, from an `strace -f -y` log of a benchmark run (the
 * trade benchmark's server and its SQLite files), per trade when the trade count is given:
 *
 *   strace -f -y -e trace=pwrite64,write,fsync,fdatasync -o /tmp/trades.strace \
 *     node --expose-gc dist/bench/run.js trades
 *   node dist/bench/writesByFile.js /tmp/trades.strace [trades]
 *
 * These are the bytes SQLite hands the kernel (WAL frames, checkpoints into the main file), which
 * unlike /proc/self/io's write_bytes do not depend on when the kernel writes its cache back, and
 * fsyncs per file, which /proc does not report at all.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface FileCount {
  bytes: number;
  writes: number;
  fsyncs: number;
}

const LINE = /(pwrite64|write|fsync|fdatasync)\(\d+<([^>]*)>.*=\s*(-?\d+)/;

/** Per file name (temp-dir parts stripped), from the text of an strace -y log. */
export function writesByFile(log: string): Map<string, FileCount> {
  const files = new Map<string, FileCount>();
  for (const line of log.split('\n')) {
    const match = LINE.exec(line);
    if (match === null) continue;
    const [, call, path = '', result = '0'] = match;
    const name = basename(path);
    // Only files: sockets, pipes and ttys are the HTTP traffic and logs.
    if (!path.startsWith('/') || path.startsWith('/dev/')) continue;
    const count = files.get(name) ?? { bytes: 0, writes: 0, fsyncs: 0 };
    if (call === 'fsync' || call === 'fdatasync') count.fsyncs++;
    else {
      count.writes++;
      count.bytes += Math.max(0, Number(result));
    }
    files.set(name, count);
  }
  return files;
}

function main(argv: readonly string[]): void {
  const [path, tradesText] = argv;
  if (path === undefined) throw new Error('usage: writesByFile <strace log> [trades]');
  const trades = tradesText === undefined ? 1 : Number(tradesText);
  const files = writesByFile(readFileSync(path, 'utf8'));
  const unit = trades === 1 ? '' : ' per trade';
  let total = 0;
  for (const [name, c] of [...files].sort((a, b) => b[1].bytes - a[1].bytes)) {
    total += c.bytes;
    console.log(`${name.padEnd(28)} ${(c.bytes / trades / 1024).toFixed(1).padStart(9)} KiB${unit}  ${(c.writes / trades).toFixed(1).padStart(7)} writes  ${(c.fsyncs / trades).toFixed(2).padStart(6)} fsyncs`);
  }
  console.log(`${'all files'.padEnd(28)} ${(total / trades / 1024).toFixed(1).padStart(9)} KiB${unit}`);
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(basename(process.argv[1]))) main(process.argv.slice(2));
