/**
 * The invariants the simulator checks after every step (domain.md §7 for the RTC leg, and the money
 * view against the sandbox node's own books), and the stricter ones that only hold at quiescence.
 * Each returns the violations it found as sentences naming the order; an empty list is a pass.
 */
import { orderIdFromStream, ORDER_STREAM_PREFIX, isTerminal, type OrderState } from '../aggregates/order/index.js';
import { checkOrderStream } from '../audit/invariants.js';
import { BRIDGE_WORKER_WALLET } from '../gateways/node.js';
import type { RecordedEvent } from '../eventstore/types.js';
import type { SandboxNode } from '../sandbox/index.js';

/** What the log says about one order's escrow jobs and payouts, kept as events arrive. */
export interface OrderBook {
  readonly jobs: Map<string, { amountMicroRtc: bigint; released: boolean; refunded: boolean }>;
  claimed: boolean;
  released: boolean;
  payoutKeys: Set<string>;
  /** From OrderPlaced and Matched: who sells, to which quote address, under which hashlock. */
  side: 'sell' | 'buy' | null;
  htlcHash: string | null;
  makerEthAddress: string | null;
  takerEthAddress: string | null;
  /** The quote leg is read on the (simulated) chain. */
  onChain: boolean;
}

/**
 * The simulated chain as the checks see it: why the seller's RTC must not go back to them now (a
 * claim on the chain under the hashlock, or a swap for the seller that can still be claimed), or null.
 */
export interface ChainWitness {
  refundForbidden(hashlock: string, sellerQuoteAddress: string): string | null;
}

export interface CheckCounts {
  /** Individual invariant evaluations made, by invariant. */
  readonly byCheck: Record<string, number>;
}

export class Checker {
  readonly orders = new Map<string, OrderBook>();
  readonly jobToOrder = new Map<string, string>();
  readonly counts: Record<string, number> = {};
  private readonly secrets = new Set<string>();
  private readonly mintedMicroRtc: { total: bigint };

  constructor(private readonly node: SandboxNode, minted: { total: bigint }, private readonly chain: ChainWitness | null = null) {
    this.mintedMicroRtc = minted;
  }

  private count(name: string, n = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + n;
  }

  /** A preimage the simulated traders know: it must never appear in clear in the log (invariant 4). */
  knowSecret(secretHex: string): void {
    this.secrets.add(secretHex.toLowerCase());
  }

  bookOf(orderId: string): OrderBook {
    let book = this.orders.get(orderId);
    if (book === undefined) {
      book = {
        jobs: new Map(), claimed: false, released: false, payoutKeys: new Set(),
        side: null, htlcHash: null, makerEthAddress: null, takerEthAddress: null, onChain: false,
      };
      this.orders.set(orderId, book);
    }
    return book;
  }

  /** New events since the last step: each checked against the node, then each touched stream in full. */
  newEvents(events: readonly RecordedEvent[], streamOf: (stream: string) => readonly RecordedEvent[]): string[] {
    const violations: string[] = [];
    const touched = new Set<string>();
    for (const event of events) {
      const raw = JSON.stringify(event.data);
      this.count('inv4_no_preimage_in_clear');
      for (const secret of this.secrets) {
        if (raw.includes(secret)) violations.push(`inv4: ${event.stream} v${event.version} ${event.type} carries a preimage in clear`);
      }
      if (!event.stream.startsWith(ORDER_STREAM_PREFIX)) continue;
      touched.add(event.stream);
      violations.push(...this.againstNode(orderIdFromStream(event.stream), event));
    }
    for (const stream of touched) {
      this.count('stream_invariants_1_2_3_5_7');
      for (const finding of checkOrderStream(stream, streamOf(stream))) violations.push(`${finding.kind}: ${finding.message}`);
    }
    return violations;
  }

