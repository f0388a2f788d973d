/**
 * RIP-302 escrow jobs as the node implements them: posting locks reward + 5 % fee, accept releases,
 * cancel refunds. Validation messages and status codes follow the node, so the adapter's
 * classification is tested against the real answers.
 */
import { createHash } from 'node:crypto';
import { decimalMicroOf, rtcFloatOf } from '../gateways/nodeAmounts.js';
import { ESCROW_WALLET, platformFeeMicroRtc } from './ledger.js';
import { fail, intQuery, nowSeconds, param, reply, textField } from './http.js';
import type { Handler, HandlerContext, RoutedRequest } from './http.js';
import type { JobStatus } from '../gateways/node.js';
import type { SandboxJob, SandboxResponse } from './types.js';

export const VALID_CATEGORIES = ['research', 'code', 'video', 'audio', 'writing', 'translation', 'data', 'design', 'testing', 'other'];
const TTL_MIN_SECONDS = 3600;
const TTL_MAX_SECONDS = 30 * 86_400;
const TTL_DEFAULT_SECONDS = 7 * 86_400;
const MIN_REWARD_MICRO_RTC = 10_000n;
const MAX_REWARD_MICRO_RTC = 10_000_000_000n;
const LIST_LIMIT_MAX = 100;

export const postJob: Handler = (ctx, req) => {
  if (req.body === null || Object.keys(req.body).length === 0) return fail(400, 'JSON body required');
  const poster = textField(req.body, 'poster_wallet');
  const title = textField(req.body, 'title');
  const description = textField(req.body, 'description');
  const category = textField(req.body, 'category').toLowerCase() || 'other';
  if (!poster) return fail(400, 'poster_wallet required');
  if (title.length < 5) return fail(400, 'title must be at least 5 characters');
  if (description.length < 20) return fail(400, 'description must be at least 20 characters');
  if (!VALID_CATEGORIES.includes(category)) return fail(400, `category must be one of: ${VALID_CATEGORIES.join(', ')}`);
  const rewardMicroRtc = decimalMicroOf(req.body['reward_rtc']);
  if (rewardMicroRtc === null) return fail(400, 'reward_rtc must be a number');
  if (rewardMicroRtc < MIN_REWARD_MICRO_RTC) return fail(400, 'Minimum reward is 0.01 RTC');
  if (rewardMicroRtc > MAX_REWARD_MICRO_RTC) return fail(400, 'Maximum reward is 10,000 RTC');
  const ttlSeconds = clampTtl(req.body['ttl_seconds']);
  if (ttlSeconds === null) return fail(400, 'ttl_seconds must be an integer');
  return lockJob(ctx, { poster, title, description, category, rewardMicroRtc, ttlSeconds, tags: tagsOf(req.body) });
};

interface NewJob {
  poster: string;
  title: string;
  description: string;
  category: string;
  rewardMicroRtc: bigint;
  ttlSeconds: number;
  tags: unknown[];
}

function lockJob(ctx: HandlerContext, input: NewJob): SandboxResponse {
  const { ledger } = ctx;
  const feeMicroRtc = platformFeeMicroRtc(input.rewardMicroRtc);
  const escrowMicroRtc = input.rewardMicroRtc + feeMicroRtc;
  const balanceMicroRtc = ledger.balanceOf(input.poster);
  if (balanceMicroRtc < escrowMicroRtc) {
    return fail(400, 'Insufficient balance for escrow', {
      balance_rtc: rtcFloatOf(balanceMicroRtc),
      escrow_required_rtc: rtcFloatOf(escrowMicroRtc),
    });
  }
  const active = ledger.activeJobCount(input.poster);
  if (active >= ctx.options.maxActiveJobsPerPoster) {
    return fail(429, `Maximum ${ctx.options.maxActiveJobsPerPoster} active jobs per agent`, { active_jobs: active });
  }
  const now = nowSeconds(ctx);
  const seq = ledger.takeJobSeq();
  const jobId = `job_${createHash('sha256').update(`${input.poster}:${input.title}:${seq}`).digest('hex').slice(0, 16)}`;
  ledger.move(input.poster, ESCROW_WALLET, escrowMicroRtc);
  const job: SandboxJob = {
    jobId, posterWallet: input.poster, workerWallet: null, title: input.title, description: input.description,
    category: input.category, rewardMicroRtc: input.rewardMicroRtc, feeMicroRtc, status: 'open', resultSummary: null,
    tags: input.tags, createdAt: now, expiresAt: now + input.ttlSeconds, seq,
    log: [{ action: 'posted', actor: input.poster, createdAt: now }],
  };
  ledger.addJob(job);
  return reply(201, {
    ok: true, job_id: jobId, status: 'open', poster_wallet: input.poster,
    reward_rtc: rtcFloatOf(input.rewardMicroRtc), platform_fee_rtc: rtcFloatOf(feeMicroRtc),
    escrow_total_rtc: rtcFloatOf(escrowMicroRtc), expires_at: job.expiresAt,
    expires_in_hours: input.ttlSeconds / 3600,
  });
}

