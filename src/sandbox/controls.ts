/**
 * The `/__sandbox/` control endpoints: fund wallets, confirm or void queued transfers, set how
 * transfers confirm, inject faults, end jobs node-side, read the state. Never faulted or counted.
 */
import { decimalMicroOf } from '../gateways/nodeAmounts.js';
import { fail, param, reply, textField } from './http.js';
import { FAULT_MODES } from './types.js';
import type { ControlHandler, SandboxNode } from './sandboxNode.js';
import type { RoutedRequest } from './http.js';
import type { AutoConfirm, FaultMode, SandboxReply } from './types.js';

const MAX_FAULT_COUNT = 1000;

export function controlRoutes(node: SandboxNode): Array<{ method: string; pattern: string; handler: ControlHandler }> {
  return [
    { method: 'POST', pattern: '/__sandbox/fund', handler: (req) => fund(node, req) },
    { method: 'POST', pattern: '/__sandbox/transfers/key/:key/:action', handler: (req) => settleByKey(node, req) },
    { method: 'POST', pattern: '/__sandbox/transfers/:pendingId/:action', handler: (req) => settleById(node, req) },
    { method: 'POST', pattern: '/__sandbox/config', handler: (req) => configure(node, req) },
    { method: 'POST', pattern: '/__sandbox/faults', handler: (req) => injectFault(node, req) },
    { method: 'POST', pattern: '/__sandbox/expire-job/:id', handler: (req) => endJob(node.expireJob(param(req, 'id'))) },
    { method: 'POST', pattern: '/__sandbox/cancel-job/:id', handler: (req) => endJob(node.cancelJobNodeSide(param(req, 'id'))) },
    { method: 'GET', pattern: '/__sandbox/state', handler: () => reply(200, node.snapshot()) },
    // Plays the attacker of the escrow: claims (and, with deliver, delivers) a job as another worker,
    // through the node's own public endpoints, which let any wallet do exactly that.
    { method: 'POST', pattern: '/__sandbox/jobs/:id/take-as', handler: (req) => takeAs(node, req) },
  ];
}

function fund(node: SandboxNode, req: RoutedRequest): SandboxReply {
  const wallet = textField(req.body, 'wallet');
  const amountMicroRtc = decimalMicroOf(req.body?.['amount_rtc']);
  if (!wallet) return fail(400, 'wallet required');
  if (amountMicroRtc === null || amountMicroRtc <= 0n) return fail(400, 'amount_rtc must be a positive RTC amount');
  node.fund(wallet, amountMicroRtc);
  const balanceMicroRtc = node.balanceMicroRtc(wallet);
  return reply(200, { ok: true, wallet, amount_i64: Number(balanceMicroRtc), amount_rtc: Number(balanceMicroRtc) / 1e6 });
}

function settle(node: SandboxNode, pendingId: number, action: string): SandboxReply {
  if (action !== 'confirm' && action !== 'void') return fail(404, 'Not found');
  const done = action === 'confirm' ? node.confirmTransfer(pendingId) : node.voidTransfer(pendingId);
  const transfer = node.ledger.transfers.get(pendingId);
  if (!transfer) return fail(404, 'Transfer not found');
  if (!done) return fail(409, `Transfer is not pending (phase: ${transfer.phase})`);
  return reply(200, { ok: true, pending_id: pendingId, phase: transfer.phase });
}

function settleById(node: SandboxNode, req: RoutedRequest): SandboxReply {
  const raw = param(req, 'pendingId');
  if (!/^\d+$/.test(raw)) return fail(404, 'Transfer not found');
  return settle(node, Number(raw), param(req, 'action'));
}

function settleByKey(node: SandboxNode, req: RoutedRequest): SandboxReply {
  const transfer = node.transferByKey(param(req, 'key'));
  return transfer ? settle(node, transfer.pendingId, param(req, 'action')) : fail(404, 'Transfer not found');
}

function configure(node: SandboxNode, req: RoutedRequest): SandboxReply {
  const raw = req.body?.['auto_confirm'];
  const autoConfirm = parseAutoConfirm(raw);
  if (autoConfirm === null) return fail(400, 'auto_confirm must be "immediate", "off" or a delay in ms');
  node.setAutoConfirm(autoConfirm);
  return reply(200, { ok: true, auto_confirm: autoConfirm });
}

export function parseAutoConfirm(raw: unknown): AutoConfirm | null {
  if (raw === 'immediate' || raw === 'off') return raw;
  const delayMs = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof delayMs === 'number' && Number.isSafeInteger(delayMs) && delayMs >= 0 ? delayMs : null;
}

function injectFault(node: SandboxNode, req: RoutedRequest): SandboxReply {
  const endpoint = textField(req.body, 'endpoint');
  const mode = textField(req.body, 'mode');
  const countRaw = req.body?.['count'] ?? 1;
  if (!node.endpoints.includes(endpoint)) return fail(400, 'unknown endpoint', { endpoints: node.endpoints });
  if (!(FAULT_MODES as readonly string[]).includes(mode)) return fail(400, 'unknown mode', { modes: FAULT_MODES });
  if (typeof countRaw !== 'number' || !Number.isInteger(countRaw) || countRaw < 0 || countRaw > MAX_FAULT_COUNT) {
    return fail(400, `count must be an integer from 0 to ${MAX_FAULT_COUNT}`);
  }
  node.injectFault(endpoint, mode as FaultMode, countRaw);
  return reply(200, { ok: true, endpoint, mode, count: countRaw });
}

const endJob = (done: boolean): SandboxReply =>
  done ? reply(200, { ok: true }) : fail(409, 'Job not found or its escrow is no longer held');

async function takeAs(node: SandboxNode, req: RoutedRequest): Promise<SandboxReply> {
  const worker = textField(req.body, 'worker_wallet');
  if (!worker) return fail(400, 'worker_wallet required');
  const path = `/agent/jobs/${param(req, 'id')}`;
  const claimed = await node.handle({ method: 'POST', path: `${path}/claim`, body: { worker_wallet: worker } });
  const deliver = req.body !== null && typeof req.body === 'object' && 'deliver' in req.body && req.body.deliver === true;
  if (typeof claimed === 'string' || claimed.status !== 200 || !deliver) return claimed;
  return node.handle({ method: 'POST', path: `${path}/deliver`, body: { worker_wallet: worker, result_summary: 'taken' } });
}
