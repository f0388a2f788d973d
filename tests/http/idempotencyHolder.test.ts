import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIdempotencyStore } from '../../src/http/idempotency.js';
import { currentHolder } from '../../src/settlement/leaseHolder.js';

/**
 * Issue 13 part 2, applied to Idempotency-Key claims: a claim in flight is a lease on the key. The
 * claim of a process that is gone (killed mid-request) is abandoned at once, so the client's retry
 * runs instead of answering 409 idempotency_key_in_flight for two minutes; a live claim still holds.
 */
describe('idempotency claims die with the process that made them', () => {
  const scope = { key: 'k-1', method: 'POST', path: '/api/orders', wallet: '' };
  const path = () => join(mkdtempSync(join(tmpdir(), 'otc-idem-holder-')), 'idempotency.db');

  it('takes over at once the claim of an exited process, and never a live one before it is stale', () => {
    const file = path();
    const exitedPid = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const dead = createIdempotencyStore({ path: file, holder: { ...currentHolder(), pid: exitedPid, start: null } });
    const live = createIdempotencyStore({ path: file });
    const nowMs = Date.now();
    expect(dead.begin(scope, 'fp', nowMs)).toEqual({ kind: 'started' });
    expect(live.begin(scope, 'fp', nowMs + 10)).toEqual({ kind: 'started' });
    // Now the live process's claim: another live one waits for it.
    const other = createIdempotencyStore({ path: file });
    expect(other.begin(scope, 'fp', nowMs + 20)).toEqual({ kind: 'in_flight' });
    // Unless it is stale (the old rule, unchanged).
    expect(other.begin(scope, 'fp', nowMs + 200_000)).toEqual({ kind: 'started' });
    for (const s of [dead, live, other]) s.close();
  });
});
