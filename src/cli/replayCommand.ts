import { describeProblem } from '../orderStream/fold.js';
import { orderStream } from '../aggregates/order/events.js';
import { historyOf, orderAt, type HistoryEntry } from '../audit/replay.js';
import type { EventStore, JsonValue } from '../eventstore/types.js';
import { toOrderResource } from '../views/orderResource.js';
import type { Output } from './progress.js';

export interface ReplayArgs {
  readonly store: EventStore;
  readonly orderId: string;
  /** --at N: the order as it stood after event N. */
  readonly at?: bigint;
  readonly json: boolean;
}

/**
 * `otc-ledger replay <order_id> [--at N] [--json]`. Exit codes: 0 shown with a valid chain,
 * 1 unknown order or version beyond the stream, 2 the hash chain is broken.
 */
export async function runReplay(args: ReplayArgs, out: Output): Promise<number> {
  const events = await args.store.readStream(orderStream(args.orderId));
  if (events.length === 0) {
    out.write(args.json ? `${JSON.stringify({ ok: false, error: 'order_not_found' })}\n` : `order ${args.orderId} not found\n`);
    return 1;
  }
  const history = historyOf(args.orderId, events);
  if (args.at !== undefined) {
    const at = orderAt(events, args.at);
    if (at.kind !== 'found') {
      const reason = at.kind === 'beyond_stream' ? `the stream ends at version ${at.latestVersion}`
        : at.kind === 'corrupt' ? `the stream cannot be read at ${describeProblem(at.problem)}` : 'versions start at 1';
      out.write(args.json ? `${JSON.stringify({ ok: false, error: 'at_version_invalid', message: reason })}\n` : `no version ${args.at}: ${reason}\n`);
      return 1;
    }
    const order = toOrderResource(at.state, at.version, { updatedAt: at.updatedAt });
    out.write(args.json ? `${JSON.stringify({ ok: true, order, chain_valid: history.chain_valid }, null, 2)}\n` : describeOrder(order));
  } else if (args.json) {
    out.write(`${JSON.stringify({ ok: true, ...history }, null, 2)}\n`);
  } else {
    out.write(`order ${args.orderId}, ${events.length} events\n`);
    for (const entry of history.events) {
      out.write(`${timelineLine(entry)}\n`);
      if (entry.problem !== null) out.write(`      ! ${entry.problem.kind}: ${entry.problem.reason}\n`);
    }
  }
  if (!args.json) out.write(chainLine(history.chain_valid, history.chain_problem));
  return history.chain_valid && history.events.every((e) => e.problem === null) ? 0 : 2;
}

function chainLine(valid: boolean, problem: { version: number; problem: string } | null): string {
  return valid ? 'hash chain: valid\n' : `hash chain: BROKEN at version ${problem?.version}: ${problem?.problem}\n`;
}

const KEY_FIELDS = ['side', 'pair', 'amount_micro_rtc', 'price_per_rtc_nano_quote', 'taker_wallet', 'party', 'job_id', 'tx_hash', 'payout_key', 'quote_tx', 'reason', 'deadline', 'operator', 'step', 'outcome'];

function keyData(data: Record<string, JsonValue>): string {
  return KEY_FIELDS.filter((k) => data[k] !== undefined && data[k] !== null)
    .map((k) => `${k}=${typeof data[k] === 'string' ? data[k] : JSON.stringify(data[k])}`)
    .join(' ');
}

/** version, time, event, actor, status after, key data: one line per event. */
export function timelineLine(entry: HistoryEntry): string {
  return [
    `v${entry.version}`.padEnd(5),
    entry.recorded_at.padEnd(25),
    entry.type.padEnd(27),
    entry.actor.padEnd(44),
    `→ ${entry.status_after}`.padEnd(22),
    keyData(entry.data),
  ].join(' ').trimEnd();
}

function describeOrder(order: ReturnType<typeof toOrderResource>): string {
  const lines = Object.entries(order).map(([k, v]) => `  ${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  return `order ${order.order_id} at version ${order.version}\n${lines.join('\n')}\n`;
}
