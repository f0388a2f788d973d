import {
  START,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type EventStoreDBClient,
  type Position,
} from '@eventstore/db-client';
import { backoffDelayMs, isTransient, sleep } from './esdbRetry.js';
import { commitPositionOf, toRecordedEvent } from './esdbMapping.js';
import type { RecordedEvent, Subscription, SubscriptionHandler } from './types.js';

export interface CatchUpOptions {
  readonly client: EventStoreDBClient;
  /** Server-side stream-name filter: only these streams travel over the wire. */
  readonly prefixes: readonly string[];
  readonly isLedgerStream: (stream: string) => boolean;
  readonly headPosition: () => Promise<bigint>;
  /** Back-off between resubscribes; there is no last attempt. */
  readonly resubscribe: ResubscribePolicy;
  readonly batchSize: number;
  /** Checkpoint interval multiplier passed to the server's filter. */
  readonly checkpointInterval: number;
}

/**
 * A subscription that loses the server resubscribes for ever: a ledger whose read models stop
 * following the log is worse than one that waits. The wait between tries doubles up to the cap.
 */
export interface ResubscribePolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
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
 * A catch-up subscription to $all that survives the server: when the node restarts, leadership
 * moves or the cluster is gone for a while, it resubscribes (capped back-off, for ever) from its
 * resume point, so nothing is lost; events the server sends again are dropped by their full
 * (commit, prepare) position, so nothing is duplicated.
 *
 * Two positions, kept apart on purpose. `lastDelivered` is the position of the last event the
 * handler finished: only events move it, and it alone decides what is a repeat. `resumeFrom` is
 * where the next subscription starts: events and checkpoints move it, so a long run of filtered-out
 * events is not read again. A checkpoint never moves `lastDelivered`: a real server's checkpoints
 * carry prepare position 0, and KurrentDB 25.0.0 sends one at the commit position of the *next*
 * record; comparing commit positions alone would drop that record.
 */
export function catchUpSubscription(options: CatchUpOptions, afterPosition: bigint, handler: SubscriptionHandler): CatchUpRun {
  return new CatchUpRun(options, afterPosition, handler);
}

export class CatchUpRun implements Subscription {
  private readonly controller = new AbortController();
  private readonly done: Promise<void>;
  private lastDelivered: Position | null;
  private resumeFrom: Position | null;
  private current: AllStreamSubscription | null = null;
  /** Our head when the run began: reaching it means "caught up" even on servers that never say so. */
  private caughtUpTarget: bigint | null = null;
  private caughtUp = false;
  /** True from losing the server until the next subscription answers. */
  reconnecting = false;
  resubscribes = 0;

  constructor(
    private readonly options: CatchUpOptions,
    afterPosition: bigint,
    private readonly handler: SubscriptionHandler,
  ) {
    const start = afterPosition === 0n ? null : { commit: afterPosition, prepare: afterPosition };
    this.lastDelivered = start;
    this.resumeFrom = start;
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
    this.caughtUpTarget = await this.untilItAnswers(this.options.headPosition);
    if (this.caughtUpTarget === null) return;
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
        this.reconnecting = true;
        this.resubscribes += 1;
        await sleep(this.resubscribeDelayMs(failures), this.controller.signal);
      }
    }
  }

  /** Calls `action` until it succeeds or a non-transient error; null once stopped. */
  private async untilItAnswers<T>(action: () => Promise<T>): Promise<T | null> {
    for (let failures = 1; !this.stopped; failures++) {
      try {
        return await action();
      } catch (error) {
        if (!isTransient(error)) throw error;
        this.reconnecting = true;
        await sleep(this.resubscribeDelayMs(failures), this.controller.signal);
      }
    }
    return null;
  }

  private resubscribeDelayMs(failures: number): number {
    const { initialDelayMs, maxDelayMs } = this.options.resubscribe;
    return backoffDelayMs({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs, maxDelayMs }, failures);
  }

  /** One server subscription, read in batches until it fails, ends, or we stop. */
  private async follow(progress: { made: boolean }): Promise<void> {
    const subscription = this.open();
    this.current = subscription;
    const state: { error: unknown; ended: boolean } = { error: null, ended: false };
    subscription.on('error', (error) => (state.error = error));
    subscription.on('end', () => (state.ended = true));
    subscription.on('confirmation', () => (this.reconnecting = false));
    try {
      while (!this.stopped) {
        const items = readAvailable(subscription, this.options.batchSize);
        if (items.length > 0) {
          this.reconnecting = false;
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
        fromPosition: this.resumeFrom ?? START,
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
      if (item.event === undefined) continue;
      // Refuses a server that reports no $all position (older than 22.6) before anything relies on one.
      const position = { commit: commitPositionOf(item), prepare: item.event.position?.prepare ?? 0n };
      const lastSeen = pending[pending.length - 1]?.position ?? this.lastDelivered;
      // After a resubscribe the server may send again what was already handled: drop it.
      if (lastSeen !== null && !isAfter(position, lastSeen)) continue;
      if (!this.options.isLedgerStream(item.event.streamId)) continue;
      pending.push({ event: toRecordedEvent(item), position });
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
    this.lastDelivered = last.position;
    if (this.resumeFrom === null || isAfter(last.position, this.resumeFrom)) this.resumeFrom = last.position;
    progress.made = true;
    this.checkCaughtUp();
  }

  private applyMarker(marker: Marker, progress: { made: boolean }): void {
    if (this.stopped) return;
    if (marker.kind === 'caught_up') return this.reportCaughtUp();
    if (this.resumeFrom === null || isAfter(marker.position, this.resumeFrom)) {
      // Every ledger event before a checkpoint has been handled by now, so resuming from it is
      // safe; the server's resume from a position is exclusive of exactly that position only.
      this.resumeFrom = marker.position;
      progress.made = true;
      this.checkCaughtUp();
    }
  }

  private checkCaughtUp(): void {
    const at = this.resumeFrom?.commit ?? 0n;
    if (this.caughtUpTarget !== null && at >= this.caughtUpTarget) this.reportCaughtUp();
  }

  private reportCaughtUp(): void {
    if (this.caughtUp || this.stopped) return;
    this.caughtUp = true;
    this.handler.onCaughtUp?.(this.lastDelivered?.commit ?? 0n);
  }
}

/** $all order: by commit position, then prepare position (events of one transaction share a commit). */
export function isAfter(a: Position, b: Position): boolean {
  return a.commit > b.commit || (a.commit === b.commit && a.prepare > b.prepare);
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
