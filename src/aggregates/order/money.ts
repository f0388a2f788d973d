/**
 * Money is integers only: micro-RTC (1 RTC = 1,000,000) and nano-quote per RTC (1 quote unit =
 * 1,000,000,000). Decimals are parsed exactly and refused, never rounded, beyond their precision.
 */

export const MICRO_PER_RTC = 1_000_000n;
export const NANO_PER_QUOTE = 1_000_000_000n;
export const RTC_DECIMALS = 6;
export const QUOTE_DECIMALS = 9;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * Parses a non-negative decimal (string, or a JSON number written in decimal) into integer units
 * with `decimals` places. Returns null for anything that is not such a decimal or has more places.
 */
export function parseDecimalUnits(input: unknown, decimals: number): bigint | null {
  const text = typeof input === 'number' ? numberToDecimalText(input) : typeof input === 'string' ? input.trim() : null;
  if (text === null) return null;
  const match = DECIMAL.exec(text);
  if (!match) return null;
  const whole = match[1] as string;
  const fraction = match[2] ?? '';
  if (whole.length > 30) return null;
  const trimmedFraction = fraction.replace(/0+$/, '');
  if (trimmedFraction.length > decimals) return null;
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(trimmedFraction.padEnd(decimals, '0') || '0');
}

/** A JSON number as the decimal text it was written as; exponent forms beyond 1e21 are refused. */
function numberToDecimalText(value: number): string | null {
  if (!Number.isFinite(value) || value < 0) return null;
  const text = String(value);
  if (/e/i.test(text)) {
    // Small numbers like 1e-7 print in exponent form; expand them so precision checks still apply.
    const fixed = value.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
    return Number(fixed) === value ? fixed : null;
  }
  return text;
}

/** Integer units as a fixed decimal string: formatUnits(100000000n, 6) === "100.000000". */
export function formatUnits(units: bigint, decimals: number): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const scale = 10n ** BigInt(decimals);
  const whole = abs / scale;
  const fraction = (abs % scale).toString().padStart(decimals, '0');
  return `${negative ? '-' : ''}${whole}${decimals > 0 ? `.${fraction}` : ''}`;
}

export const formatRtc = (amountMicroRtc: bigint): string => formatUnits(amountMicroRtc, RTC_DECIMALS);
export const formatQuote = (amountNanoQuote: bigint): string => formatUnits(amountNanoQuote, QUOTE_DECIMALS);

/** round_half_up(amount_micro_rtc * price_nano / 1_000_000): the order's quote total in nano-quote. */
export function totalQuoteNano(amountMicroRtc: bigint, pricePerRtcNanoQuote: bigint): bigint {
  const product = amountMicroRtc * pricePerRtcNanoQuote;
  return (product + MICRO_PER_RTC / 2n) / MICRO_PER_RTC;
}
