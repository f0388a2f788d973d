/**
 * `otc-ledger/client`: the typed, signing client of the ledger's HTTP API, for Node and browsers.
 *
 *   const client = new LedgerClient({ baseUrl: 'http://127.0.0.1:5580' });
 *   const seller = generateWalletKey();
 *   const placed = await client.placeOrder(seller, { side: 'sell', amountRtc: '100', pricePerRtc: '0.1' });
 *   if (!placed.ok) console.error(placed.error); // a typed code, e.g. 'amount_too_small'
 */
export { LedgerClient, AdminClient, SandboxControls, SandboxChainControls, expectOk, newIdempotencyKey } from './client.js';
export type { ClientOptions, CommandOptions, ConfirmInput, ReadOptions, SandboxState } from './client.js';
export { generateWalletKey, walletKeyFromSeed, walletIdOf, sha256OfHex, randomHex32, InvalidSeedError } from './keys.js';
export type { WalletKey } from './keys.js';
export {
  canonicalJson, signedMessage, placeBound, matchBound, confirmBound, walletAuthFor, SigningClock, InvalidAmountError, DEFAULT_TTL_SECONDS,
} from './messages.js';
export type { WalletAction, WalletAuth, BoundFields, PlaceOrderInput } from './messages.js';
export { ERROR_CODES, isKnownError, LedgerError } from './errors.js';
export type { ErrorCode, KnownErrorCode } from './errors.js';
export { escrowFeeMicroRtc, escrowFeeRtc, escrowTotalRtc, NODE_ESCROW_FEE_PERCENT } from './fees.js';
export { formatRtc, formatQuote, parseDecimalUnits } from '../aggregates/order/money.js';
export type * from './types.js';
