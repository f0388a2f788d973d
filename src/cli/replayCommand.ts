import { describeProblem } from '../orderStream/fold.js';
import { orderStream } from '../aggregates/order/events.js';
import { formatQuote, formatRtc } from '../aggregates/order/money.js';
import { historyOf, orderAt, type HistoryEntry } from '../audit/replay.js';
import type { EventStore, JsonValue } from '../eventstore/types.js';
import { quoteCurrencyOf, toOrderResource } from '../views/orderResource.js';
import type { Output } from './progress.js';
import { paint, renderTable, type Cell, type Paint, type Tone } from './table.js';

export interface ReplayArgs {
  readonly store: EventStore;
  readonly orderId: string;
  /** --at N: the order as it stood after event N. */
  readonly at?: bigint;
  readonly json: boolean;
  /** Colour the table (a terminal without NO_COLOR); plain text otherwise. */
  readonly colour?: boolean;
}

/** Exit codes of `replay`: a broken chain is its own code so a script can tell it from a typo. */
export const REPLAY_EXIT = { ok: 0, notFound: 1, chainBroken: 2 } as const;

/**
 * `otc-ledger replay <order_id> [--at N] [--json]`. Exit codes: 0 shown with a valid chain,
 * 1 unknown order or version beyond the stream, 2 the hash chain is broken (in every output form).
 */
export async function runReplay(args: ReplayArgs, out: Output): Promise<number> {
  const events = await args.store.readStream(orderStream(args.orderId));
  if (events.length === 0) {
    out.write(args.json ? `${JSON.stringify({ ok: false, error: 'order_not_found' })}\n` : `order ${args.orderId} not found\n`);
    return REPLAY_EXIT.notFound;
  }
  const history = historyOf(args.orderId, events);
  const p = paint(args.colour === true && !args.json);
  if (args.at !== undefined) {
    const at = orderAt(events, args.at);
    if (at.kind !== 'found') {
      const reason = at.kind === 'beyond_stream' ? `the stream ends at version ${at.latestVersion}`
        : at.kind === 'corrupt' ? `the stream cannot be read at ${describeProblem(at.problem)}` : 'versions start at 1';
      out.write(args.json ? `${JSON.stringify({ ok: false, error: 'at_version_invalid', message: reason })}\n` : `no version ${args.at}: ${reason}\n`);
      return REPLAY_EXIT.notFound;
    }
    const order = toOrderResource(at.state, at.version, { updatedAt: at.updatedAt });
    out.write(args.json ? `${JSON.stringify({ ok: true, order, chain_valid: history.chain_valid }, null, 2)}\n` : describeOrder(order));
  } else if (args.json) {
    out.write(`${JSON.stringify({ ok: true, ...history }, null, 2)}\n`);
  } else {
    out.write(`${headline(args.orderId, history.events, p)}\n`);
    out.write(timelineTable(history.events, p));
    for (const entry of history.events) {
      if (entry.problem !== null) out.write(`${p('red', `! ${entry.problem.kind}: ${entry.problem.reason} (version ${entry.version})`)}\n`);
    }
  }
  if (!args.json) out.write(chainLine(history.chain_valid, history.chain_problem, p));
  // A broken chain, or an event the fold could not read, is the same verdict: do not trust this history.
  return history.chain_valid && history.events.every((e) => e.problem === null) ? REPLAY_EXIT.ok : REPLAY_EXIT.chainBroken;
}

function chainLine(valid: boolean, problem: { version: number; problem: string } | null, p: Paint): string {
  return valid
    ? `hash chain: ${p('green', 'valid')}\n`
    : `hash chain: ${p('red', `BROKEN at version ${problem?.version}: ${problem?.problem}`)}\n`;
}

