import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue, RecordedEvent } from './types.js';

/** The hash every stream's chain starts from. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted by code point and no whitespace: one byte string per value. */
export function canonicalJson(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort(compareCodePoints);
    const parts = keys
      .filter((key) => value[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}

function compareCodePoints(a: string, b: string): number {
  // Default sort compares UTF-16 code units; for the keys used here (ASCII) that equals code points.
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface ChainInput {
  readonly stream: string;
  readonly version: bigint;
  readonly type: string;
  readonly data: JsonObject;
}

/** hash = sha256(prev_hash || canonical JSON of {data, stream, type, version}) as lowercase hex. */
export function chainHash(prevHash: string, event: ChainInput): string {
  const body = canonicalJson({
    data: event.data,
    stream: event.stream,
    type: event.type,
    version: event.version.toString(),
  });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

export type ChainFinding =
  | { readonly ok: true }
  | { readonly ok: false; readonly version: bigint; readonly eventId: string; readonly problem: string };

/** Verifies a whole stream's chain and names the first event that breaks it. */
export function verifyChain(events: readonly RecordedEvent[]): ChainFinding {
  let prev = GENESIS_HASH;
  let expectedVersion = 1n;
  for (const event of events) {
    const fail = (problem: string): ChainFinding => ({ ok: false, version: event.version, eventId: event.eventId, problem });
    if (event.version !== expectedVersion) return fail(`version ${event.version} where ${expectedVersion} was expected`);
    if (event.metadata.prev_hash !== prev) return fail('prev_hash does not match the previous event');
    if (chainHash(prev, event) !== event.metadata.hash) return fail('hash does not match the event content');
    prev = event.metadata.hash;
    expectedVersion += 1n;
  }
  return { ok: true };
}
