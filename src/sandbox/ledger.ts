/**
 * The sandbox node's books, in integer micro-RTC. Money only moves through `move`, so the sum of all
 * balances is constant except for `mint` (the fund control); that is what tests check against.
 */
import { createHash } from 'node:crypto';
import type { SandboxJob, SandboxTransfer } from './types.js';

/** Where escrowed RTC sits while a job is live, as on the node. */
export const ESCROW_WALLET = 'agent_escrow';
/** Where the 5 % platform fee goes on accept, as on the node. */
export const PLATFORM_FEE_WALLET = 'founder_community';

/** The node's fee: `int(reward_i64 * 0.05)`, computed exactly. */
export const platformFeeMicroRtc = (rewardMicroRtc: bigint): bigint => (rewardMicroRtc * 5n) / 100n;

/** The node's deterministic transfer hash: lets a client recognise its transfer in any listing. */
export const transferTxHash = (idempotencyKey: string): string =>
  createHash('sha256').update(`wallet_transfer_idempotency:${idempotencyKey}`).digest('hex').slice(0, 32);

/** Jobs whose escrow is still held by the node. */
const ESCROW_HELD: ReadonlySet<string> = new Set(['open', 'claimed', 'delivered', 'disputed']);

export class SandboxLedger {
  readonly balances = new Map<string, bigint>();
  readonly jobs = new Map<string, SandboxJob>();
  readonly transfers = new Map<number, SandboxTransfer>();
  readonly transfersByKey = new Map<string, SandboxTransfer>();
  private nextJobSeq = 1;
  private nextPendingId = 1;

  balanceOf(wallet: string): bigint {
    return this.balances.get(wallet) ?? 0n;
  }

  /** Balance minus what queued transfers already promised away: what a new transfer may spend. */
  availableOf(wallet: string): bigint {
    let reserved = 0n;
    for (const t of this.transfers.values()) {
      if (t.phase === 'pending' && t.fromWallet === wallet) reserved += t.amountMicroRtc;
    }
    return this.balanceOf(wallet) - reserved;
  }

  mint(wallet: string, amountMicroRtc: bigint): void {
    this.balances.set(wallet, this.balanceOf(wallet) + amountMicroRtc);
  }

  move(fromWallet: string, toWallet: string, amountMicroRtc: bigint): void {
    this.balances.set(fromWallet, this.balanceOf(fromWallet) - amountMicroRtc);
    this.balances.set(toWallet, this.balanceOf(toWallet) + amountMicroRtc);
  }

  takeJobSeq(): number {
    const seq = this.nextJobSeq;
    this.nextJobSeq += 1;
    return seq;
  }

  takePendingId(): number {
    const id = this.nextPendingId;
    this.nextPendingId += 1;
    return id;
  }

  holdsEscrow(job: SandboxJob): boolean {
    return ESCROW_HELD.has(job.status);
  }

  /** Returns reward + fee to the poster and ends the job in `status` (expired or cancelled). */
  refundJob(job: SandboxJob, status: 'expired' | 'cancelled', actor: string | null, nowSeconds: number): void {
    this.move(ESCROW_WALLET, job.posterWallet, job.rewardMicroRtc + job.feeMicroRtc);
    job.status = status;
    job.log.push({ action: 'escrow_refunded', actor, createdAt: nowSeconds });
  }

  /** The release: reward to the worker, fee to the platform. */
  releaseJob(job: SandboxJob, nowSeconds: number): void {
    this.move(ESCROW_WALLET, job.workerWallet ?? ESCROW_WALLET, job.rewardMicroRtc);
    this.move(ESCROW_WALLET, PLATFORM_FEE_WALLET, job.feeMicroRtc);
    job.status = 'completed';
    job.log.push({ action: 'completed', actor: job.posterWallet, createdAt: nowSeconds });
  }

  confirmTransfer(transfer: SandboxTransfer): boolean {
    if (transfer.phase !== 'pending') return false;
    this.move(transfer.fromWallet, transfer.toWallet, transfer.amountMicroRtc);
    transfer.phase = 'confirmed';
    return true;
  }

  voidTransfer(transfer: SandboxTransfer): boolean {
    if (transfer.phase !== 'pending') return false;
    transfer.phase = 'voided';
    return true;
  }

  /** Confirms every queued transfer whose delay has passed; called before each request. */
  confirmDue(nowMs: number): void {
    for (const t of this.transfers.values()) {
      if (t.phase === 'pending' && t.confirmsAtMs !== null && t.confirmsAtMs <= nowMs) this.confirmTransfer(t);
    }
  }
}
