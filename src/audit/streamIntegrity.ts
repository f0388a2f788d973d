import { isStreamUnreadable } from '../eventstore/streamErrors.js';
import type { EventStore, RecordedEvent } from '../eventstore/types.js';
import type { Finding } from './findings.js';

/**
 * Reads one ledger stream for verify, turning a deleted or truncated stream into a finding
 * instead of an abort: ledger streams must never be deleted or truncated (docs/SCALING.md), and
 * verify is where an operator learns that one was. A stream verify found listed in the log that
 * now reads as empty was soft-deleted.
 */
export async function readForAudit(store: EventStore, stream: string, findings: Finding[]): Promise<RecordedEvent[]> {
  try {
    const events = await store.readStream(stream);
    if (events.length === 0) findings.push({ kind: 'stream_deleted', stream, message: `${stream} was created but reads as empty: it was deleted` });
    return events;
  } catch (error) {
    if (!isStreamUnreadable(error)) throw error;
    findings.push({ kind: error.code, stream, message: error.message });
    return [];
  }
}
