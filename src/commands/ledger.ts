import { randomBytes } from 'node:crypto';
import {
  canonicalWallet,
  dueStep,
  type OrderCommand,
  type OrderState,
  type PlacedOrder,
  type Pair,
  type Side,
} from '../aggregates/order/index.js';
import { generatePreimage, htlcHashOf, type SecretBox } from '../crypto/preimage.js';
import { verifyWalletAuth, type WalletAction } from '../crypto/walletAuth.js';
import type { EventStore, JsonValue } from '../eventstore/types.js';
import type { NodeGateway } from '../gateways/node.js';
import { driveOrder, type DriveMode, type DriverDeps } from '../settlement/driver.js';
import type { Leases } from '../settlement/leases.js';
import { handleOrderCommand, VersionMismatch, type CommandContext } from './handleCommand.js';
import { loadOrder, type LoadedOrder } from './loadOrder.js';
import { recordSignatureUse } from './signatures.js';
import { readable } from '../orderStream/fold.js';

export interface LedgerDeps {
  readonly store: EventStore;
  readonly node: NodeGateway;
  readonly leases: Leases;
  readonly secretBox: SecretBox;
  readonly settleWindowSeconds: number;
  readonly leaseTtlMs: number;
  readonly now: () => Date;
  readonly newOrderId?: () => string;
  readonly onStep?: DriverDeps['onStep'];
  /** A completed order whose preimage cannot be decrypted (a different LEDGER_SECRET_KEY): alert. */
  readonly onSecretUnreadable?: (orderId: string) => void;
}

/** Who is asking: the request id becomes every resulting event's correlation_id. */
export interface RequestContext {
  readonly requestId: string;
  /** From If-Match: refuse unless the order is still at this version (412). */
  readonly ifMatchVersion?: bigint;
}

export interface OrderResult {
  readonly state: OrderState;
  readonly version: bigint;
  readonly updatedAt: string | null;
  /** Global position of the last event written for this request. */
  readonly position: bigint | null;
  /** The generated preimage, shown to its seller this once and never stored in clear. */
  readonly htlcSecret: string | null;
}

export interface PlaceOrderRequest {
  readonly side: Side;
  readonly pair: Pair;
  readonly wallet: string;
  readonly amountMicroRtc: bigint;
  readonly pricePerRtcNanoQuote: bigint;
  readonly ttlSeconds: number;
  readonly ethAddress: string | null;
  readonly htlcHash: string | null;
  readonly walletAuth: unknown;
}

export interface MatchOrderRequest {
  readonly wallet: string;
  readonly ethAddress: string | null;
  readonly htlcHash: string | null;
  readonly walletAuth: unknown;
}

export interface CancelOrderRequest {
  readonly wallet: string;
  readonly walletAuth: unknown;
}

export interface ConfirmSettlementRequest {
  readonly wallet: string;
  readonly quoteTx: string;
  readonly secret: string;
  readonly walletAuth: unknown;
}

export const newOrderId = (): string => `otc_${randomBytes(8).toString('hex')}`;

/**
 * The ledger's commands as the HTTP API and the CLI use them: check the wallet's signature, record
 * its use, decide and append, then run the settlement driver inline for a fast answer. What the
 * driver could not finish, the reconciler resumes from the stream.
 */
