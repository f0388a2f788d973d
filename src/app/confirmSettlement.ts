import { htlcHashOf, preimageBinding } from '../crypto/preimage.js';
import { confirmQuoteChain } from './quoteLeg.js';
import { authenticate } from './authenticate.js';
import { decideThenDrive } from './decideThenDrive.js';
import { commandContext, type LedgerDeps, type OrderResult, type RequestContext } from './deps.js';

export interface ConfirmSettlementRequest {
  readonly wallet: string;
  readonly quoteTx: string;
  readonly secret: string;
  readonly walletAuth: unknown;
}

/** A party (seller or buyer) confirms with the preimage: it is checked, encrypted at rest, and settlement is driven. */
export async function confirmSettlement(deps: LedgerDeps, orderId: string, input: ConfirmSettlementRequest, req: RequestContext): Promise<OrderResult> {
  const secret = input.secret.toLowerCase();
  const bound = { quote_tx: input.quoteTx, secret_sha256: htlcHashOf(secret) };
  const { wallet: seller, loaded, signature } = await authenticate(deps, { action: 'confirm_settlement', orderId, wallet: input.wallet, bound, auth: input.walletAuth }, req);
  const command = {
    type: 'ConfirmSettlement' as const, wallet: seller, quoteTx: input.quoteTx, secret,
    secretCiphertext: deps.secretBox.encrypt(secret, preimageBinding(orderId)),
    quoteChain: confirmQuoteChain(deps.quoteLeg), now: deps.now(),
  };
  return decideThenDrive(deps, { orderId, command, ctx: commandContext(deps, req, seller), mode: 'inline', loaded, signature }, req);
}
