import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.js';

/**
 * The preimage (HTLC secret): 32 random bytes whose sha256 is the trade's htlc_hash. Whoever holds
 * it can claim the quote leg, so it is generated with a CSPRNG, kept only encrypted at rest
 * (AES-256-GCM), and decrypted only for an order whose payout is confirmed.
 */
export interface Preimage {
  readonly secretHex: string;
  readonly htlcHash: string;
}

/** `random` is the CSPRNG unless given: only the simulator passes a seeded one, to replay a run. */
export function generatePreimage(random: (size: number) => Buffer = randomBytes): Preimage {
  const secret = random(32);
  return { secretHex: secret.toString('hex'), htlcHash: sha256Hex(secret) };
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The HTLC hash of a preimage given as hex: sha256 of its bytes (not of its hex text). */
export const htlcHashOf = (secretHex: string): string => sha256Hex(Buffer.from(secretHex, 'hex'));

/**
 * What a ciphertext belongs to, bound in as AES-GCM additional data: a ciphertext copied into
 * another order's event (or another idempotency answer) fails authentication instead of
 * decrypting there.
 */
export type CipherBinding = Readonly<Record<string, string>>;

/** The binding of a preimage recorded in an order's SettlementClaimed event. */
export const preimageBinding = (orderId: string): CipherBinding => ({ order_id: orderId, event_type: 'SettlementClaimed' });

/** Encrypts and decrypts preimages under one 32-byte key. */
export interface SecretBox {
  encrypt(secretHex: string, binding: CipherBinding): string;
  /** Throws when the key, the binding or the bytes differ from the encryption's. */
  decrypt(ciphertext: string, binding: CipherBinding): string;
}

/**
 * Ciphertext formats, `<version>:<iv>:<tag>:<body>` in base64: v1 had no additional data and is
 * still read (events already recorded keep it); v2 binds the binding's sorted key/value pairs as JSON.
 */
const UNBOUND_V1 = 'v1';
const BOUND_V2 = 'v2';

const additionalData = (binding: CipherBinding): Buffer =>
  Buffer.from(JSON.stringify(Object.keys(binding).sort().map((k) => [k, binding[k]])), 'utf8');

export function createSecretBox(keyHex: string, random: (size: number) => Buffer = randomBytes): SecretBox {
  const key = Buffer.from(keyHex, 'hex');
  if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
  return {
    encrypt(secretHex, binding) {
      const iv = random(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(additionalData(binding));
      const body = Buffer.concat([cipher.update(Buffer.from(secretHex, 'hex')), cipher.final()]);
      return [BOUND_V2, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
    },
    decrypt(ciphertext, binding) {
      const [version, iv, auth, body] = ciphertext.split(':');
      if ((version !== UNBOUND_V1 && version !== BOUND_V2) || !iv || !auth || !body) throw new Error('unreadable ciphertext');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      if (version === BOUND_V2) decipher.setAAD(additionalData(binding));
      decipher.setAuthTag(Buffer.from(auth, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('hex');
    },
  };
}

const KEY_FILE = 'secret.key';

/**
 * Refuses a generated key file that group or others can read: whoever can read it can read every
 * preimage at rest. Refused rather than tightened silently, since the key may already be copied.
 */
export function checkSecretKeyFile(dataDir: string): void {
  const path = join(dataDir, KEY_FILE);
  if (!existsSync(path)) return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(`invalid configuration: LEDGER_DATA_DIR ${path} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${path}, and rotate the key if others may have read it`);
  }
}

/**
 * The configured key, or the one generated into the data dir on first start (mode 0600), so a
 * restart can still decrypt what an earlier run encrypted.
 */
export function loadOrCreateSecretKey(configuredHex: string | null, dataDir: string): string {
  if (configuredHex) return configuredHex.toLowerCase();
  const path = join(dataDir, KEY_FILE);
  if (existsSync(path)) {
    checkSecretKeyFile(dataDir);
    return readFileSync(path, 'utf8').trim();
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const keyHex = randomBytes(32).toString('hex');
  writeFileSync(path, `${keyHex}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return keyHex;
}
