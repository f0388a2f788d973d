/** The run's result: the event log's hash, counts, final statuses, and a violation's minimal trace. */
import { createHash } from 'node:crypto';
import type { RecordedEvent } from '../eventstore/types.js';
import type { Sim } from './context.js';

/** The trace lines about the orders and jobs the violation names (with every crash and restart). */
export function minimalTrace(sim: Sim, message: string, keep: number): string[] {
  const ids = [...new Set(message.match(/otc_[0-9a-f]{16}|job_[0-9a-f]{16}/g) ?? [])];
  for (const id of [...ids]) {
    if (id.startsWith('job_')) {
      const orderId = sim.checker.jobToOrder.get(id);
      if (orderId) ids.push(orderId);
    }
  }
  for (const [jobId, orderId] of sim.checker.jobToOrder) if (ids.includes(orderId)) ids.push(jobId);
  const lines = ids.length === 0 ? sim.trace : sim.trace.filter((line) => ids.some((id) => line.includes(id)) || line.includes('crash') || line.includes('restart'));
  return lines.slice(-keep);
}

/** sha256 over every event's position, stream, version, type, data and metadata. */
export async function eventLogHash(sim: Sim): Promise<{ hash: string; events: number }> {
  const hash = createHash('sha256');
  let events = 0;
  for (let after = 0n; ;) {
    const batch = await sim.store.readAll(after, 1000);
    if (batch.length === 0) break;
    for (const e of batch) {
      hash.update(`${e.position}|${e.stream}|${e.version}|${e.type}|${JSON.stringify(e.data)}|${JSON.stringify(e.metadata)}\n`);
      events += 1;
    }
    after = (batch[batch.length - 1] as RecordedEvent).position;
  }
  return { hash: hash.digest('hex'), events };
}

export async function finalStatuses(sim: Sim): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const state of (await sim.states()).values()) out[state.status] = (out[state.status] ?? 0) + 1;
  return out;
}
