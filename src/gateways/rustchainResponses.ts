/**
 * The node's JSON answers, validated and turned into the port's types with amounts in micro-RTC.
 * A 2xx answer that does not parse is reported as null, which the adapter classifies as unknown:
 * the call went through, so something may have happened that we cannot read.
 */
import { z } from 'zod';
import { decimalMicroOf } from './nodeAmounts.js';
import type { EscrowJob, JobStatus, PendingTransfer, TransferResult } from './node.js';

export const JOB_STATUSES = ['open', 'claimed', 'delivered', 'completed', 'disputed', 'expired', 'cancelled'] as const satisfies readonly JobStatus[];

const rtcAmount = z.union([z.number(), z.string()]);
const timestamp = z.union([z.number(), z.string()]).nullish();

const JobSchema = z.object({
  job_id: z.string().min(1),
  title: z.string(),
  poster_wallet: z.string(),
  status: z.enum(JOB_STATUSES),
  reward_rtc: rtcAmount.optional(),
  reward_i64: z.number().int().nonnegative().optional(),
  expires_at: timestamp,
  /** Who claimed the job: kept, since only the ledger's own worker may ever release an escrow. */
  worker_wallet: z.string().nullable().optional(),
});

const LockSchema = z.object({
  job_id: z.string().min(1),
  status: z.enum(JOB_STATUSES),
  reward_rtc: rtcAmount.optional(),
  expires_at: timestamp,
});

const TransferSchema = z.object({
  phase: z.enum(['pending', 'confirmed', 'voided']),
  pending_id: z.union([z.number(), z.string()]).nullish(),
  tx_hash: z.string().min(1),
  confirms_at: timestamp,
});

const PendingSchema = z.object({
  pending: z.array(
    z.object({
      id: z.union([z.number(), z.string()]),
      from_miner: z.string(),
      to_miner: z.string(),
      amount_rtc: rtcAmount.optional(),
      amount_i64: z.number().int().optional(),
      reason: z.string().nullish(),
      status: z.string(),
      tx_hash: z.string().nullish(),
    }),
  ),
});

const BalanceSchema = z.object({ amount_rtc: rtcAmount.optional(), amount_i64: z.number().int().optional() });

