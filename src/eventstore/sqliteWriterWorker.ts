/**
 * The SQLite event store's writer thread (issue 14 lever 3): its own connection to the file, the
 * shared write path, one group per message. BEGIN IMMEDIATE, the inserts, COMMIT with its fsync and
 * WAL auto-checkpoints (which run on the connection that commits) all happen here, off the event
 * loop; the reply is posted only after COMMIT returned.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedAnswers } from './sharedAnswers.js';
import { openWriterConnection, SqliteWritePath, toWire, type AppendRequest, type StorageFaultDrill } from './sqliteWritePath.js';
import { nameThisThread } from '../threadName.js';

export interface WriterWorkerData {
  readonly path: string;
  readonly busyTimeoutMs: number;
  /** Where a group asking for a shared answer gets it (see sharedAnswers.ts). */
  readonly answers: SharedArrayBuffer;
}

export type WriterRequest =
  | { readonly type: 'commit'; readonly seq: number; readonly group: readonly AppendRequest[]; readonly shared: boolean }
  | { readonly type: 'fault'; readonly fault: StorageFaultDrill }
  | { readonly type: 'close' };

export interface WriterReply {
  readonly seq: number;
  readonly outcomes: ReturnType<typeof toWire>[];
}

const port = parentPort;
if (port === null) throw new Error('sqliteWriterWorker runs only as a worker thread');

// Its name in `top -H`, `ps -L` and the trade benchmark's per-thread figures.
nameThisThread('event-writer');
const { path, busyTimeoutMs, answers: answerBuffer } = workerData as WriterWorkerData;
const answers = new SharedAnswers(answerBuffer);
const db = openWriterConnection(path, busyTimeoutMs);
const writePath = new SqliteWritePath(db);

// Anything thrown here (it should not: commit() catches every SQLite error) ends the thread, and
// the store then fails every pending append rather than leave one unanswered.
port.on('message', (request: WriterRequest) => {
  if (request.type === 'commit') {
    const outcomes = writePath.commit(request.group);
    // Committed appends answer through shared memory; anything else (a failure) as a message.
    if (request.shared && answers.write(request.seq, outcomes)) return;
    const reply: WriterReply = { seq: request.seq, outcomes: outcomes.map(toWire) };
    port.postMessage(reply);
  } else if (request.type === 'fault') {
    writePath.simulateFault(request.fault);
  } else {
    db.close();
    port.close();
  }
});
