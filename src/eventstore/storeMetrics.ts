import { Counter, Gauge, type Registry } from 'prom-client';
import type { CommitSite } from './sqlite.js';
import type { EventStore } from './types.js';

/**
 * The SQLite store's transactions of appends by where they ran (issue 14 lever 3): `loop` on the
 * event loop's connection (the inline writer, the adaptive writer's lone appends), `thread` on the
 * writer thread. Pass the result as the store's onCommit. Both series exist from the start.
 */
export function storeCommitCounter(registry: Registry): (site: CommitSite) => void {
  const commits = new Counter({
    name: 'otc_ledger_store_commits',
    help: 'Event store transactions of appends since start, by where they committed: on the event loop or on the writer thread',
    labelNames: ['on'] as const,
    registers: [registry],
  });
  commits.inc({ on: 'loop' }, 0);
  commits.inc({ on: 'thread' }, 0);
  return (site) => commits.inc({ on: site });
}

/**
 * The event store's subscription health on /metrics (esdb; a local store reports nothing): how
 * many subscriptions are resubscribing right now, and how often that has happened since start.
 */
export function registerStoreHealthMetrics(registry: Registry, store: EventStore): void {
  if (store.health === undefined) return;
  const health = () => store.health?.() ?? { subscriptionsReconnecting: 0, resubscribes: 0 };
  new Gauge({
    name: 'otc_ledger_store_subscriptions_reconnecting',
    help: 'Event store subscriptions that lost the server and are resubscribing (they never give up)',
    registers: [registry],
    collect() {
      this.set(health().subscriptionsReconnecting);
    },
  });
  new Gauge({
    name: 'otc_ledger_store_resubscribes',
    help: 'Times an event store subscription resubscribed after losing the server, since start',
    registers: [registry],
    collect() {
      this.set(health().resubscribes);
    },
  });
}
