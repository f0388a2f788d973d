/**
 * The state of one seeded run, shared by its parts (actors, chain actors, checks, quiescence): the
 * seed's two random streams, the simulated clock, the one event store, the sandbox node, the
 * simulated quote chain, the ledger instances, the traders, and the trace. Every choice is drawn
 * from `prng` in a fixed order, so a run replays from its seed.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { getAddress, type Address } from 'viem';
import type { OrderState } from '../aggregates/order/index.js';
import { loadOrder } from '../commands/loadOrder.js';
import { walletFromSeed, type ClientWallet } from '../crypto/signer.js';
import { SqliteEventStore } from '../eventstore/sqlite.js';
import { chainTimeWatchList } from '../projections/chainTimeWatch.js';
import { orderIdByHtlcHash } from '../projections/orders.js';
import { ProjectionRunner } from '../projections/runner.js';
import { SandboxNode } from '../sandbox/index.js';
import { Checker } from './checks.js';
import type { NetworkFault, SimNetworkOptions } from './network.js';
import { Prng } from './prng.js';
import { SimChain, type ChainFault } from './simChain.js';
import { buildInstance, Instance, SharedLeases, SIM_SETTINGS, type LedgerInstance, type WorldSources } from './world.js';
import { chainWitness } from './chainWitness.js';

export const START_MS = Date.UTC(2026, 0, 1, 0, 0, 0);
const TRACE_KEEP = 4000;

/** A trader: the RTC wallet that signs, and the quote-chain address it locks or claims with. */
export interface Trader {
  readonly wallet: ClientWallet;
  readonly quoteAddress: Address;
}

/** Stops the run at the first violation. */
export class Violation extends Error {
  constructor(readonly messages: readonly string[]) {
    super(messages[0]);
  }
}

export class Sim {
  readonly prng: Prng;
  readonly ids: Prng;
  readonly clock = { nowMs: START_MS };
  readonly store = new SqliteEventStore({ path: ':memory:' });
  readonly followerDb = new Database(':memory:');
  readonly node: SandboxNode;
  readonly chain: SimChain;
  readonly net: SimNetworkOptions;
  readonly checker: Checker;
  readonly minted = { total: 0n };
  readonly leases = new SharedLeases();
  readonly instances: LedgerInstance[] = [];
  readonly runner: ProjectionRunner;
  readonly sellers: Trader[];
  readonly buyers: Trader[];
  readonly attacker: ClientWallet;
  readonly orderIds: string[] = [];
  readonly secrets = new Map<string, string>();
  readonly trace: string[] = [];
  readonly faults: Record<string, number> = {};
  readonly actions: Record<string, number> = {};
  readonly pendingViolations: string[] = [];
  lastPosition = 0n;
  step = 0;
  private requestSeq = 0;
  private nextInstanceId = 0;
  private readonly sources: WorldSources;

  constructor(readonly seed: number) {
    this.prng = new Prng(seed);
    this.ids = new Prng(seed ^ 0x5eed1d5);
    this.node = new SandboxNode({ autoConfirm: this.prng.pick(['immediate', 'off', 5_000] as const), maxActiveJobsPerPoster: 1000, now: () => this.clock.nowMs });
    this.chain = new SimChain({
      prng: this.prng, genesisSeconds: BigInt(START_MS / 1000), confirmations: this.prng.pick([1, 2, 3]),
      faultRate: this.prng.pick([0.02, 0.08, 0.2]),
      onFault: (fault: ChainFault, detail) => this.noteFault(fault, detail),
    });
    this.checker = new Checker(this.node, this.minted, chainWitness(this.chain));
    this.net = {
      node: this.node, prng: this.prng, clock: this.clock,
      faultRate: this.prng.pick([0.05, 0.15, 0.3]),
      restartingFor: 0,
      onFault: (fault, req) => this.noteFault(fault, `${req.method} ${req.path}${bodyHint(req.body)}`),
      watch: (req) => this.pendingViolations.push(...this.checker.request(req.method, req.path)),
    };
    this.runner = new ProjectionRunner({ store: this.store, db: ':memory:' });
    this.sources = this.worldSources();
    this.sellers = [0, 1, 2].map((i) => this.trader('seller', i));
    this.buyers = [0, 1, 2].map((i) => this.trader('buyer', i));
    this.attacker = this.trader('attacker', 0).wallet;
    for (const t of [...this.sellers, ...this.buyers]) this.fund(t.wallet.wallet, BigInt(this.prng.range(100, 1_000)) * 1_000_000n);
    const crashRate = this.prng.pick([0, 0.01, 0.03]);
    this.instances.push(this.newInstance(crashRate), this.newInstance(crashRate));
  }