export function createLedger(deps: LedgerDeps) {
  const driverDeps: DriverDeps = { ...deps };
  const context = (req: RequestContext, actor: string): CommandContext => ({
    correlationId: req.requestId,
    causationId: req.requestId,
    actor,
    now: deps.now,
  });

  async function authenticate(action: WalletAction, orderId: string, wallet: string, bound: Record<string, JsonValue>, auth: unknown, req: RequestContext): Promise<string> {
    const now = deps.now();
    const signatureHex = verifyWalletAuth({ action, orderId, wallet, bound, auth }, now.getTime());
    // A stale If-Match is refused before the signature is spent, so the client may resend it as is.
    if (req.ifMatchVersion !== undefined) {
      const current = await loadOrder(deps.store, orderId);
      if (current.version !== req.ifMatchVersion) throw new VersionMismatch(req.ifMatchVersion, current.version);
    }
    await recordSignatureUse(deps.store, { signatureHex, wallet: canonicalWallet(wallet), action, orderId, correlationId: req.requestId, now });
    return canonicalWallet(wallet);
  }

  async function commandThenDrive(
    orderId: string, command: OrderCommand, ctx: CommandContext, req: RequestContext, mode: DriveMode,
    htlcSecret: string | null = null, loaded?: LoadedOrder,
  ): Promise<OrderResult> {
    const decided = await handleOrderCommand(deps.store, orderId, command, ctx, { ifMatchVersion: req.ifMatchVersion, maxAttempts: 5, loaded });
    // Nothing external is due (a buy placed, a sell matched): no lease to take, no second read.
    if (dueStep(decided.state) === null) {
      return { state: decided.state, version: decided.version, updatedAt: decided.updatedAt, position: decided.position, htlcSecret };
    }
    const driven = await driveOrder(driverDeps, orderId, ctx, mode);
    return { state: driven.state, version: driven.version, updatedAt: driven.updatedAt, position: driven.position ?? decided.position, htlcSecret };
  }

  return {
    async placeOrder(input: PlaceOrderRequest, req: RequestContext): Promise<OrderResult> {
      const bound = {
        side: input.side,
        pair: input.pair,
        amount_micro_rtc: Number(input.amountMicroRtc),
        price_per_rtc_nano_quote: Number(input.pricePerRtcNanoQuote),
        ttl_seconds: input.ttlSeconds,
        eth_address: input.ethAddress ?? '',
        htlc_hash: input.htlcHash ?? '',
      };
      const maker = await authenticate('create_order', 'create_order', input.wallet, bound, input.walletAuth, req);
      const generated = input.side === 'sell' && input.htlcHash === null ? generatePreimage() : null;
      const orderId = (deps.newOrderId ?? newOrderId)();
      const command: OrderCommand = {
        type: 'PlaceOrder', orderId, side: input.side, pair: input.pair, makerWallet: maker,
        amountMicroRtc: input.amountMicroRtc, pricePerRtcNanoQuote: input.pricePerRtcNanoQuote, ttlSeconds: input.ttlSeconds,
        makerEthAddress: input.ethAddress, htlcHash: generated?.htlcHash ?? input.htlcHash?.toLowerCase() ?? null, now: deps.now(),
      };
      return commandThenDrive(orderId, command, context(req, maker), req, 'inline', generated?.secretHex ?? null);
    },

    async matchOrder(orderId: string, input: MatchOrderRequest, req: RequestContext): Promise<OrderResult> {
      const bound = { eth_address: input.ethAddress ?? '', htlc_hash: input.htlcHash ?? '' };
      const taker = await authenticate('match_order', orderId, input.wallet, bound, input.walletAuth, req);
      let current = await loadOrder(deps.store, orderId);
      // Before anyone takes a sell order, its maker's escrow must still be at the node.
      if (dueStep(current.state, 'watch') !== null) {
        await driveOrder(driverDeps, orderId, context(req, taker), 'watch');
        current = await loadOrder(deps.store, orderId);
      }
      // The taker of a buy order sells: without a hash of their own, they get a generated preimage.
      const buyOrder = current.state.status !== 'none' && current.state.side === 'buy';
      const generated = buyOrder && input.htlcHash === null ? generatePreimage() : null;
      const command: OrderCommand = {
        type: 'MatchOrder', takerWallet: taker, takerEthAddress: input.ethAddress,
        htlcHash: generated?.htlcHash ?? input.htlcHash?.toLowerCase() ?? null,
        settleWindowSeconds: deps.settleWindowSeconds, now: deps.now(),
      };
      return commandThenDrive(orderId, command, context(req, taker), req, 'inline', generated?.secretHex ?? null, current);
    },

    async cancelOrder(orderId: string, input: CancelOrderRequest, req: RequestContext): Promise<OrderResult> {
      const maker = await authenticate('cancel_order', orderId, input.wallet, {}, input.walletAuth, req);
      return commandThenDrive(orderId, { type: 'CancelOrder', wallet: maker, now: deps.now() }, context(req, maker), req, 'inline');
    },

    async confirmSettlement(orderId: string, input: ConfirmSettlementRequest, req: RequestContext): Promise<OrderResult> {
      const secret = input.secret.toLowerCase();
      const bound = { quote_tx: input.quoteTx, secret_sha256: htlcHashOf(secret) };
      const seller = await authenticate('confirm_settlement', orderId, input.wallet, bound, input.walletAuth, req);
      const command: OrderCommand = {
        type: 'ConfirmSettlement', wallet: seller, quoteTx: input.quoteTx, secret,
        secretCiphertext: deps.secretBox.encrypt(secret), now: deps.now(),
      };
      return commandThenDrive(orderId, command, context(req, seller), req, 'inline');
    },

    async redrive(orderId: string, input: { operator: string; reason: string }, req: RequestContext): Promise<OrderResult> {
      const actor = `operator:${input.operator}`;
      return commandThenDrive(orderId, { type: 'RequestRedrive', operator: input.operator, reason: input.reason }, context(req, actor), req, 'resume');
    },

    async getOrder(orderId: string): Promise<{ state: PlacedOrder; version: bigint; updatedAt: string | null } | null> {
      const loaded = readable(orderId, await loadOrder(deps.store, orderId));
      if (loaded.state.status === 'none') return null;
      return { state: loaded.state, version: loaded.version, updatedAt: loaded.updatedAt };
    },

    /**
     * The preimage, readable only once the payout is confirmed. One that cannot be decrypted (an
     * instance started with another key) is reported and shown as null, rather than failing every
     * listing that contains the order.
     */
    revealSecret(state: OrderState): string | null {
      if (state.status !== 'completed') return null;
      try {
        return deps.secretBox.decrypt(state.claim.secretCiphertext);
      } catch {
        deps.onSecretUnreadable?.(state.orderId);
        return null;
      }
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
