import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../app/ledger.js';
import type { ReadModels } from './deps.js';
import { ApiError } from './errorMap.js';
import type { Answer } from './present.js';

/** How long a read with min_position waits for the read models (api.md: up to 5 s). */
export const MIN_POSITION_WAIT_MS = 5000;

/** The read side plus how long a min_position read may wait. */
export interface PositionWaiter {
  readonly readModels: ReadModels;
  readonly minPositionWaitMs?: number;
}

/** The request id becomes every event's correlation_id; If-Match becomes the expected version. */
export function requestContext(request: FastifyRequest): RequestContext {
  const ifMatch = request.headers['if-match'];
  const digits = typeof ifMatch === 'string' ? /\d+/.exec(ifMatch)?.[0] : undefined;
  return digits === undefined ? { requestId: request.id } : { requestId: request.id, ifMatchVersion: BigInt(digits) };
}

/** Read-your-writes: hold a read until the read models have applied the client's position. */
export async function awaitPosition(deps: PositionWaiter, minPosition: bigint | undefined): Promise<void> {
  if (minPosition === undefined) return;
  if (await deps.readModels.waitFor(minPosition, deps.minPositionWaitMs ?? MIN_POSITION_WAIT_MS)) return;
  throw new ApiError('read_model_lagging', `the read models have not reached position ${minPosition} yet; retry shortly`);
}

/** Sends a command's answer with its ETag; a refusal that carries the order still counts as one. */
export function send(reply: FastifyReply, answer: Answer): FastifyReply {
  const error = answer.body['error'];
  if (typeof error === 'string') reply.request.errorCode = error;
  return reply.code(answer.status).header('etag', answer.etag).send(answer.body);
}