  private worldSources(): WorldSources {
    return {
      store: this.store, net: this.net, leases: this.leases, now: () => new Date(this.clock.nowMs), ids: this.ids,
      escrowWatchIds: async () => this.orderIds.filter(() => this.prng.chance(0.3)),
      onStep: (instance, r) => this.log(`instance ${instance.id} drove ${r.orderId}: ${r.step} ${r.outcome}`),
      onNewOrderId: (orderId) => {
        this.orderIds.push(orderId);
        this.log(`order id ${orderId} handed out`);
      },
      chain: this.chain,
      followerDb: this.followerDb,
      orderByHtlcHash: async (hash) => {
        await this.runner.catchUp();
        return orderIdByHtlcHash(this.runner.db, hash);
      },
      chainTimeCandidates: () => {
        const list = chainTimeWatchList(() => this.runner.db, SIM_SETTINGS.chainTimePerPass);
        return async () => {
          await this.runner.catchUp();
          return list();
        };
      },
    };
  }

  private trader(role: string, i: number): Trader {
    const seedHex = createHash('sha256').update(`${this.seed}:${role}:${i}`).digest('hex');
    const quoteAddress = getAddress(`0x${createHash('sha256').update(`quote:${seedHex}`).digest('hex').slice(0, 40)}`);
    return { wallet: walletFromSeed(seedHex), quoteAddress };
  }

  fund(wallet: string, amountMicroRtc: bigint): void {
    this.node.fund(wallet, amountMicroRtc);
    this.minted.total += amountMicroRtc;
  }

  newInstance(crashRate: number): LedgerInstance {
    const instance = new Instance(this.nextInstanceId++, this.prng, crashRate, (i, where) => {
      this.noteFault('ledger_crash', `instance ${i.id} at ${where}`);
    });
    return buildInstance(this.sources, instance);
  }

  restartDead(chance: number): void {
    for (let i = 0; i < this.instances.length; i++) {
      const current = this.instances[i] as LedgerInstance;
      if (current.instance.alive || !this.prng.chance(chance)) continue;
      this.instances[i] = this.newInstance(current.instance.crashRate);
      this.log(`instance ${current.instance.id} restarted as ${this.instances[i]?.instance.id} over the same store`);
    }
  }

  noteFault(kind: NetworkFault | string, detail: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
    this.log(`fault ${kind}: ${detail}`);
  }

  /** Matches the reconciler lapsed on chain time (no valid lock by lock_by), so a run shows the lapse was exercised. */
  countLapses(lapsed: number): void {
    this.checker.counts['chain_time_lapse'] = (this.checker.counts['chain_time_lapse'] ?? 0) + lapsed;
  }

  count(action: string): void {
    this.actions[action] = (this.actions[action] ?? 0) + 1;
  }

  log(line: string): void {
    this.trace.push(`step ${this.step}: ${line}`);
    if (this.trace.length > TRACE_KEEP) this.trace.splice(0, this.trace.length - TRACE_KEEP);
  }

  req() {
    return { requestId: `sim-${this.seed}-${++this.requestSeq}` };
  }

  /** The clock in Unix seconds (wallet-auth timestamps, block times). */
  ts(): number {
    return Math.floor(this.clock.nowMs / 1000);
  }

  someOrder(): string | null {
    return this.orderIds.length === 0 ? null : this.prng.pick(this.orderIds.slice(-12));
  }

  /** A recent order in this status, or null. */
  async recentWith(status: OrderState['status']): Promise<string | null> {
    const found: string[] = [];
    for (const orderId of this.orderIds.slice(-16)) {
      if ((await loadOrder(this.store, orderId)).state.status === status) found.push(orderId);
    }
    return found.length === 0 ? null : this.prng.pick(found);
  }

  async states(): Promise<Map<string, OrderState>> {
    const states = new Map<string, OrderState>();
    for (const orderId of this.orderIds) {
      const { state } = await loadOrder(this.store, orderId);
      // An id handed out to a request that crashed before its order was appended: no order.
      if (state.status !== 'none') states.set(orderId, state);
    }
    return states;
  }

  traderByWallet(wallet: string | null): Trader | undefined {
    return [...this.sellers, ...this.buyers].find((t) => t.wallet.wallet === wallet);
  }

  traderByQuoteAddress(address: string | null): Trader | undefined {
    return [...this.sellers, ...this.buyers].find((t) => t.quoteAddress.toLowerCase() === address?.toLowerCase());
  }

  async close(): Promise<void> {
    await this.runner.close();
    await this.store.close();
    this.followerDb.close();
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
