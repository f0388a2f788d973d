import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, freePort, parentEnvWithoutSettings, ROOT, useBuiltCli } from './builtCli.js';
import { tempDir, until } from './support.js';

/**
 * Fail fast at start (issue 10), through the BUILT CLI as an operator runs it: each unusable
 * setting stops `serve` with one line naming the variable, before the HTTP port opens.
 */
const { dirs, children } = useBuiltCli();

function dataDir(): string {
  const dir = tempDir('startchecks');
  dirs.push(dir);
  return dir.path;
}

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function serve(env: Record<string, string>, uid?: number): Run {
  const inherited = parentEnvWithoutSettings();
  const child = spawn(process.execPath, [BIN, 'serve'], {
    cwd: ROOT, env: { ...inherited, LOG_LEVEL: 'silent', LEDGER_RECONCILE_INTERVAL_MS: '0', LEDGER_QUOTE_CHAIN: 'manual', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function exitWithin(run: Run, limitMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`serve did not exit within ${limitMs} ms: ${run.output()}`));
    }, limitMs);
  });
  try {
    return await Promise.race([run.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Exits non-zero with exactly one line, which contains `expected`. */
async function refusesWith(run: Run, expected: string): Promise<void> {
  const code = await exitWithin(run, 30_000);
  expect(code, run.output()).not.toBe(0);
  expect(code).not.toBeNull();
  const lines = run.output().split('\n').filter((line) => line.trim() !== '');
  expect(lines, run.output()).toHaveLength(1);
  expect(lines[0]).toContain(expected);
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

describe('serve refuses to start', () => {
  it('the embedded sandbox on a non-loopback HOST, naming LEDGER_SANDBOX_PUBLIC', async () => {
    await refusesWith(serve({ HOST: '0.0.0.0', PORT: '0', LEDGER_DATA_DIR: dataDir() }), 'LEDGER_SANDBOX_PUBLIC=1');
  });

  it('a plain-http node that is not on loopback, naming RUSTCHAIN_NODE', async () => {
    await refusesWith(serve({ RUSTCHAIN_NODE: 'http://node.example:8099', RC_ADMIN_KEY: 'k', PORT: '0', LEDGER_DATA_DIR: dataDir() }), 'RUSTCHAIN_NODE must be https');
  });

  it('an admin token shorter than 32 characters', async () => {
    await refusesWith(serve({ LEDGER_ADMIN_TOKEN: 'short', PORT: '0', LEDGER_DATA_DIR: dataDir() }), 'LEDGER_ADMIN_TOKEN must be at least 32 characters');
  });

  it('an EventStoreDB that does not answer, within LEDGER_START_TIMEOUT_MS and before the HTTP port opens', async () => {
    const [port, deadPort] = [await freePort(), await freePort()];
    const run = serve({
      PORT: String(port), LEDGER_DATA_DIR: dataDir(), LEDGER_STORE: 'esdb', LEDGER_START_TIMEOUT_MS: '1500',
      EVENTSTORE_CONNECTION_STRING: `esdb://127.0.0.1:${deadPort}?tls=false`,
    });
    let opened = false;
    const watch = (async () => {
      while (run.child.exitCode === null) {
        if (await answers(`http://127.0.0.1:${port}/health`)) opened = true;
        await new Promise((done) => setTimeout(done, 100));
      }
    })();
    await refusesWith(run, 'EVENTSTORE_CONNECTION_STRING');
    await watch;
    expect(opened).toBe(false);
  });

  it('a data dir that is a file', async () => {
    const file = join(dataDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    await refusesWith(serve({ PORT: '0', LEDGER_DATA_DIR: file }), `LEDGER_DATA_DIR ${file} is not a directory`);
  });

  it('a data dir under /proc', async () => {
    await refusesWith(serve({ PORT: '0', LEDGER_DATA_DIR: '/proc/self/otc-data' }), 'LEDGER_DATA_DIR');
  });

  it('a data dir this process cannot write', async () => {
    const parent = dataDir();
    chmodSync(parent, 0o755);
    const dir = join(parent, 'read-only');
    mkdirSync(dir, { mode: 0o555 });
    chmodSync(dir, 0o555);
    // root writes anywhere: as root, the ledger runs as nobody (65534) to meet the read-only dir.
    const asUser = process.getuid?.() === 0 ? 65534 : undefined;
    await refusesWith(serve({ PORT: '0', LEDGER_DATA_DIR: dir }, asUser), `LEDGER_DATA_DIR ${dir} is not writable`);
  });

  it('a secret.key that group or others can read, saying chmod 600', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'secret.key'), `${'ab'.repeat(32)}\n`);
    chmodSync(join(dir, 'secret.key'), 0o640);
    await refusesWith(serve({ PORT: '0', LEDGER_DATA_DIR: dir }), `chmod 600 ${join(dir, 'secret.key')}`);
  });
});

describe('serve on a fresh data dir', () => {
  it('creates the dir 0700 and every database and key file 0600', async () => {
    const port = await freePort();
    const dir = join(dataDir(), 'data');
    const run = serve({ PORT: String(port), LEDGER_DATA_DIR: dir });
    await until(async () => {
      if (run.child.exitCode !== null) throw new Error(`serve exited: ${run.output()}`);
      return answers(`http://127.0.0.1:${port}/health`);
    }, 'serve to answer /health', 45_000);
    run.child.kill('SIGTERM');
    expect(await exitWithin(run, 30_000), run.output()).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['events.db', 'read.db', 'idempotency.db', 'leases.db', 'secret.key']));
    // Folders inside it (the lease holders' lock files) are 0700 like the data dir itself.
    for (const file of files) {
      const stat = statSync(join(dir, file));
      expect([file, stat.mode & 0o777]).toEqual([file, stat.isDirectory() ? 0o700 : 0o600]);
    }
  });
});

describe('sandbox-node alone', () => {
  it('refuses a non-loopback --host unless LEDGER_SANDBOX_PUBLIC=1', async () => {
    const inherited = parentEnvWithoutSettings();
    const child = spawn(process.execPath, [BIN, 'sandbox-node', '--host', '0.0.0.0', '--port', '0'], { cwd: ROOT, env: inherited, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const run: Run = { child, output: () => output, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
    await refusesWith(run, 'LEDGER_SANDBOX_PUBLIC=1');
  });
});

describe('one-shot commands', () => {
  it('create their files 0600 too (verify on a fresh data dir creates the event log)', async () => {
    const dir = join(dataDir(), 'fresh');
    mkdirSync(dir);
    const inherited = parentEnvWithoutSettings();
    const verify = spawnSync(process.execPath, [BIN, 'verify'], { cwd: ROOT, env: { ...inherited, LEDGER_DATA_DIR: dir }, encoding: 'utf8', timeout: 60_000 });
    expect(verify.status, verify.stderr).toBe(0);
    expect(statSync(join(dir, 'events.db')).mode & 0o777).toBe(0o600);
  });
});
