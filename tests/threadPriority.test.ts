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

type Seen = Record<string, number | boolean | string | null>;

async function priorities(nice: number, policy: 'batch' | 'normal' = 'normal', env: NodeJS.ProcessEnv = process.env): Promise<Seen> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, String(nice), policy], { cwd: projectRoot, timeout: 30_000, env });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as Seen;
}

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;
const SCHED_IDLE = 5;

describe('background threads yield to the event loop (LEDGER_BACKGROUND_THREAD_POLICY, LEDGER_BACKGROUND_THREAD_NICE)', () => {
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
    expect(seen).toMatchObject({ earlyPolicy: SCHED_OTHER, latePolicyAfterRescan: SCHED_OTHER, batched: 0, batchUnavailable: null });
  });

  it.runIf(onLinux)('batch puts every other thread under SCHED_BATCH, keeps the caller and a thread under another policy, finds later threads on a rescan, and leaves nice values alone', async () => {
    const seen = await priorities(0, 'batch');
    expect(seen.batchUnavailable).toBeNull();
    expect(seen).toMatchObject({ callerPolicy: SCHED_OTHER, batchedCaller: false, earlyPolicy: SCHED_BATCH });
    // SCHED_IDLE (set by someone else) is not SCHED_OTHER: only ever moved from the default policy.
    expect(seen).toMatchObject({ idlePolicy: SCHED_IDLE, batchedIdle: false });
    expect(seen).toMatchObject({ latePolicyBefore: SCHED_OTHER, latePolicyAfterRescan: SCHED_BATCH });
    // The named workers at least, and the runtime's own (libuv, V8) threads besides.
    expect(seen.batched).toBeGreaterThanOrEqual(3);
    expect(seen.lowered).toBe(0);
    expect(seen.early).toBe(seen.caller);
  });

  it.runIf(onLinux)('batch without chrt on the PATH changes nothing, says why, and does not throw', async () => {
    const seen = await priorities(0, 'batch', { ...process.env, PATH: '/nonexistent', TP_HIDE_CHRT: '1' });
    expect(seen).toMatchObject({ earlyPolicy: SCHED_OTHER, latePolicyAfterRescan: SCHED_OTHER, batched: 0 });
    expect(seen.batchUnavailable).toBe('chrt (util-linux) is not installed');
  });

  it.runIf(onLinux)('a policy change that fails stops further attempts and is reported, never thrown', async () => {
    let calls = 0;
    const background = lowerBackgroundThreads({
      nice: 0,
      policy: 'batch',
      rescanMs: 3_600_000,
      setBatchPolicy: () => {
        calls += 1;
        return Promise.reject(Object.assign(new Error('sched_setscheduler: Operation not permitted'), { code: 'EPERM' }));
      },
    });
    await background.settled();
    const first = calls;
    expect(first).toBeGreaterThan(0);
    expect(background.batchUnavailable).toBe('sched_setscheduler: Operation not permitted');
    expect(background.batched.size).toBe(0);
    background.rescan();
    await background.settled();
    expect(calls).toBe(first);
    background.stop();
  });

  it('a thread list it cannot read lowers nothing and does not throw', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-threads-'));
    rmSync(dir, { recursive: true });
    const background = lowerBackgroundThreads({ nice: 10, taskDir: dir });
    expect(background.lowered.size).toBe(0);
    background.stop();
  });
});
