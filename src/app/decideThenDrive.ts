import { dueStep, type OrderCommand } from '../aggregates/order/index.js';
import { handleOrderCommand, type CommandContext } from '../commands/handleCommand.js';
import type { LoadedOrder } from '../commands/loadOrder.js';
import { driveOrder, type DriveMode } from '../settlement/driver.js';
import { spendAlone, spendOnFailure, type PendingSignature } from './authenticate.js';
import type { LedgerDeps, OrderResult, RequestContext } from './deps.js';

export interface DecideThenDrive {
  readonly orderId: string;
  readonly command: OrderCommand;
  readonly ctx: CommandContext;
  readonly mode: DriveMode;
  readonly htlcSecret?: string | null;
  /** The order as just read, saving the command a second read (stale is safe: the append checks). */
  readonly loaded?: LoadedOrder;
  /** The signature the request spends, recorded by the command's first event (null: already recorded). */
  readonly signature?: PendingSignature | null;
}

/**
 * Decides and appends the command, then runs the settlement driver inline for a fast answer.
 * What the driver could not finish, the reconciler resumes from the stream.
 */
export async function decideThenDrive(deps: LedgerDeps, run: DecideThenDrive, req: RequestContext): Promise<OrderResult> {
  const htlcSecret = run.htlcSecret ?? null;
  const signature = run.signature ?? null;
  const decided = await spendOnFailure(deps, signature, () => handleOrderCommand(deps.store, run.orderId, run.command, run.ctx, {
    ifMatchVersion: req.ifMatchVersion, maxAttempts: 5, loaded: run.loaded, cache: deps.orderCache, signature: signature?.spent,
  }));
  // Decided nothing (a repeat of what the order already did): no event carried the signature.
  if (signature !== null && decided.written.length === 0) await spendAlone(deps, signature);
  // Nothing external is due (a buy placed, a sell matched): no lease to take, no second read.
  if (dueStep(decided.state) === null) {
    return { state: decided.state, version: decided.version, updatedAt: decided.updatedAt, position: decided.position, htlcSecret };
  }
  const driven = await driveOrder(deps, run.orderId, run.ctx, run.mode);
  return { state: driven.state, version: driven.version, updatedAt: driven.updatedAt, position: driven.position ?? decided.position, htlcSecret };
}
