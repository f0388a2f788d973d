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

/** The metadata chain version 2 covers: who wrote the event, why, and when. */
export interface ChainedMetadata {
  readonly actor: string;
  readonly correlation_id: string;
  readonly causation_id: string | null;
  readonly recorded_at: string;
}

/** What chain version 3 covers on top of version 2: the signature an event spends (null when none). */
export interface SignedMetadata extends ChainedMetadata {
  readonly signature_sha256?: string;
  readonly signature_action?: string;
}

/**
 * Chain versions. 1 (events without `chain_version`) covers data, stream, type and version; its
 * metadata could be edited unnoticed. 2 covers the actor, correlation id, causation id and
 * recorded_at too. 3 also covers signature_sha256 and signature_action (the signature use an event
 * records, issue 14 lever 2), so a spent signature cannot be struck from an order's trail unnoticed.
 * Events keep verifying under the version they were written with.
 */
export const CHAIN_V1 = 1;
export const CHAIN_V2 = 2;
export const CHAIN_V3 = 3;
export const CURRENT_CHAIN_VERSION = CHAIN_V3;

/** Chain version 1: hash = sha256(prev_hash || canonical JSON of {data, stream, type, version}) as lowercase hex. */
export function chainHash(prevHash: string, event: ChainInput): string {
  const body = canonicalJson({
    data: event.data,
    stream: event.stream,
    type: event.type,
    version: event.version.toString(),
  });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

/**
 * Chain version 2: hash = sha256(prev_hash || canonical JSON of {actor, causation_id, chain_version,
 * correlation_id, data, recorded_at, stream, type, version}). The version is inside the hashed
 * text, so a v2 event relabelled as v1 no longer verifies.
 */
export function chainHashV2(prevHash: string, event: ChainInput, metadata: ChainedMetadata): string {
  const body = canonicalJson({
    actor: metadata.actor,
    causation_id: metadata.causation_id,
    chain_version: CHAIN_V2,
    correlation_id: metadata.correlation_id,
    data: event.data,
    recorded_at: metadata.recorded_at,
    stream: event.stream,
    type: event.type,
    version: event.version.toString(),
  });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

/**
 * Chain version 3: as version 2 with chain_version 3, signature_action and signature_sha256 (null
 * when the event spends no signature) in the hashed text.
 */
export function chainHashV3(prevHash: string, event: ChainInput, metadata: SignedMetadata): string {
  const body = canonicalJson({
    actor: metadata.actor,
    causation_id: metadata.causation_id,
    chain_version: CHAIN_V3,
    correlation_id: metadata.correlation_id,
    data: event.data,
    recorded_at: metadata.recorded_at,
    signature_action: metadata.signature_action ?? null,
    signature_sha256: metadata.signature_sha256 ?? null,
    stream: event.stream,
    type: event.type,
    version: event.version.toString(),
  });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

/** A recorded event's chain version: 1 when its metadata names none. */
export const chainVersionOf = (event: RecordedEvent): unknown => event.metadata.chain_version ?? CHAIN_V1;

/** The hash a recorded event must carry, under its own chain version; null for a version unknown here. */
export function expectedHash(prevHash: string, event: RecordedEvent): string | null {
  const version = chainVersionOf(event);
  if (version === CHAIN_V1) return chainHash(prevHash, event);
  if (version === CHAIN_V2) return chainHashV2(prevHash, event, event.metadata);
  if (version === CHAIN_V3) return chainHashV3(prevHash, event, event.metadata);
  return null;
}

export type ChainFinding =
  | { readonly ok: true }
  | { readonly ok: false; readonly version: bigint; readonly eventId: string; readonly problem: string };

/**
 * Verifies a whole stream's chain and names the first event that breaks it. Versions only go up
 * within a stream: a v1 event after a v2 one is a downgrade (an edited event relabelled so that its
 * metadata would no longer be covered), and is reported.
 */
export function verifyChain(events: readonly RecordedEvent[]): ChainFinding {
  let prev = GENESIS_HASH;
  let expectedVersion = 1n;
  let highestChainVersion = CHAIN_V1;
  for (const event of events) {
    const fail = (problem: string): ChainFinding => ({ ok: false, version: event.version, eventId: event.eventId, problem });
    if (event.version !== expectedVersion) return fail(`version ${event.version} where ${expectedVersion} was expected`);
    if (event.metadata.prev_hash !== prev) return fail('prev_hash does not match the previous event');
    const chainVersion = chainVersionOf(event);
    const hash = expectedHash(prev, event);
    if (hash === null) return fail(`chain_version ${String(chainVersion)} is not known`);
    if ((chainVersion as number) < highestChainVersion) return fail(`chain_version ${String(chainVersion)} after an event of chain_version ${highestChainVersion}`);
    // Under version 2 "content" includes the covered metadata; one wording keeps the API's text stable.
    if (hash !== event.metadata.hash) return fail('hash does not match the event content');
    highestChainVersion = chainVersion as number;
    prev = event.metadata.hash;
    expectedVersion += 1n;
  }
  return { ok: true };
}
