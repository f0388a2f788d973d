import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { runEventStoreContract } from './contract.js';

runEventStoreContract('sqlite :memory:', async () => {
  const store = new SqliteEventStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});

// Every writer (issue 14 lever 3): the same contract whether appends commit on the event loop, on
// the writer thread, or adaptively on either.
for (const writer of ['inline', 'worker', 'adaptive'] as const) {
  runEventStoreContract(`sqlite temp file, ${writer} writer`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otc-ledger-contract-'));
    // A short poll keeps the file-backed subscription cases quick; appends notify in-process anyway.
    const store = new SqliteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 20, writer });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
}