function clampTtl(raw: unknown): number | null {
  if (raw === undefined || raw === null) return TTL_DEFAULT_SECONDS;
  const ttl = typeof raw === 'number' ? Math.trunc(raw) : Number.parseInt(String(raw), 10);
  if (!Number.isFinite(ttl)) return null;
  return Math.min(Math.max(ttl, TTL_MIN_SECONDS), TTL_MAX_SECONDS);
}

const tagsOf = (body: Readonly<Record<string, unknown>>): unknown[] => {
  const tags = body['tags'];
  return Array.isArray(tags) ? [...tags] : [];
};

/** Looks the job up, or answers 404 like the node. */
function withJob(req: RoutedRequest, ctx: HandlerContext, step: (job: SandboxJob) => SandboxResponse): SandboxResponse {
  const job = ctx.ledger.jobs.get(param(req, 'id'));
  return job ? step(job) : fail(404, 'Job not found');
}

export const claimJob: Handler = (ctx, req) => {
  const worker = textField(req.body, 'worker_wallet');
  if (!worker) return fail(400, 'worker_wallet required');
  return withJob(req, ctx, (job) => {
    if (job.status !== 'open') return fail(409, `Job is not open (status: ${job.status})`);
    if (job.posterWallet === worker) return fail(400, 'Cannot claim your own job');
    const now = nowSeconds(ctx);
    if (now > job.expiresAt) {
      ctx.ledger.refundJob(job, 'expired', null, now);
      return fail(410, 'Job has expired');
    }
    job.workerWallet = worker;
    ctx.ledger.setJobStatus(job, 'claimed');
    job.log.push({ action: 'claimed', actor: worker, createdAt: now });
    return reply(200, { ok: true, job_id: job.jobId, status: 'claimed', worker_wallet: worker, reward_rtc: rtcFloatOf(job.rewardMicroRtc), expires_at: job.expiresAt });
  });
};

export const deliverJob: Handler = (ctx, req) => {
  const worker = textField(req.body, 'worker_wallet');
  const summary = textField(req.body, 'result_summary');
  if (!worker) return fail(400, 'worker_wallet required');
  if (!summary && !textField(req.body, 'deliverable_url')) return fail(400, 'deliverable_url or result_summary required');
  return withJob(req, ctx, (job) => {
    if (job.status !== 'claimed') return fail(409, `Job must be in 'claimed' status (current: ${job.status})`);
    if (job.workerWallet !== worker) return fail(403, 'Only the assigned worker can deliver');
    ctx.ledger.setJobStatus(job, 'delivered');
    job.resultSummary = summary;
    job.log.push({ action: 'delivered', actor: worker, createdAt: nowSeconds(ctx) });
    return reply(200, { ok: true, job_id: job.jobId, status: 'delivered' });
  });
};

export const acceptJob: Handler = (ctx, req) => {
  const poster = textField(req.body, 'poster_wallet');
  if (!poster) return fail(400, 'poster_wallet required');
  return withJob(req, ctx, (job) => {
    if (job.status !== 'delivered') return fail(409, `Job must be in 'delivered' status (current: ${job.status})`);
    if (job.posterWallet !== poster) return fail(403, 'Only the poster can accept delivery');
    ctx.ledger.releaseJob(job, nowSeconds(ctx));
    return reply(200, {
      ok: true, job_id: job.jobId, status: 'completed', worker_wallet: job.workerWallet,
      reward_paid_rtc: rtcFloatOf(job.rewardMicroRtc), platform_fee_rtc: rtcFloatOf(job.feeMicroRtc),
    });
  });
};

