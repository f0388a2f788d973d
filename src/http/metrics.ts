import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ORDER_STATUSES } from '../aggregates/order/state.js';
import type { StepReport } from '../settlement/driver.js';

/** Where the gauges read their values at scrape time; bound by buildApp. */
export interface MetricSources {
  projectionLags(): Promise<readonly { name: string; lag: bigint }[]>;
  backlog(): Promise<{ inFlight: number; oldestIdleMs: number | null }>;
  ordersByStatus(): Promise<Readonly<Record<string, number>>>;
}

/**
 * The ledger's Prometheus metrics. Created before the ledger (its onStep feeds node_calls), then
 * handed to buildApp, which times commands and binds the gauges to the read side.
 */
export interface LedgerMetrics {
  readonly registry: Registry;
  /** Pass as createLedger's onStep: one count per node call, by step and outcome. */
  readonly onStep: (report: StepReport) => void;
  observeCommand(command: string, outcome: string, seconds: number): void;
  versionConflict(): void;
  bindSources(sources: MetricSources): void;
}

export function createLedgerMetrics(registry: Registry): LedgerMetrics {
  let sources: MetricSources | null = null;
  // The process itself: CPU, memory, handles, GC and event-loop delay (prom-client's defaults).
  collectDefaultMetrics({ register: registry });
  registerOrderGauges(registry, () => sources);
  const commandSeconds = new Histogram({
    name: 'otc_ledger_command_duration_seconds',
    help: 'Latency of order commands over HTTP, by command and outcome (ok or the error code)',
    labelNames: ['command', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const conflicts = new Counter({
    name: 'otc_ledger_version_conflicts_total',
    help: 'Commands that lost every append race (answered 409 version_conflict)',
    registers: [registry],
  });
  const nodeCalls = new Counter({
    name: 'otc_ledger_node_calls_total',
    help: 'Settlement steps performed against the node, by step and outcome',
    labelNames: ['step', 'outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'otc_ledger_projection_lag_events',
    help: 'Events between the log head and each read model',
    labelNames: ['projection'] as const,
    registers: [registry],
    async collect() {
      if (sources === null) return;
      this.reset();
      const lags = await sources.projectionLags().catch(() => []);
      for (const p of lags) this.set({ projection: p.name }, Number(p.lag));
    },
  });
  // Both backlog gauges come from one read per scrape: the first collect reads, the second reuses it.
  let backlogRead: ReturnType<MetricSources['backlog']> | null = null;
  const backlog = (from: MetricSources): ReturnType<MetricSources['backlog']> => {
    if (backlogRead === null) {
      backlogRead = from.backlog();
      setImmediate(() => {
        backlogRead = null;
      });
    }
    return backlogRead;
  };
  new Gauge({
    name: 'otc_ledger_reconciler_backlog_orders',
    help: 'Orders with an external step in flight',
    registers: [registry],
    async collect() {
      // A read model that is down (deleted, damaged) must not take the whole scrape with it.
      const read = sources === null ? null : await backlog(sources).catch(() => null);
      if (read !== null) this.set(read.inFlight);
    },
  });
  new Gauge({
    name: 'otc_ledger_reconciler_oldest_in_flight_age_seconds',
    help: 'Seconds since the oldest in-flight order last moved (0 when none)',
    registers: [registry],
    async collect() {
      const read = sources === null ? null : await backlog(sources).catch(() => null);
      if (read === null) return;
      this.set(read.oldestIdleMs === null ? 0 : read.oldestIdleMs / 1000);
    },
  });
  return {
    registry,
    onStep: (report) => nodeCalls.inc({ step: report.step, outcome: report.outcome }),
    observeCommand: (command, outcome, seconds) => commandSeconds.observe({ command, outcome }, seconds),
    versionConflict: () => conflicts.inc(),
    bindSources(next) {
      sources = next;
    },
  };
}

/**
 * Orders per status, read from the orders read model at scrape time. Every status is reported (0
 * when none), so an alert on settlement_recovery never sees a missing series; recovery also has a
 * gauge of its own, the one an operator pages on.
 */
function registerOrderGauges(registry: Registry, sourcesOf: () => MetricSources | null): void {
  let countsRead: Promise<Readonly<Record<string, number>> | null> | null = null;
  // A missing or damaged read model (503 read_model_unavailable) must not fail the whole scrape:
  // the gauges are left unset, and /ready already says why.
  const counts = (from: MetricSources): Promise<Readonly<Record<string, number>> | null> => {
    if (countsRead === null) {
      countsRead = from.ordersByStatus().catch(() => null);
      setImmediate(() => {
        countsRead = null;
      });
    }
    return countsRead;
  };
  new Gauge({
    name: 'otc_ledger_orders',
    help: 'Orders in each status, from the orders read model',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const sources = sourcesOf();
      if (sources === null) return;
      const byStatus = await counts(sources);
      if (byStatus === null) return;
      for (const status of ORDER_STATUSES) this.set({ status }, byStatus[status] ?? 0);
    },
  });
  new Gauge({
    name: 'otc_ledger_orders_in_recovery',
    help: 'Orders in settlement_recovery, waiting for the reconciler or an operator re-drive',
    registers: [registry],
    async collect() {
      const sources = sourcesOf();
      const byStatus = sources === null ? null : await counts(sources);
      if (byStatus !== null) this.set(byStatus['settlement_recovery'] ?? 0);
    },
  });
}
