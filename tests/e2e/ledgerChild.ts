/**
 * A ledger in a child process (tests/e2e/fixtures/ledgerProcess.ts) that the crash tests SIGKILL:
 * its JSON log lines collected, its URL read from the "listening" line. Shared by the SQLite and the
 * EventStoreDB crash-and-restart tests, which differ only in the environment they start it with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { until } from './support.js';

export interface LedgerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly logs: Array<Record<string, any>>;
  readonly exited: Promise<void>;
}

/** Spawns the ledger with `env` on top of the parent's, registers it in `children` for clean-up, and waits until it listens. */
export async function spawnLedgerProcess(env: Record<string, string>, children: ChildProcess[]): Promise<LedgerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'ledgerProcess.ts')], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const logs: Array<Record<string, any>> = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, any>);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until(() => logs.some((l) => l.msg === 'otc-ledger listening') || child.exitCode !== null, 'the ledger to listen', 30_000);
  const listening = logs.find((l) => l.msg === 'otc-ledger listening');
  if (listening === undefined) throw new Error(`the ledger did not start: ${stderr}`);
  return { child, url: listening.url as string, logs, exited };
}
