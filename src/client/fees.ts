/**
 * The RustChain node's escrow fee: posting an escrow job locks the reward plus 5 % (the node's
 * `int(reward_i64 * 0.05)`); the fee goes to the platform on release and back to the seller on a
 * refund. The order resource does not carry it, so clients compute it from the amount.
 */
export const NODE_ESCROW_FEE_PERCENT = 5n;

export const escrowFeeMicroRtc = (amountMicroRtc: bigint): bigint => (amountMicroRtc * NODE_ESCROW_FEE_PERCENT) / 100n;