  /** One event against the node's books: what the ledger recorded, the node did. */
  private againstNode(orderId: string, event: RecordedEvent): string[] {
    const book = this.bookOf(orderId);
    const d = event.data as Record<string, string>;
    const out: string[] = [];
    const where = `${orderId} v${event.version} ${event.type}`;
    switch (event.type) {
      case 'EscrowLocked': {
        const jobId = d.job_id as string;
        const amount = BigInt(d.amount_micro_rtc as string);
        book.jobs.set(jobId, { amountMicroRtc: amount, released: false, refunded: false });
        this.jobToOrder.set(jobId, orderId);
        const job = this.node.job(jobId);
        this.count('money_lock_matches_node');
        if (job === undefined) out.push(`money: ${where}: job ${jobId} does not exist at the node`);
        else if (job.rewardMicroRtc !== amount) out.push(`money: ${where}: node job holds ${job.rewardMicroRtc}, ledger locked ${amount}`);
        break;
      }
      case 'EscrowReleased': {
        const jobId = d.job_id as string;
        const job = this.node.job(jobId);
        const mine = book.jobs.get(jobId);
        this.count('money_release_matches_node');
        if (mine) mine.released = true;
        book.released = true;
        if (job?.status !== 'completed') out.push(`money: ${where}: job ${jobId} is ${job?.status ?? 'missing'} at the node`);
        else if (job.workerWallet !== BRIDGE_WORKER_WALLET) out.push(`inv10: ${where}: job ${jobId} was completed by ${job.workerWallet}, not the ledger's worker`);
        break;
      }
      case 'RefundIssued': {
        const jobId = d.job_id as string;
        const job = this.node.job(jobId);
        const mine = book.jobs.get(jobId);
        if (mine) mine.refunded = true;
        this.count('money_refund_matches_node');
        this.count('inv9_no_refund_once_preimage_known');
        if (book.claimed) out.push(`inv9: ${where}: refunded although the preimage is known (SettlementClaimed or QuoteClaimObserved)`);
        out.push(...this.chainAllowsRefund(book, where));
        if (job !== undefined && (job.status === 'completed' || this.node.ledger.holdsEscrow(job as never))) {
          out.push(`money: ${where}: job ${jobId} is ${job.status} at the node, not refunded`);
        }
        break;
      }
      case 'SettlementClaimed':
      case 'QuoteClaimObserved':
        book.claimed = true;
        break;
      case 'OrderPlaced':
        book.side = d.side as 'sell' | 'buy';
        book.htlcHash = d.htlc_hash ?? null;
        book.makerEthAddress = d.maker_eth_address ?? null;
        break;
      case 'Matched':
        if (d.htlc_hash) book.htlcHash = d.htlc_hash;
        book.takerEthAddress = d.taker_eth_address ?? null;
        book.onChain = (event.data as { quote_leg?: unknown }).quote_leg !== undefined;
        break;
      case 'OrderExpired':
        // A chain-verified matched order goes back to its seller only on the chain's word.
        if (book.onChain && book.jobs.size > 0) out.push(...this.chainAllowsRefund(book, where));
        break;
      case 'PayoutQueued': {
        const key = d.payout_key as string;
        book.payoutKeys.add(key);
        const transfer = this.node.transferByKey(key);
        this.count('money_payout_matches_node');
        this.count('inv10_no_payout_for_hijacked_job');
        if (!book.released) out.push(`payout_without_release: ${where}: payout queued before any release`);
        for (const jobId of book.jobs.keys()) {
          const job = this.node.job(jobId);
          if (job?.workerWallet && job.workerWallet !== BRIDGE_WORKER_WALLET) out.push(`inv10: ${where}: payout queued for job ${jobId} taken by ${job.workerWallet}`);
        }
        if (transfer === undefined) out.push(`money: ${where}: no transfer ${key} at the node`);
        else if (transfer.amountMicroRtc !== BigInt(d.amount_micro_rtc as string) || transfer.toWallet !== d.to) {
          out.push(`money: ${where}: node transfer ${key} is ${transfer.amountMicroRtc} to ${transfer.toWallet}`);
        }
        break;
      }
      case 'PayoutConfirmed': {
        const transfer = this.node.transferByKey(d.payout_key as string);
        this.count('money_confirm_matches_node');
        if (transfer?.phase !== 'confirmed') out.push(`money: ${where}: node transfer ${d.payout_key} is ${transfer?.phase ?? 'missing'}`);
        break;
      }
      default:
        break;
    }
    return out;
  }

  /**
   * Invariant 9 with its chain half, and the quote leg's rule for giving RTC back: once any claim
   * under the order's hashlock is on the chain the preimage is public, and while a swap for the
   * seller can still be claimed (not refunded, finalized time before its T) the buyer may yet be owed
   * the RTC. Either way the seller's escrow must not be refunded.
   */
  private chainAllowsRefund(book: OrderBook, where: string): string[] {
    if (!book.onChain || this.chain === null || book.htlcHash === null) return [];
    const seller = book.side === 'sell' ? book.makerEthAddress : book.takerEthAddress;
    if (seller === null) return [];
    this.count('inv9_10_chain_proves_no_live_swap_at_refund');
    const why = this.chain.refundForbidden(book.htlcHash, seller);
    return why === null ? [] : [`inv9: ${where}: the seller's RTC goes back although ${why}`];
  }