/** `order otc_…: sell 100.000000 RTC at 0.100000000 USDC/RTC (RTC/USDC), 7 events, now completed`. */
function headline(orderId: string, entries: readonly HistoryEntry[], p: Paint): string {
  const placed = entries.find((e) => e.type === 'OrderPlaced')?.data;
  const last = entries.at(-1)?.status_after ?? 'unknown';
  const trade = placed === undefined ? '' : `: ${String(placed['side'])} ${rtc(placed['amount_micro_rtc'])} at ${price(placed['price_per_rtc_nano_quote'], placed['pair'])} (${String(placed['pair'])})`;
  return `${p('bold', `order ${orderId}`)}${trade}, ${entries.length} events, now ${p(statusTone(last) ?? 'bold', last)}`;
}

export const TIMELINE_HEADERS = ['v', 'recorded at', 'event', 'actor', 'status after', 'details'] as const;

/** One row per event: version, time, event, actor, status after, the data worth reading. */
export function timelineTable(entries: readonly HistoryEntry[], p: Paint): string {
  const pair = entries.find((e) => e.type === 'OrderPlaced')?.data['pair'];
  const rows = entries.map((e): Cell[] => [
    String(e.version),
    e.recorded_at,
    { text: e.type, tone: eventTone(e.type) },
    e.actor,
    { text: e.status_after, tone: statusTone(e.status_after) },
    details(e.data, pair),
  ]);
  return renderTable(TIMELINE_HEADERS, rows, p);
}

const FAILURES = new Set(['EscrowLockFailed', 'SettlementRecoveryRequired', 'PayoutVoided', 'NodeCallFailed', 'MatchAborted', 'SettlementReverted']);
const eventTone = (type: string): Tone | null => (FAILURES.has(type) ? 'red' : type === 'PayoutConfirmed' ? 'green' : null);

function statusTone(status: string): Tone | null {
  if (status === 'completed') return 'green';
  if (status === 'settlement_recovery' || status === 'rejected') return 'red';
  if (status === 'cancelled' || status === 'expired') return 'dim';
  return status.endsWith('_pending') || status === 'settling' || status === 'matching' ? 'yellow' : null;
}

const asBigInt = (v: JsonValue | undefined): bigint | null => (typeof v === 'string' && /^\d+$/.test(v) ? BigInt(v) : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : null);

function rtc(v: JsonValue | undefined): string {
  const units = asBigInt(v);
  return units === null ? String(v) : `${formatRtc(units)} RTC`;
}

function price(v: JsonValue | undefined, pair: JsonValue | undefined): string {
  const units = asBigInt(v);
  const quote = quoteCurrencyOf(typeof pair === 'string' ? pair : null) ?? 'quote';
  return units === null ? String(v) : `${formatQuote(units)} ${quote}/RTC`;
}

/** The fields worth a glance, money in RTC and quote units; everything else is in --json. */
const DETAIL_FIELDS: readonly [string, (v: JsonValue, pair: JsonValue | undefined) => string][] = [
  ['side', String], ['pair', String],
  ['amount_micro_rtc', (v) => rtc(v)],
  ['price_per_rtc_nano_quote', (v, pair) => price(v, pair)],
  ['taker_wallet', String], ['party', String], ['job_id', String], ['tx_hash', String], ['payout_key', String], ['quote_tx', String],
  ['reason', String], ['deadline', String], ['operator', String], ['step', String], ['outcome', String],
];

const DETAIL_LABELS: Readonly<Record<string, string>> = { amount_micro_rtc: 'amount', price_per_rtc_nano_quote: 'price' };

function details(data: Record<string, JsonValue>, pair: JsonValue | undefined): string {
  return DETAIL_FIELDS.filter(([k]) => data[k] !== undefined && data[k] !== null)
    .map(([k, show]) => `${DETAIL_LABELS[k] ?? k}=${show(data[k] as JsonValue, pair)}`)
    .join(' ');
}

function describeOrder(order: ReturnType<typeof toOrderResource>): string {
  const lines = Object.entries(order).map(([k, v]) => `  ${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  return `order ${order.order_id} at version ${order.version}\n${lines.join('\n')}\n`;
}
