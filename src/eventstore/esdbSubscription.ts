import {
  START,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type EventStoreDBClient,
  type Position,
} from '@eventstore/db-client';
import { backoffDelayMs, isTransient, sleep, withRetry, type RetryPolicy } from './esdbRetry.js';
import { commitPositionOf, toRecordedEvent } from './esdbMapping.js';
import type { RecordedEvent, Subscription, SubscriptionHandler } from './types.js';

export interface CatchUpOptions {
  readonly client: EventStoreDBClient;
  /** Server-side stream-name filter: only these streams travel over the wire. */
  readonly prefixes: readonly string[];
  readonly isLedgerStream: (stream: string) => boolean;
  readonly headPosition: () => Promise<bigint>;
  readonly retry: RetryPolicy;
  readonly batchSize: number;
  /** Checkpoint interval multiplier passed to the server's filter. */
  readonly checkpointInterval: number;
}

/** Markers pushed into the client's stream in order with its events (see `open`). */
type Marker = { readonly kind: 'checkpoint'; readonly position: Position } | { readonly kind: 'caught_up' };
type Item = AllStreamResolvedEvent | Marker;
interface Pending {
  readonly event: RecordedEvent;
  readonly position: Position;
}

class HandlerFailed {
  constructor(readonly error: unknown) {}
}

class ServerEndedSubscription extends Error {
  constructor() {
    super('the server ended the $all subscription');
  }
}

/**
 * A catch-up subscription to $all that survives the server: when the node restarts or leadership
 * moves, it resubscribes (bounded backoff) from the last position the handler finished, so nothing
 * is lost; events the server sends again are dropped by position, so nothing is duplicated.
 * Checkpoints move that resume point past long runs of filtered-out events.
 */
export function catchUpSubscription(options: CatchUpOptions, afterPosition: bigint, handler: SubscriptionHandler): Subscription {
  return new CatchUpRun(options, afterPosition, handler);
}

class CatchUpRun implements Subscription {
  private readonly controller = new AbortController();
  private readonly done: Promise<void>;
  private cursor: Position | null;
  private current: AllStreamSubscription | null = null;
  /** Our head when the run began: reaching it means "caught up" even on servers that never say so. */
  private caughtUpTarget: bigint | null = null;
  private caughtUp = false;

  constructor(
    private readonly options: CatchUpOptions,
    afterPosition: bigint,
    private readonly handler: SubscriptionHandler,
  ) {
    this.cursor = afterPosition === 0n ? null : { commit: afterPosition, prepare: afterPosition };
    this.done = this.run().catch((error: unknown) => {
      if (!this.stopped) this.handler.onError?.(error instanceof HandlerFailed ? error.error : error);
    });
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.current?.unsubscribe().catch(() => undefined);
    await this.done;
  }

  private get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  private async run(): Promise<void> {
    const { retry } = this.options;
    this.caughtUpTarget = await withRetry(retry, this.options.headPosition, this.controller.signal);
    this.checkCaughtUp();
    let failures = 0;
    while (!this.stopped) {
      const progress = { made: false };
      try {
        await this.follow(progress);
      } catch (error) {
        if (error instanceof HandlerFailed || this.stopped) throw error;
        if (!isTransient(error) && !(error instanceof ServerEndedSubscription)) throw error;
        failures = progress.made ? 1 : failures + 1;
        if (failures >= retry.maxAttempts) throw error;
        await sleep(backoffDelayMs(retry, failures), this.controller.signal);
      }
    }
  }

