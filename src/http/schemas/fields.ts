import { z } from 'zod';
import { ORDER_ID_PATTERN, PAIRS, type Pair, type Side } from '../../aggregates/order/events.js';
import { parseDecimalUnits } from '../../aggregates/order/money.js';

/**
 * Request fields as zod schemas whose issue messages are the api.md error codes: the error
 * handler answers with the first issue's message, and object fields are checked in key order, so
 * declaring fields in the order api.md lists their codes gives exactly that order.
 */

export const HEX64 = /^[0-9a-fA-F]{64}$/;
export const ETH_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** Ergo addresses are base58 (no 0, O, I, l). */
export const ERG_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{30,60}$/;
const PRINTABLE = /^[\x20-\x7E]+$/;

export const sideField = z
  .string({ error: 'side_invalid' })
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(['buy', 'sell'], { error: 'side_invalid' }))
  .meta({ description: '"buy" or "sell", any case' });

export const pairField = z
  .string({ error: 'pair_unsupported' })
  .transform((v) => v.toUpperCase())
  .pipe(z.enum(PAIRS as readonly [Pair, ...Pair[]], { error: 'pair_unsupported' }))
  .meta({ description: 'RTC/USDC, RTC/ETH or RTC/ERG, any case' });

/** Kept exactly as sent: the signature covers the wallet as the client wrote it. */
export const walletField = z
  .string({ error: 'wallet_required' })
  .min(1, 'wallet_required')
  .meta({ description: 'The native wallet: "RTC" + 40 hex digits' });

/** Passed to the ledger untouched: its checks give the 401 codes in api.md's order. */
export const walletAuthField = z.unknown().optional().meta({
  $ref: '#/components/schemas/WalletAuth',
  description: 'Ed25519 signature of the canonical message (see WalletAuth for the exact scheme and a worked example)',
});

/** A decimal string or JSON number, parsed to integer units without ever touching a float. */
export function decimalUnitsField(decimals: number, invalid: string, bounds: (units: bigint) => string | null) {
  return z
    .union([z.string(), z.number()], { error: invalid })
    .transform((raw, ctx) => {
      const units = parseDecimalUnits(raw, decimals);
      const problem = units === null ? invalid : bounds(units);
      if (problem !== null || units === null) {
        ctx.addIssue({ code: 'custom', message: problem ?? invalid });
        return z.NEVER;
      }
      return units;
    });
}

/** Optional text: absent, null and "" all mean "not given". */
export const optionalText = (code: string, pattern: RegExp, description: string) =>
  z
    .string({ error: code })
    .nullish()
    .transform((v) => (v === undefined || v === null || v === '' ? null : v))
    .refine((v) => v === null || pattern.test(v), code)
    .meta({ description });

export const ethAddressAnyPair = optionalText(
  'eth_address_invalid',
  new RegExp(`${ETH_ADDRESS.source}|${ERG_ADDRESS.source}`),
  'Where the quote currency is received: 0x + 40 hex (USDC, ETH) or a base58 address (ERG)',
);

export const htlcHashField = optionalText('htlc_hash_invalid', HEX64, 'sha256 of the seller\'s preimage, 64 hex; only a seller gives one');

export const quoteTxField = z
  .string({ error: 'quote_tx_required' })
  .min(1, 'quote_tx_required')
  .max(200, 'quote_tx_required')
  .regex(PRINTABLE, 'quote_tx_required')
  // Refused here, before the signature is checked and spent, rather than by the decider after.
  .refine((v) => v.trim() !== '', 'quote_tx_required')
  .meta({ description: 'The quote-currency transaction, 1 to 200 printable characters, not only spaces' });

export const secretField = z
  .string({ error: 'secret_required' })
  .min(1, 'secret_required')
  .regex(HEX64, 'secret_invalid_format')
  .meta({ description: 'The preimage, 64 hex' });

/** A query integer as text: `integerCode` when it is not one, `rangeCode` when below `min`. */
export function queryInt(integerCode: string, rangeCode: string, min: number, fallback: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string({ error: integerCode })
    .regex(/^\s*-?\d{1,15}\s*$/, integerCode)
    .transform((v) => Number(v.trim()))
    .refine((n) => n >= min, rangeCode)
    .transform((n) => Math.min(n, max))
    .optional()
    .transform((n) => n ?? fallback);
}

export const limitQuery = queryInt('limit_must_be_integer', 'limit_must_be_positive', 1, 50, 200).meta({
  description: 'Page size, default 50, capped at 200',
});
export const offsetQuery = queryInt('offset_must_be_integer', 'offset_must_be_non_negative', 0, 0).meta({ description: 'Default 0' });

export const minPositionQuery = z
  .string({ error: 'min_position_invalid' })
  .regex(/^\d{1,19}$/, 'min_position_invalid')
  .transform((v) => BigInt(v))
  .optional()
  .meta({ description: 'Wait (up to 5 s) until the read model has applied this global position, else 503 read_model_lagging' });

export const orderIdParam = z.object({
  // A malformed id names no order: 404, the same answer as an unknown one.
  id: z.string().regex(ORDER_ID_PATTERN, 'order_not_found').meta({ description: 'The order id, otc_ + 16 hex' }),
});

export type { Pair, Side };
