import type { AppDeps } from '../deps.js';
import type { OrderView } from '../present.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Names the ledger command a route runs, for the latency metric. */
    command?: string;
  }
}

/** What every routes plugin receives from buildApp. */
export interface RouteOptions {
  readonly deps: AppDeps;
  readonly view: OrderView;
  /** The one clock of the app: AppDeps.now, or the system clock. */
  readonly now: () => Date;
  /** The per-address limit of the public POSTs (one budget shared by all of them), or null when off. */
  readonly rateLimit: { readonly max: number; readonly timeWindow: number } | null;
}
