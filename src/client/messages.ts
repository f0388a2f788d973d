import { parseDecimalUnits, QUOTE_DECIMALS, RTC_DECIMALS } from '../aggregates/order/money.js';
import { sha256OfHex, type WalletKey } from './keys.js';

/**
 * The canonical signed message of each action (the protocol's "Wallet auth"): the object
 * `{action, order_id, timestamp, wallet, ...bound}` as compact JSON with keys sorted, where bound
 * fields are in the form the server reads them ("" when absent). Built here from the same inputs
 * the request body carries, so body and signature cannot drift apart.
 */

export type WalletAction = 'create_order' | 'match_order' | 'cancel_order' | 'confirm_settlement' | 'rearm_order';
export type BoundValue = string | number;
export type BoundFields = Readonly<Record<string, BoundValue>>;

export interface WalletAuth {
  readonly public_key: string;
  readonly signature: string;
  readonly timestamp: number;
}

/** The server's default order lifetime (seconds), signed when the caller gives none. */
export const DEFAULT_TTL_SECONDS = 604_800;

/** Compact JSON with keys sorted by code point; the bytes a wallet signs. */
export function canonicalJson(value: Readonly<Record<string, BoundValue>>): string {
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(value[k])}`).join(',')}}`;
}

export function signedMessage(action: WalletAction, orderId: string, wallet: string, timestamp: number, bound: BoundFields): string {
  return canonicalJson({ ...bound, action, order_id: orderId, timestamp, wallet });
}

export interface PlaceOrderInput {
  readonly side: 'buy' | 'sell';
  /** Default RTC/USDC. */
  readonly pair?: string;
  /** A decimal string, at most 6 decimals ("100", "0.5"). */
  readonly amountRtc: string;
  /** A decimal string, at most 9 decimals. */
  readonly pricePerRtc: string;
  readonly ttlSeconds?: number;
  readonly ethAddress?: string | null;
  /** A seller's own hashlock; without one the ledger generates the preimage and shows it once. */
  readonly htlcHash?: string | null;
}

export class InvalidAmountError extends Error {
  constructor(readonly code: 'amount_invalid' | 'price_invalid', field: string) {
    super(`${field} must be a decimal string`);
    this.name = 'InvalidAmountError';
  }
}

/** Exact integer units of a decimal string; never through a float. */
function units(text: string, decimals: number, code: 'amount_invalid' | 'price_invalid', field: string): number {
  const parsed = parseDecimalUnits(text, decimals);
  if (parsed === null) throw new InvalidAmountError(code, field);
  // Within the server's bounds (10,000 RTC; 1,000 per RTC) these are far below 2^53.
  return Number(parsed);
}

const orEmpty = (v: string | null | undefined): string => (v === undefined || v === null ? '' : v);

export function placeBound(input: PlaceOrderInput): BoundFields {
  return {
    side: input.side.toLowerCase(),
    pair: (input.pair ?? 'RTC/USDC').toUpperCase(),
    amount_micro_rtc: units(input.amountRtc, RTC_DECIMALS, 'amount_invalid', 'amountRtc'),
    price_per_rtc_nano_quote: units(input.pricePerRtc, QUOTE_DECIMALS, 'price_invalid', 'pricePerRtc'),
    ttl_seconds: input.ttlSeconds ?? DEFAULT_TTL_SECONDS,
    eth_address: orEmpty(input.ethAddress),
    htlc_hash: orEmpty(input.htlcHash),
  };
}

export const matchBound = (ethAddress?: string | null, htlcHash?: string | null): BoundFields => ({
  eth_address: orEmpty(ethAddress),
  htlc_hash: orEmpty(htlcHash),
});

export const confirmBound = (quoteTx: string, secretHex: string): BoundFields => ({
  quote_tx: quoteTx,
  secret_sha256: sha256OfHex(secretHex),
});

/**
 * Signing timestamps, one set per wallet: Ed25519 is deterministic, so two identical requests
 * signed in the same second would carry the same signature, and the server accepts a signature
 * once. Each signature of a wallet takes a second none of its recent ones took, counting back
 * from now and staying well inside the server's 300 s window.
 */
export class SigningClock {
  private static readonly SPAN_SECONDS = 240;
  private readonly used = new Map<string, Set<number>>();
  constructor(private readonly nowMs: () => number = () => Date.now()) {}

  next(wallet: string): number {
    const now = Math.floor(this.nowMs() / 1000);
    const used = this.used.get(wallet) ?? new Set<number>();
    this.used.set(wallet, used);
    for (const t of used) if (t < now - SigningClock.SPAN_SECONDS) used.delete(t);
    for (let t = now; t >= now - SigningClock.SPAN_SECONDS; t--) {
      if (!used.has(t)) {
        used.add(t);
        return t;
      }
    }
    throw new Error(`more than ${SigningClock.SPAN_SECONDS} signatures of one wallet in ${SigningClock.SPAN_SECONDS} s`);
  }
}

export function walletAuthFor(key: WalletKey, action: WalletAction, orderId: string, bound: BoundFields, timestamp: number, walletAsSent = key.wallet): WalletAuth {
  const message = signedMessage(action, orderId, walletAsSent, timestamp, bound);
  return { public_key: key.publicKeyHex, signature: key.sign(message), timestamp };
}
