/**
 * One seeded run of the simulator (docs/RELIABILITY.md, "Deterministic simulation"): traders,
 * an attacker, the reconciler, an operator, buyers and sellers on the simulated quote chain and the
 * real chain follower act on the real ledger through its use cases while the seed injects faults;
 * every invariant is checked after every step; then faults stop and every order must reach a
 * terminal or a visible recovery state within a bounded number of reconciler passes. The same seed
 * gives the same event log, hash for hash.
 */
import { toErrorReply } from '../http/errorMap.js';
import { chainClaim, chainLock, chainRefund, chainTick, follow } from './chainActors.js';
import { Sim, Violation } from './context.js';
import { SimCrash } from './network.js';
import { hijack, nodeExpiresJob, nodeTransfer } from './nodeActors.js';
import { quiesce } from './quiesce.js';
import { eventLogHash, finalStatuses, minimalTrace } from './result.js';
import { checkReadModels, checkStep } from './stepChecks.js';
import { cancel, confirm, match, place, read } from './traders.js';
import { SIM_SETTINGS, type LedgerInstance } from './world.js';

export interface SimOptions {
  readonly seed: number;
  readonly steps: number;
  /** Reconciler passes allowed after faults stop before an unfinished order is a liveness failure. */
  readonly livenessPasses?: number;
  /** Compare every read model with a fresh fold every this many steps (and always at the end). */
  readonly readModelEvery?: number;
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

const ACTION_WEIGHTS = {
  place_sell: 10, place_buy: 5, match: 10, cancel: 4, confirm: 6, confirm_wrong: 1, reconcile: 6,
  redrive: 2, read: 3, hijack: 2, node_transfer: 3, node_expires_job: 1,
  chain_lock: 7, chain_claim: 4, chain_refund: 2, follow: 6,
} as const;
type ActionKind = keyof typeof ACTION_WEIGHTS;

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const sim = new Sim(options.seed);
  try {
    let violation: SimViolation | null = null;
    try {
      await steps(sim, options);
    } catch (error) {
      if (!(error instanceof Violation)) throw error;
      violation = { step: sim.step, message: error.messages.join('\n'), trace: minimalTrace(sim, error.messages[0] ?? '', options.traceLines ?? 60) };
    }
    return await result(sim, options, violation);
  } finally {
    await sim.close();
  }
}

async function steps(sim: Sim, options: SimOptions): Promise<void> {
  for (sim.step = 1; sim.step <= options.steps; sim.step++) {
    await oneStep(sim);
    await checkStep(sim);
    if (sim.step % (options.readModelEvery ?? 50) === 0) await checkReadModels(sim);
  }
  sim.step = options.steps + 1;
  await quiesce(sim, options.livenessPasses ?? 6);
}

async function result(sim: Sim, options: SimOptions, violation: SimViolation | null): Promise<SimResult> {
  const { hash, events } = await eventLogHash(sim);
  const faults = Object.fromEntries(Object.entries(sim.faults).sort(([a], [b]) => a.localeCompare(b)));
  return {
    seed: options.seed, steps: options.steps, hash, events, orders: sim.orderIds.length,
    faults, checks: { ...sim.checker.counts }, actions: { ...sim.actions }, finalStatuses: await finalStatuses(sim), violation,
  };
}

/** The clock moves, the chain mines, dead instances may restart; then 1 to 3 actions race. */
async function oneStep(sim: Sim): Promise<void> {
  moveClock(sim);
  chainTick(sim);
  sim.restartDead(0.5);
  if (sim.net.faultRate > 0 && sim.prng.chance(0.01)) {
    sim.net.restartingFor = sim.prng.range(1, 6);
    sim.noteFault('node_restart', `the node restarts with its state; the next ${sim.net.restartingFor} requests are refused`);
  }
  const count = 1 + (sim.prng.chance(0.35) ? 1 : 0) + (sim.prng.chance(0.15) ? 1 : 0);
  const shared = sim.prng.chance(0.4) ? sim.someOrder() : null;
  if (count > 1) sim.count('race');
  const work: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const kind = sim.prng.weighted(ACTION_WEIGHTS);
    const target = shared ?? sim.someOrder();
    work.push(act(sim, kind, sim.prng.pick(sim.instances), target));
  }
  await Promise.all(work);
}

function moveClock(sim: Sim): void {
  const roll = sim.prng.int(100);
  if (roll < 90) {
    sim.clock.nowMs += sim.prng.range(1_000, 8_000);
    return;
  }
  // A jump across an order's deadline: just before, at, or past expires_at, settle_by, lock_by or T.
  const jump = sim.prng.pick([60_000, 600_000, SIM_SETTINGS.settleWindowSeconds * 1000, 3_600_000]);
  sim.clock.nowMs += jump + sim.prng.range(-30_000, 30_000);
  sim.noteFault('clock_jump', `+${Math.round(jump / 1000)} s`);
}

async function act(sim: Sim, kind: ActionKind, at: LedgerInstance, target: string | null): Promise<void> {
  sim.count(kind);
  const label = `${kind}${target ? ` ${target}` : ''} on instance ${at.instance.id}`;
  try {
    sim.log(`${label}: ${await perform(sim, kind, at, target)}`);
  } catch (error) {
    if (error instanceof SimCrash || !at.instance.alive) {
      sim.log(`${label}: the instance crashed`);
      return;
    }
    const reply = toErrorReply(error);
    sim.log(`${label}: refused ${reply.status} ${reply.body.error}`);
    // A 5xx from a trader's request is a bug (a full disk is not simulated here).
    if (reply.status >= 500) {
      sim.pendingViolations.push(`internal_error: ${label} failed with ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
  }
}

async function perform(sim: Sim, kind: ActionKind, at: LedgerInstance, target: string | null): Promise<string> {
  switch (kind) {
    case 'place_sell': return place(sim, at, 'sell');
    case 'place_buy': return place(sim, at, 'buy');
    case 'match': {
      // A taker usually takes an open order off the book; sometimes whatever order is at hand.
      const open = sim.prng.chance(0.7) ? await sim.recentWith('open') : null;
      const chosen = open ?? target;
      return chosen ? match(sim, at, chosen) : 'no order';
    }
    case 'cancel': return target ? cancel(sim, at, target) : 'no order';
    case 'confirm':
    case 'confirm_wrong': {
      // A seller confirms a matched order most of the time; sometimes whatever order is at hand.
      const matched = sim.prng.chance(0.7) ? await sim.recentWith('matched') : null;
      const chosen = matched ?? target;
      return chosen ? confirm(sim, at, chosen, kind === 'confirm_wrong') : 'no order';
    }
    case 'reconcile': {
      const summary = await at.reconcile(sim.prng.pick([0, SIM_SETTINGS.stuckMs]));
      sim.countLapses(summary.lapsed);
      return `examined ${summary.examined}, lapsed ${summary.lapsed}, left ${summary.left}`;
    }
    case 'redrive': {
      if (!target) return 'no order';
      const result = await at.ledger.redrive(target, { operator: 'sim', reason: 'simulated re-drive' }, sim.req());
      return `now ${result.state.status}`;
    }
    case 'read': return target ? read(sim, at, target) : 'no order';
    case 'hijack': return hijack(sim);
    case 'node_transfer': return nodeTransfer(sim);
    case 'node_expires_job': return nodeExpiresJob(sim);
    case 'chain_lock': return chainLock(sim);
    case 'chain_claim': return chainClaim(sim);
    case 'chain_refund': return chainRefund(sim);
    case 'follow': return follow(at);
  }
}
