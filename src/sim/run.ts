/**
 * One seeded run of the simulator (docs/RELIABILITY.md, "Deterministic simulation"): traders,
 * an attacker, the reconciler and an operator act on the real ledger through its use cases while
 * the seed injects faults; every invariant is checked after every step; then faults stop and
 * every order must reach a terminal or a visible recovery state within a bounded number of
 * reconciler passes. The same seed gives the same event log, hash for hash.
 */
import { createHash } from 'node:crypto';
import { isTerminal, ORDER_STREAM_PREFIX, type OrderState, type Pair, type Side } from '../aggregates/order/index.js';
import { SimCrash } from './network.js';
import { loadOrder } from '../commands/loadOrder.js';
import { htlcHashOf } from '../crypto/preimage.js';
import { walletFromSeed, type ClientWallet } from '../crypto/signer.js';
import { SqliteEventStore } from '../eventstore/sqlite.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { toErrorReply } from '../http/errorMap.js';
import { compareReadModels } from '../audit/compareReadModels.js';
import { ALL_PROJECTIONS } from '../projections/all.js';
import { ProjectionRunner } from '../projections/runner.js';
import { activeTables } from '../projections/registry.js';
import { tradesProjection } from '../projections/trades.js';
import { SandboxNode } from '../sandbox/index.js';
import { Checker } from './checks.js';
import type { NetworkFault, SimNetworkOptions } from './network.js';
import { Prng } from './prng.js';
import { buildInstance, Instance, SharedLeases, SIM_SETTINGS, type LedgerInstance, type WorldSources } from './world.js';
import { noQuoteChain, type SimQuoteChain } from './quoteChain.js';

export interface SimOptions {
  readonly seed: number;
  readonly steps: number;
  /** Reconciler passes allowed after faults stop before an unfinished order is a liveness failure. */
  readonly livenessPasses?: number;
  /** Compare every read model with a fresh fold every this many steps (and always at the end). */
  readonly readModelEvery?: number;
  /** The quote leg (a no-op until the quote chain is wired into orders; see quoteChain.ts). */
  readonly quoteChain?: SimQuoteChain;
  /** How many trace lines a violation keeps (60). */
  readonly traceLines?: number;
}

export interface SimViolation {
  readonly step: number;
  readonly message: string;
  /** The trace lines about the order the violation names (or the last ones), oldest first. */
  readonly trace: readonly string[];
}

export interface SimResult {
  readonly seed: number;
  readonly steps: number;
  readonly hash: string;
  readonly events: number;
  readonly orders: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly checks: Readonly<Record<string, number>>;
  readonly actions: Readonly<Record<string, number>>;
  readonly finalStatuses: Readonly<Record<string, number>>;
  readonly violation: SimViolation | null;
}

/** Stops the run at the first violation. */
class Violation extends Error {
  constructor(readonly messages: readonly string[]) {
    super(messages[0]);
  }
}

const START_MS = Date.UTC(2026, 0, 1, 0, 0, 0);
const TRACE_KEEP = 4000;
const PAIRS: readonly Pair[] = ['RTC/USDC', 'RTC/ETH', 'RTC/ERG'];

const ACTION_WEIGHTS = {
  place_sell: 10, place_buy: 5, match: 10, cancel: 4, confirm: 9, confirm_wrong: 1, reconcile: 6,
  redrive: 2, read: 3, hijack: 2, node_transfer: 3, node_expires_job: 1,
} as const;
type ActionKind = keyof typeof ACTION_WEIGHTS;

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const sim = new Simulation(options);
  try {
    return await sim.run();
  } finally {
    await sim.close();
  }
}

