import type { CommandContext } from '../../src/commands/handleCommand.js';
import type { MatchOrder, PlaceOrder, RecordEscrowLockFailed, RecordNodeCallFailed } from '../../src/aggregates/order/index.js';
import type { EventStore } from '../../src/eventstore/types.js';

/** Commands and contexts shared by the command-handler and hash-chain tests. */

export const NOW = new Date('2026-01-01T00:00:00.000Z');
export { SELLER as MAKER, BUYER as TAKER_B, THIRD as TAKER_C } from '../support/wallets.js';
import { SELLER as MAKER } from '../support/wallets.js';
export const HTLC_HASH = 'd'.repeat(64);

export function context(overrides: Partial<CommandContext> = {}): CommandContext {
  return { correlationId: 'req-1', causationId: null, actor: MAKER, now: () => NOW, ...overrides };
}

/** A buy order: open as soon as it is placed, so it can be matched straight away. */
export function placeBuy(orderId: string): PlaceOrder {
  return {
    type: 'PlaceOrder', orderId, side: 'buy', pair: 'RTC/USDC', makerWallet: MAKER, amountMicroRtc: 2_500_000n,
    pricePerRtcNanoQuote: 150_000_000n, ttlSeconds: 3600, makerEthAddress: null, htlcHash: null, now: NOW,
  };
}

export function match(takerWallet: string): MatchOrder {
  return { type: 'MatchOrder', takerWallet, takerEthAddress: null, htlcHash: HTLC_HASH, settleWindowSeconds: 86_400, now: NOW };
}

/** On a matching buy order this decides two events (EscrowLockFailed, MatchAborted) in one append. */
export const takerLockFailed: RecordEscrowLockFailed = { type: 'RecordEscrowLockFailed', party: 'taker', reason: 'insufficient balance' };

export function nodeCallFailed(key: string): RecordNodeCallFailed {
  return { type: 'RecordNodeCallFailed', step: 'lock', key, outcome: 'unknown', reason: 'timeout' };
}

/** A store that delegates everything to `inner` except the methods given; a wrapper, not a mock. */
export function wrapStore(inner: EventStore, overrides: Partial<Pick<EventStore, 'append' | 'readStream'>>): EventStore {
  return {
    name: `${inner.name}+wrapper`,
    append: overrides.append ?? ((...a) => inner.append(...a)),
    readStream: overrides.readStream ?? ((...a) => inner.readStream(...a)),
    readAll: (...a) => inner.readAll(...a),
    headPosition: () => inner.headPosition(),
    listStreams: (...a) => inner.listStreams(...a),
    subscribeAll: (...a) => inner.subscribeAll(...a),
    close: () => inner.close(),
  };
}
