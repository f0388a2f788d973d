/**
 * The checks run by the simulator over the store: after every step (the new events against the
 * node and the chain, each touched stream in full, the node's books), the read models against a
 * fresh fold, and the trades at the end. A violation throws `Violation`, which stops the run.
 */
import { ORDER_STREAM_PREFIX, type OrderState } from '../aggregates/order/index.js';
import { compareReadModels } from '../audit/compareReadModels.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { ALL_PROJECTIONS } from '../projections/all.js';
import { activeTables } from '../projections/registry.js';
import { tradesProjection } from '../projections/trades.js';
import { Violation, type Sim } from './context.js';

async function newEvents(sim: Sim): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for (;;) {
    const batch = await sim.store.readAll(sim.lastPosition, 1000);
    if (batch.length === 0) return out;
    out.push(...batch);
    sim.lastPosition = (batch[batch.length - 1] as RecordedEvent).position;
  }
}

export async function checkStep(sim: Sim): Promise<void> {
  const events = await newEvents(sim);
  const streams = new Map<string, RecordedEvent[]>();
  for (const stream of new Set(events.filter((e) => e.stream.startsWith(ORDER_STREAM_PREFIX)).map((e) => e.stream))) {
    streams.set(stream, await sim.store.readStream(stream));
  }
  const violations = [
    ...sim.pendingViolations.splice(0),
    ...sim.checker.newEvents(events, (s) => streams.get(s) ?? []),
    ...sim.checker.nodeBooks(),
  ];
  if (violations.length > 0) throw new Violation(violations);
}

/** Invariant 8: the real projection runner's read models equal a fresh fold of the log. */
export async function checkReadModels(sim: Sim): Promise<void> {
  await sim.runner.catchUp();
  const findings = await compareReadModels({ store: sim.store, readDb: sim.runner.db, projections: ALL_PROJECTIONS });
  sim.checker.counts['inv8_read_models_equal_fresh_fold'] = (sim.checker.counts['inv8_read_models_equal_fresh_fold'] ?? 0) + 1;
  if (findings.length > 0) throw new Violation(findings.map((f) => `inv8 ${f.kind}: ${f.message}`));
}

/** Invariant 6: at most one trade per order, and every trade's order has its PayoutConfirmed. */
export function checkTrades(sim: Sim, states: ReadonlyMap<string, OrderState>): void {
  const tables = activeTables(sim.runner.db, tradesProjection);
  if (tables === null) throw new Violation(['inv6: the trades read model does not exist']);
  const rows = sim.runner.db.prepare(`SELECT trade_id, order_id FROM ${tables['trades'] as string}`).all() as { trade_id: string; order_id: string }[];
  sim.checker.counts['inv6_one_trade_per_confirmed_payout'] = (sim.checker.counts['inv6_one_trade_per_confirmed_payout'] ?? 0) + rows.length + 1;
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.order_id)) throw new Violation([`inv6: two trades for ${row.order_id}`]);
    seen.add(row.order_id);
    if (states.get(row.order_id)?.status !== 'completed') throw new Violation([`inv6: trade ${row.trade_id} for ${row.order_id}, which is not completed`]);
  }
  const completed = [...states].filter(([, s]) => s.status === 'completed').length;
  if (completed !== rows.length) throw new Violation([`inv6: ${completed} completed orders but ${rows.length} trades`]);
}

/**
 * At quiescence, the chain's half of invariant 9 as liveness: an order whose preimage a claim made
 * public on the chain (by its seller, under its hashlock) owes the buyer the RTC: it is completed,
 * or parked for an operator, never expired or cancelled.
 */
export function checkClaimsPaid(sim: Sim, states: ReadonlyMap<string, OrderState>): void {
  const out: string[] = [];
  for (const swap of sim.chain.allSwaps()) {
    if (!swap.claimed) continue;
    for (const [orderId, state] of states) {
      const hash = state.status === 'settlement_recovery' ? state.parked.htlcHash : 'htlcHash' in state ? state.htlcHash : null;
      if (hash === null || hash !== swap.terms.hashlock.slice(2).toLowerCase()) continue;
      sim.checker.counts['inv9_claimed_on_chain_pays_buyer'] = (sim.checker.counts['inv9_claimed_on_chain_pays_buyer'] ?? 0) + 1;
      if (state.status !== 'completed' && state.status !== 'settlement_recovery') out.push(`inv9: ${orderId} is ${state.status} although swap ${swap.swapId} under its hashlock was claimed on the chain`);
    }
  }
  if (out.length > 0) throw new Violation(out);
}
