import { maxOrderTtlSecondsFor } from '../../settlement/steps.js';
import { z } from 'zod';
import type { Pair } from '../../aggregates/order/events.js';
import { MICRO_PER_RTC, NANO_PER_QUOTE, QUOTE_DECIMALS, RTC_DECIMALS } from '../../aggregates/order/money.js';
import { ORDER_STATUSES, type OrderStatus } from '../../aggregates/order/state.js';
import {
  decimalUnitsField,
  ERG_ADDRESS,
  ETH_ADDRESS,
  ethAddressAnyPair,
  HEX64,
  htlcHashField,
  limitQuery,
  minPositionQuery,
  offsetQuery,
  pairField,
  quoteTxField,
  secretField,
  sideField,
  walletAuthField,
  walletField,
} from './fields.js';

export const MIN_ORDER_MICRO_RTC = MICRO_PER_RTC / 10n;
export const MAX_PRICE_NANO_QUOTE = 1000n * NANO_PER_QUOTE;
export const DEFAULT_TTL_SECONDS = 604_800;

export const MAX_TTL_SECONDS = 2_502_000;

/**
 * An order's TTL is capped so that its escrow (order TTL + settle window + an hour) still fits the
 * node's job TTL cap: otherwise the escrow could vanish under an open order. With the default
 * 24 h settle window the cap is api.md's 2,502,000 s; a longer window lowers it.
 */
export function maxTtlSecondsFor(settleWindowSeconds: number): number {
  return Math.min(MAX_TTL_SECONDS, maxOrderTtlSecondsFor(settleWindowSeconds));
}

const ttlField = (maxTtlSeconds: number) => z
  .number({ error: 'ttl_invalid' })
  .int('ttl_invalid')
  .min(3600, 'ttl_invalid')
  .max(maxTtlSeconds, 'ttl_invalid')
  .default(DEFAULT_TTL_SECONDS)
  .meta({ description: `Seconds the order stays open: 3600..${maxTtlSeconds}, default 604800` });

/** Checked after every other field passes (it depends on the pair and the side), in api.md's order. */
const crossChecked = (description: string) => z.unknown().meta({ type: 'string', nullable: true, description });

const addressFits = (pair: Pair, address: string): boolean =>
  (pair === 'RTC/ERG' ? ERG_ADDRESS : ETH_ADDRESS).test(address);

const textOrNull = (v: unknown): string | null | undefined => (v === undefined || v === null || v === '' ? null : typeof v === 'string' ? v : undefined);

/** POST /api/orders. The size cap is configuration, so the schema is built per app. */
export function placeOrderBody(maxOrderMicroRtc: bigint, maxTtlSeconds: number = MAX_TTL_SECONDS) {
  return z
    .object(
      {
        side: sideField,
        pair: pairField.default('RTC/USDC'),
        wallet: walletField,
        amount_rtc: decimalUnitsField(RTC_DECIMALS, 'amount_invalid', (u) =>
          u < MIN_ORDER_MICRO_RTC ? 'amount_too_small' : u > maxOrderMicroRtc ? 'amount_too_large' : null,
        ).meta({ description: 'RTC amount, decimal string or number, at most 6 decimals, at least 0.1' }),
        price_per_rtc: decimalUnitsField(QUOTE_DECIMALS, 'price_invalid', (u) =>
          u <= 0n ? 'price_invalid' : u > MAX_PRICE_NANO_QUOTE ? 'price_too_high' : null,
        ).meta({ description: 'Quote per RTC, decimal string or number, at most 9 decimals, above 0 and at most 1000' }),
        ttl_seconds: ttlField(maxTtlSeconds),
        eth_address: crossChecked('0x + 40 hex for RTC/USDC and RTC/ETH; base58 of 30..60 characters for RTC/ERG').optional(),
        htlc_hash: crossChecked('64 hex; sell orders only (without one, the ledger generates the preimage)').optional(),
        wallet_auth: walletAuthField,
      },
      { error: 'invalid_json' },
    )
    .transform((body, ctx) => {
      const ethAddress = textOrNull(body.eth_address);
      const htlcHash = textOrNull(body.htlc_hash);
      if (ethAddress === undefined || (ethAddress !== null && !addressFits(body.pair, ethAddress))) {
        ctx.addIssue({ code: 'custom', message: 'eth_address_invalid', path: ['eth_address'] });
        return z.NEVER;
      }
      if (htlcHash === undefined || (htlcHash !== null && (!HEX64.test(htlcHash) || body.side !== 'sell'))) {
        ctx.addIssue({ code: 'custom', message: 'htlc_hash_invalid', path: ['htlc_hash'] });
        return z.NEVER;
      }
      return { ...body, eth_address: ethAddress, htlc_hash: htlcHash };
    });
}

export const matchOrderBody = z.object(
  { wallet: walletField, eth_address: ethAddressAnyPair.optional(), htlc_hash: htlcHashField.optional(), wallet_auth: walletAuthField },
  { error: 'invalid_json' },
);

export const rearmBody = z.object(
  {
    wallet: walletField,
    htlc_hash: htlcHashField.optional().meta({ description: '64 hex: sha256 of the fresh preimage; omitted = the ledger generates one and returns it once as htlc_secret' }),
    wallet_auth: walletAuthField,
  },
  { error: 'invalid_json' },
);

export const confirmBody = z.object(
  { wallet: walletField, quote_tx: quoteTxField, secret: secretField, wallet_auth: walletAuthField },
  { error: 'invalid_json' },
);

export const cancelBody = z.object({ wallet: walletField, wallet_auth: walletAuthField }, { error: 'invalid_json' });

const statusFilter = z
  .enum(['all', ...ORDER_STATUSES] as ['all', ...OrderStatus[]], { error: 'status_invalid' })
  .default('open')
  .meta({ description: 'An order status, or "all"; default "open"' });

/** GET /api/orders: fields in the order api.md lists their error codes. */
export const listOrdersQuery = z.object({
  limit: limitQuery,
  offset: offsetQuery,
  pair: pairField.optional(),
  side: sideField.optional(),
  status: statusFilter,
  wallet: z.string({ error: 'wallet_invalid' }).max(100, 'wallet_invalid').optional().meta({ description: 'Orders where this wallet is maker or taker' }),
  min_position: minPositionQuery,
});

export const historyQuery = z.object({
  at_version: z
    .string({ error: 'at_version_invalid' })
    .regex(/^[1-9]\d{0,15}$/, 'at_version_invalid')
    .transform((v) => BigInt(v))
    .optional()
    .meta({ description: 'The order as it stood after this event version' }),
  min_position: minPositionQuery,
});

export const commandHeaders = z.looseObject({
  'if-match': z
    .string()
    .regex(/^\s*(?:\*|(?:W\/)?"?\d{1,18}"?)\s*$/, 'if_match_invalid')
    .optional()
    .meta({ description: 'The order version the command expects, as its ETag ("3"); 412 version_mismatch otherwise' }),
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7E]{1,255}$/, 'idempotency_key_invalid')
    .optional()
    .meta({ description: '1..255 visible ASCII characters: a repeat with the same key, path and byte-identical body replays the stored answer (see Idempotency-Key in the API description)' }),
});

export const redriveBody = z.object(
  {
    operator: z.string({ error: 'operator_required' }).regex(/^[\x20-\x7E]{1,100}$/, 'operator_required'),
    reason: z.string({ error: 'reason_required' }).min(1, 'reason_required').max(500, 'reason_required'),
  },
  { error: 'invalid_json' },
);
