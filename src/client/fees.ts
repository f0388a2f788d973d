import { formatRtc } from '../aggregates/order/money.js';

/**
 * The RustChain node's escrow fee: posting an escrow job locks the reward plus 5 % (the node's
 * `int(reward_i64 * 0.05)`); the fee goes to the platform on release and back to the seller on a
 * refund. The order resource does not carry it, so clients compute it from the amount.
 */
export const NODE_ESCROW_FEE_PERCENT = 5n;

export const escrowFeeMicroRtc = (amountMicroRtc: bigint): bigint => (amountMicroRtc * NODE_ESCROW_FEE_PERCENT) / 100n;

/** The fee as an RTC decimal string ("5.000000"), from the order's `amount_micro_rtc`. */
export const escrowFeeRtc = (amountMicroRtc: string): string => formatRtc(escrowFeeMicroRtc(BigInt(amountMicroRtc)));

/** What the seller's escrow holds at the node: the amount plus the fee. */
export const escrowTotalRtc = (amountMicroRtc: string): string => {
  const amount = BigInt(amountMicroRtc);
  return formatRtc(amount + escrowFeeMicroRtc(amount));
};
