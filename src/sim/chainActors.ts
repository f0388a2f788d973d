/**
 * The quote chain's actors: buyers locking (valid locks, and locks the follower must reject for
 * one reason or another), sellers claiming with the preimage (never confirming), buyers refunding
 * from T on, blocks mined on the simulated clock, reorganisations, and the real chain follower of
 * an instance reading it all.
 */
import type { Address, Hex } from 'viem';
import { loadOrder } from '../commands/loadOrder.js';
import { takerOf, type OrderState } from '../aggregates/order/index.js';
import { htlcHashOf } from '../crypto/preimage.js';
import { quoteBaseUnits } from '../chain/verifyLock.js';
import type { Sim } from './context.js';
import { SIM_USDC } from './simChain.js';
import { SIM_SETTINGS, type LedgerInstance } from './world.js';

const ETH: Address = '0x0000000000000000000000000000000000000000';

/** How a buyer's lock goes wrong, when it does; `valid` is the lock the order asks for. */
const LOCK_KINDS = {
  valid: 14, wrong_hashlock: 1, amount_short: 1, wrong_seller: 1, wrong_order_id: 1, timelock_too_long: 1, wrong_token: 1,
} as const;
type LockKind = keyof typeof LOCK_KINDS;

interface ChainOrder {
  readonly orderId: string;
  readonly state: OrderState & { status: 'matched' };
  readonly seller: Address;
  readonly buyer: Address;
  readonly hashlock: Hex;
}

/** A matched order whose quote leg is read on the chain, with its parties' quote addresses. */
export function chainOrderOf(orderId: string, state: OrderState): ChainOrder | null {
  if (state.status !== 'matched' || state.quoteLeg === null || state.htlcHash === null) return null;
  const taker = takerOf(state);
  if (taker?.ethAddress == null || state.makerEthAddress === null) return null;
  const [seller, buyer] = state.side === 'sell' ? [state.makerEthAddress, taker.ethAddress] : [taker.ethAddress, state.makerEthAddress];
  return { orderId, state, seller: seller as Address, buyer: buyer as Address, hashlock: `0x${state.htlcHash}` as Hex };
}

/** A recent matched chain order, most often one still waiting for its lock. */
async function someChainOrder(sim: Sim): Promise<ChainOrder | null> {
  const found: ChainOrder[] = [];
  for (const orderId of sim.orderIds.slice(-16)) {
    const order = chainOrderOf(orderId, (await loadOrder(sim.store, orderId)).state);
    if (order !== null) found.push(order);
  }
  const waiting = found.filter((o) => o.state.quoteLeg?.lock === null);
  const pool = waiting.length > 0 && sim.prng.chance(0.7) ? waiting : found;
  return pool.length === 0 ? null : sim.prng.pick(pool);
}

/** The buyer locks the quote for a matched chain order, as asked or wrong in one way. */
export async function chainLock(sim: Sim, kind: LockKind | null = null): Promise<string> {
  const order = await someChainOrder(sim);
  if (order === null) return 'no matched chain order';
  return lockFor(sim, order, kind ?? sim.prng.weighted(LOCK_KINDS));
}

export function lockFor(sim: Sim, order: ChainOrder, kind: LockKind): string {
  const eth = order.state.pair === 'RTC/ETH';
  const amount = quoteBaseUnits(order.state.totalQuoteNano, eth ? 'eth' : 'usdc');
  const now = BigInt(sim.ts());
  const other = sim.prng.pick(sim.sellers.filter((s) => s.quoteAddress !== order.seller));
  const terms = {
    buyer: order.buyer,
    seller: kind === 'wrong_seller' && other ? other.quoteAddress : order.seller,
    token: (kind === 'wrong_token') === eth ? SIM_USDC : ETH,
    amount: kind === 'amount_short' ? amount - 1n : amount,
    hashlock: kind === 'wrong_hashlock' ? (`0x${htlcHashOf(sim.ids.hex(32))}` as Hex) : order.hashlock,
    timelock: now + BigInt(kind === 'timelock_too_long' ? SIM_SETTINGS.claimWindowMaxSeconds + 600 : sim.prng.range(3_900, SIM_SETTINGS.claimWindowMaxSeconds - 200)),
    rtcOrderId: kind === 'wrong_order_id' ? `otc_${sim.ids.hex(8)}` : order.orderId,
  };
  const tx = sim.chain.submit(order.buyer, { kind: 'lock', terms });
  return `buyer locks ${order.orderId} (${kind}, T ${terms.timelock}) in ${tx.slice(0, 12)}`;
}