  /** One server subscription, read in batches until it fails, ends, or we stop. */
  private async follow(progress: { made: boolean }): Promise<void> {
    const subscription = this.open();
    this.current = subscription;
    const state: { error: unknown; ended: boolean } = { error: null, ended: false };
    subscription.on('error', (error) => (state.error = error));
    subscription.on('end', () => (state.ended = true));
    try {
      while (!this.stopped) {
        const items = readAvailable(subscription, this.options.batchSize);
        if (items.length > 0) {
          await this.process(items, progress);
          continue;
        }
        if (state.error !== null) throw state.error;
        if (state.ended) throw new ServerEndedSubscription();
        await waitForActivity(subscription, this.controller.signal);
      }
    } finally {
      this.current = null;
      await subscription.unsubscribe().catch(() => undefined);
    }
  }

  /**
   * Checkpoints and caught-up arrive as callbacks while the client parses a message; pushing them
   * into the same readable stream keeps them in order with the events around them, so a marker is
   * acted on only after every event before it has been handled.
   */
  private open(): AllStreamSubscription {
    const subscription = this.options.client.subscribeToAll(
      {
        fromPosition: this.cursor ?? START,
        filter: streamNameFilter({
          prefixes: [...this.options.prefixes],
          checkpointInterval: this.options.checkpointInterval,
          checkpointReached: (source, position) => {
            source.push({ kind: 'checkpoint', position } satisfies Marker);
          },
        }),
      },
      { highWaterMark: this.options.batchSize },
    );
    subscription.on('caughtUp', () => subscription.push({ kind: 'caught_up' } satisfies Marker));
    return subscription;
  }

  private async process(items: readonly Item[], progress: { made: boolean }): Promise<void> {
    let pending: Pending[] = [];
    for (const item of items) {
      if ('kind' in item) {
        await this.deliver(pending, progress);
        pending = [];
        this.applyMarker(item, progress);
        continue;
      }
      const commit = commitPositionOf(item);
      const lastSeen = pending[pending.length - 1]?.position.commit ?? this.cursor?.commit ?? -1n;
      // After a resubscribe the server may send again what was already handled: drop it.
      if (commit <= lastSeen || item.event === undefined || !this.options.isLedgerStream(item.event.streamId)) continue;
      pending.push({ event: toRecordedEvent(item), position: item.event.position });
    }
    await this.deliver(pending, progress);
  }

  private async deliver(pending: readonly Pending[], progress: { made: boolean }): Promise<void> {
    const last = pending[pending.length - 1];
    if (last === undefined || this.stopped) return;
    try {
      await this.handler.onEvents(pending.map((p) => p.event));
    } catch (error) {
      throw new HandlerFailed(error);
    }
    this.cursor = last.position;
    progress.made = true;
    this.checkCaughtUp();
  }

  private applyMarker(marker: Marker, progress: { made: boolean }): void {
    if (this.stopped) return;
    if (marker.kind === 'caught_up') return this.reportCaughtUp();
    if (this.cursor === null || marker.position.commit > this.cursor.commit) {
      // Every ledger event up to a checkpoint has been handled by now, so resuming after it is safe.
      this.cursor = marker.position;
      progress.made = true;
    }
  }

  private checkCaughtUp(): void {
    const at = this.cursor?.commit ?? 0n;
    if (this.caughtUpTarget !== null && at >= this.caughtUpTarget) this.reportCaughtUp();
  }

  private reportCaughtUp(): void {
    if (this.caughtUp || this.stopped) return;
    this.caughtUp = true;
    this.handler.onCaughtUp?.(this.cursor?.commit ?? 0n);
  }
}

function readAvailable(subscription: AllStreamSubscription, max: number): Item[] {
  const items: Item[] = [];
  while (items.length < max) {
    const item = subscription.read() as Item | null;
    if (item === null) break;
    items.push(item);
  }
  return items;
}

/** Resolves when the subscription has something to read, failed, ended, or the run stopped. */
function waitForActivity(subscription: AllStreamSubscription, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const events = ['readable', 'error', 'end', 'close'] as const;
    const done = () => {
      for (const event of events) subscription.removeListener(event, done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    for (const event of events) subscription.on(event, done);
    signal.addEventListener('abort', done);
    if (signal.aborted) done();
  });
}
