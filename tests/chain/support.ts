import { randomBytes } from 'node:crypto';
import { bytesToHex, sha256 } from 'viem';
import type { Hex } from 'viem';

/** A fresh 32-byte preimage and its sha256 hashlock, as an order's htlc_hash. */
export function freshSecret(): { preimage: Hex; hashlock: Hex } {
  const preimage = bytesToHex(randomBytes(32));
  return { preimage, hashlock: sha256(preimage) };
}

/** A distinct order id per call, shaped like the ledger's (otc_ + 16 hex). */
export const freshOrderId = (): string => `otc_${randomBytes(8).toString('hex')}`;

export const HOUR = 3600n;
export const DAY = 86_400n;
