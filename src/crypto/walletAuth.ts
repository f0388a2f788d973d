import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { Point } from '@noble/ed25519';
import { canonicalJson } from '../eventstore/hashChain.js';
import { WALLET_PATTERN } from '../aggregates/order/wallet.js';
import type { JsonObject, JsonValue } from '../eventstore/types.js';

/**
 * Wallet signatures (domain.md §3, api.md "Wallet auth"): a wallet is "RTC" + the first 40 hex of
 * sha256(its Ed25519 public key); each state-changing request is signed over a canonical message.
 */
export type WalletAuthCode =
  | 'wallet_must_be_native_rtc_address'
  | 'wallet_auth_required'
  | 'wallet_auth_malformed'
  | 'wallet_auth_timestamp_expired'
  | 'wallet_auth_public_key_does_not_match_wallet'
  | 'wallet_auth_invalid_signature'
  | 'wallet_auth_replayed';

export class WalletAuthError extends Error {
  constructor(readonly code: WalletAuthCode, message: string) {
    super(message);
    this.name = 'WalletAuthError';
  }
}

export type WalletAction = 'create_order' | 'match_order' | 'cancel_order' | 'confirm_settlement' | 'rearm_order';

export interface WalletAuthInput {
  readonly public_key: string;
  readonly signature: string;
  readonly timestamp: number;
}

export interface SignedRequest {
  readonly action: WalletAction;
  /** `"create_order"` for placing, else the order's id. */
  readonly orderId: string;
  /** The wallet exactly as sent in the body. */
  readonly wallet: unknown;
  /** The action's bound fields, already in their signed form ("" when absent). */
  readonly bound: Readonly<Record<string, JsonValue>>;
  readonly auth: unknown;
}

export const AUTH_WINDOW_SECONDS = 300;

/** The exact bytes a wallet signs: compact JSON, keys sorted by code point. */
export function signedMessage(action: WalletAction, orderId: string, wallet: string, timestamp: number, bound: Readonly<Record<string, JsonValue>>): string {
  const message: JsonObject = { ...bound, action, order_id: orderId, timestamp, wallet };
  return canonicalJson(message);
}

export function walletFromPublicKey(publicKeyHex: string): string {
  return `RTC${createHash('sha256').update(Buffer.from(publicKeyHex, 'hex')).digest('hex').slice(0, 40)}`;
}

/**
 * Checks a request's signature in the order api.md fixes for the 401 codes, except replay, which
 * needs the store: the caller records the signature and maps a duplicate to wallet_auth_replayed.
 * Returns the verified signature (lowercase hex) to record.
 */
export function verifyWalletAuth(request: SignedRequest, nowMs: number): string {
  const { parsed, message } = checkBeforeSignature(request, nowMs);
  if (!verifyEd25519(parsed.public_key, message, parsed.signature)) refuseSignature(request);
  return parsed.signature.toLowerCase();
}

/**
 * The same checks, in the same order and with the same codes, but the Ed25519 verification itself
 * runs on libuv's thread pool (crypto.verify with a callback), so the event loop serves other
 * requests meanwhile (~100 µs per signature here). The weak-key check stays in front of it: a key
 * is checked once on the loop and cached, refused keys included.
 */
export async function verifyWalletAuthAsync(request: SignedRequest, nowMs: number): Promise<string> {
  const { parsed, message } = checkBeforeSignature(request, nowMs);
  if (!(await verifyEd25519Async(parsed.public_key, message, parsed.signature))) refuseSignature(request);
  return parsed.signature.toLowerCase();
}

/** Everything before the signature itself, in api.md's order of the 401 codes. */
function checkBeforeSignature(request: SignedRequest, nowMs: number): { parsed: WalletAuthInput; message: string } {
  if (typeof request.wallet !== 'string' || !WALLET_PATTERN.test(request.wallet)) {
    fail('wallet_must_be_native_rtc_address', 'wallet must be RTC followed by 40 hex digits');
  }
  const auth = request.auth;
  if (auth === undefined || auth === null) fail('wallet_auth_required', 'wallet_auth is required');
  const parsed = parseAuth(auth);
  if (Math.abs(nowMs / 1000 - parsed.timestamp) > AUTH_WINDOW_SECONDS) {
    fail('wallet_auth_timestamp_expired', `wallet_auth.timestamp must be within ${AUTH_WINDOW_SECONDS} s of the server clock`);
  }
  if (walletFromPublicKey(parsed.public_key).toLowerCase() !== request.wallet.toLowerCase()) {
    fail('wallet_auth_public_key_does_not_match_wallet', 'the public key does not derive this wallet');
  }
  return { parsed, message: signedMessage(request.action, request.orderId, request.wallet, parsed.timestamp, request.bound) };
}