/** Hashlock (bare hex) → the order whose seller holds its preimage, and the preimage. */
function preimagesByHashlock(sim: Sim): Map<string, { orderId: string; secret: string }> {
  const out = new Map<string, { orderId: string; secret: string }>();
  for (const [orderId, secret] of sim.secrets) out.set(htlcHashOf(secret), { orderId, secret });
  return out;
}

/**
 * A seller claims a live swap locked to them under their order's hashlock, with the preimage: the
 * chain then shows it to everyone. An honest seller claims only while the order is live (a claim
 * after the RTC came back would be a seller taking both legs of a buyer who locked too late).
 */
export async function chainClaim(sim: Sim, all = false): Promise<string> {
  const preimages = preimagesByHashlock(sim);
  const head = sim.chain.head().timestampSeconds;
  const claimable: { swapId: Hex; seller: Address; preimage: Hex }[] = [];
  for (const s of sim.chain.allSwaps()) {
    const owner = preimages.get(s.terms.hashlock.slice(2).toLowerCase());
    if (s.claimed || s.refunded || s.terms.timelock <= head || owner === undefined) continue;
    const order = chainOrderOf(owner.orderId, (await loadOrder(sim.store, owner.orderId)).state);
    if (order === null || order.seller.toLowerCase() !== s.terms.seller.toLowerCase()) continue;
    claimable.push({ swapId: s.swapId, seller: order.seller, preimage: `0x${owner.secret}` as Hex });
  }
  if (claimable.length === 0) return 'nothing to claim';
  const chosen = all ? claimable.filter(() => sim.prng.chance(0.5)) : [sim.prng.pick(claimable)];
  for (const c of chosen) sim.chain.submit(c.seller, { kind: 'claim', swapId: c.swapId, preimage: c.preimage });
  return `seller claims ${chosen.map((s) => s.swapId.slice(0, 12)).join(', ') || 'nothing'}`;
}

/** A buyer takes back a swap from T on (the chain head's time). */
export function chainRefund(sim: Sim, all = false): string {
  const head = sim.chain.head().timestampSeconds;
  const due = sim.chain.allSwaps().filter((s) => !s.claimed && !s.refunded && s.terms.timelock <= head);
  if (due.length === 0) return 'nothing to refund';
  const chosen = all ? due : [sim.prng.pick(due)];
  for (const swap of chosen) sim.chain.submit(swap.terms.buyer, { kind: 'refund', swapId: swap.swapId });
  return `buyer refunds ${chosen.map((s) => s.swapId.slice(0, 12)).join(', ')}`;
}

/** One pass of an instance's real follower. */
export async function follow(at: LedgerInstance): Promise<string> {
  const report = await at.follower.pollOnce();
  return `follower ${report.outcome} at ${report.checkpoint?.blockNumber ?? 'none'}/${report.finalizedBlock ?? '?'}, delivered ${report.delivered}${report.reason ? ` (${report.reason})` : ''}`;
}

/**
 * The chain between steps: usually a block on the simulated clock; now and then (by the seed's
 * chain fault rate) a reorganisation of up to `confirmations` blocks, so the finalized head itself
 * may be replaced (with the same transactions) and the follower must notice by its checkpoint hash.
 */
export function chainTick(sim: Sim): void {
  const chain = sim.chain;
  if (chain.options.faultRate > 0 && chain.head().number > 2n && sim.prng.chance(chain.options.faultRate / 3)) {
    const depth = sim.prng.range(1, chain.options.confirmations);
    chain.reorg(depth);
    sim.noteFault('chain_reorg', `the last ${depth} block(s) replaced, head ${chain.head().number}`);
  }
  if (sim.prng.chance(0.85)) chain.mine(BigInt(sim.ts()));
}
