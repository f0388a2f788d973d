/**
 * The node's admin transfer (a queued, voidable pending transfer with idempotency keys), its pending
 * list and the balance look-up.
 */
import { timingSafeEqual } from 'node:crypto';
import { decimalMicroOf, rtcFloatOf } from '../gateways/nodeAmounts.js';
import { transferTxHash } from './ledger.js';
import { fail, intQuery, reply, textField } from './http.js';
import type { Handler, HandlerContext } from './http.js';
import type { AutoConfirm, SandboxResponse, SandboxTransfer } from './types.js';

const PENDING_LIST_LIMIT_MAX = 500;

interface TransferInput {
  readonly fromWallet: string;
  readonly toWallet: string;
  readonly amountMicroRtc: bigint;
  readonly reason: string;
  readonly idempotencyKey: string | null;
}

export const isAdmin = (ctx: HandlerContext, presented: string | undefined): boolean => {
  const expected = Buffer.from(ctx.options.adminKey);
  const given = Buffer.from(presented ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
};

/** The transfer endpoint, given how queued transfers confirm right now. */
export function transferHandler(autoConfirm: () => AutoConfirm): Handler {
  return (ctx, req) => {
    if (!isAdmin(ctx, req.headers['x-admin-key'])) return fail(401, 'Unauthorized: admin key required');
    const input = parseTransfer(req.body);
    if (typeof input === 'string') return fail(400, input);
    if (input.idempotencyKey !== null) {
      const existing = ctx.ledger.transfersByKey.get(input.idempotencyKey);
      if (existing) return sameTransfer(existing, input) ? transferReply(existing, true) : fail(409, 'idempotency_key_conflict');
    }
    if (ctx.ledger.availableOf(input.fromWallet) < input.amountMicroRtc) {
      return fail(400, 'Insufficient available balance', { available_rtc: rtcFloatOf(ctx.ledger.availableOf(input.fromWallet)) });
    }
    return transferReply(queueTransfer(ctx, input, autoConfirm()), false);
  };
}

function parseTransfer(body: Readonly<Record<string, unknown>> | null): TransferInput | string {
  const fromWallet = textField(body, 'from_miner');
  const toWallet = textField(body, 'to_miner');
  if (!fromWallet || !toWallet) return 'from_miner and to_miner required';
  if (fromWallet === toWallet) return 'from_miner and to_miner must differ';
  const amountMicroRtc = decimalMicroOf(body?.['amount_rtc']);
  if (amountMicroRtc === null || amountMicroRtc <= 0n) return 'amount_rtc must be positive';
  const key = textField(body, 'idempotency_key');
  return { fromWallet, toWallet, amountMicroRtc, reason: textField(body, 'reason'), idempotencyKey: key || null };
}

const sameTransfer = (t: SandboxTransfer, input: TransferInput): boolean =>
  t.fromWallet === input.fromWallet &&
  t.toWallet === input.toWallet &&
  t.amountMicroRtc === input.amountMicroRtc &&
  t.reason === input.reason;

function queueTransfer(ctx: HandlerContext, input: TransferInput, autoConfirm: AutoConfirm): SandboxTransfer {
  const pendingId = ctx.ledger.takePendingId();
  const transfer: SandboxTransfer = {
    pendingId,
    idempotencyKey: input.idempotencyKey,
    fromWallet: input.fromWallet,
    toWallet: input.toWallet,
    amountMicroRtc: input.amountMicroRtc,
    reason: input.reason,
    phase: 'pending',
    txHash: transferTxHash(input.idempotencyKey ?? `pending:${pendingId}`),
    createdAtMs: ctx.nowMs,
    confirmsAtMs: autoConfirm === 'off' ? null : autoConfirm === 'immediate' ? ctx.nowMs : ctx.nowMs + autoConfirm,
  };
  ctx.ledger.addTransfer(transfer);
  if (autoConfirm === 'immediate') ctx.ledger.confirmTransfer(transfer);
  return transfer;
}

const confirmsAtSeconds = (t: SandboxTransfer): number | null =>
  t.confirmsAtMs === null ? null : Math.ceil(t.confirmsAtMs / 1000);

function transferReply(t: SandboxTransfer, replayed: boolean): SandboxResponse {
  return reply(200, {
    ok: true,
    phase: t.phase,
    pending_id: t.pendingId,
    tx_hash: t.txHash,
    confirms_at: confirmsAtSeconds(t),
    amount_rtc: rtcFloatOf(t.amountMicroRtc),
    replayed,
  });
}

/** Transfers touching the wallet, newest first; like the node, `offset` is ignored. */
export const pendingList: Handler = (ctx, req) => {
  const wallet = (req.query['miner_id'] ?? '').trim();
  const status = (req.query['status'] ?? 'pending').trim().toLowerCase();
  const limitRaw = intQuery(req.query['limit'], 100);
  if (limitRaw === null) return fail(400, 'limit must be an integer');
  const limit = Math.max(0, Math.min(limitRaw, PENDING_LIST_LIMIT_MAX));
  const items = ctx.ledger.transfersNewestFirst(wallet)
    .filter((t) => status === 'all' || t.phase === status)
    .slice(0, limit);
  return reply(200, { ok: true, pending: items.map(pendingJson), count: items.length });
};

export function pendingJson(t: SandboxTransfer): Record<string, unknown> {
  return {
    id: t.pendingId,
    ts: Math.floor(t.createdAtMs / 1000),
    from_miner: t.fromWallet,
    to_miner: t.toWallet,
    amount_rtc: rtcFloatOf(t.amountMicroRtc),
    amount_i64: Number(t.amountMicroRtc),
    reason: t.reason,
    status: t.phase,
    confirms_at: confirmsAtSeconds(t),
    tx_hash: t.txHash,
  };
}

export const walletBalance: Handler = (ctx, req) => {
  const wallet = (req.query['miner_id'] ?? '').trim();
  if (!wallet) return fail(400, 'miner_id required');
  const amountMicroRtc = ctx.ledger.balanceOf(wallet);
  return reply(200, { ok: true, miner_id: wallet, amount_rtc: rtcFloatOf(amountMicroRtc), amount_i64: Number(amountMicroRtc) });
};
