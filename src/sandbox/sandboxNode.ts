/**
 * The sandbox node: the RustChain endpoints of rustchain-node.md over an in-memory ledger, with the
 * `/__sandbox/` controls for tests and demos. Transport-independent: `handle` takes a plain request
 * and answers a response, or 'drop' / 'hang' for the injected network faults.
 */
import { ESCROW_WALLET, SandboxLedger } from './ledger.js';
import { acceptJob, cancelJob, claimJob, deliverJob, fullJobJson, getJob, listJobs, postJob } from './jobs.js';
import { pendingJson, pendingList, transferHandler, walletBalance } from './wallet.js';
import { controlRoutes } from './controls.js';
import { endpointName, matchRoute } from './router.js';
import { fail } from './http.js';
import type { Handler, HandlerContext, RoutedRequest } from './http.js';
import type { Route } from './router.js';
import type { AutoConfirm, FaultMode, SandboxJob, SandboxNodeOptions, SandboxReply, SandboxRequest, SandboxTransfer } from './types.js';

export const DEFAULT_SANDBOX_ADMIN_KEY = 'sandbox-admin-key';

interface Fault {
  readonly mode: FaultMode;
  remaining: number;
}

/** A control route answers directly; it is never faulted or counted. */
export type ControlHandler = (req: RoutedRequest) => SandboxReply | Promise<SandboxReply>;

export class SandboxNode {
  readonly ledger = new SandboxLedger();
  private autoConfirm: AutoConfirm;
  private readonly faults = new Map<string, Fault>();
  private readonly endpointCounts = new Map<string, number>();
  private readonly keyCounts = new Map<string, number>();
  private readonly now: () => number;
  private readonly context: Omit<HandlerContext, 'nowMs'>;
  private readonly nodeRoutes: readonly Route<Handler>[];
  private readonly controls: readonly Route<ControlHandler>[];

  constructor(options: SandboxNodeOptions = {}) {
    this.autoConfirm = options.autoConfirm ?? 'off';
    this.now = options.now ?? Date.now;
    this.context = {
      ledger: this.ledger,
      options: { adminKey: options.adminKey ?? DEFAULT_SANDBOX_ADMIN_KEY, maxActiveJobsPerPoster: options.maxActiveJobsPerPoster ?? 20 },
    };
    this.nodeRoutes = [
      { method: 'POST', pattern: '/agent/jobs', handler: postJob },
      { method: 'GET', pattern: '/agent/jobs', handler: listJobs },
      { method: 'GET', pattern: '/agent/jobs/:id', handler: getJob },
      { method: 'POST', pattern: '/agent/jobs/:id/claim', handler: claimJob },
      { method: 'POST', pattern: '/agent/jobs/:id/deliver', handler: deliverJob },
      { method: 'POST', pattern: '/agent/jobs/:id/accept', handler: acceptJob },
      { method: 'POST', pattern: '/agent/jobs/:id/cancel', handler: cancelJob },
      { method: 'POST', pattern: '/wallet/transfer', handler: transferHandler(() => this.autoConfirm) },
      { method: 'GET', pattern: '/pending/list', handler: pendingList },
      { method: 'GET', pattern: '/wallet/balance', handler: walletBalance },
    ];
    this.controls = controlRoutes(this);
  }

  /** The node endpoints faults can target, e.g. `POST /agent/jobs/:id/accept`. */
  get endpoints(): string[] {
    return this.nodeRoutes.map(endpointName);
  }

  async handle(request: SandboxRequest): Promise<SandboxReply> {
    this.ledger.confirmDue(this.now());
    const body = parseBody(request.body);
    const base = { query: request.query ?? {}, headers: request.headers ?? {}, body: body === 'invalid' ? null : body };
    const control = matchRoute(this.controls, request.method, request.path);
    if (control) return control.route.handler({ ...base, params: control.params });
    const match = matchRoute(this.nodeRoutes, request.method, request.path);
    if (!match) return fail(404, 'Not found');
    const routed: RoutedRequest = { ...base, params: match.params };
    const endpoint = endpointName(match.route);
    this.countRequest(endpoint, routed);
    return this.runWithFault(endpoint, () =>
      body === 'invalid' ? fail(400, 'JSON body required') : match.route.handler({ ...this.context, nowMs: this.now() }, routed),
    );
  }

  private countRequest(endpoint: string, req: RoutedRequest): void {
    this.endpointCounts.set(endpoint, (this.endpointCounts.get(endpoint) ?? 0) + 1);
    const key = req.body?.['idempotency_key'];
    if (typeof key === 'string' && key) this.keyCounts.set(key, (this.keyCounts.get(key) ?? 0) + 1);
  }

