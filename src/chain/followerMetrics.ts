import { Counter, Gauge, type Registry } from 'prom-client';

/** What was wrong with a log: bad input from the chain (set aside, or recorded for the order its hashlock names). */
export type IgnoredReason = 'malformed_order_id' | 'unknown_order' | 'duplicate_swap_id' | 'undecodable_log';

export interface FollowerMetrics {
  observed(kind: string): void;
  ignored(reason: IgnoredReason, count?: number): void;
  reorg(): void;
  alert(code: string): void;
  pass(outcome: string): void;
  heights(checkpoint: bigint | null, finalized: bigint | null): void;
  clockDrift(seconds: number): void;
}

/** One set per registry: a second follower on the same registry shares the metrics, labelled by chain. */
export function createFollowerMetrics(registry: Registry, chainId: number): FollowerMetrics {
  const chain = String(chainId);
  const reuse = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const observations = reuse('otc_ledger_quote_follower_observations_total', () => new Counter({
    name: 'otc_ledger_quote_follower_observations_total', help: 'Observations delivered by the chain follower, by kind',
    labelNames: ['chain_id', 'kind'] as const, registers: [registry],
  }));
  const ignored = reuse('otc_ledger_quote_follower_bad_logs_total', () => new Counter({
    name: 'otc_ledger_quote_follower_bad_logs_total',
    help: 'HTLC logs naming no known order, with a malformed order id, repeating a swap id, or undecodable (set aside unless their hashlock names an order)',
    labelNames: ['chain_id', 'reason'] as const, registers: [registry],
  }));
  const reorgs = reuse('otc_ledger_quote_follower_reorgs_total', () => new Counter({
    name: 'otc_ledger_quote_follower_reorgs_total', help: 'Reorganisations detected at the checkpoint (the follower stopped and rescanned)',
    labelNames: ['chain_id'] as const, registers: [registry],
  }));
  const passes = reuse('otc_ledger_quote_follower_passes_total', () => new Counter({
    name: 'otc_ledger_quote_follower_passes_total', help: 'Follower passes by outcome (advanced, caught_up, not_leader, reorg, stalled)',
    labelNames: ['chain_id', 'outcome'] as const, registers: [registry],
  }));
  const height = reuse('otc_ledger_quote_follower_block', () => new Gauge({
    name: 'otc_ledger_quote_follower_block', help: 'The follower checkpoint and the finalized block it follows',
    labelNames: ['chain_id', 'which'] as const, registers: [registry],
  }));
  const lag = reuse('otc_ledger_quote_follower_lag_blocks', () => new Gauge({
    name: 'otc_ledger_quote_follower_lag_blocks', help: 'Finalized blocks the follower has not read yet (finalized block minus checkpoint)',
    labelNames: ['chain_id'] as const, registers: [registry],
  }));
  const alerts = reuse('otc_ledger_quote_follower_alerts_total', () => new Counter({
    name: 'otc_ledger_quote_follower_alerts_total', help: 'Follower alerts by code (wrong_chain_id, reorg_detected, range_capped, clock_drift, reorged_observation_acted_on)',
    labelNames: ['chain_id', 'code'] as const, registers: [registry],
  }));
  const drift = reuse('otc_ledger_quote_chain_clock_drift_seconds', () => new Gauge({
    name: 'otc_ledger_quote_chain_clock_drift_seconds', help: "The ledger's clock minus the quote chain head's block time",
    labelNames: ['chain_id'] as const, registers: [registry],
  }));
  return {
    clockDrift: (seconds) => drift.set({ chain_id: chain }, seconds),
    observed: (kind) => observations.inc({ chain_id: chain, kind }),
    ignored: (reason, count = 1) => {
      if (count > 0) ignored.inc({ chain_id: chain, reason }, count);
    },
    reorg: () => reorgs.inc({ chain_id: chain }),
    alert: (code) => alerts.inc({ chain_id: chain, code }),
    pass: (outcome) => passes.inc({ chain_id: chain, outcome }),
    heights: (checkpoint, finalized) => {
      if (checkpoint !== null) height.set({ chain_id: chain, which: 'checkpoint' }, Number(checkpoint));
      if (finalized !== null) height.set({ chain_id: chain, which: 'finalized' }, Number(finalized));
      if (checkpoint !== null && finalized !== null) lag.set({ chain_id: chain }, Math.max(0, Number(finalized - checkpoint)));
    },
  };
}