  /** The node's own books after each step: RTC conserved, no payout without a release, no hijacked job accepted. */
  nodeBooks(): string[] {
    const out: string[] = [];
    let total = 0n;
    for (const balance of this.node.ledger.balances.values()) total += balance;
    this.count('node_rtc_conserved');
    if (total !== this.mintedMicroRtc.total) out.push(`money: the node holds ${total} micro-RTC in all, ${this.mintedMicroRtc.total} were minted`);
    for (const transfer of this.node.transfers()) {
      const key = transfer.idempotencyKey ?? '';
      if (!key.startsWith('otc_payout:')) continue;
      const orderId = key.slice('otc_payout:'.length).split(':')[0] as string;
      this.count('no_payout_without_release');
      if (!this.bookOf(orderId).released) out.push(`payout_without_release: the node holds transfer ${key} but ${orderId} recorded no release`);
    }
    for (const job of this.node.jobs()) {
      if (job.status !== 'completed' || !this.jobToOrder.has(job.jobId)) continue;
      this.count('inv10_completed_by_ledger_worker');
      if (job.workerWallet !== BRIDGE_WORKER_WALLET) out.push(`inv10: job ${job.jobId} of ${this.jobToOrder.get(job.jobId)} completed by ${job.workerWallet}`);
    }
    return out;
  }

  /** A request the ledger is about to send: an accept of a job another worker holds is invariant 10's breach. */
  request(method: string, path: string): string[] {
    const accept = /^\/agent\/jobs\/([^/]+)\/accept$/.exec(path);
    if (method === 'POST' && accept) {
      const job = this.node.job(accept[1] as string);
      this.count('inv10_accept_only_own_worker');
      if (job?.workerWallet && job.workerWallet !== BRIDGE_WORKER_WALLET) return [`inv10: the ledger sent an accept for job ${job.jobId}, claimed by ${job.workerWallet}`];
    }
    const cancel = /^\/agent\/jobs\/([^/]+)\/cancel$/.exec(path);
    if (method === 'POST' && cancel) {
      const orderId = this.jobToOrder.get(cancel[1] as string);
      this.count('inv9_no_refund_call_once_preimage_known');
      if (orderId !== undefined && this.bookOf(orderId).claimed) return [`inv9: the ledger sent a refund (cancel) of job ${cancel[1]} of ${orderId}, whose preimage is known`];
      if (orderId !== undefined) return this.chainAllowsRefund(this.bookOf(orderId), `refund (cancel) of job ${cancel[1]} of ${orderId}`);
    }
    return [];
  }

  /**
   * At quiescence: the ledger and the node agree on every order that is not parked for an
   * operator, and no escrow the node holds is unknown to the ledger.
   */
  quiescent(states: ReadonlyMap<string, OrderState>): string[] {
    const out: string[] = [];
    for (const [orderId, state] of states) {
      const book = this.bookOf(orderId);
      for (const [jobId, mine] of book.jobs) {
        const job = this.node.job(jobId);
        const held = !mine.released && !mine.refunded;
        this.count('money_locked_eq_released_refunded_held');
        if (mine.released && mine.refunded) out.push(`inv2: ${orderId}: job ${jobId} both released and refunded`);
        if (state.status === 'settlement_recovery' || job === undefined) continue;
        const nodeHolds = this.node.ledger.holdsEscrow(job as never);
        if (held && isTerminal(state.status)) out.push(`inv1: ${orderId} is ${state.status} but job ${jobId} is still held in the ledger's record`);
        if (held && !nodeHolds) out.push(`money: ${orderId} (${state.status}): the ledger holds job ${jobId}, the node has it ${job.status}`);
      }
      if (state.status === 'completed') {
        const transfer = this.node.transferByKey(state.payout.key);
        this.count('money_completed_paid');
        if (transfer?.phase !== 'confirmed') out.push(`money: ${orderId} completed but its payout is ${transfer?.phase ?? 'missing'} at the node`);
      }
    }
    for (const job of this.node.jobs()) {
      const orderId = /^OTC Escrow (\S+) (maker|taker)$/.exec(job.title)?.[1];
      if (orderId === undefined) continue;
      this.count('no_orphan_escrow');
      const state = states.get(orderId);
      const recorded = this.jobToOrder.has(job.jobId);
      if (!recorded && this.node.ledger.holdsEscrow(job as never) && state?.status !== 'settlement_recovery') {
        out.push(`money: the node holds escrow job ${job.jobId} for ${orderId} (${state?.status ?? 'unknown'}), which the ledger never recorded`);
      }
    }
    return out;
  }
}