  private runWithFault(endpoint: string, effect: () => SandboxReply): SandboxReply {
    const fault = this.faults.get(endpoint);
    if (!fault || fault.remaining <= 0) return effect();
    fault.remaining -= 1;
    if (fault.remaining === 0) this.faults.delete(endpoint);
    switch (fault.mode) {
      case 'error_500':
        return fail(500, 'Internal error (sandbox fault error_500)');
      case 'reject_400':
        return fail(400, 'Rejected (sandbox fault reject_400)');
      case 'drop_before_effect':
        return 'drop';
      case 'hang':
        return 'hang';
      case 'timeout_after_effect':
        effect();
        return 'hang';
    }
  }

  // ---- controls and typed accessors (the /__sandbox/ routes call these too) ----

  fund(wallet: string, amountMicroRtc: bigint): void {
    this.ledger.mint(wallet, amountMicroRtc);
  }

  balanceMicroRtc(wallet: string): bigint {
    this.ledger.confirmDue(this.now());
    return this.ledger.balanceOf(wallet);
  }

  setAutoConfirm(autoConfirm: AutoConfirm): void {
    this.autoConfirm = autoConfirm;
  }

  /** The next `count` calls of `endpoint` fail in `mode`; a count of 0 clears the fault. */
  injectFault(endpoint: string, mode: FaultMode, count = 1): void {
    if (!this.endpoints.includes(endpoint)) throw new Error(`unknown sandbox endpoint: ${endpoint}`);
    if (count <= 0) this.faults.delete(endpoint);
    else this.faults.set(endpoint, { mode, remaining: count });
  }

  job(jobId: string): Readonly<SandboxJob> | undefined {
    return this.ledger.jobs.get(jobId);
  }

  jobs(): Readonly<SandboxJob>[] {
    return [...this.ledger.jobs.values()];
  }

  transfers(): Readonly<SandboxTransfer>[] {
    this.ledger.confirmDue(this.now());
    return [...this.ledger.transfers.values()];
  }

  transferByKey(idempotencyKey: string): Readonly<SandboxTransfer> | undefined {
    this.ledger.confirmDue(this.now());
    return this.ledger.transfersByKey.get(idempotencyKey);
  }

  /** Confirms a queued transfer; false when there is none or it is already final. */
  confirmTransfer(pendingId: number): boolean {
    const transfer = this.ledger.transfers.get(pendingId);
    return transfer ? this.ledger.confirmTransfer(transfer) : false;
  }

  voidTransfer(pendingId: number): boolean {
    const transfer = this.ledger.transfers.get(pendingId);
    return transfer ? this.ledger.voidTransfer(transfer) : false;
  }

  /** The node expiring a job on its own: the escrow goes back to the poster. */
  expireJob(jobId: string): boolean {
    return this.endJobNodeSide(jobId, 'expired');
  }

  /** A node-side cancel (admin or the poster going around the ledger): the escrow goes back. */
  cancelJobNodeSide(jobId: string): boolean {
    return this.endJobNodeSide(jobId, 'cancelled');
  }

  private endJobNodeSide(jobId: string, status: 'expired' | 'cancelled'): boolean {
    const job = this.ledger.jobs.get(jobId);
    if (!job || !this.ledger.holdsEscrow(job)) return false;
    this.ledger.refundJob(job, status, null, Math.floor(this.now() / 1000));
    return true;
  }

  requestCount(endpoint: string): number {
    return this.endpointCounts.get(endpoint) ?? 0;
  }

  keyRequestCount(idempotencyKey: string): number {
    return this.keyCounts.get(idempotencyKey) ?? 0;
  }

  /** The whole state as JSON-safe data (integers in micro-RTC as `*_i64`), for GET /__sandbox/state. */
  snapshot(): Record<string, unknown> {
    this.ledger.confirmDue(this.now());
    const balances = Object.fromEntries(
      [...this.ledger.balances.entries()].map(([wallet, micro]) => [wallet, { amount_i64: Number(micro), amount_rtc: Number(micro) / 1e6 }]),
    );
    return {
      ok: true,
      config: { auto_confirm: this.autoConfirm },
      escrow_wallet: ESCROW_WALLET,
      balances,
      jobs: this.jobs().map((j) => fullJobJson(j as SandboxJob)),
      transfers: this.transfers().map((t) => ({ ...pendingJson(t as SandboxTransfer), idempotency_key: t.idempotencyKey })),
      request_counts: { endpoints: Object.fromEntries(this.endpointCounts), idempotency_keys: Object.fromEntries(this.keyCounts) },
      faults: [...this.faults.entries()].map(([endpoint, f]) => ({ endpoint, mode: f.mode, remaining: f.remaining })),
    };
  }
}

/** A parsed JSON object, null when there is no object body, 'invalid' for unparseable text. */
function parseBody(body: unknown): Record<string, unknown> | null | 'invalid' {
  let value = body;
  if (typeof body === 'string') {
    if (body.trim() === '') return null;
    try {
      value = JSON.parse(body);
    } catch {
      return 'invalid';
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
