/**
 * Every stream name the ledger writes, in one place. A file of its own at the root of src/ (a layer
 * with no imports), so the decider, the commands, the stores and the leases can all take their
 * names from it without importing each other.
 */

/** One stream per order: `order-<order id>`. */
export const ORDER_STREAM_PREFIX = 'order-';
/** One stream per used wallet signature, named after the signature's sha256 (never the signature). */
export const SIGNATURE_STREAM_PREFIX = 'sig-';
/** One stream per htlc_hash ever used by an order: its first event reserves the hash (htlc_hash_reused). */
export const HTLC_HASH_STREAM_PREFIX = 'htlc-';
/** Driver and follower leases kept in the event store (EventStoreDB): not ledger facts. */
export const LEASE_STREAM_PREFIX = 'lease-';

/** The ledger's own facts: what projections and audits read. Lease streams are deliberately not here. */
export const LEDGER_STREAM_PREFIXES: readonly string[] = [ORDER_STREAM_PREFIX, SIGNATURE_STREAM_PREFIX, HTLC_HASH_STREAM_PREFIX];

export function orderStream(orderId: string): string {
  return `${ORDER_STREAM_PREFIX}${orderId}`;
}

export function orderIdFromStream(stream: string): string {
  return stream.slice(ORDER_STREAM_PREFIX.length);
}

export function signatureStream(signatureSha256: string): string {
  return `${SIGNATURE_STREAM_PREFIX}${signatureSha256}`;
}

export function leaseStream(name: string): string {
  return `${LEASE_STREAM_PREFIX}${name}`;
}

export function htlcHashStream(htlcHash: string): string {
  return `${HTLC_HASH_STREAM_PREFIX}${htlcHash.toLowerCase()}`;
}
