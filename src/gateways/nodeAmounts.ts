/**
 * The node speaks RTC as JSON floats and converts them with Python's `int(x * 1e6)`, which truncates
 * (1.005 * 1e6 is 1004999.9999999999 in binary floating point). These helpers keep the ledger's side in
 * exact micro-RTC: an amount is sent as a float the node's own arithmetic turns back into exactly the
 * intended micro value, and every float the node returns is read back as integer micro-RTC.
 */
import { formatRtc, MICRO_PER_RTC } from '../aggregates/order/money.js';

/**
 * How many ulps above the nearest float we try before giving up. One suffices up to 10^9 RTC (the
 * property test covers that range); far beyond it, doubles are too sparse for some micro values.
 */
const MAX_NUDGES = 8;

/** What the node computes from a float it receives: `int(x * 1e6)`, IEEE double arithmetic. */
export const nodeMicroOfFloat = (rtc: number): bigint => BigInt(Math.trunc(rtc * 1_000_000));

/**
 * The RTC float to send for `amountMicroRtc`: the nearest float when the node's truncation gives it
 * back exactly, otherwise the next floats up (whose decimal text still starts with the same six
 * places). Null when no such float exists (negative, or too large for a double to carry).
 */
export function toNodeRtc(amountMicroRtc: bigint): number | null {
  if (amountMicroRtc < 0n || amountMicroRtc > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  let candidate = Number(formatRtc(amountMicroRtc));
  for (let attempt = 0; attempt < MAX_NUDGES; attempt += 1) {
    if (nodeMicroOfFloat(candidate) === amountMicroRtc && decimalMicroOf(candidate) === amountMicroRtc) return candidate;
    candidate = nextFloatUp(candidate);
  }
  return null;
}

/**
 * Integer micro-RTC from an RTC amount the node sent or received (a JSON number or a decimal string),
 * truncated to six places like the node's `int(x * 1e6)` but from the decimal text, so without its
 * floating-point error. Null for anything that is not a finite non-negative decimal.
 */
export function decimalMicroOf(value: unknown): bigint | null {
  const text = typeof value === 'number' ? floatText(value) : typeof value === 'string' ? value.trim() : null;
  if (text === null) return null;
  const match = /^(\d{1,30})(?:\.(\d+))?$/.exec(text);
  if (!match) return null;
  const whole = BigInt(match[1] as string);
  const fraction = (match[2] ?? '').slice(0, 6).padEnd(6, '0');
  return whole * MICRO_PER_RTC + BigInt(fraction);
}

/** Micro-RTC as the RTC float the node replies with (`amount_i64 / 1e6`); exact below 2^53 µRTC. */
export const rtcFloatOf = (amountMicroRtc: bigint): number => Number(amountMicroRtc) / 1_000_000;

function floatText(value: number): string | null {
  if (!Number.isFinite(value) || value < 0) return null;
  const text = String(value);
  // Tiny values print as 1e-7; toFixed gives their plain decimal form (enough places to truncate).
  if (/e-/i.test(text)) return value.toFixed(20);
  return /e/i.test(text) ? null : text;
}

function nextFloatUp(value: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}
