import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { runEventStoreContract } from './contract.js';

runEventStoreContract('sqlite :memory:', async () => {
  const store = new SqliteEventStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});

runEventStoreContract('sqlite temp file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'otc-ledger-contract-'));
  // A short poll keeps the file-backed subscription cases quick; appends notify in-process anyway.
  const store = new SqliteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
