import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, freePort, parentEnvWithoutSettings, ROOT, useBuiltCli } from './builtCli.js';
import { tempDir, until } from './support.js';

/**
 * The CI check of issue 4: the BUILT service starts as `npm start` / `npx otc-ledger serve` run
 * it (bin/otc-ledger.js → dist/, compiled by `npm ci` through the prepare script), answers
 * /health, /openapi.json and /docs, and stops cleanly on SIGTERM; a bad setting stops start-up.
 */

const { dirs, children } = useBuiltCli();

/** The parent's environment without any ledger setting, so only what a test passes applies. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = parentEnvWithoutSettings();
  // Manual quote leg unless a test asks for a chain: the default of `npm start` (sandbox) would spawn anvil in every test.
  return { ...inherited, LEDGER_QUOTE_CHAIN: 'manual', ...extra };
}

interface Served {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (null when killed by a signal) and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function serve(env: Record<string, string>): Served {
  return runCli(['serve'], env);
}

function runCli(args: readonly string[], env: Record<string, string>): Served {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The exit, or a failure naming what the process printed, after a bound. */
async function exitWithin(served: Served, limitMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      served.child.kill('SIGKILL');
      reject(new Error(`the process did not exit within ${limitMs} ms\nstdout: ${served.stdout()}\nstderr: ${served.stderr()}`));
    }, limitMs);
  });
  try {
    return await Promise.race([served.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function fetchStatus(url: string): Promise<number | null> {
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return null;
  }
}

function dataDir(): string {
  const dir = tempDir('start');
  dirs.push(dir);
  return dir.path;
}

describe('the built service starts (npm start / npx otc-ledger serve)', () => {
  it('serves /health, /openapi.json and /docs, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const served = serve({ PORT: String(port), HOST: '127.0.0.1', LEDGER_DATA_DIR: dataDir(), LEDGER_RECONCILE_INTERVAL_MS: '0' });
    let early: { code: number | null } | null = null;
    void served.exited.then((e) => (early = e));

    await until(async () => {
      if (early !== null) throw new Error(`serve exited early (${String(early.code)}): ${served.stderr()}`);
      return (await fetchStatus(`${base}/health`)) === 200;
    }, `/health at ${base}`, 45_000);

    const health = await fetch(`${base}/health`);
    expect(await health.json()).toEqual({ ok: true, status: 'up' });
    const openapi = await fetch(`${base}/openapi.json`);
    expect(openapi.status).toBe(200);
    const doc = (await openapi.json()) as Record<string, unknown>;
    expect(doc['openapi']).toEqual(expect.stringMatching(/^3\./));
    expect(Object.keys(doc['paths'] as object)).toContain('/api/orders');
    expect([200, 302]).toContain(await fetchStatus(`${base}/docs`));
    // The embedded sandbox node is labelled loudly in the log.
    expect(served.stdout()).toContain('SANDBOX');
    // Linux: every thread but the event loop's under SCHED_BATCH (LEDGER_BACKGROUND_THREAD_POLICY's default).
    if (process.platform === 'linux') {
      await until(() => served.stdout().includes('background threads yield to the event loop'), 'the background-thread log line', 10_000);
      const line = served.stdout().split('\n').find((l) => l.includes('background threads yield to the event loop')) as string;
      expect(JSON.parse(line)).toMatchObject({ policy: 'batch', nice: 0, niced: 0, batched: expect.any(Number) });
      expect((JSON.parse(line) as { batched: number }).batched).toBeGreaterThanOrEqual(2);
    }

    served.child.kill('SIGTERM');
    const exit = await exitWithin(served, 30_000);
    expect(exit, served.stderr()).toEqual({ code: 0, signal: null });
    const last = JSON.parse(served.stdout().trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(last).toMatchObject({ msg: 'otc-ledger stopped: requests finished, stores closed', signal: 'SIGTERM', durationMs: expect.any(Number) });
  });

  it('LOG_FORMAT=pretty logs readable lines (no colour into a pipe): start, one per request, shutdown', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const served = serve({ PORT: String(port), HOST: '127.0.0.1', LEDGER_DATA_DIR: dataDir(), LEDGER_RECONCILE_INTERVAL_MS: '0', LOG_FORMAT: 'pretty' });
    await until(async () => (await fetchStatus(`${base}/health`)) === 200, `/health at ${base}`, 45_000);
    expect(await fetchStatus(`${base}/api/orders/otc_zz`)).toBe(404);
    served.child.kill('SIGTERM');
    expect(await exitWithin(served, 30_000), served.stderr()).toEqual({ code: 0, signal: null });
    const out = served.stdout();
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: SANDBOX/m);
    expect(out).toMatch(/INFO: otc-ledger listening/);
    expect(out).toMatch(/INFO: request completed .*"url":"\/api\/orders\/otc_zz".*"statusCode":404.*"code":"order_not_found"/);
    expect(out).toMatch(/INFO: otc-ledger stopped: requests finished, stores closed/);
    expect(out).not.toContain('{"level"');
    expect(out).not.toContain('\u001b[');
  });

  it('a bad setting (PORT=abc) stops start-up with one line naming PORT', async () => {
    const served = serve({ PORT: 'abc', LEDGER_DATA_DIR: dataDir() });
    const exit = await exitWithin(served, 30_000);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const lines = served.stderr().split('\n').filter((line) => line.trim() !== '');
    expect(lines, served.stderr()).toHaveLength(1);
    expect(lines[0]).toContain('PORT');
  });

  it('a port already in use stops start-up with a non-zero exit instead of hanging', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const served = serve({ PORT: String(port), HOST: '127.0.0.1', LEDGER_DATA_DIR: dataDir(), LOG_LEVEL: 'silent' });
      const exit = await exitWithin(served, 30_000);
      expect(exit.code, served.stderr()).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(served.stderr()).toContain('EADDRINUSE');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

describe('the other long-running and one-shot CLI commands', () => {
  it('--version prints the package version and exits 0', async () => {
    const version = runCli(['--version'], {});
    expect(await exitWithin(version, 30_000)).toEqual({ code: 0, signal: null });
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout().trim()).toBe(pkg.version);
  });

  it('sandbox-node serves the node endpoints and its controls, labelled SANDBOX, and exits 0 on SIGTERM; reconcile runs one pass against it', async () => {
    const port = await freePort();
    const node = `http://127.0.0.1:${port}`;
    const sandbox = runCli(['sandbox-node', '--port', String(port)], {});
    await until(async () => (await fetchStatus(`${node}/__sandbox/state`)) === 200, `the sandbox node at ${node}`, 45_000);
    expect(await fetchStatus(`${node}/agent/jobs?status=open&category=other&limit=10&offset=0`)).toBe(200);
    expect(sandbox.stdout()).toContain('SANDBOX');

    const dir = dataDir();
    const refused = runCli(['reconcile'], { LEDGER_DATA_DIR: dir });
    expect((await exitWithin(refused, 30_000)).code).toBe(2);
    expect(refused.stdout()).toContain('RUSTCHAIN_NODE');
    const pass = runCli(['reconcile'], { LEDGER_DATA_DIR: dir, RUSTCHAIN_NODE: node, RC_ADMIN_KEY: 'sandbox-admin-key' });
    expect(await exitWithin(pass, 30_000), pass.stderr()).toEqual({ code: 0, signal: null });
    expect(pass.stdout()).toContain('examined 0 orders (every order stream: 0 scanned)');
    expect(pass.stdout()).toMatch(/orders +outcome +meaning/);
    const json = runCli(['reconcile', '--json'], { LEDGER_DATA_DIR: dir, RUSTCHAIN_NODE: node, RC_ADMIN_KEY: 'sandbox-admin-key' });
    expect(await exitWithin(json, 30_000), json.stderr()).toEqual({ code: 0, signal: null });
    expect(JSON.parse(json.stdout())).toMatchObject({ ok: true, summary: { examined: 0, left: 0 }, examined: { order_streams: 0 } });

    sandbox.child.kill('SIGTERM');
    expect(await exitWithin(sandbox, 30_000)).toEqual({ code: 0, signal: null });
  });
});