class Simulation {
  private readonly prng: Prng;
  private readonly ids: Prng;
  private readonly clock = { nowMs: START_MS };
  private readonly store = new SqliteEventStore({ path: ':memory:' });
  private readonly node: SandboxNode;
  private readonly net: SimNetworkOptions;
  private readonly checker: Checker;
  private readonly minted = { total: 0n };
  private readonly leases = new SharedLeases();
  private readonly sources: WorldSources;
  private readonly instances: LedgerInstance[] = [];
  private readonly runner: ProjectionRunner;
  private readonly quote: SimQuoteChain;
  private readonly sellers: ClientWallet[];
  private readonly buyers: ClientWallet[];
  private readonly attacker: ClientWallet;
  private readonly orderIds: string[] = [];
  private readonly secrets = new Map<string, string>();
  private readonly trace: string[] = [];
  private readonly faults: Record<string, number> = {};
  private readonly actions: Record<string, number> = {};
  private readonly pendingViolations: string[] = [];
  private lastPosition = 0n;
  private step = 0;
  private requestSeq = 0;
  private nextInstanceId = 0;

  constructor(private readonly options: SimOptions) {
    this.prng = new Prng(options.seed);
    this.ids = new Prng(options.seed ^ 0x5eed1d5);
    this.quote = options.quoteChain ?? noQuoteChain;
    this.node = new SandboxNode({ autoConfirm: this.prng.pick(['immediate', 'off', 5_000] as const), maxActiveJobsPerPoster: 1000, now: () => this.clock.nowMs });
    this.checker = new Checker(this.node, this.minted);
    this.net = {
      node: this.node, prng: this.prng, clock: this.clock,
      faultRate: this.prng.pick([0.05, 0.15, 0.3]),
      restartingFor: 0,
      onFault: (fault, req) => this.noteFault(fault, `${req.method} ${req.path}${bodyHint(req.body)}`),
      watch: (req) => this.pendingViolations.push(...this.checker.request(req.method, req.path)),
    };
    this.sources = {
      store: this.store, net: this.net, leases: this.leases, now: () => new Date(this.clock.nowMs), ids: this.ids,
      escrowWatchIds: async () => this.orderIds.filter(() => this.prng.chance(0.3)),
      onStep: (instance, r) => this.log(`instance ${instance.id} drove ${r.orderId}: ${r.step} ${r.outcome}`),
      onNewOrderId: (orderId) => {
        this.orderIds.push(orderId);
        this.log(`order id ${orderId} handed out`);
      },
    };
    const wallet = (role: string, i: number) => walletFromSeed(createHash('sha256').update(`${options.seed}:${role}:${i}`).digest('hex'));
    this.sellers = [0, 1, 2].map((i) => wallet('seller', i));
    this.buyers = [0, 1, 2].map((i) => wallet('buyer', i));
    this.attacker = wallet('attacker', 0);
    for (const w of [...this.sellers, ...this.buyers]) this.fund(w.wallet, BigInt(this.prng.range(100, 1_000)) * 1_000_000n);
    const crashRate = this.prng.pick([0, 0.01, 0.03]);
    this.instances.push(this.newInstance(crashRate), this.newInstance(crashRate));
    this.runner = new ProjectionRunner({ store: this.store, db: ':memory:' });
  }

  private fund(wallet: string, amountMicroRtc: bigint): void {
    this.node.fund(wallet, amountMicroRtc);
    this.minted.total += amountMicroRtc;
  }

  private newInstance(crashRate: number): LedgerInstance {
    const instance = new Instance(this.nextInstanceId++, this.prng, crashRate, (i, where) => {
      this.noteFault('ledger_crash', `instance ${i.id} at ${where}`);
    });
    return buildInstance(this.sources, instance);
  }

  private noteFault(kind: NetworkFault | string, detail: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
    this.log(`fault ${kind}: ${detail}`);
  }

  private log(line: string): void {
    this.trace.push(`step ${this.step}: ${line}`);
    if (this.trace.length > TRACE_KEEP) this.trace.splice(0, this.trace.length - TRACE_KEEP);
  }

  async close(): Promise<void> {
    await this.runner.close();
    await this.store.close();
  }

