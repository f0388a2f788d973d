import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fromWire, type AppendOutcome, type AppendRequest, type StorageFaultDrill } from './sqliteWritePath.js';
import type { WriterReply, WriterRequest, WriterWorkerData } from './sqliteWriterWorker.js';
import { StoreWriterStopped } from './storageFault.js';
import { SHARED_ANSWER_CAPACITY, SharedAnswers } from './sharedAnswers.js';

/**
 * The event loop's side of the writer thread: posts one group at a time, hands back each group's
 * outcomes once the worker's COMMIT returned. A worker that exits (crash, terminate, out of memory)
 * fails every group still waiting and every later one with StoreWriterStopped: nothing is ever
 * acknowledged that the worker did not report committed.
 */
export class SqliteWriterThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (o: AppendOutcome[]) => void; reject: (e: unknown) => void }>();
  private seq = 0;
  private stopped: StoreWriterStopped | null = null;
  private closing = false;
  private readonly exited: Promise<void>;
  private readonly answers = new SharedAnswers();

  constructor(data: Omit<WriterWorkerData, 'answers'>, onStopped: (error: StoreWriterStopped) => void) {
    this.worker = startWorker({ ...data, answers: this.answers.buffer });
    // Idle, the thread holds no process open (as the inline store holds nothing); it is ref'd
    // only while a group waits for its answer, so a caller's await always sees the reply.
    this.worker.unref();
    let lastError: unknown = null;
    this.worker.on('error', (error) => (lastError = error));
    this.exited = new Promise((resolve) => {
      this.worker.on('exit', (exitCode) => {
        this.stop(new StoreWriterStopped(this.closing ? 'closed' : describeExit(exitCode, lastError)), this.closing ? () => undefined : onStopped);
        resolve();
      });
    });
    this.worker.on('message', (reply: WriterReply) => this.answer(reply.seq, reply.outcomes.map(fromWire)));
  }

  /** Why appends are refused, once the worker is gone; null while it runs. */
  get failure(): StoreWriterStopped | null {
    return this.stopped;
  }

  commit(group: readonly AppendRequest[]): Promise<AppendOutcome[]> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => {
      const seq = ++this.seq;
      // The shared answer has one slot: only a group that is alone in flight may use it.
      const shared = this.waiting.size === 0 && group.length <= SHARED_ANSWER_CAPACITY;
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(seq, { resolve, reject });
      const lastAnswered = this.answers.lastAnswered();
      this.post({ type: 'commit', seq, group, shared });
      if (shared) this.answers.whenAnswered(seq, lastAnswered, (outcomes) => this.answer(seq, outcomes));
    });
  }

  /** A group's outcomes, by message or shared memory; nothing once the thread is gone (its waiters were failed). */
  private answer(seq: number, outcomes: AppendOutcome[]): void {
    const waiter = this.waiting.get(seq);
    if (waiter === undefined) return;
    this.waiting.delete(seq);
    if (this.waiting.size === 0) this.worker.unref();
    waiter.resolve(outcomes);
  }

  /** Applies the drill to the worker's connection, before any group posted after this call. */
  simulateFault(fault: StorageFaultDrill): void {
    this.post({ type: 'fault', fault });
  }

  /** After the last group's reply: the worker closes its connection and ends. */
  async close(): Promise<void> {
    this.closing = true;
    this.worker.ref();
    if (this.stopped === null) this.post({ type: 'close' });
    await this.exited;
  }

  /** For tests and drills: ends the thread at once, as a crash would. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }

  private post(request: WriterRequest): void {
    this.worker.postMessage(request);
  }

  private stop(error: StoreWriterStopped, onStopped: (error: StoreWriterStopped) => void): void {
    if (this.stopped !== null) return;
    this.stopped = error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    onStopped(error);
  }
}

function describeExit(exitCode: number, error: unknown): string {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : 'no error reported';
  return `the event store's writer thread exited (code ${exitCode}, ${reason})`;
}

/**
 * Built code (dist/) runs the .js next to this file; tests and tsx run the TypeScript source, so
 * the worker first registers tsx's loader (a worker does not inherit the parent's).
 */
function startWorker(workerData: WriterWorkerData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./sqliteWriterWorker.js', here), { workerData });
  const tsxApi = tsxEsmApiUrl(here);
  const entry = new URL('./sqliteWriterWorker.ts', here).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** tsx's ESM register API, by its package's own exports map (require.resolve would pick the CommonJS build). */
function tsxEsmApiUrl(from: string): string {
  const manifestPath = createRequire(from).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const entry = manifest.exports['./esm/api']?.import.default;
  if (entry === undefined) throw new Error('tsx has no ./esm/api export: cannot run the writer thread from TypeScript source');
  return pathToFileURL(join(dirname(manifestPath), entry)).href;
}
