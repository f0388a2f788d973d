import { Gauge, type Registry } from 'prom-client';
import type { EventStore } from './types.js';

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
