/**
 * A ledger stream the event store can no longer hand out whole. Ledger streams must never be
 * deleted or truncated (docs/SCALING.md): a fold of what is left would be a different order, and
 * a deleted signature stream would let a signature be used again. The esdb adapter raises this
 * instead of returning a partial stream; `verify` reports it as a finding.
 */
export type StreamUnreadableCode = 'stream_deleted' | 'stream_truncated';

export class StreamUnreadable extends Error {
  constructor(
    readonly code: StreamUnreadableCode,
    readonly stream: string,
    detail: string,
  ) {
    super(`${stream}: ${detail}`);
    this.name = 'StreamUnreadable';
  }
}

export function isStreamUnreadable(error: unknown): error is StreamUnreadable {
  return error instanceof StreamUnreadable;
}
