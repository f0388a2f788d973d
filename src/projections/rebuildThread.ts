/**
 * The worker thread a server's rebuild runs in (rebuildInWorker.ts): its own connections to the
 * event store and the read DB, its own heap (capped by the parent's resourceLimits), so a rebuild
 * of a large log neither blocks the request thread nor grows the server's heap.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteEventStore } from '../eventstore/sqlite.js';
import { projectionByName } from './all.js';
import { rebuildProjections } from './rebuild.js';
import { openReadDb } from './registry.js';
import type { Projection } from './types.js';
import { threadErrorOf, type RebuildThreadReply, type RebuildThreadRequest } from './rebuildInWorker.js';

async function run(request: RebuildThreadRequest): Promise<RebuildThreadReply> {
  const projections = request.names.map((name) => projectionByName(name)).filter((p): p is Projection => p !== null);
  if (projections.length !== request.names.length) return { ok: false, error: { name: 'Error', message: `unknown projection in ${request.names.join(', ')}` } };
  const store = new SqliteEventStore({ path: request.storePath });
  const db = openReadDb(request.readDbPath);
  try {
    const results = await rebuildProjections({
      store,
      db,
      projections,
      owner: request.owner,
      ...(request.leaseMs === undefined ? {} : { leaseMs: request.leaseMs }),
      ...(request.batchSize === undefined ? {} : { batchSize: request.batchSize }),
      ...(request.threads === 2 ? { foldThread: { storePath: request.storePath } } : {}),
    });
    return { ok: true, results };
  } catch (error) {
    return { ok: false, error: threadErrorOf(error) };
  } finally {
    db.close();
    await store.close();
  }
}

const port = parentPort;
if (port !== null) {
  void run(workerData as RebuildThreadRequest).then((reply) => port.postMessage(reply));
}
