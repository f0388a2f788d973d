/**
 * The checks a place or match makes outside the order's own stream (quote-chain.md, "Hashlocks are
 * used once" and "Griefing"), run only once the decider would accept the command: a command the
 * decider refuses anyway (order_not_open, self_match, ...) gets that refusal, spends no hash and
 * reads no chain.
 */
import { decide, OrderRefused, refuse, type MatchOrder, type OrderState, type PlaceOrder, type RearmOrder } from '../aggregates/order/index.js';
import { reserveHtlcHash } from '../commands/htlcHashes.js';
import { checkBuyerFunds } from './quoteFunds.js';
import { chainAssetFor } from './quoteLeg.js';
import { escrowTailSeconds, maxOrderTtlSecondsFor, quoteTailSecondsFor } from '../settlement/steps.js';
import type { LedgerDeps, RequestContext } from './deps.js';

/** Whether the decider accepts the command on this state (a dry run: pure, nothing written). */
function decidable(command: PlaceOrder | MatchOrder | RearmOrder, state: OrderState): boolean {
  try {
    decide(command, state);
    return true;
  } catch (error) {
    if (error instanceof OrderRefused) return false;
    throw error;
  }
}

/**
 * A place with an htlc_hash takes it for good, before OrderPlaced is appended. A chain-verified
 * pair's TTL is capped lower than api.md's (the escrow job must outlive every accepted T by the
 * release slack): a longer one is `400 ttl_invalid`, like any TTL out of range.
 */
export async function guardPlace(deps: LedgerDeps, command: PlaceOrder, req: RequestContext): Promise<void> {
  if (!decidable(command, { status: 'none' })) return;
  const longest = longestChainOrderTtlSeconds(deps, command);
  if (longest !== null && command.ttlSeconds > longest) {
    refuse('ttl_invalid', `ttl_seconds must be at most ${longest} for a pair settled on the quote chain (its escrow job must outlive the quote lock's timelock by the release slack)`);
  }
  if (command.htlcHash === null) return;
  await reserveHtlcHash(deps.store, {
    htlcHash: command.htlcHash, orderId: command.orderId, action: 'place', wallet: command.makerWallet,
    correlationId: req.requestId, now: command.now, newEventId: deps.newEventId,
  });
}

/** A match: the buyer's funds on the quote chain first (a refusal spends no hash), then the taker's hash of a buy order. */
export async function guardMatch(deps: LedgerDeps, orderId: string, command: MatchOrder, state: OrderState, req: RequestContext): Promise<void> {
  if (state.status === 'none' || !decidable(command, state)) return;
  await checkBuyerFunds(deps.quoteLeg, state, command.takerEthAddress);
  if (command.htlcHash === null) return;
  await reserveHtlcHash(deps.store, {
    htlcHash: command.htlcHash, orderId, action: 'match', wallet: command.takerWallet,
    correlationId: req.requestId, now: command.now, newEventId: deps.newEventId,
  });
}

/**
 * A re-arm takes its fresh hash for good once the decider would accept it; a repeat of the same
 * re-arm finds the hash reserved by this very order and goes on to the decider's no-op.
 */
export async function guardRearm(deps: LedgerDeps, orderId: string, command: RearmOrder, state: OrderState, req: RequestContext): Promise<void> {
  if (state.status === 'none' || !decidable(command, state)) return;
  await reserveHtlcHash(deps.store, {
    htlcHash: command.htlcHash, orderId, action: 'rearm', wallet: command.wallet,
    correlationId: req.requestId, now: command.now, newEventId: deps.newEventId,
  });
}

/** The longest order TTL of a chain-verified pair (its escrow job fits the node's cap uncut); null in manual mode. */
function longestChainOrderTtlSeconds(deps: LedgerDeps, command: PlaceOrder): number | null {
  const leg = deps.quoteLeg;
  if (!leg || chainAssetFor(leg, command.pair) === null) return null;
  return maxOrderTtlSecondsFor(escrowTailSeconds(deps.settleWindowSeconds, quoteTailSecondsFor(leg)));
}
