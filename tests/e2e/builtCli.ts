import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { tempDir } from './support.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** What `npm start` and `npx otc-ledger` run: bin/otc-ledger.js → dist/, compiled by `npm ci`'s prepare. */
export const BIN = join(ROOT, 'bin', 'otc-ledger.js');
export const BUILT_CLI = join(ROOT, 'dist', 'src', 'cli', 'index.js');

/**
 * For a test file that runs the BUILT CLI: builds it first when the tree has no dist/ (a fresh clone
 * without `npm ci`, or a cleaned tree), and after the file kills every child still running and removes
 * every temp dir it registered in the returned lists.
 */
export function useBuiltCli(): { dirs: ReturnType<typeof tempDir>[]; children: ChildProcess[] } {
  const dirs: ReturnType<typeof tempDir>[] = [];
  const children: ChildProcess[] = [];
  beforeAll(() => {
    if (existsSync(BUILT_CLI)) return;
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    if (!existsSync(BUILT_CLI)) throw new Error(`npm run build did not produce ${BUILT_CLI}:\n${build.stdout}\n${build.stderr}`);
  }, 200_000);
  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const dir of dirs) dir.remove();
  });
  return { dirs, children };
}

/** The parent's environment without any ledger setting, so a child sees only what its test passes. */
export function parentEnvWithoutSettings(): NodeJS.ProcessEnv {
  const setting = /^(PORT|HOST|LOG_LEVEL|LOG_FORMAT|NO_COLOR|LEDGER_|EVENTSTORE_|RUSTCHAIN_|RC_ADMIN_KEY)/;
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !setting.test(name)));
}

/** A loopback port free right now (the child binds it next). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
