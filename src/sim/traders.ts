/**
 * The traders' requests, through the real use cases with signed wallet auth: place, match, cancel,
 * confirm (with the right or a wrong preimage) and read. Each answers a line for the trace; a
 * refusal throws, and the caller records it (a 5xx is a violation).
 */
import type { Pair, Side } from '../aggregates/order/index.js';
import { loadOrder } from '../commands/loadOrder.js';
import { htlcHashOf } from '../crypto/preimage.js';
import type { Sim, Trader } from './context.js';
import type { LedgerInstance } from './world.js';

/** RTC/USDC and RTC/ETH are read on the simulated chain; RTC/ERG stays manual (confirm with a quote_tx). */
const PAIRS: readonly Pair[] = ['RTC/USDC', 'RTC/ETH', 'RTC/ERG'];

export async function place(sim: Sim, at: LedgerInstance, side: Side): Promise<string> {
  const maker = side === 'sell' ? sim.prng.pick(sim.sellers) : sim.prng.pick(sim.buyers);
  const amountMicroRtc = BigInt(sim.prng.range(1, 60)) * 1_000_000n;
  const pricePerRtcNanoQuote = BigInt(sim.prng.range(1, 20)) * 10_000_000n;
  const ttlSeconds = sim.prng.range(3_600, 7_200);
  const pair = sim.prng.pick(PAIRS);
  // A seller brings its own hash half the time; otherwise the ledger generates the preimage.
  const own = side === 'sell' && sim.prng.chance(0.5) ? sim.ids.hex(32) : null;
  const htlcHash = own === null ? null : htlcHashOf(own);
  const ethAddress = maker.quoteAddress;
  const auth = maker.wallet.sign('create_order', 'create_order', {
    side, pair, amount_micro_rtc: Number(amountMicroRtc), price_per_rtc_nano_quote: Number(pricePerRtcNanoQuote),
    ttl_seconds: ttlSeconds, eth_address: ethAddress, htlc_hash: htlcHash ?? '',
  }, sim.ts());
  const input = { side, pair, wallet: maker.wallet.wallet, amountMicroRtc, pricePerRtcNanoQuote, ttlSeconds, ethAddress, htlcHash, walletAuth: auth };
  const result = await at.ledger.placeOrder(input, sim.req());
  const orderId = result.state.status === 'none' ? null : result.state.orderId;
  if (orderId === null) return 'no order';
  remember(sim, orderId, own ?? result.htlcSecret);
  return `placed ${orderId} (${side} ${amountMicroRtc} micro-RTC ${pair}), ${result.state.status}`;
}

function remember(sim: Sim, orderId: string, secret: string | null): void {
  if (secret === null) return;
  sim.secrets.set(orderId, secret);
  sim.checker.knowSecret(secret);
}

export async function match(sim: Sim, at: LedgerInstance, orderId: string): Promise<string> {
  const current = await loadOrder(sim.store, orderId);
  const side = current.state.status === 'none' ? 'sell' : current.state.side;
  // The taker of a sell order buys; the taker of a buy order sells, with its own hash or a generated one.
  const taker = side === 'sell' ? sim.prng.pick(sim.buyers) : sim.prng.pick(sim.sellers);
  const own = side === 'buy' && sim.prng.chance(0.5) ? sim.ids.hex(32) : null;
  const htlcHash = own === null ? null : htlcHashOf(own);
  const ethAddress = taker.quoteAddress;
  const auth = taker.wallet.sign('match_order', orderId, { eth_address: ethAddress, htlc_hash: htlcHash ?? '' }, sim.ts());
  const result = await at.ledger.matchOrder(orderId, { wallet: taker.wallet.wallet, ethAddress, htlcHash, walletAuth: auth }, sim.req());
  if (side === 'buy') remember(sim, orderId, own ?? result.htlcSecret);
  return `now ${result.state.status}`;
}

export async function cancel(sim: Sim, at: LedgerInstance, orderId: string): Promise<string> {
  const current = await loadOrder(sim.store, orderId);
  if (current.state.status === 'none') return 'no order';
  const maker = sim.traderByWallet(current.state.makerWallet)?.wallet ?? sim.attacker;
  const auth = maker.sign('cancel_order', orderId, {}, sim.ts());
  const result = await at.ledger.cancelOrder(orderId, { wallet: maker.wallet, walletAuth: auth }, sim.req());
  return `now ${result.state.status}`;
}

/** The seller confirms (or, on a chain order, either party); a wrong preimage is refused. */
export async function confirm(sim: Sim, at: LedgerInstance, orderId: string, wrong: boolean): Promise<string> {
  const { state } = await loadOrder(sim.store, orderId);
  if (state.status === 'none') return 'no order';
  const sellerWallet = state.side === 'sell' ? state.makerWallet : 'taker' in state && state.taker ? state.taker.wallet : null;
  const confirmer: Trader = sim.traderByWallet(sellerWallet) ?? sim.prng.pick(sim.sellers);
  const known = sim.secrets.get(orderId);
  const secret = wrong || known === undefined ? sim.ids.hex(32) : known;
  const quoteTx = `0xsim${orderId.slice(4)}`;
  const auth = confirmer.wallet.sign('confirm_settlement', orderId, { quote_tx: quoteTx, secret_sha256: htlcHashOf(secret) }, sim.ts());
  const result = await at.ledger.confirmSettlement(orderId, { wallet: confirmer.wallet.wallet, quoteTx, secret, walletAuth: auth }, sim.req());
  return `now ${result.state.status}`;
}

/** Invariant 4 at the read side: the preimage is readable only once the payout is confirmed. */
export async function read(sim: Sim, at: LedgerInstance, orderId: string): Promise<string> {
  const order = await at.ledger.getOrder(orderId);
  if (order === null) return 'no order';
  const revealed = at.ledger.revealSecret(order.state);
  if (order.state.status !== 'completed' && revealed !== null) {
    sim.pendingViolations.push(`inv4: ${orderId} revealed its preimage while ${order.state.status}`);
  }
  if (order.state.status === 'completed' && sim.secrets.has(orderId) && revealed !== sim.secrets.get(orderId)) {
    sim.pendingViolations.push(`inv4: ${orderId} completed but its preimage does not read back`);
  }
  return `read ${order.state.status}`;
}
