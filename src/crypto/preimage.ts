import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The preimage (HTLC secret): 32 random bytes whose sha256 is the trade's htlc_hash. Whoever holds
 * it can claim the quote leg, so it is generated with a CSPRNG, kept only encrypted at rest
 * (AES-256-GCM), and decrypted only for an order whose payout is confirmed.
 */
export interface Preimage {
  readonly secretHex: string;
  readonly htlcHash: string;
}

export function generatePreimage(): Preimage {
  const secret = randomBytes(32);
  return { secretHex: secret.toString('hex'), htlcHash: sha256Hex(secret) };
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The HTLC hash of a preimage given as hex: sha256 of its bytes (not of its hex text). */
export const htlcHashOf = (secretHex: string): string => sha256Hex(Buffer.from(secretHex, 'hex'));

/** Encrypts and decrypts preimages under one 32-byte key. */
export interface SecretBox {
  encrypt(secretHex: string): string;
  decrypt(ciphertext: string): string;
}

const VERSION_TAG = 'v1';

export function createSecretBox(keyHex: string): SecretBox {
  const key = Buffer.from(keyHex, 'hex');
  if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
  return {
    encrypt(secretHex) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(Buffer.from(secretHex, 'hex')), cipher.final()]);
      return [VERSION_TAG, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
    },
    decrypt(ciphertext) {
      const [tag, iv, auth, body] = ciphertext.split(':');
      if (tag !== VERSION_TAG || !iv || !auth || !body) throw new Error('unreadable ciphertext');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(auth, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('hex');
    },
  };
}

const KEY_FILE = 'secret.key';

/**
 * The configured key, or the one generated into the data dir on first start (mode 0600), so a
 * restart can still decrypt what an earlier run encrypted.
 */
export function loadOrCreateSecretKey(configuredHex: string | null, dataDir: string): string {
  if (configuredHex) return configuredHex.toLowerCase();
  const path = join(dataDir, KEY_FILE);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const keyHex = randomBytes(32).toString('hex');
  writeFileSync(path, `${keyHex}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return keyHex;
}
