import { createHash, createPublicKey, verify } from 'node:crypto';
import { Point } from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { generateWallet } from '../../src/crypto/signer.js';
import { isAcceptablePublicKey, signedMessage, verifyWalletAuth, verifyWalletAuthAsync, walletFromPublicKey, WalletAuthError } from '../../src/crypto/walletAuth.js';

const NOW_MS = Date.parse('2026-11-26T12:00:00Z');
const NOW_S = NOW_MS / 1000;
const ORDER_ID = 'otc_00000000000000aa';

/** The eight points of order dividing 8, each in its canonical encoding. */
const TORSION_POINTS = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
];

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function littleEndian(n: bigint, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

function fromLittleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] ?? 0);
  return n;
}

/** Every encoding with y ≥ p (either sign bit) that a lax (ZIP-215) decoder still takes for a point. */
function nonCanonicalEncodings(): string[] {
  const found: string[] = [];
  for (let y = P; y < 2n ** 255n; y++) {
    for (const sign of [0n, 1n]) {
      const hex = littleEndian(y | (sign << 255n), 32).toString('hex');
      try {
        Point.fromHex(hex, true);
        found.push(hex);
      } catch {
        // not a point at all; the strict check refuses it anyway
      }
    }
  }
  return found;
}

const times = (point: Point, k: bigint): Point => {
  let sum = Point.ZERO;
  for (let i = 0n; i < k; i++) sum = sum.add(point);
  return sum;
};

/**
 * A signature under a small-order key A, made without any private key: R = sB − kA for a guess
 * k, kept once the challenge h = H(R‖A‖M) has hA = kA (one try in eight on average), so that
 * sB = R + hA holds. This is the attack: anyone can "sign" for the key's wallet.
 */
function forgeUnderSmallOrderKey(publicKeyHex: string, message: string): string {
  const a = Point.fromHex(publicKeyHex, true);
  for (let k = 0n; k < 200n; k++) {
    const s = 1000n + k;
    const r = Point.BASE.multiply(s).subtract(times(a, k % 8n)).toBytes();
    const digest = createHash('sha512').update(r).update(Buffer.from(publicKeyHex, 'hex')).update(message).digest();
    const h = fromLittleEndian(digest) % L;
    if (times(a, h % 8n).equals(times(a, k % 8n))) return Buffer.concat([Buffer.from(r), littleEndian(s, 32)]).toString('hex');
  }
  throw new Error('no forgery in 200 tries');
}

/** What OpenSSL alone says of a signature, without the ledger's key check. */
function opensslAccepts(publicKeyHex: string, message: string, signatureHex: string): boolean {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKeyHex, 'hex')]);
  return verify(null, Buffer.from(message), createPublicKey({ key: der, format: 'der', type: 'spki' }), Buffer.from(signatureHex, 'hex'));
}

function cancelSignedWith(publicKeyHex: string, signatureHex: (message: string) => string) {
  const wallet = walletFromPublicKey(publicKeyHex);
  const message = signedMessage('cancel_order', ORDER_ID, wallet, NOW_S, {});
  const signature = signatureHex(message);
  return { message, signature, request: { action: 'cancel_order' as const, orderId: ORDER_ID, wallet, bound: {}, auth: { public_key: publicKeyHex, signature, timestamp: NOW_S } } };
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    return error instanceof WalletAuthError ? error.code : `unexpected: ${String(error)}`;
  }
}

const SMALL_ORDER_NON_CANONICAL = nonCanonicalEncodings().filter((hex) => Point.fromHex(hex, true).isSmallOrder());

describe('weak Ed25519 public keys', () => {
  it('knows every lax encoding: 24 with y ≥ p, of which 4 are small-order', () => {
    expect(nonCanonicalEncodings()).toHaveLength(24);
    expect(SMALL_ORDER_NON_CANONICAL.sort()).toEqual([
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    ]);
  });

  it.each([...TORSION_POINTS, ...SMALL_ORDER_NON_CANONICAL])('refuses a forged signature under the small-order key %s, which OpenSSL accepts', async (publicKeyHex) => {
    const { message, signature, request } = cancelSignedWith(publicKeyHex, (m) => forgeUnderSmallOrderKey(publicKeyHex, m));
    expect(opensslAccepts(publicKeyHex, message, signature)).toBe(true);
    expect(codeOf(() => verifyWalletAuth(request, NOW_MS))).toBe('wallet_auth_invalid_signature');
    // The verification on the thread pool keeps the same weak-key check in front of OpenSSL.
    await expect(verifyWalletAuthAsync(request, NOW_MS)).rejects.toMatchObject({ code: 'wallet_auth_invalid_signature' });
  });

  it.each(nonCanonicalEncodings())('refuses the non-canonical encoding %s as a key', async (publicKeyHex) => {
    expect(isAcceptablePublicKey(publicKeyHex)).toBe(false);
    const { request } = cancelSignedWith(publicKeyHex, () => 'ab'.repeat(64));
    expect(codeOf(() => verifyWalletAuth(request, NOW_MS))).toBe('wallet_auth_invalid_signature');
    await expect(verifyWalletAuthAsync(request, NOW_MS)).rejects.toMatchObject({ code: 'wallet_auth_invalid_signature' });
  });

  it('refuses a key with a small-order component added to an honest key (mixed order)', () => {
    const honest = Point.fromHex(generateWallet().publicKeyHex);
    const mixed = honest.add(Point.fromHex(TORSION_POINTS[4] ?? '')).toHex();
    expect(isAcceptablePublicKey(mixed)).toBe(false);
  });

  it('accepts honest keys and their signatures', async () => {
    for (let i = 0; i < 20; i++) {
      const w = generateWallet();
      expect(isAcceptablePublicKey(w.publicKeyHex)).toBe(true);
      const auth = w.sign('cancel_order', ORDER_ID, {}, NOW_S);
      const request = { action: 'cancel_order', orderId: ORDER_ID, wallet: w.wallet, bound: {}, auth } as const;
      expect(() => verifyWalletAuth(request, NOW_MS)).not.toThrow();
      expect(await verifyWalletAuthAsync(request, NOW_MS)).toBe(verifyWalletAuth(request, NOW_MS));
    }
  });
});