function refuseSignature(request: SignedRequest): never {
  fail('wallet_auth_invalid_signature', invalidSignatureMessage(request.action, request.orderId, request.bound));
}

/**
 * What a client author needs to find a signing mistake: which fields the message covers and how
 * it is written. Field names only, never a value, so no secret (or its hash) is echoed.
 */
function invalidSignatureMessage(action: WalletAction, orderId: string, bound: Readonly<Record<string, JsonValue>>): string {
  const fields = ['action', 'order_id', 'timestamp', 'wallet', ...Object.keys(bound)].sort();
  const target = action === 'create_order' ? '"create_order"' : 'the order\'s id';
  return `the signature does not verify over the canonical message: compact JSON with keys sorted of {${fields.join(', ')}}, ` +
    `with action "${action}", order_id ${target}, wallet exactly as sent, and bound fields as the server reads them ("" when absent)`;
}

function parseAuth(auth: unknown): WalletAuthInput {
  const a = auth as Partial<Record<keyof WalletAuthInput, unknown>>;
  const ok =
    typeof auth === 'object' &&
    typeof a.public_key === 'string' && /^[0-9a-fA-F]{64}$/.test(a.public_key) &&
    typeof a.signature === 'string' && /^[0-9a-fA-F]{128}$/.test(a.signature) &&
    typeof a.timestamp === 'number' && Number.isSafeInteger(a.timestamp);
  if (!ok) fail('wallet_auth_malformed', 'wallet_auth needs public_key (64 hex), signature (128 hex) and timestamp (integer seconds)');
  return a as WalletAuthInput;
}

// An Ed25519 public key as SPKI DER is this fixed prefix followed by the 32 raw key bytes.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Parsed public keys of recent wallets. Parsing the DER costs as much as the verification itself,
 * and a trader signs many requests with one key. A KeyObject is immutable, so sharing it is safe;
 * the oldest entry goes when the cache is full. A refused key is kept as null.
 */
const KEY_CACHE_SIZE = 10_000;
const keyCache = new Map<string, KeyObject | null>();

/**
 * A public key no signature may be accepted under: an encoding that is not canonical (y ≥ p, or a
 * negative zero x) or a point with a small-order component. OpenSSL's verify takes both: under the
 * identity `01 00…00`, or any of the eight torsion points, anyone can forge a signature for any
 * message in a few tries, and so sign for that key's wallet. An honest key is a multiple of the
 * base point, so it always passes; noble's strict (RFC 8032) decoding and its torsion check decide.
 */
export function isAcceptablePublicKey(publicKeyHex: string): boolean {
  try {
    const point = Point.fromHex(publicKeyHex, false);
    // The identity is torsion-free too (it is in every subgroup), hence the small-order check.
    return !point.isSmallOrder() && point.isTorsionFree();
  } catch {
    return false;
  }
}

function publicKeyOf(publicKeyHex: string): KeyObject | null {
  const id = publicKeyHex.toLowerCase();
  const cached = keyCache.get(id);
  if (cached !== undefined) return cached;
  // The strict check costs more than a verification, so refused keys are cached too.
  const key = isAcceptablePublicKey(id)
    ? createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(id, 'hex')]), format: 'der', type: 'spki' })
    : null;
  if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(id, key);
  return key;
}

function verifyEd25519(publicKeyHex: string, message: string, signatureHex: string): boolean {
  const key = publicKeyOf(publicKeyHex);
  if (key === null) return false;
  try {
    return verify(null, Buffer.from(message, 'utf8'), key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

function verifyEd25519Async(publicKeyHex: string, message: string, signatureHex: string): Promise<boolean> {
  const key = publicKeyOf(publicKeyHex);
  if (key === null) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify(null, Buffer.from(message, 'utf8'), key, Buffer.from(signatureHex, 'hex'), (error, ok) => resolve(error === null && ok));
    } catch {
      resolve(false);
    }
  });
}

function fail(code: WalletAuthCode, message: string): never {
  throw new WalletAuthError(code, message);
}
