import { writeFileSync } from 'node:fs';

/**
 * Names the calling thread where Linux lets a thread rename itself (at most 15 characters), so
 * `top -H`, `ps -L` and the trade benchmark (bench/trades.ts reads /proc/self/task/<tid>/comm) can
 * tell the ledger's threads apart. Elsewhere, or without /proc, only the name is missing.
 */
export function nameThisThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name);
  } catch {
    // Not Linux, or no /proc.
  }
}
