import { orderIdFromStream, tradeIdFor } from '../aggregates/order/events.js';
import { isTerminal, type OrderState } from '../aggregates/order/state.js';
import { EMPTY_FOLD, foldOrderEvent, type StreamProblemKind } from '../orderStream/fold.js';
import { verifyChain } from '../eventstore/hashChain.js';
import type { RecordedEvent } from '../eventstore/types.js';
import type { Finding, FindingKind } from './findings.js';
import { ESCROW_HIJACKED } from '../settlement/hijack.js';

/** What happened to one escrow job over the stream. */
interface JobLedger {
  lockedMicroRtc: bigint;
  releasedAt: number[];
  refundedAt: number[];
}

interface StreamScan {
  readonly stream: string;
  readonly findings: Finding[];
  readonly jobs: Map<string, JobLedger>;
  payoutConfirmations: number[];
  releasedMicroRtc: bigint;
  /** Invariant 9: the version at which the preimage became known (a confirm or a claim on chain). */
  preimageKnownAt: number | null;
  refundAt: number | null;
  /** Invariant 10: the version at which the order was parked as hijacked. */
  hijackedAt: number | null;
}

/** Keys that would hold a preimage in clear; only `secret_ciphertext` may carry it, encrypted. */
const CLEAR_SECRET_KEYS = ['secret', 'preimage', 'htlc_secret'];

/**
 * Checks invariants 1, 2, 3, 4 (no preimage in clear in the log), 5, 7, 9 and 10 (as far as the log
 * shows it: no release or payout after the escrow was found hijacked) of domain.md §7 over one order
 * stream. Invariant 6 needs the trades read model too (see checkTrades).
 */
export function checkOrderStream(stream: string, events: readonly RecordedEvent[]): Finding[] {
  const scan: StreamScan = {
    stream, findings: [], jobs: new Map(), payoutConfirmations: [], releasedMicroRtc: 0n, preimageKnownAt: null, refundAt: null, hijackedAt: null,
  };
  scan.findings.push(...chainFindings(stream, events));
  let fold = EMPTY_FOLD;
  for (const event of events) {
    const version = Number(event.version);
    const before = fold.state;
    fold = foldOrderEvent(fold, event);
    const problem = fold.problems.find((p) => p.version === event.version);
    if (problem !== undefined) {
      // The one fold names the event it could not take; verify reports it and checks on.
      const why = problem.kind === 'event_after_terminal' ? problem.reason : `cannot be read (${problem.reason})`;
      add(scan, FINDING_OF[problem.kind], version, `${stream} v${version}: ${event.type} ${why}`);
    }
    for (const key of CLEAR_SECRET_KEYS) {
      if (key in event.data) add(scan, 'secret_in_clear', version, `${stream} v${version}: ${event.type} carries "${key}" in clear`);
    }
    // Data that decoded is checked whatever the fold made of it; unreadable data cannot be.
    if (problem?.kind !== 'malformed_event' && problem?.kind !== 'unknown_event') scanEvent(scan, event, before);
  }
  finishScan(scan, fold.state);
  return scan.findings;
}

const FINDING_OF: Readonly<Record<StreamProblemKind, FindingKind>> = {
  unknown_event: 'malformed_event',
  malformed_event: 'malformed_event',
  event_does_not_apply: 'event_does_not_apply',
  event_after_terminal: 'event_after_terminal',
};

/** Invariant 7 for one stream: its hash chain, with the first event that breaks it named. */
export function chainFindings(stream: string, events: readonly RecordedEvent[]): Finding[] {
  const chain = verifyChain(events);
  if (chain.ok) return [];
  const version = Number(chain.version);
  return [{ kind: 'hash_chain_broken', stream, version, message: `${stream} v${chain.version}: ${chain.problem} (event ${chain.eventId})` }];
}

function add(scan: StreamScan, kind: FindingKind, version: number | undefined, message: string): void {
  scan.findings.push(version === undefined ? { kind, stream: scan.stream, message } : { kind, stream: scan.stream, version, message });
}

const text = (value: unknown): string => (typeof value === 'string' ? value : String(value));

