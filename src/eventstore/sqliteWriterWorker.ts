/**
 * The SQLite event store's writer thread (issue 14 lever 3): its own connection to the file, the
 * shared write path, one group per message. BEGIN IMMEDIATE, the inserts, COMMIT with its fsync and
 * WAL auto-checkpoints (which run on the connection that commits) all happen here, off the event
 * loop; the reply is posted only after COMMIT returned.
 */
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { SharedAnswers } from './sharedAnswers.js';
import { openWriterConnection, SqliteWritePath, toWire, type AppendRequest, type StorageFaultDrill } from './sqliteWritePath.js';

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

/**
 * Names this thread `event-writer` where Linux lets a thread rename itself (as the read-model
 * writer names itself `read-model`), so `top -H`, `ps -L` and the trade benchmark
 * (bench/trades.ts reads /proc/self/task/<tid>/comm) can tell it apart.
 */
const EVENT_WRITER_THREAD_NAME = 'event-writer';
try {
  writeFileSync('/proc/thread-self/comm', EVENT_WRITER_THREAD_NAME);
} catch {
  // Not Linux, or no /proc: only the name is missing.
}
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
