import * as ed from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

/**
 * Wallet keys for a trader's client, in Node and in a browser alike: pure JavaScript (noble), so
 * signing also works on a page served over plain http, where WebCrypto is unavailable. The seed
 * never leaves this object unless the caller reads `seedHex` (to save it).
 */

// noble's synchronous API needs a SHA-512; noble's own works everywhere, WebCrypto does not.
ed.hashes.sha512 = sha512;

const HEX64 = /^[0-9a-fA-F]{64}$/;

export interface WalletKey {
  /** The wallet id: "RTC" + the first 40 hex of sha256(public key). */
  readonly wallet: string;
  readonly publicKeyHex: string;
  /** The 32-byte Ed25519 seed: whoever holds it controls the wallet. */
  readonly seedHex: string;
  /** The Ed25519 signature (128 hex) of the UTF-8 bytes of `message`. */
  sign(message: string): string;
}

export class InvalidSeedError extends Error {
  readonly code = 'seed_invalid';
  constructor() {
    super('a wallet seed is 32 bytes written as 64 hex digits');
    this.name = 'InvalidSeedError';
  }
}

/** The wallet a public key controls (domain rule: "RTC" + first 40 hex of its sha256). */
export function walletIdOf(publicKeyHex: string): string {
  return `RTC${bytesToHex(sha256(hexToBytes(publicKeyHex))).slice(0, 40)}`;
}

/** Imports a 32-byte seed (64 hex digits, any case). */
export function walletKeyFromSeed(seedHex: string): WalletKey {
  const trimmed = seedHex.trim();
  if (!HEX64.test(trimmed)) throw new InvalidSeedError();
  const seed = hexToBytes(trimmed.toLowerCase());
  const publicKeyHex = bytesToHex(ed.getPublicKey(seed));
  return {
    wallet: walletIdOf(publicKeyHex),
    publicKeyHex,
    seedHex: bytesToHex(seed),
    sign: (message) => bytesToHex(ed.sign(utf8ToBytes(message), seed)),
  };
}

/** A new wallet from the platform's secure random source (crypto.getRandomValues). */
export function generateWalletKey(): WalletKey {
  return walletKeyFromSeed(bytesToHex(ed.utils.randomSecretKey()));
}

/** Lowercase hex sha256 of a preimage's bytes: the `htlc_hash`, and confirm's `secret_sha256`. */
export function sha256OfHex(hex: string): string {
  return bytesToHex(sha256(hexToBytes(hex.toLowerCase())));
}

/** 32 random bytes as 64 hex: a preimage a seller chooses, or an idempotency key's entropy. */
export function randomHex32(): string {
  return bytesToHex(ed.utils.randomSecretKey());
}