/** The node's unix-seconds timestamps as ISO strings; text is passed through. */
export function isoTime(value: number | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  const date = new Date(value * 1000);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** An exact integer field when the node gives one (`*_i64`), else its RTC float read exactly. */
function microOf(i64: number | undefined, rtc: number | string | undefined): bigint | null {
  if (i64 !== undefined && Number.isSafeInteger(i64)) return BigInt(i64);
  return rtc === undefined ? null : decimalMicroOf(rtc);
}

function toEscrowJob(job: z.infer<typeof JobSchema>): EscrowJob | null {
  const rewardMicroRtc = microOf(job.reward_i64, job.reward_rtc);
  if (rewardMicroRtc === null) return null;
  return {
    jobId: job.job_id,
    title: job.title,
    posterWallet: job.poster_wallet,
    workerWallet: job.worker_wallet ?? null,
    status: job.status,
    rewardMicroRtc,
    expiresAt: isoTime(job.expires_at),
  };
}

/** Built once: zod compiles an object schema on its first parse, so one built per call compiled per call. */
const JobAnswerSchema = z.object({ job: JobSchema });

/** `GET /agent/jobs/<id>` → `{ok, job}`. */
export function parseJobAnswer(json: unknown): EscrowJob | null {
  const parsed = JobAnswerSchema.safeParse(json);
  return parsed.success ? toEscrowJob(parsed.data.job) : null;
}

/** `POST /agent/jobs` → 201; the node echoes the reward as it understood it, read in micro-RTC. */
export function parseLockAnswer(json: unknown, sent: Pick<EscrowJob, 'title' | 'posterWallet'>): EscrowJob | null {
  const parsed = LockSchema.safeParse(json);
  if (!parsed.success || parsed.data.reward_rtc === undefined) return null;
  const rewardMicroRtc = decimalMicroOf(parsed.data.reward_rtc);
  if (rewardMicroRtc === null) return null;
  return {
    jobId: parsed.data.job_id,
    title: sent.title,
    posterWallet: sent.posterWallet,
    workerWallet: null,
    status: parsed.data.status,
    rewardMicroRtc,
    expiresAt: isoTime(parsed.data.expires_at),
  };
}

/** One page of `GET /agent/jobs` as a find-by-title reads it. */
export interface TitledJobPage {
  /** How many jobs the page held (all of them, not only the title's): the scan's paging needs it. */
  readonly count: number;
  readonly total: number | null;
  /** The page's jobs with the title, in page order, validated and read as the port's type. */
  readonly matches: readonly EscrowJob[];
}

/**
 * A page of `GET /agent/jobs` read for one title. The page must still be a job list (an array of
 * objects, each with a string title, and an integer total if any), so an answer from the wrong
 * path or a proxy is refused (null) as before; but only the jobs with this title are validated in
 * full and converted, and one of those that does not validate refuses the page. A job of another
 * title cannot change what the find answers, and validating up to 100 of them per page was most
 * of a find's cost: the stray-lock sweep reads three pages per lock (PERFORMANCE.md, session 7).
 */
export function readJobPageFor(title: string): (json: unknown) => TitledJobPage | null {
  return (json) => {
    const envelope = jobListEnvelope(json);
    if (envelope === null) return null;
    const matches: EscrowJob[] = [];
    for (const job of envelope.jobs) {
      if ((job as { title: string }).title !== title) continue;
      const parsed = JobSchema.safeParse(job);
      const escrowJob = parsed.success ? toEscrowJob(parsed.data) : null;
      if (escrowJob === null) return null;
      matches.push(escrowJob);
    }
    return { count: envelope.jobs.length, total: envelope.total, matches };
  };
}

/** `{jobs: [{title: string, ...}, ...], total?: integer}`, checked by hand: no copy of the page is made. */
function jobListEnvelope(json: unknown): { jobs: readonly unknown[]; total: number | null } | null {
  if (typeof json !== 'object' || json === null) return null;
  const { jobs, total } = json as { jobs?: unknown; total?: unknown };
  if (!Array.isArray(jobs)) return null;
  if (total !== undefined && !Number.isSafeInteger(total)) return null;
  for (const job of jobs) {
    if (typeof job !== 'object' || job === null || typeof (job as { title?: unknown }).title !== 'string') return null;
  }
  return { jobs, total: (total as number | undefined) ?? null };
}

export function parseTransferAnswer(json: unknown): TransferResult | null {
  const parsed = TransferSchema.safeParse(json);
  if (!parsed.success) return null;
  const { phase, pending_id: pendingId, tx_hash: txHash, confirms_at: confirmsAt } = parsed.data;
  return { phase, pendingId: pendingId === null || pendingId === undefined ? null : String(pendingId), txHash, confirmsAt: isoTime(confirmsAt) };
}

export function parsePendingAnswer(json: unknown): PendingTransfer[] | null {
  const parsed = PendingSchema.safeParse(json);
  if (!parsed.success) return null;
  const items: PendingTransfer[] = [];
  for (const item of parsed.data.pending) {
    const amountMicroRtc = microOf(item.amount_i64, item.amount_rtc);
    if (amountMicroRtc === null) return null;
    items.push({
      id: String(item.id),
      fromWallet: item.from_miner,
      toWallet: item.to_miner,
      amountMicroRtc,
      reason: item.reason ?? '',
      status: item.status,
      txHash: item.tx_hash ?? null,
    });
  }
  return items;
}

export function parseBalanceAnswer(json: unknown): bigint | null {
  const parsed = BalanceSchema.safeParse(json);
  return parsed.success ? microOf(parsed.data.amount_i64, parsed.data.amount_rtc) : null;
}