export const cancelJob: Handler = (ctx, req) => {
  const poster = textField(req.body, 'poster_wallet');
  if (!poster) return fail(400, 'poster_wallet required');
  return withJob(req, ctx, (job) => {
    if (job.posterWallet !== poster) return fail(403, 'Only the poster can cancel');
    const now = nowSeconds(ctx);
    const claimedPastExpiry = job.status === 'claimed' && now > job.expiresAt;
    if (job.status !== 'open' && job.status !== 'disputed' && !claimedPastExpiry) {
      return fail(409, `Can only cancel open or disputed jobs (current: ${job.status})`);
    }
    ctx.ledger.refundJob(job, 'cancelled', poster, now);
    return reply(200, { ok: true, job_id: job.jobId, status: 'cancelled', refunded_rtc: rtcFloatOf(job.rewardMicroRtc + job.feeMicroRtc) });
  });
};

export const getJob: Handler = (ctx, req) => withJob(req, ctx, (job) => reply(200, { ok: true, job: fullJobJson(job) }));

export const listJobs: Handler = (ctx, req) => {
  expireOpenJobs(ctx);
  const status = (req.query['status'] ?? 'open').trim().toLowerCase();
  const category = (req.query['category'] ?? '').trim().toLowerCase();
  const limitRaw = intQuery(req.query['limit'], 50);
  const offsetRaw = intQuery(req.query['offset'], 0);
  if (limitRaw === null || offsetRaw === null) return fail(500, 'invalid literal for int()');
  const limit = Math.min(limitRaw, LIST_LIMIT_MAX);
  const offset = Math.max(offsetRaw, 0);
  const matching = (isJobStatus(status) ? ctx.ledger.jobsInStatus(status) : [])
    .filter((j) => !VALID_CATEGORIES.includes(category) || j.category === category)
    .sort(byRewardThenNewest);
  // SQLite reads a negative LIMIT as no limit at all.
  const page = limit < 0 ? matching.slice(offset) : matching.slice(offset, offset + limit);
  return reply(200, { ok: true, jobs: page.map(listJobJson), total: matching.length, limit, offset, categories: VALID_CATEGORIES });
};

const JOB_STATUSES: ReadonlySet<string> = new Set<JobStatus>(['open', 'claimed', 'delivered', 'completed', 'disputed', 'expired', 'cancelled']);
const isJobStatus = (status: string): status is JobStatus => JOB_STATUSES.has(status);

const byRewardThenNewest = (a: SandboxJob, b: SandboxJob): number =>
  a.rewardMicroRtc === b.rewardMicroRtc ? b.seq - a.seq : a.rewardMicroRtc > b.rewardMicroRtc ? -1 : 1;

/** The node expires overdue open jobs (and refunds them) whenever the list is read. */
function expireOpenJobs(ctx: HandlerContext): void {
  const now = nowSeconds(ctx);
  for (const job of ctx.ledger.jobsInStatus('open')) {
    if (job.expiresAt < now) ctx.ledger.refundJob(job, 'expired', null, now);
  }
}

function listJobJson(job: SandboxJob): Record<string, unknown> {
  return {
    job_id: job.jobId, poster_wallet: job.posterWallet, title: job.title, description: job.description,
    category: job.category, reward_rtc: rtcFloatOf(job.rewardMicroRtc), status: job.status,
    created_at: job.createdAt, expires_at: job.expiresAt, tags: JSON.stringify(job.tags), worker_wallet: job.workerWallet,
  };
}

export function fullJobJson(job: SandboxJob): Record<string, unknown> {
  return {
    ...listJobJson(job),
    reward_i64: Number(job.rewardMicroRtc),
    platform_fee_i64: Number(job.feeMicroRtc),
    escrow_i64: Number(job.rewardMicroRtc + job.feeMicroRtc),
    result_summary: job.resultSummary,
    activity_log: job.log.map((e) => ({ action: e.action, actor_wallet: e.actor, created_at: e.createdAt })),
    ratings: [],
  };
}