  async run(): Promise<SimResult> {
    let violation: SimViolation | null = null;
    try {
      for (this.step = 1; this.step <= this.options.steps; this.step++) {
        await this.oneStep();
        await this.checkStep();
        if (this.step % (this.options.readModelEvery ?? 50) === 0) await this.checkReadModels();
      }
      this.step = this.options.steps + 1;
      await this.quiesce();
    } catch (error) {
      if (!(error instanceof Violation)) throw error;
      violation = { step: this.step, message: error.messages.join('\n'), trace: this.minimalTrace(error.messages[0] ?? '') };
    }
    return this.result(violation);
  }

  // ---- one step ----

  private async oneStep(): Promise<void> {
    this.moveClock();
    this.restartDead(0.5);
    if (this.net.faultRate > 0 && this.prng.chance(0.01)) {
      this.net.restartingFor = this.prng.range(1, 6);
      this.noteFault('node_restart', `the node restarts with its state; the next ${this.net.restartingFor} requests are refused`);
    }
    const count = 1 + (this.prng.chance(0.35) ? 1 : 0) + (this.prng.chance(0.15) ? 1 : 0);
    const shared = this.prng.chance(0.4) ? this.someOrder() : null;
    if (count > 1) this.actions['race'] = (this.actions['race'] ?? 0) + 1;
    const work: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const kind = this.prng.weighted(ACTION_WEIGHTS);
      const target = shared ?? this.someOrder();
      const at = this.prng.pick(this.instances);
      work.push(this.act(kind, at, target));
    }
    await Promise.all(work);
  }

  private moveClock(): void {
    const roll = this.prng.int(100);
    if (roll < 90) {
      this.clock.nowMs += this.prng.range(1_000, 8_000);
      return;
    }
    // A jump across an order's deadline: just before, at, or past expires_at or settle_by.
    const jump = this.prng.pick([60_000, 600_000, SIM_SETTINGS.settleWindowSeconds * 1000, 3_600_000]);
    this.clock.nowMs += jump + this.prng.range(-30_000, 30_000);
    this.noteFault('clock_jump', `+${Math.round(jump / 1000)} s`);
  }

  private restartDead(chance: number): void {
    for (let i = 0; i < this.instances.length; i++) {
      const current = this.instances[i] as LedgerInstance;
      if (current.instance.alive || !this.prng.chance(chance)) continue;
      this.instances[i] = this.newInstance(current.instance.crashRate);
      this.log(`instance ${current.instance.id} restarted as ${this.instances[i]?.instance.id} over the same store`);
    }
  }

  private someOrder(): string | null {
    return this.orderIds.length === 0 ? null : this.prng.pick(this.orderIds.slice(-12));
  }

  /** A recent order in this status, or null. */
  private async recentWith(status: OrderState['status']): Promise<string | null> {
    const found: string[] = [];
    for (const orderId of this.orderIds.slice(-16)) {
      if ((await loadOrder(this.store, orderId)).state.status === status) found.push(orderId);
    }
    return found.length === 0 ? null : this.prng.pick(found);
  }

  private req() {
    return { requestId: `sim-${this.options.seed}-${++this.requestSeq}` };
  }

  private ts(): number {
    return Math.floor(this.clock.nowMs / 1000);
  }

  private async act(kind: ActionKind, at: LedgerInstance, target: string | null): Promise<void> {
    this.actions[kind] = (this.actions[kind] ?? 0) + 1;
    const label = `${kind}${target ? ` ${target}` : ''} on instance ${at.instance.id}`;
    try {
      const detail = await this.perform(kind, at, target);
      this.log(`${label}: ${detail}`);
    } catch (error) {
      if (error instanceof SimCrash || !at.instance.alive) {
        this.log(`${label}: the instance crashed`);
        return;
      }
      const reply = toErrorReply(error);
      this.log(`${label}: refused ${reply.status} ${reply.body.error}`);
      // A 5xx from a trader's request is a bug (a full disk is not simulated here).
      if (reply.status >= 500) {
        this.pendingViolations.push(`internal_error: ${label} failed with ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      }
    }
  }

  private async perform(kind: ActionKind, at: LedgerInstance, target: string | null): Promise<string> {
    switch (kind) {
      case 'place_sell':
        return this.place(at, 'sell');
      case 'place_buy':
        return this.place(at, 'buy');
      case 'match':
        return target ? this.match(at, target) : 'no order';
      case 'cancel':
        return target ? this.cancel(at, target) : 'no order';
      case 'confirm':
      case 'confirm_wrong': {
        // A seller confirms a matched order most of the time; sometimes whatever order is at hand.
        const matched = this.prng.chance(0.7) ? await this.recentWith('matched') : null;
        const chosen = matched ?? target;
        return chosen ? this.confirm(at, chosen, kind === 'confirm_wrong') : 'no order';
      }
      case 'reconcile': {
        const summary = await at.reconcile(this.prng.pick([0, SIM_SETTINGS.stuckMs]));
        return `examined ${summary.examined}, left ${summary.left}`;
      }
      case 'redrive': {
        if (!target) return 'no order';
        const result = await at.ledger.redrive(target, { operator: 'sim', reason: 'simulated re-drive' }, this.req());
        return `now ${result.state.status}`;
      }
      case 'read':
        return target ? this.read(at, target) : 'no order';
      case 'hijack':
        return this.hijack();
      case 'node_transfer':
        return this.nodeTransfer();
      case 'node_expires_job':
        return this.nodeExpiresJob();
    }
  }

  private async place(at: LedgerInstance, side: Side): Promise<string> {
    const maker = side === 'sell' ? this.prng.pick(this.sellers) : this.prng.pick(this.buyers);
    const amountMicroRtc = BigInt(this.prng.range(1, 60)) * 1_000_000n;
    const pricePerRtcNanoQuote = BigInt(this.prng.range(1, 20)) * 10_000_000n;
    const ttlSeconds = this.prng.range(3_600, 7_200);
    const pair = this.prng.pick(PAIRS);
    // A seller brings its own hash half the time; otherwise the ledger generates the preimage.
    const own = side === 'sell' && this.prng.chance(0.5) ? this.ids.hex(32) : null;
    const htlcHash = own === null ? null : htlcHashOf(own);
    const auth = maker.sign('create_order', 'create_order', {
      side, pair, amount_micro_rtc: Number(amountMicroRtc), price_per_rtc_nano_quote: Number(pricePerRtcNanoQuote),
      ttl_seconds: ttlSeconds, eth_address: '', htlc_hash: htlcHash ?? '',
    }, this.ts());
    const result = await at.ledger.placeOrder({ side, pair, wallet: maker.wallet, amountMicroRtc, pricePerRtcNanoQuote, ttlSeconds, ethAddress: null, htlcHash, walletAuth: auth }, this.req());
    const orderId = result.state.status === 'none' ? null : result.state.orderId;
    if (orderId === null) return 'no order';
    this.remember(orderId, own ?? result.htlcSecret);
    return `placed ${orderId} (${side} ${amountMicroRtc} micro-RTC), ${result.state.status}`;
  }

  private remember(orderId: string, secret: string | null): void {
    if (secret === null) return;
    this.secrets.set(orderId, secret);
    this.checker.knowSecret(secret);
  }

  private async match(at: LedgerInstance, orderId: string): Promise<string> {
    const current = await loadOrder(this.store, orderId);
    const side = current.state.status === 'none' ? 'sell' : current.state.side;
    // The taker of a sell order buys; the taker of a buy order sells, with its own hash or a generated one.
    const taker = side === 'sell' ? this.prng.pick(this.buyers) : this.prng.pick(this.sellers);
    const own = side === 'buy' && this.prng.chance(0.5) ? this.ids.hex(32) : null;
    const htlcHash = own === null ? null : htlcHashOf(own);
    const auth = taker.sign('match_order', orderId, { eth_address: '', htlc_hash: htlcHash ?? '' }, this.ts());
    const result = await at.ledger.matchOrder(orderId, { wallet: taker.wallet, ethAddress: null, htlcHash, walletAuth: auth }, this.req());
    if (side === 'buy') this.remember(orderId, own ?? result.htlcSecret);
    return `now ${result.state.status}`;
  }

  private async cancel(at: LedgerInstance, orderId: string): Promise<string> {
    const current = await loadOrder(this.store, orderId);
    if (current.state.status === 'none') return 'no order';
    const maker = [...this.sellers, ...this.buyers].find((w) => w.wallet === (current.state as { makerWallet: string }).makerWallet) ?? this.attacker;
    const auth = maker.sign('cancel_order', orderId, {}, this.ts());
    const result = await at.ledger.cancelOrder(orderId, { wallet: maker.wallet, walletAuth: auth }, this.req());
    return `now ${result.state.status}`;
  }

  private async confirm(at: LedgerInstance, orderId: string, wrong: boolean): Promise<string> {
    const current = await loadOrder(this.store, orderId);
    const state = current.state;
    if (state.status === 'none') return 'no order';
    const sellerWallet = state.side === 'sell' ? state.makerWallet : 'taker' in state && state.taker ? state.taker.wallet : null;
    const seller = [...this.sellers, ...this.buyers].find((w) => w.wallet === sellerWallet) ?? this.prng.pick(this.sellers);
    const known = this.secrets.get(orderId);
    const secret = wrong || known === undefined ? this.ids.hex(32) : known;
    const quoteTx = await this.quote.lockFor(orderId, state);
    const auth = seller.sign('confirm_settlement', orderId, { quote_tx: quoteTx, secret_sha256: htlcHashOf(secret) }, this.ts());
    const result = await at.ledger.confirmSettlement(orderId, { wallet: seller.wallet, quoteTx, secret, walletAuth: auth }, this.req());
    return `now ${result.state.status}`;
  }

  /** Invariant 4 at the read side: the preimage is readable only once the payout is confirmed. */
  private async read(at: LedgerInstance, orderId: string): Promise<string> {
    const order = await at.ledger.getOrder(orderId);
    if (order === null) return 'no order';
    const revealed = at.ledger.revealSecret(order.state);
    if (order.state.status !== 'completed' && revealed !== null) {
      this.pendingViolations.push(`inv4: ${orderId} revealed its preimage while ${order.state.status}`);
    }
    if (order.state.status === 'completed' && this.secrets.has(orderId) && revealed !== this.secrets.get(orderId)) {
      this.pendingViolations.push(`inv4: ${orderId} completed but its preimage does not read back`);
    }
    return `read ${order.state.status}`;
  }

  /** The attacker takes an escrow job at the node, through the node's own public endpoints. */
  private async hijack(): Promise<string> {
    const held = this.node.jobs().filter((j) => j.status === 'open' && j.title.startsWith('OTC Escrow '));
    if (held.length === 0) return 'no open escrow job';
    const job = this.prng.pick(held);
    const deliver = this.prng.chance(0.5);
    const reply = await this.node.handle({ method: 'POST', path: `/__sandbox/jobs/${job.jobId}/take-as`, body: { worker_wallet: this.attacker.wallet, deliver } });
    this.noteFault('escrow_hijack', `${job.jobId} (${job.title}) ${deliver ? 'claimed and delivered' : 'claimed'} by the attacker`);
    return typeof reply === 'string' ? reply : `node answered ${reply.status}`;
  }

  private async nodeTransfer(): Promise<string> {
    const pending = this.node.transfers().filter((t) => t.phase === 'pending');
    if (pending.length === 0) return 'no pending transfer';
    const transfer = this.prng.pick(pending);
    const voided = this.prng.chance(0.15);
    if (voided) this.node.voidTransfer(transfer.pendingId);
    else this.node.confirmTransfer(transfer.pendingId);
    if (voided) this.noteFault('node_voids_transfer', `${transfer.idempotencyKey}`);
    return `${voided ? 'voided' : 'confirmed'} ${transfer.idempotencyKey}`;
  }

  private async nodeExpiresJob(): Promise<string> {
    const held = this.node.jobs().filter((j) => this.node.ledger.holdsEscrow(j as never) && j.title.startsWith('OTC Escrow '));
    if (held.length === 0 || !this.prng.chance(0.3)) return 'nothing expired';
    const job = this.prng.pick(held);
    this.node.expireJob(job.jobId);
    this.noteFault('node_ends_job', `${job.jobId} (${job.title}) expired node-side`);
    return `expired ${job.jobId}`;
  }

  // ---- checks ----

  private async newEvents(): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for (;;) {
      const batch = await this.store.readAll(this.lastPosition, 1000);
      if (batch.length === 0) return out;
      out.push(...batch);
      this.lastPosition = (batch[batch.length - 1] as RecordedEvent).position;
    }
  }

  private async checkStep(): Promise<void> {
    const events = await this.newEvents();
    const streams = new Map<string, RecordedEvent[]>();
    for (const stream of new Set(events.filter((e) => e.stream.startsWith(ORDER_STREAM_PREFIX)).map((e) => e.stream))) {
      streams.set(stream, await this.store.readStream(stream));
    }
    const violations = [
      ...this.pendingViolations.splice(0),
      ...this.checker.newEvents(events, (s) => streams.get(s) ?? []),
      ...this.checker.nodeBooks(),
    ];
    if (violations.length > 0) throw new Violation(violations);
  }

  /** Invariant 8: the real projection runner's read models equal a fresh fold of the log. */
  private async checkReadModels(): Promise<void> {
    await this.runner.catchUp();
    const findings = await compareReadModels({ store: this.store, readDb: this.runner.db, projections: ALL_PROJECTIONS });
    this.checker.counts['inv8_read_models_equal_fresh_fold'] = (this.checker.counts['inv8_read_models_equal_fresh_fold'] ?? 0) + 1;
    if (findings.length > 0) throw new Violation(findings.map((f) => `inv8 ${f.kind}: ${f.message}`));
  }

  private async states(): Promise<Map<string, OrderState>> {
    const states = new Map<string, OrderState>();
    for (const orderId of this.orderIds) {
      const { state } = await loadOrder(this.store, orderId);
      // An id handed out to a request that crashed before its order was appended: no order.
      if (state.status !== 'none') states.set(orderId, state);
    }
    return states;
  }

  /**
   * Faults stop: no crash, no lost answer, the node confirms transfers. Past every deadline, the
   * reconciler gets a bounded number of passes to bring every order to a terminal state or to a
   * visible recovery state; then the stricter money and read-model checks run.
   */
  private async quiesce(): Promise<void> {
    this.net.faultRate = 0;
    this.net.restartingFor = 0;
    for (const i of this.instances) i.instance.crashRate = 0;
    this.restartDead(1);
    this.node.setAutoConfirm('immediate');
    for (const t of this.node.transfers()) if (t.phase === 'pending') this.node.confirmTransfer(t.pendingId);
    this.log('faults stop');
    const passes = this.options.livenessPasses ?? 6;
    let unfinished: string[] = [];
    for (let pass = 1; pass <= passes; pass++) {
      // The first pass is past every expires_at and settle_by; each later one past the stuck threshold.
      this.clock.nowMs += pass === 1 ? 2 * 3_600_000 + SIM_SETTINGS.settleWindowSeconds * 1000 : SIM_SETTINGS.stuckMs + 1_000;
      const summary = await (this.instances[0] as LedgerInstance).reconcile(SIM_SETTINGS.stuckMs);
      this.log(`liveness pass ${pass}: examined ${summary.examined}, left ${summary.left}`);
      await this.checkStep();
      unfinished = [...(await this.states())].filter(([, s]) => !isTerminal(s.status) && s.status !== 'settlement_recovery').map(([id, s]) => `${id} (${s.status})`);
      this.checker.counts['liveness_pass'] = (this.checker.counts['liveness_pass'] ?? 0) + 1;
      if (unfinished.length === 0) break;
    }
    if (unfinished.length > 0) throw new Violation(unfinished.map((u) => `liveness: ${u} is neither terminal nor in visible recovery after ${passes} reconciler passes`));
    const states = await this.states();
    const quiet = this.checker.quiescent(states);
    if (quiet.length > 0) throw new Violation(quiet);
    await this.checkReadModels();
    this.checkTrades(states);
  }

  /** Invariant 6: at most one trade per order, and every trade's order has its PayoutConfirmed. */
  private checkTrades(states: ReadonlyMap<string, OrderState>): void {
    const tables = activeTables(this.runner.db, tradesProjection);
    if (tables === null) throw new Violation(['inv6: the trades read model does not exist']);
    const rows = this.runner.db.prepare(`SELECT trade_id, order_id FROM ${tables['trades'] as string}`).all() as { trade_id: string; order_id: string }[];
    this.checker.counts['inv6_one_trade_per_confirmed_payout'] = (this.checker.counts['inv6_one_trade_per_confirmed_payout'] ?? 0) + rows.length + 1;
    const seen = new Set<string>();
    for (const row of rows) {
      if (seen.has(row.order_id)) throw new Violation([`inv6: two trades for ${row.order_id}`]);
      seen.add(row.order_id);
      if (states.get(row.order_id)?.status !== 'completed') throw new Violation([`inv6: trade ${row.trade_id} for ${row.order_id}, which is not completed`]);
    }
    const completed = [...states].filter(([, s]) => s.status === 'completed').length;
    if (completed !== rows.length) throw new Violation([`inv6: ${completed} completed orders but ${rows.length} trades`]);
  }

  // ---- the result ----

  private minimalTrace(message: string): string[] {
    const ids = [...new Set(message.match(/otc_[0-9a-f]{16}|job_[0-9a-f]{16}/g) ?? [])];
    for (const id of [...ids]) {
      if (id.startsWith('job_')) {
        const orderId = this.checker.jobToOrder.get(id);
        if (orderId) ids.push(orderId);
      }
    }
    for (const [jobId, orderId] of this.checker.jobToOrder) if (ids.includes(orderId)) ids.push(jobId);
    const lines = ids.length === 0 ? this.trace : this.trace.filter((line) => ids.some((id) => line.includes(id)) || line.includes('crash') || line.includes('restart'));
    return lines.slice(-(this.options.traceLines ?? 60));
  }

  private async result(violation: SimViolation | null): Promise<SimResult> {
    const hash = createHash('sha256');
    let events = 0;
    for (let after = 0n; ;) {
      const batch = await this.store.readAll(after, 1000);
      if (batch.length === 0) break;
      for (const e of batch) {
        hash.update(`${e.position}|${e.stream}|${e.version}|${e.type}|${JSON.stringify(e.data)}|${JSON.stringify(e.metadata)}\n`);
        events += 1;
      }
      after = (batch[batch.length - 1] as RecordedEvent).position;
    }
    const finalStatuses: Record<string, number> = {};
    for (const state of (await this.states()).values()) finalStatuses[state.status] = (finalStatuses[state.status] ?? 0) + 1;
    const faults = Object.fromEntries(Object.entries(this.faults).sort(([a], [b]) => a.localeCompare(b)));
    return {
      seed: this.options.seed, steps: this.options.steps, hash: hash.digest('hex'), events, orders: this.orderIds.length,
      faults, checks: { ...this.checker.counts }, actions: { ...this.actions }, finalStatuses, violation,
    };
  }
}

/** A short hint of which job or key a faulted request was about, for the trace (never a secret). */
function bodyHint(body: unknown): string {
  if (typeof body !== 'string') return '';
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const key = parsed['idempotency_key'] ?? parsed['title'];
    return typeof key === 'string' ? ` (${key})` : '';
  } catch {
    return '';
  }
}