function scanEvent(scan: StreamScan, event: RecordedEvent, before: OrderState): void {
  const version = Number(event.version);
  const orderMicroRtc = before.status === 'none' ? 0n : before.amountMicroRtc;
  const d = event.data;
  switch (event.type) {
    case 'EscrowLocked': {
      const amount = BigInt(text(d.amount_micro_rtc ?? '0'));
      if (amount !== orderMicroRtc) {
        add(scan, 'rtc_not_conserved', version, `${scan.stream} v${version}: escrow ${text(d.job_id)} locked ${amount} micro-RTC for an order of ${orderMicroRtc}`);
      }
      scan.jobs.set(text(d.job_id), { lockedMicroRtc: amount, releasedAt: [], refundedAt: [] });
      return;
    }
    case 'SettlementClaimed':
    case 'QuoteClaimObserved':
      return preimageKnown(scan, event, version);
    case 'SettlementRecoveryRequired':
      if (d.reason === ESCROW_HIJACKED && scan.hijackedAt === null) scan.hijackedAt = version;
      return;
    case 'RefundIssued':
      if (scan.preimageKnownAt !== null) {
        add(scan, 'refund_after_preimage_known', version, `${scan.stream} v${version}: escrow ${text(d.job_id)} refunded although the preimage was known since v${scan.preimageKnownAt}`);
      }
      scan.refundAt ??= version;
      return settleJob(scan, event, version);
    case 'EscrowReleased':
      hijackedPaid(scan, event, version);
      return settleJob(scan, event, version);
    case 'PayoutQueued': {
      hijackedPaid(scan, event, version);
      const amount = BigInt(text(d.amount_micro_rtc ?? '0'));
      if (amount !== scan.releasedMicroRtc) {
        add(scan, 'rtc_not_conserved', version, `${scan.stream} v${version}: payout of ${amount} micro-RTC queued after releasing ${scan.releasedMicroRtc}`);
      }
      return;
    }
    case 'PayoutConfirmed': {
      scan.payoutConfirmations.push(version);
      if (before.status !== 'payout_pending' && before.status !== 'settling') {
        add(scan, 'payout_without_release', version, `${scan.stream} v${version}: payout confirmed while the order was ${before.status}, with no payout queued`);
      } else if (scan.releasedMicroRtc !== orderMicroRtc) {
        add(scan, 'payout_without_release', version, `${scan.stream} v${version}: payout confirmed after releasing ${scan.releasedMicroRtc} of ${orderMicroRtc} micro-RTC`);
      }
      const expected = tradeIdFor(orderIdFromStream(scan.stream));
      if (d.trade_id !== expected) {
        add(scan, 'trade_id_mismatch', version, `${scan.stream} v${version}: trade_id ${text(d.trade_id)}, expected ${expected}`);
      }
      return;
    }
    default:
      return;
  }
}

/** Invariant 9: from a confirm or an on-chain claim on, the escrow may only go to the buyer. */
function preimageKnown(scan: StreamScan, event: RecordedEvent, version: number): void {
  scan.preimageKnownAt ??= version;
  if (scan.refundAt !== null) {
    add(scan, 'preimage_revealed_after_refund', version, `${scan.stream} v${version}: ${event.type} after the escrow was refunded at v${scan.refundAt}: the seller holds both legs`);
  }
}

/** Invariant 10: an escrow another worker took is never released through the ledger, nor paid out. */
function hijackedPaid(scan: StreamScan, event: RecordedEvent, version: number): void {
  if (scan.hijackedAt === null) return;
  add(scan, 'payout_for_hijacked_escrow', version, `${scan.stream} v${version}: ${event.type} after the escrow was found taken by another worker at v${scan.hijackedAt}`);
}

function settleJob(scan: StreamScan, event: RecordedEvent, version: number): void {
  const jobId = text(event.data.job_id);
  const job = scan.jobs.get(jobId);
  const verb = event.type === 'EscrowReleased' ? 'released' : 'refunded';
  if (job === undefined) {
    add(scan, 'rtc_not_conserved', version, `${scan.stream} v${version}: escrow ${jobId} ${verb} but never locked`);
    return;
  }
  if (job.releasedAt.length + job.refundedAt.length > 0) {
    const kind: FindingKind = (verb === 'released' ? job.refundedAt : job.releasedAt).length > 0 ? 'escrow_released_and_refunded' : 'rtc_not_conserved';
    const earlier = [...job.releasedAt.map((v) => `released at v${v}`), ...job.refundedAt.map((v) => `refunded at v${v}`)].join(', ');
    add(scan, kind, version, `${scan.stream} v${version}: escrow ${jobId} ${verb} again (already ${earlier})`);
  }
  if (verb === 'released') {
    job.releasedAt.push(version);
    scan.releasedMicroRtc += job.lockedMicroRtc;
  } else {
    job.refundedAt.push(version);
  }
}

function finishScan(scan: StreamScan, final: OrderState): void {
  const confirmations = scan.payoutConfirmations;
  if (confirmations.length > 1) {
    add(scan, 'payout_confirmed_twice', confirmations[1], `${scan.stream}: ${confirmations.length} PayoutConfirmed events (v${confirmations.join(', v')})`);
  }
  if (!isTerminal(final.status)) return;
  for (const [jobId, job] of scan.jobs) {
    if (job.releasedAt.length + job.refundedAt.length === 0) {
      add(scan, 'escrow_unsettled', undefined, `${scan.stream}: order is ${final.status} but escrow ${jobId} (${job.lockedMicroRtc} micro-RTC) was neither released nor refunded`);
    }
  }
}

