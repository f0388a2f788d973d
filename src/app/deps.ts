import { randomBytes } from 'node:crypto';
import type { OrderState } from '../aggregates/order/index.js';
import type { CommandContext } from '../commands/handleCommand.js';
import type { SecretBox } from '../crypto/preimage.js';
import type { SignedRequest as SignedWalletRequest } from '../crypto/walletAuth.js';
import type { EventStore } from '../eventstore/types.js';
import type { NodeGateway } from '../gateways/node.js';
import type { DriverDeps } from '../settlement/driver.js';
import type { QuoteLegDeps } from './quoteLeg.js';
import type { Leases } from '../settlement/leases.js';
import type { OpenOrderCap } from './openOrderCap.js';
import type { OrderCache } from '../commands/loadOrder.js';
import type { FinalLookUp } from './finalLookUp.js';
import type { MatchCooldown } from './matchCooldown.js';

/** What the use cases need; src/main.ts builds each piece. */
export interface LedgerDeps {
  readonly store: EventStore;
  readonly node: NodeGateway;
  readonly leases: Leases;
  readonly secretBox: SecretBox;
  readonly settleWindowSeconds: number;
  readonly leaseTtlMs: number;
  readonly now: () => Date;
  readonly newOrderId?: () => string;
  /** Event ids (time-ordered UUID v7 unless given, eventstore/chainedEvents.ts): the simulator passes a seeded source so a run replays exactly. */
  readonly newEventId?: () => string;
  /** Generated preimages' bytes (the CSPRNG unless given; only the simulator seeds it). */
  readonly randomBytes?: (size: number) => Buffer;
  readonly onStep?: DriverDeps['onStep'];
  /** Folded orders by stream version (issue 14 lever 4): src/main.ts sets one; without it every load reads the stream. */
  readonly orderCache?: OrderCache;
  /** A completed order whose preimage cannot be decrypted (a different LEDGER_SECRET_KEY): alert. */
  readonly onSecretUnreadable?: (orderId: string) => void;
  /**
   * How a wallet signature is checked: by default on libuv's thread pool (verifyWalletAuthAsync), off
   * the event loop. The simulator passes the synchronous check, since thread-pool completions arrive
   * in an order no seed decides.
   */
  readonly verifySignature?: (request: SignedWalletRequest, nowMs: number) => string | Promise<string>;
  /** LEDGER_MAX_OPEN_ORDERS_PER_WALLET and where the count comes from; src/main.ts always sets it. */
  readonly openOrderCap?: OpenOrderCap;
  /** The quote leg on its chain (sandbox or evm); absent or null = manual mode. */
  readonly quoteLeg?: QuoteLegDeps | null;
  /** The final look-up for one order at the finalized block (re-arm, cancel of a lapsed order); absent in manual mode. */
  readonly finalLookUp?: FinalLookUp | null;
  /** LEDGER_MATCH_COOLDOWN_*: lapses counted per wallet and quote address; absent = no cool-down. */
  readonly matchCooldown?: MatchCooldown | null;
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

export const newOrderId = (): string => `otc_${randomBytes(8).toString('hex')}`;

/** The metadata every event of one request carries. */
export function commandContext(deps: Pick<LedgerDeps, 'now' | 'newEventId'>, req: RequestContext, actor: string): CommandContext {
  return { correlationId: req.requestId, causationId: req.requestId, actor, now: deps.now, newEventId: deps.newEventId };
}

/**
 * The signed message carries integers as JSON numbers (the clients sign that form). The amounts
 * allowed are far below 2^53, and this says so rather than letting a larger one round silently.
 */
export function signedInteger(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError('an integer in a signed message must be exact as a JSON number');
  }
  return Number(value);
}
