import { decideThenDrive } from './decideThenDrive.js';
import { commandContext, type LedgerDeps, type OrderResult, type RequestContext } from './deps.js';

export interface RedriveRequest {
  readonly operator: string;
  readonly reason: string;
}

/** An operator re-drives an order parked in recovery; the driver resumes it, looking outcomes up first. */
export async function redrive(deps: LedgerDeps, orderId: string, input: RedriveRequest, req: RequestContext): Promise<OrderResult> {
  const command = { type: 'RequestRedrive' as const, operator: input.operator, reason: input.reason };
  return decideThenDrive(deps, { orderId, command, ctx: commandContext(deps, req, `operator:${input.operator}`), mode: 'resume' }, req);
}
