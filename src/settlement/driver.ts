import { randomUUID } from 'node:crypto';
import { dueStep, OrderRefused, type DueStep, type OrderCommand, type OrderState, type StepMode } from '../aggregates/order/index.js';
import { handleOrderCommand, VersionMismatch, type CommandContext } from '../commands/handleCommand.js';
import { loadOrder, type OrderCache } from '../commands/loadOrder.js';
import { isVersionConflict, type EventStore } from '../eventstore/types.js';
import type { NodeGateway } from '../gateways/node.js';
import type { Leases } from './leases.js';
import { escrowTailSeconds, runStep, type StepOutcome, type StepResult } from './steps.js';
import type { FinalLookUp } from './refundGate.js';

export interface DriverDeps {
  readonly store: EventStore;
  readonly node: NodeGateway;
  readonly leases: Leases;
  readonly settleWindowSeconds: number;
  /**
   * Chain-verified modes: quote lock window + claim window max + release slack (quoteTailSecondsFor),
   * so the escrow job outlives every accepted T by the slack; absent or 0 in manual mode.
   */
  readonly quoteTailSeconds?: number;
  /** Upper bound of one drive, used as the lease's lifetime. */
  readonly leaseTtlMs: number;
  readonly onStep?: (report: StepReport) => void;
  /**
   * The final look-up a chain-verified refund runs right before its node call (refundGate.ts);
   * absent or null: such a refund holds back (never guessed). src/main.ts sets it in sandbox and evm mode.
   */
  readonly finalLookUp?: FinalLookUp | null;
  /** Folded orders by stream version (issue 14 lever 4); absent = every load reads the whole stream. */
  readonly orderCache?: OrderCache;
}

/** inline, resume or watch: see StepMode (the decider's dueStep picks the step for it). */
export type DriveMode = StepMode;

export interface StepReport {
  readonly orderId: string;
  readonly step: DueStep['kind'];
  readonly outcome: StepOutcome;
}

export interface DriveResult {
  readonly state: OrderState;
  readonly version: bigint;
  readonly updatedAt: string | null;
  /** Global position of the last event this drive wrote, if any. */
  readonly position: bigint | null;
  readonly steps: readonly StepReport[];
  /** True when another driver holds the order's lease and this one did nothing. */
  readonly leased: boolean;
}

const MAX_STEPS_PER_DRIVE = 8;

/**
 * How long an order's lease lasts: one drive makes at most a dozen or so node calls, each bounded
 * by the node timeout. Also how long a crashed holder can keep others waiting.
 */
export function leaseTtlMsFor(nodeTimeoutMs: number): number {
  return Math.max(60_000, nodeTimeoutMs * 16);
}

/**
 * Drives one order: pick the due external step, perform it with its idempotency key, append the
 * result with the expected version, and repeat until nothing is due or an outcome stays unknown.
 * Safe to run twice at once: the order's lease lets one driver at a time call the node, and every
 * append is checked against the version its decision was made on.
 */
export async function driveOrder(deps: DriverDeps, orderId: string, ctx: CommandContext, mode: DriveMode): Promise<DriveResult> {
  // A watch only reads the job (no effect at the node) and appends with the version it read, so it
  // needs no lease, and must not hold one: a cancel racing a match would find its refund leased away.
  if (mode === 'watch') return driveHoldingLease(deps, orderId, ctx, mode, () => true);
  const owner = randomUUID();
  const leaseName = `order-driver:${orderId}`;
  if (!(await deps.leases.acquire(leaseName, owner, deps.leaseTtlMs, ctx.now().getTime()))) {
    const loaded = await loadOrder(deps.store, orderId, deps.orderCache);
    return { state: loaded.state, version: loaded.version, updatedAt: loaded.updatedAt, position: null, steps: [], leased: true };
  }
  try {
    return await driveHoldingLease(deps, orderId, ctx, mode, () =>
      deps.leases.acquire(leaseName, owner, deps.leaseTtlMs, ctx.now().getTime()),
    );
  } finally {
    await deps.leases.release(leaseName, owner);
  }
}

async function driveHoldingLease(
  deps: DriverDeps,
  orderId: string,
  ctx: CommandContext,
  mode: DriveMode,
  renewLease: () => boolean | Promise<boolean>,
): Promise<DriveResult> {
  const steps: StepReport[] = [];
  let position: bigint | null = null;
  const loaded = await loadOrder(deps.store, orderId, deps.orderCache);
  let state = loaded.state;
  let version = loaded.version;
  let updatedAt = loaded.updatedAt;
  let stepMode = mode;
  for (let i = 0; i < MAX_STEPS_PER_DRIVE; i++) {
    const step = dueStep(state, stepMode);
    // The lease was just taken for the first step; only later steps need it renewed.
    if (step === null || state.status === 'none' || (i > 0 && !(await renewLease()))) break;
    const result = await runStep(deps, state, step, stepMode, escrowTailSeconds(deps.settleWindowSeconds, deps.quoteTailSeconds), ctx.now());
    const report = { orderId, step: step.kind, outcome: result.outcome };
    steps.push(report);
    deps.onStep?.(report);
    const appended = await appendResults(deps, orderId, result, ctx, version);
    if (appended === null) break;
    if (appended.position !== null) position = appended.position;
    state = appended.state;
    version = appended.version;
    updatedAt = appended.updatedAt;
    if (!result.continue) break;
    // After the first step, later steps follow fresh results: no look-up needed.
    stepMode = result.outcome === 'ok' ? 'inline' : 'resume';
  }
  return { state, version, updatedAt, position, steps, leased: false };
}

/** Appends the step's result commands in order; null when the order moved under us (stop). */
async function appendResults(
  deps: Pick<DriverDeps, 'store' | 'orderCache'>,
  orderId: string,
  result: StepResult,
  ctx: CommandContext,
  versionRead: bigint,
): Promise<{ state: OrderState; version: bigint; updatedAt: string | null; position: bigint | null } | null> {
  let position: bigint | null = null;
  let ifMatch: bigint | undefined = versionRead;
  let last: { state: OrderState; version: bigint; updatedAt: string | null } | null = null;
  for (const command of result.commands) {
    // The fold this driver last read or appended, without a read of the stream's tail: the append
    // expects that version, and a stream that moved on meanwhile ends this loop as a conflict would
    // (a refusal decided on the stale fold returns null too, as the If-Match refusal would have).
    const loaded = ifMatch === undefined ? undefined : deps.orderCache?.atVersion(orderId, ifMatch);
    try {
      const outcome = await handleOrderCommand(deps.store, orderId, command as OrderCommand, ctx, { ifMatchVersion: ifMatch, maxAttempts: 1, cache: deps.orderCache, loaded });
      if (outcome.position !== null) position = outcome.position;
      last = { state: outcome.state, version: outcome.version, updatedAt: outcome.updatedAt };
      ifMatch = outcome.version;
    } catch (error) {
      if (error instanceof OrderRefused || isConflictLike(error)) return null;
      throw error;
    }
  }
  if (last === null) {
    const loaded = await loadOrder(deps.store, orderId, deps.orderCache);
    last = { state: loaded.state, version: loaded.version, updatedAt: loaded.updatedAt };
  }
  return { ...last, position };
}

function isConflictLike(error: unknown): boolean {
  return isVersionConflict(error) || error instanceof VersionMismatch;
}
