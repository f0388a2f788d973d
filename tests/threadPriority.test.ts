import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { lowerBackgroundThreads } from '../src/threadPriority.js';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./support/fixtures/threadPriorityChild.ts', import.meta.url));
const onLinux = process.platform === 'linux';

async function priorities(nice: number): Promise<Record<string, number | boolean>> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, String(nice)], { cwd: projectRoot, timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, number | boolean>;
}

describe('background threads below the event loop (LEDGER_BACKGROUND_THREAD_NICE)', () => {
  it.runIf(onLinux)('lowers every other thread of the process to the nice value, keeps the caller, never raises one, and finds later threads on a rescan', async () => {
    const seen = await priorities(7);
    // Relative to the caller's own nice value, which the child inherits from whoever runs the suite.
    const caller = seen.caller as number;
    const lowered = Math.max(caller, 7);
    expect(seen.loweredCaller).toBe(false);
    expect(seen.early).toBe(lowered);
    // A thread already below (nice 15) stays there: this only ever lowers.
    expect(seen.already).toBe(Math.max(caller, 15));
    // A thread started after the first look runs at the caller's priority until the next one.
    expect(seen.lateBefore).toBe(caller);
    expect(seen.lateAfterRescan).toBe(lowered);
    // The two named workers at least, and the runtime's own (libuv, V8) threads besides.
    expect(seen.lowered).toBeGreaterThanOrEqual(2);
  });

  it.runIf(onLinux)('0 leaves every thread as it was', async () => {
    const seen = await priorities(0);
    const caller = seen.caller as number;
    expect(seen).toMatchObject({ early: caller, already: Math.max(caller, 15), lateBefore: caller, lateAfterRescan: caller, lowered: 0 });
  });

  it('a thread list it cannot read lowers nothing and does not throw', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-threads-'));
    rmSync(dir, { recursive: true });
    const background = lowerBackgroundThreads({ nice: 10, taskDir: dir });
    expect(background.lowered.size).toBe(0);
    background.stop();
  });
});
