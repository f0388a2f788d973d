/**
 * A local anvil chain as a child process on a free loopback port: for the sandbox mode and for the
 * tests. The port is chosen by the OS (`--port 0`) and read back from anvil's "Listening on" line, so
 * parallel tests never race for one.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { anvilBinaryPath } from './anvilBinary.js';

export interface AnvilOptions {
  /** The chain id anvil reports (default 31337, anvil's own). */
  readonly chainId?: number;
  /** Genesis block time in Unix seconds; default: now. */
  readonly genesisTimestampSeconds?: number;
  /** How long to wait for anvil to listen before giving up (default 20 s). */
  readonly startTimeoutMs?: number;
  /** No base fee and no priority fee, so parties with no ETH can send and balances stay exact (sandbox, tests). */
  readonly zeroFees?: boolean;
}

export interface AnvilProcess {
  readonly rpcUrl: string;
  readonly port: number;
  readonly chainId: number;
  readonly pid: number;
  /** Ends anvil and waits for it to exit; safe to call twice. */
  stop(): Promise<void>;
}

const LISTENING = /Listening on (127\.0\.0\.1):(\d+)/;
const STOP_GRACE_MS = 3_000;

export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilProcess> {
  const chainId = options.chainId ?? 31337;
  const args = ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(chainId), '--hardfork', 'cancun'];
  if (options.genesisTimestampSeconds !== undefined) args.push('--timestamp', String(options.genesisTimestampSeconds));
  if (options.zeroFees) args.push('--base-fee', '0', '--gas-price', '0', '--no-priority-fee');
  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test runner or ledger that dies must not leave anvil behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const port = await waitForPort(child, options.startTimeoutMs ?? 20_000);
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    chainId,
    pid: child.pid ?? -1,
    stop: () => stopChild(child),
  };
}

function waitForPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const fail = (message: string): void => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`anvil did not start: ${message}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk: Buffer): void => {
      // Only the tail is kept: the banner is long and only the last line matters.
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      const match = LISTENING.exec(seen);
      if (match) {
        cleanup();
        // Keep draining the pipes so anvil never blocks on a full one.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(Number(match[2]));
      }
    };
    const onExit = (code: number | null): void => fail(`exited with ${code}: ${seen.slice(-300)}`);
    const onError = (error: Error): void => fail(error.message);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
