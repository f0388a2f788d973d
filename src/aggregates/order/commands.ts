import type { NodeStepKind, Pair, Party, Side } from './events.js';

/**
 * Commands to the order aggregate, imperative. Everything impure (the clock, generated ids and
 * secrets, the encrypted preimage) is decided by the caller and arrives in the command, so
 * `decide` stays a pure function of (command, state).
 */
export type OrderCommand =
  | PlaceOrder
  | MatchOrder
  | CancelOrder
  | ConfirmSettlement
  | RecordEscrowLocked
  | RecordEscrowLockFailed
  | RecordEscrowReleased
  | RevertSettlement
  | RecordPayoutStatus
  | RequireRecovery
  | RequestRedrive
  | ExpireOrder
  | RecordRefundIssued
  | RecordNodeCallFailed
  | ObserveQuoteLock
  | ObserveQuoteClaim
  | ObserveQuoteRefund
  | RecordEscrowHeld;

export interface PlaceOrder {
  type: 'PlaceOrder';
  orderId: string;
  side: Side;
  pair: Pair;
  makerWallet: string;
  amountMicroRtc: bigint;
  pricePerRtcNanoQuote: bigint;
  ttlSeconds: number;
  makerEthAddress: string | null;
  /** Required for sell orders (given by the maker or generated for them); refused on buy orders. */
  htlcHash: string | null;
  now: Date;
}

export interface MatchOrder {
  type: 'MatchOrder';
  takerWallet: string;
  takerEthAddress: string | null;
  /** Required when matching a buy order (the taker sells); refused on sell orders. */
  htlcHash: string | null;
  settleWindowSeconds: number;
  /** The pair's quote leg is read on a chain: which, and the lock window (absent = manual mode). */
  /** chainNowSeconds: chain time at the match, which lock_by is counted from (the ledger's clock when null). */
  quoteLeg?: { mode: 'sandbox' | 'evm'; chainId: number; lockWindowSeconds: number; chainNowSeconds?: bigint | null } | null;
  now: Date;
}

export interface CancelOrder {
  type: 'CancelOrder';
  wallet: string;
  now: Date;
}

export interface ConfirmSettlement {
  type: 'ConfirmSettlement';
  wallet: string;
  quoteTx: string;
  /** The preimage as 64 hex digits; checked against htlc_hash, never stored in clear. */
  secret: string;
  /** The same preimage encrypted at rest by the caller; this is what the event keeps. */
  secretCiphertext: string;
  /**
   * Chain time for a chain-verified order: the latest finalized block's time (null when not yet
   * known) and the claim guard. Absent in manual mode.
   */
  quoteChain?: { finalizedTimeSeconds: bigint | null; claimGuardSeconds: bigint } | null;
  now: Date;
}

export interface RecordEscrowLocked {
  type: 'RecordEscrowLocked';
  party: Party;
  jobId: string;
  now: Date;
}

export interface RecordEscrowLockFailed {
  type: 'RecordEscrowLockFailed';
  party: Party;
  reason: string;
}

export interface RecordEscrowReleased {
  type: 'RecordEscrowReleased';
  jobId: string;
  now: Date;
}

export interface RevertSettlement {
  type: 'RevertSettlement';
  reason: string;
}

/**
 * What the node said of the payout under `payoutKey`: queueing and looking up are the same request,
 * so one command records whichever phase it reports.
 */
export interface RecordPayoutStatus {
  type: 'RecordPayoutStatus';
  payoutKey: string;
  txHash: string;
  phase: 'pending' | 'confirmed' | 'voided';
  now: Date;
}

export interface RequireRecovery {
  type: 'RequireRecovery';
  reason: string;
  detail: string;
}

export interface RequestRedrive {
  type: 'RequestRedrive';
  operator: string;
  reason: string;
}

export interface ExpireOrder {
  type: 'ExpireOrder';
  now: Date;
  /**
   * For a chain-verified order, the final look-up's answer at the finalized block (finalLookup.ts):
   * only `refund_allowed`, or `no_swap` once that block is past lock_by, lets a matched order's RTC
   * go back to its seller. Absent: the wall clock alone, which never refunds such an order.
   */
  quoteChain?: { decision: 'claimed' | 'no_swap' | 'refund_allowed' | 'wait'; finalizedTimeSeconds: bigint } | null;
}

/** Where an observation was seen on the quote chain (src/chain/observations.ts), as command input. */
export interface ChainFact {
  key: string;
  chainId: number;
  swapId: string;
  txHash: string;
  blockNumber: bigint;
  blockTimeSeconds: bigint;
}

/** A SwapCreated for the order: verified (`rejection` null) or rejected with its reason. */
export interface ObserveQuoteLock {
  type: 'ObserveQuoteLock';
  fact: ChainFact;
  timelockSeconds: bigint;
  amountBaseUnits: bigint;
  rejection: string | null;
}

/** A SwapClaimed whose preimage hashes to htlc_hash; the preimage arrives encrypted by the caller too. */
export interface ObserveQuoteClaim {
  type: 'ObserveQuoteClaim';
  fact: ChainFact;
  /** 64 hex digits, checked against htlc_hash; never stored in clear. */
  preimage: string;
  secretCiphertext: string;
}

export interface ObserveQuoteRefund {
  type: 'ObserveQuoteRefund';
  fact: ChainFact;
}

export interface RecordRefundIssued {
  type: 'RecordRefundIssued';
  party: Party;
  jobId: string;
  now: Date;
}

export interface RecordNodeCallFailed {
  type: 'RecordNodeCallFailed';
  step: NodeStepKind;
  key: string;
  outcome: 'rejected' | 'unknown';
  reason: string;
}

/** The hold step's result: the ledger's worker claimed the escrow job at the node (custody.ts). */
export interface RecordEscrowHeld {
  type: 'RecordEscrowHeld';
  jobId: string;
  workerWallet: string;
  /** The job's expiry as the node reports it; null when the node did not say. */
  expiresAt: Date | null;
  now: Date;
}
