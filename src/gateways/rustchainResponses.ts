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

const JobListSchema = z.object({ jobs: z.array(JobSchema), total: z.number().int().optional() });

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

export type PageJob = z.infer<typeof JobSchema>;

export interface JobPage {
  readonly jobs: readonly PageJob[];
  readonly total: number | null;
  /** The port's job for one of `jobs` (never null: every job's reward was read when the page was). */
  escrowJob(job: PageJob): EscrowJob;
}

/**
 * One page of `GET /agent/jobs`, refused whole (null) when any job does not validate or its reward
 * cannot be read, but each job turned into the port's type only when
 * asked: a find-by-title reads the title of every job on a page of up to 100 and wants one of them,
 * and the conversion (the ISO time above all) was most of the page's cost.
 */
export function readJobPage(json: unknown): JobPage | null {
  const parsed = JobListSchema.safeParse(json);
  if (!parsed.success) return null;
  if (parsed.data.jobs.some((job) => microOf(job.reward_i64, job.reward_rtc) === null)) return null;
  return { jobs: parsed.data.jobs, total: parsed.data.total ?? null, escrowJob: (job) => toEscrowJob(job) as EscrowJob };
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
