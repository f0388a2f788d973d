import type { RecordedEvent, Subscription, SubscriptionHandler } from './types.js';

export interface FollowOptions {
  readonly afterPosition: bigint;
  readonly handler: SubscriptionHandler;
  readonly read: (afterPosition: bigint, maxCount: number) => Promise<RecordedEvent[]>;
  /** Resolves when new events may exist (an append here, a poll tick, or the abort). */
  readonly waitForAppend: (signal: AbortSignal) => Promise<void>;
  readonly batchSize?: number;
}

/**
 * A catch-up subscription over a pull-based log: read batches until the head, report caught-up,
 * then wait for appends. Used by adapters whose store has no push subscription of its own.
 */
export function followLog(options: FollowOptions): Subscription {
  const controller = new AbortController();
  // Large enough that a subscriber that fell behind catches up in few transactions; a caught-up
  // subscriber sees small batches anyway, since each holds only what was appended meanwhile.
  const batchSize = options.batchSize ?? 2000;
  const run = async (): Promise<void> => {
    let position = options.afterPosition;
    let caughtUpReported = false;
    while (!controller.signal.aborted) {
      const events = await options.read(position, batchSize);
      if (controller.signal.aborted) return;
      if (events.length > 0) {
        await options.handler.onEvents(events);
        position = (events[events.length - 1] as RecordedEvent).position;
        continue;
      }
      if (!caughtUpReported) {
        caughtUpReported = true;
        options.handler.onCaughtUp?.(position);
      }
      await options.waitForAppend(controller.signal);
    }
  };
  const done = run().catch((error: unknown) => {
    if (!controller.signal.aborted) options.handler.onError?.(error);
  });
  return {
    async stop() {
      controller.abort();
      await done;
    },
  };
}
