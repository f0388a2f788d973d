import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

/**
 * Building the app emits no deprecation warning: fastify warns once per process (FSTDEP023 for the
 * old top-level `disableRequestLogging`), so this file builds its first app here, with a listener
 * on process 'warning' from before. That per-request lines stay off is tests/http/logging.test.ts
 * ("exactly one line per request").
 */

const warnings: Array<{ name: string; code: string | undefined; message: string }> = [];
const onWarning = (w: Error & { code?: string }) => warnings.push({ name: w.name, code: w.code, message: w.message });
process.on('warning', onWarning);
let h: HttpHarness | undefined;
afterAll(async () => {
  process.off('warning', onWarning);
  await h?.close();
});

describe('building the app', () => {
  it('emits no fastify deprecation warning (FSTDEP*), and still answers', async () => {
    h = await startHttpHarness({ captureLogs: true });
    expect((await h.get('/health')).statusCode).toBe(200);
    // process.emitWarning delivers on a later tick.
    await nextTurn();
    expect(warnings.filter((w) => w.name === 'DeprecationWarning' || (w.code ?? '').startsWith('FST'))).toEqual([]);
  });
});
