/**
 * The folding half of the two-thread rebuild (rebuildPipeline.ts), run on a worker thread: reads
 * the log from its own connection to the event store, folds it window by window exactly as the
 * single-thread rebuild does (foldWindow over a RebuildFold), but records the copies' rows
 * (StatementRecorder) instead of writing them, and posts each window to the writing thread. At most
 * `windowsInFlight` windows are posted and not yet acknowledged, and one more folded and waiting to
 * be posted: the fold waits for the writer, so memory stays bounded however far ahead reading could run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteEventStore } from '../eventstore/sqlite.js';
import { projectionByName } from './all.js';
import type { CopyTarget } from './applyCopies.js';
import { foldWindow, loadNeeds, RebuildFold, syncReader } from './rebuildPass.js';
import { threadErrorOf, type FoldThreadReply, type FoldThreadRequest, type ParentMessage } from './rebuildPipeline.js';
import { StatementRecorder, transferablesOf } from './statementLog.js';
import type { Projection } from './types.js';

/** Counts the writer's acknowledgements; `room` settles once fewer than `limit` windows are unacknowledged. */
class Credit {
  private acknowledged = 0;
  private wake: (() => void) | null = null;
  constructor(private readonly limit: number) {}

  acknowledge(): void {
    this.acknowledged++;
    this.wake?.();
    this.wake = null;
  }

  /** Null when there is room for one more window; else a promise settled by the next acknowledgement. */
  room(sent: number): Promise<void> | null {
    if (sent - this.acknowledged < this.limit) return null;
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }
}

function targetsOf(request: FoldThreadRequest): CopyTarget[] {
  return request.targets.map(({ name, tables }) => {
    const projection: Projection | null = projectionByName(name);
    if (projection === null) throw new Error(`unknown projection ${name}`);
    return { projection, tables, position: request.after };
  });
}

async function run(request: FoldThreadRequest, post: (reply: FoldThreadReply, transfer?: ArrayBuffer[]) => void, credit: Credit): Promise<void> {
  const store = new SqliteEventStore({ path: request.storePath });
  try {
    const read = syncReader(store);
    if (read === null) throw new Error('the fold thread needs a store with synchronous reads');
    const targets = targetsOf(request);
    const fold = new RebuildFold(request.heldOrders);
    const recorder = new StatementRecorder();
    const db = recorder.asDb();
    let position = request.after;
    for (let sent = 0; ; ) {
      // The next window is folded while the writer writes the last one; only posting it waits for room.
      const window = foldWindow({ db, targets, fold, after: position, maxEvents: request.windowEvents, chunk: Math.min(request.windowEvents, request.chunkEvents), read });
      fold.trim();
      if (window.events > 0 || recorder.pending > 0) {
        const statements = recorder.take();
        for (let wait = credit.room(sent); wait !== null; wait = credit.room(sent)) await wait;
        post({ type: 'window', seq: ++sent, position: window.position, events: window.events, statements }, transferablesOf(statements));
      }
      await loadNeeds(store, fold, window.needs, window.position);
      if (window.events === 0 && window.needs.size === 0) {
        post({ type: 'end', position: window.position });
        return;
      }
      position = window.position;
    }
  } finally {
    await store.close();
  }
}

const port = parentPort;
if (port !== null) {
  const request = workerData as FoldThreadRequest;
  const credit = new Credit(request.windowsInFlight);
  port.on('message', (message: ParentMessage) => {
    if (message.type === 'ack') credit.acknowledge();
  });
  const post = (reply: FoldThreadReply, transfer?: ArrayBuffer[]): void => port.postMessage(reply, transfer);
  // The writing thread terminates this one once it has the end or the error.
  run(request, post, credit).catch((error: unknown) => post({ type: 'error', error: threadErrorOf(error) }));
}
