/**
 * A ledger in a child process (tests/e2e/fixtures/ledgerProcess.ts) that the crash tests SIGKILL:
 * its JSON log lines collected, its URL read from the "listening" line. Shared by the SQLite and the
 * EventStoreDB crash-and-restart tests, which differ only in the environment they start it with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DEFAULT_SANDBOX_ADMIN_KEY, type SandboxNode } from '../../src/sandbox/index.js';
import { confirmBody, generateWallet, matchBody, placeSell, post, until } from './support.js';

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

/** What every crash test's ledger starts with: loopback, a free port, info logs (the tests read them), the given sandbox node. */
export function crashLedgerEnv(dataDir: string, nodeUrl: string): Record<string, string> {
  return {
    HOST: '127.0.0.1', PORT: '0', LEDGER_DATA_DIR: dataDir, LEDGER_RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'info',
    RUSTCHAIN_NODE: nodeUrl, RC_ADMIN_KEY: DEFAULT_SANDBOX_ADMIN_KEY,
  };
}

/** SIGKILLs every child still running (a test's afterAll). */
export function killLeft(children: readonly ChildProcess[]): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * The crash both crash tests stage: a sell order placed on `ledger` and matched, the node made to
 * apply the next accept (the escrow released) and never answer it, the seller's confirm sent, and
 * the process SIGKILLed once the node shows the job completed. The confirm dies with the process.
 * Answers the order whose settlement the next ledger must finish.
 */
export async function killDuringRelease(ledger: LedgerProcess, node: SandboxNode): Promise<{ orderId: string }> {
  const [seller, buyer] = [generateWallet(), generateWallet()];
  node.fund(seller.wallet, 1_000_000_000n);
  const { orderId, secret } = await placeSell(ledger.url, seller, '10');
  expect((await post(ledger.url, `/api/orders/${orderId}/match`, matchBody(buyer, orderId))).status).toBe(200);
  node.injectFault('POST /agent/jobs/:id/accept', 'timeout_after_effect', 1);
  const confirming = post(ledger.url, `/api/orders/${orderId}/confirm`, confirmBody(seller, orderId, secret)).catch((e: unknown) => e);
  const job = () => node.jobs().find((j) => j.title.includes(orderId));
  await until(() => job()?.status === 'completed', 'the node to complete the accept');
  ledger.child.kill('SIGKILL');
  await ledger.exited;
  expect(await confirming).toBeInstanceOf(Error);
  return { orderId };
}
