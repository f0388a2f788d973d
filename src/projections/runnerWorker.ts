import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { followLog } from '../eventstore/follow.js';
import { SqliteEventStore } from '../eventstore/sqlite.js';
import type { Subscription, SubscriptionHandler } from '../eventstore/types.js';
import { ProjectionRunner } from './runner.js';
import type { FromWorker, ToWorker, WorkerSettings } from './workerProtocol.js';
import { nameThisThread } from '../threadName.js';

/**
 * The read-model writer's thread (issue 14 lever 1): a ProjectionRunner of its own over its own
 * connections to the events file (reads only: WAL shows it every committed append) and the read
 * DB. It tells the main thread its phase, each committed batch's last position and every failure;
 * the main thread reads the read DB through a connection of its own (workerRunner.ts).
 */

/**
 * The events file seen from this thread. Appends happen on the main thread, whose in-process wake
 * cannot reach here, so a caught-up subscription looks again on a short poll, or at once when the
 * main thread says a read is waiting for a position (min_position, read-your-writes).
 */
class FollowedEventLog extends SqliteEventStore {
  private readonly wakers = new Set<() => void>();

  constructor(path: string, private readonly followPollMs: number) {
    super({ path });
  }

  wake(): void {
    for (const waker of [...this.wakers]) waker();
  }

  override subscribeAll(afterPosition: bigint, handler: SubscriptionHandler): Subscription {
    return followLog({ afterPosition, handler, read: (after, max) => this.readAll(after, max), waitForAppend: (signal) => this.nextLook(signal) });
  }

  private nextLook(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.wakers.delete(finish);
        signal.removeEventListener('abort', finish);
        resolve();
      };
      const timer = setTimeout(finish, this.followPollMs);
      this.wakers.add(finish);
      signal.addEventListener('abort', finish);
    });
  }
}

function parentOf(): MessagePort {
  if (parentPort === null) throw new Error('runnerWorker.ts runs only as a worker thread');
  return parentPort;
}

// Its name in `top -H`, `ps -L` and the trade benchmark's per-thread figures.
nameThisThread('read-model');

const port = parentOf();
const settings = workerData as WorkerSettings;
const send = (message: FromWorker): void => port.postMessage(message);
const log = new FollowedEventLog(settings.eventsPath, settings.followPollMs);
const runner = new ProjectionRunner({
  store: log,
  db: settings.readDbPath,
  retryDelayMs: settings.retryDelayMs,
  onPhase: (phase) => send({ kind: 'phase', phase }),
  afterBatch: (position, checkpoints) =>
    send({ kind: 'batch', position: position.toString(), checkpoints: [...checkpoints].map(([name, at]) => [name, at.toString()]) }),
  onError: (error, projection) => send({ kind: 'error', projection, message: error instanceof Error ? error.message : String(error), code: codeOf(error) }),
});

function codeOf(error: unknown): string | null {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : null;
}

async function shutDown(): Promise<void> {
  await runner.close();
  await log.close();
  send({ kind: 'closed' });
  port.close();
}

port.on('message', (message: ToWorker) => {
  if (message.kind === 'wake') log.wake();
  else if (message.kind === 'retry') runner.retry(message.name);
  else if (message.kind === 'stop') void shutDown();
});
runner.start();
