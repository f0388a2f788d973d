/**
 * The sandbox node's books, in integer micro-RTC. Money only moves through `move`, so the sum of all
 * balances is constant except for `mint` (the fund control); that is what tests check against.
 */
import { createHash } from 'node:crypto';
import type { JobStatus } from '../gateways/node.js';
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
/** Jobs the node counts against its per-poster anti-spam limit. */
const ACTIVE: ReadonlySet<string> = new Set(['open', 'claimed', 'delivered']);

/**
 * Jobs and transfers go in through `addJob` / `addTransfer` and change status only through this class,
 * so the indexes below stay exact. They keep every call O(1) (or O(what it returns)): a long benchmark
 * run holds hundreds of thousands of finished jobs and transfers, and walking them on every call made
 * the node slow down as a run went on.
 */
export class SandboxLedger {
  readonly balances = new Map<string, bigint>();
  /** Read-only for callers: add with `addJob`, change status with `setJobStatus`. */
  readonly jobs: ReadonlyMap<string, SandboxJob> = new Map<string, SandboxJob>();
  /** Read-only for callers: add with `addTransfer`. */
  readonly transfers: ReadonlyMap<number, SandboxTransfer> = new Map<number, SandboxTransfer>();
  readonly transfersByKey: ReadonlyMap<string, SandboxTransfer> = new Map<string, SandboxTransfer>();
  private readonly jobsByStatus = new Map<JobStatus, Set<SandboxJob>>();
  private readonly activeJobsByPoster = new Map<string, number>();
  /** Per wallet, every transfer from or to it, in pendingId order. */
  private readonly transfersByWallet = new Map<string, SandboxTransfer[]>();
  /** What pending transfers promise away, per source wallet. */
  private readonly reservedByWallet = new Map<string, bigint>();
  /** Pending transfers that confirm on their own at `confirmsAtMs`, in pendingId order. */
  private readonly autoConfirming = new Set<SandboxTransfer>();
  private nextJobSeq = 1;
  private nextPendingId = 1;

  balanceOf(wallet: string): bigint {
    return this.balances.get(wallet) ?? 0n;
  }

  /** Balance minus what queued transfers already promised away: what a new transfer may spend. */
  availableOf(wallet: string): bigint {
    return this.balanceOf(wallet) - (this.reservedByWallet.get(wallet) ?? 0n);
  }

  addJob(job: SandboxJob): void {
    if (this.jobs.has(job.jobId)) throw new Error(`sandbox job ${job.jobId} exists`);
    (this.jobs as Map<string, SandboxJob>).set(job.jobId, job);
    this.index(job, +1);
  }

  setJobStatus(job: SandboxJob, status: JobStatus): void {
    this.index(job, -1);
    job.status = status;
    this.index(job, +1);
  }

  /** Jobs in one status, in the order they were posted. */
  jobsInStatus(status: JobStatus): readonly SandboxJob[] {
    return [...(this.jobsByStatus.get(status) ?? [])];
  }

  /** The poster's open, claimed and delivered jobs: what the node's anti-spam limit counts. */
  activeJobCount(poster: string): number {
    return this.activeJobsByPoster.get(poster) ?? 0;
  }

  private index(job: SandboxJob, delta: 1 | -1): void {
    let inStatus = this.jobsByStatus.get(job.status);
    if (!inStatus) this.jobsByStatus.set(job.status, (inStatus = new Set()));
    if (delta > 0) inStatus.add(job);
    else inStatus.delete(job);
    if (ACTIVE.has(job.status)) this.activeJobsByPoster.set(job.posterWallet, this.activeJobCount(job.posterWallet) + delta);
  }

  addTransfer(transfer: SandboxTransfer): void {
    if (this.transfers.has(transfer.pendingId)) throw new Error(`sandbox transfer ${transfer.pendingId} exists`);
    (this.transfers as Map<number, SandboxTransfer>).set(transfer.pendingId, transfer);
    if (transfer.idempotencyKey !== null) (this.transfersByKey as Map<string, SandboxTransfer>).set(transfer.idempotencyKey, transfer);
    for (const wallet of new Set([transfer.fromWallet, transfer.toWallet])) {
      const list = this.transfersByWallet.get(wallet);
      if (list) list.push(transfer);
      else this.transfersByWallet.set(wallet, [transfer]);
    }
    if (transfer.phase === 'pending') {
      this.reserve(transfer, 1n);
      if (transfer.confirmsAtMs !== null) this.autoConfirming.add(transfer);
    }
  }

  /** Transfers from or to the wallet (every transfer when it is empty), newest first. */
  transfersNewestFirst(wallet: string): SandboxTransfer[] {
    const list = wallet ? (this.transfersByWallet.get(wallet) ?? []) : [...this.transfers.values()];
    return [...list].reverse();
  }

  private reserve(transfer: SandboxTransfer, sign: 1n | -1n): void {
    const reserved = (this.reservedByWallet.get(transfer.fromWallet) ?? 0n) + sign * transfer.amountMicroRtc;
    if (reserved === 0n) this.reservedByWallet.delete(transfer.fromWallet);
    else this.reservedByWallet.set(transfer.fromWallet, reserved);
  }

  private settleTransfer(transfer: SandboxTransfer, phase: 'confirmed' | 'voided'): void {
    this.reserve(transfer, -1n);
    this.autoConfirming.delete(transfer);
    transfer.phase = phase;
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
    this.setJobStatus(job, status);
    job.log.push({ action: 'escrow_refunded', actor, createdAt: nowSeconds });
  }

  /** The release: reward to the worker, fee to the platform. */
  releaseJob(job: SandboxJob, nowSeconds: number): void {
    this.move(ESCROW_WALLET, job.workerWallet ?? ESCROW_WALLET, job.rewardMicroRtc);
    this.move(ESCROW_WALLET, PLATFORM_FEE_WALLET, job.feeMicroRtc);
    this.setJobStatus(job, 'completed');
    job.log.push({ action: 'completed', actor: job.posterWallet, createdAt: nowSeconds });
  }

  confirmTransfer(transfer: SandboxTransfer): boolean {
    if (transfer.phase !== 'pending') return false;
    this.move(transfer.fromWallet, transfer.toWallet, transfer.amountMicroRtc);
    this.settleTransfer(transfer, 'confirmed');
    return true;
  }

  voidTransfer(transfer: SandboxTransfer): boolean {
    if (transfer.phase !== 'pending') return false;
    this.settleTransfer(transfer, 'voided');
    return true;
  }

  /**
   * Confirms every queued transfer whose delay has passed, in pendingId order; called before each
   * request. Walks only the transfers still waiting to confirm on their own.
   */
  confirmDue(nowMs: number): void {
    if (this.autoConfirming.size === 0) return;
    for (const t of [...this.autoConfirming]) {
      if (t.confirmsAtMs !== null && t.confirmsAtMs <= nowMs) this.confirmTransfer(t);
    }
  }
}
