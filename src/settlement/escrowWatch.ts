import { heldEscrow, type OrderState } from '../aggregates/order/index.js';
import { handleOrderCommand, type CommandContext } from '../commands/handleCommand.js';
import type { EventStore } from '../eventstore/types.js';
import type { NodeGateway } from '../gateways/node.js';

/**
 * Looks the held escrow of an open or matched order up (a GET: no effect at the node). A job that
 * is no longer open was cancelled or expired behind the ledger's back: the order is parked in
 * recovery, so no buyer takes it or waits on a quote leg against an escrow that is gone, and an
 * operator sees it. A look-up that fails changes nothing: the release checks the job again before
 * any RTC moves.
 */
export async function parkIfEscrowGone(
  deps: { readonly store: EventStore; readonly node: NodeGateway },
  orderId: string,
  state: OrderState,
  ctx: CommandContext,
): Promise<void> {
  const held = state.status === 'open' || state.status === 'matched' ? heldEscrow(state) : null;
  if (held === null) return;
  const lookup = await deps.node.getJob(held.jobId);
  if (lookup.kind !== 'ok' || lookup.value?.status === 'open') return;
  const status = lookup.value?.status ?? 'missing';
  const command = { type: 'RequireRecovery' as const, reason: `escrow_job_${status}`, detail: `the escrow job is ${status} at the node` };
  // A lost race (the order moved meanwhile) leaves it to whoever moved it.
  await handleOrderCommand(deps.store, orderId, command, ctx).catch(() => undefined);
}
