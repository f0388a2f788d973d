/**
 * The port to the RustChain node (escrow jobs and payouts), with the three outcome classes of
 * domain.md §6. An adapter never throws for a node or network failure: it classifies it.
 *  - ok: it took effect (or, for a look-up, here is the answer).
 *  - rejected: the node answered that it did not and will not take effect (4xx), or the connection
 *    was never established, or the request was refused before sending (transport rule).
 *  - unknown: it may have taken effect (timeout or reset after sending, 5xx after sending).
 */
export type NodeOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'rejected'; readonly reason: string; readonly httpStatus: number | null }
  | { readonly kind: 'unknown'; readonly reason: string };

export type JobStatus = 'open' | 'claimed' | 'delivered' | 'completed' | 'disputed' | 'expired' | 'cancelled';

export interface EscrowJob {
  readonly jobId: string;
  readonly title: string;
  readonly posterWallet: string;
  /** The worker who claimed the job; null while nobody has. */
  readonly workerWallet: string | null;
  readonly status: JobStatus;
  readonly rewardMicroRtc: bigint;
  readonly expiresAt: string | null;
}

export interface LockEscrowRequest {
  readonly orderId: string;
  readonly party: 'maker' | 'taker';
  readonly posterWallet: string;
  readonly amountMicroRtc: bigint;
  /** The job's TTL at the node: order TTL + settle window + 3600 s, capped at 2,592,000 s. */
  readonly ttlSeconds: number;
}

export type PayoutPhase = 'pending' | 'confirmed' | 'voided';

export interface TransferRequest {
  /** `otc_payout:<order_id>`: sent as both reason and idempotency_key. */
  readonly key: string;
  readonly toWallet: string;
  readonly amountMicroRtc: bigint;
}

export interface TransferResult {
  readonly phase: PayoutPhase;
  readonly pendingId: string | null;
  readonly txHash: string;
  readonly confirmsAt: string | null;
}

export interface PendingTransfer {
  readonly id: string;
  readonly fromWallet: string;
  readonly toWallet: string;
  readonly amountMicroRtc: bigint;
  readonly reason: string;
  readonly status: string;
  readonly txHash: string | null;
}

/** The title that makes an escrow job findable after a lock whose outcome was lost. */
export const escrowJobTitle = (orderId: string, party: 'maker' | 'taker'): string => `OTC Escrow ${orderId} ${party}`;

/** The longest TTL the node keeps an escrow job for, in seconds (30 days). */
export const MAX_JOB_TTL_SECONDS = 2_592_000;

/** The node-side wallet that claims escrow jobs and pays buyers out. */
export const BRIDGE_WORKER_WALLET = 'otc_bridge_worker';

export interface NodeGateway {
  lockEscrow(request: LockEscrowRequest): Promise<NodeOutcome<EscrowJob>>;
  /** ok(null) when the node says there is no such job. */
  getJob(jobId: string): Promise<NodeOutcome<EscrowJob | null>>;
  /**
   * A bounded scan for a job with this exact title that `accept` also takes (anyone can post a job
   * under any title, so the caller says what makes it ours); ok(null) when none is found.
   */
  findJobByTitle(title: string, accept?: (job: EscrowJob) => boolean, statuses?: readonly JobStatus[]): Promise<NodeOutcome<EscrowJob | null>>;
  claimJob(jobId: string): Promise<NodeOutcome<void>>;
  deliverJob(jobId: string, resultSummary: string): Promise<NodeOutcome<void>>;
  /** The release: moves the reward to the worker and the fee to the platform. */
  acceptJob(jobId: string, posterWallet: string): Promise<NodeOutcome<void>>;
  /** The refund: returns reward + fee to the poster. */
  cancelJob(jobId: string, posterWallet: string): Promise<NodeOutcome<void>>;
  /** Queues the payout; the same request again is the status look-up and never pays twice. */
  transfer(request: TransferRequest): Promise<NodeOutcome<TransferResult>>;
  listPending(wallet: string): Promise<NodeOutcome<PendingTransfer[]>>;
  balance(wallet: string): Promise<NodeOutcome<bigint>>;
}
