import { hash as digest } from 'node:crypto';
import type { JsonObject, JsonValue, RecordedEvent } from './types.js';

/** The hash every stream's chain starts from. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted by code point and no whitespace: one byte string per value. Written
 * as plain loops (no filter/map/join per level): every event's hash link runs it over its data.
 */
export function canonicalJson(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return out + ']';
  }
  const keys = Object.keys(value).sort(compareCodePoints);
  let out = '{';
  for (const key of keys) {
    const member = value[key];
    if (member === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(member);
  }
  return out + '}';
}

function compareCodePoints(a: string, b: string): number {
  // Default sort compares UTF-16 code units; for the keys used here (ASCII) that equals code points.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * canonicalJson of an object whose keys are known and listed in code-point order, each given as
 * its JSON text with the colon (`"actor":`): the same text, without building and sorting an object.
 * An undefined value drops its key, as canonicalJson does.
 */
function knownKeysJson(quotedKeys: readonly string[], values: readonly (JsonValue | undefined)[]): string {
  let out = '{';
  for (let i = 0; i < quotedKeys.length; i++) {
    const member = values[i];
    if (member === undefined) continue;
    out += (out.length === 1 ? '' : ',') + (quotedKeys[i] as string) + canonicalJson(member);
  }
  return out + '}';
}

const quoted = (keys: readonly string[]): readonly string[] => {
  const sorted = [...keys].sort(compareCodePoints);
  if (sorted.some((key, i) => key !== keys[i])) throw new Error('hash chain keys must be listed in code-point order');
  return keys.map((key) => `${JSON.stringify(key)}:`);
};

/** sha256 of the previous hash followed by the hashed text, as lowercase hex (one-shot: no Hash object). */
const link = (prevHash: string, body: string): string => digest('sha256', prevHash + body, 'hex');

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
const V1_KEYS = quoted(['data', 'stream', 'type', 'version']);

export function chainHash(prevHash: string, event: ChainInput): string {
  return link(prevHash, knownKeysJson(V1_KEYS, [event.data, event.stream, event.type, event.version.toString()]));
}

/**
 * Chain version 2: hash = sha256(prev_hash || canonical JSON of {actor, causation_id, chain_version,
 * correlation_id, data, recorded_at, stream, type, version}). The version is inside the hashed
 * text, so a v2 event relabelled as v1 no longer verifies.
 */
const V2_KEYS = quoted(['actor', 'causation_id', 'chain_version', 'correlation_id', 'data', 'recorded_at', 'stream', 'type', 'version']);

export function chainHashV2(prevHash: string, event: ChainInput, metadata: ChainedMetadata): string {
  return link(prevHash, knownKeysJson(V2_KEYS, [
    metadata.actor, metadata.causation_id, CHAIN_V2, metadata.correlation_id, event.data, metadata.recorded_at,
    event.stream, event.type, event.version.toString(),
  ]));
}

/**
 * Chain version 3: as version 2 with chain_version 3, signature_action and signature_sha256 (null
 * when the event spends no signature) in the hashed text.
 */
const V3_KEYS = quoted([
  'actor', 'causation_id', 'chain_version', 'correlation_id', 'data', 'recorded_at', 'signature_action', 'signature_sha256',
  'stream', 'type', 'version',
]);

export function chainHashV3(prevHash: string, event: ChainInput, metadata: SignedMetadata): string {
  return link(prevHash, knownKeysJson(V3_KEYS, [
    metadata.actor, metadata.causation_id, CHAIN_V3, metadata.correlation_id, event.data, metadata.recorded_at,
    metadata.signature_action ?? null, metadata.signature_sha256 ?? null, event.stream, event.type, event.version.toString(),
  ]));
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
