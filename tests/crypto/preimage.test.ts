import { createCipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLedger } from '../../src/app/ledger.js';
import { createSecretBox, generatePreimage, loadOrCreateSecretKey, preimageBinding, sha256Hex } from '../../src/crypto/preimage.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';

const ORDER_A = preimageBinding('otc_00000000000000a1');
const ORDER_B = preimageBinding('otc_00000000000000b2');

/** A ciphertext as the first format wrote it: AES-256-GCM without additional data. */
function sealedV1(keyHex: string, secretHex: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv);
  const body = Buffer.concat([cipher.update(Buffer.from(secretHex, 'hex')), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
}

describe('preimage ciphertexts bound to their order', () => {
  const key = 'ab'.repeat(32);
  const box = createSecretBox(key);

  it('does not decrypt a ciphertext moved to another order, or to another event type', () => {
    const sealed = box.encrypt('cd'.repeat(32), ORDER_A);
    expect(sealed.startsWith('v2:')).toBe(true);
    expect(box.decrypt(sealed, ORDER_A)).toBe('cd'.repeat(32));
    expect(() => box.decrypt(sealed, ORDER_B)).toThrow();
    expect(() => box.decrypt(sealed, { ...ORDER_A, event_type: 'OrderPlaced' })).toThrow();
  });

  it('still reads a ciphertext of the first format (v1, unbound), for events already recorded', () => {
    expect(box.decrypt(sealedV1(key, 'ef'.repeat(32)), ORDER_A)).toBe('ef'.repeat(32));
  });

  it('refuses a ciphertext of an unknown format', () => {
    const sealed = box.encrypt('cd'.repeat(32), ORDER_A).replace(/^v2:/, 'v9:');
    expect(() => box.decrypt(sealed, ORDER_A)).toThrow('unreadable ciphertext');
  });

  it('binds a confirmed order\'s preimage through the ledger: a ciphertext moved into another order reads as null', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const unreadable: string[] = [];
    const ledger = createLedger({
      store, node: null as never, leases: null as never, settleWindowSeconds: 86_400, leaseTtlMs: 60_000,
      secretBox: box, now: () => new Date(), onSecretUnreadable: (id: string) => unreadable.push(id),
    });
    const sealed = box.encrypt('cd'.repeat(32), ORDER_A);
    const completed = (orderId: string) => ({ status: 'completed', orderId, claim: { secretCiphertext: sealed } }) as never;
    expect(ledger.revealSecret(completed('otc_00000000000000a1'))).toBe('cd'.repeat(32));
    expect(ledger.revealSecret(completed('otc_00000000000000b2'))).toBeNull();
    expect(unreadable).toEqual(['otc_00000000000000b2']);
    await store.close();
  });
});

describe('the generated key file', () => {
  it('refuses a secret.key that group or others can read, saying how to fix it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-key-'));
    loadOrCreateSecretKey(null, dir);
    chmodSync(join(dir, 'secret.key'), 0o644);
    expect(() => loadOrCreateSecretKey(null, dir)).toThrow(`run chmod 600 ${join(dir, 'secret.key')}`);
    chmodSync(join(dir, 'secret.key'), 0o600);
    expect(loadOrCreateSecretKey(null, dir)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('preimages', () => {
  it('generates 32 random bytes whose sha256 is the htlc hash', () => {
    const a = generatePreimage();
    const b = generatePreimage();
    expect(a.secretHex).toMatch(/^[0-9a-f]{64}$/);
    expect(a.htlcHash).toBe(sha256Hex(Buffer.from(a.secretHex, 'hex')));
    expect(a.secretHex).not.toBe(b.secretHex);
  });

  it('encrypts with AES-256-GCM: ciphertext hides the secret and round-trips', () => {
    const box = createSecretBox('ab'.repeat(32));
    const { secretHex } = generatePreimage();
    const sealed = box.encrypt(secretHex, ORDER_A);
    expect(sealed).not.toContain(secretHex);
    expect(box.encrypt(secretHex, ORDER_A)).not.toBe(sealed);
    expect(box.decrypt(sealed, ORDER_A)).toBe(secretHex);
  });

  it('refuses to decrypt under another key or after tampering', () => {
    const sealed = createSecretBox('ab'.repeat(32)).encrypt('cd'.repeat(32), ORDER_A);
    expect(() => createSecretBox('ef'.repeat(32)).decrypt(sealed, ORDER_A)).toThrow();
    const parts = sealed.split(':');
    parts[3] = Buffer.from('x'.repeat(32)).toString('base64');
    expect(() => createSecretBox('ab'.repeat(32)).decrypt(parts.join(':'), ORDER_A)).toThrow();
  });

  it('generates the key into the data dir with mode 0600 and reuses it on restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-key-'));
    const first = loadOrCreateSecretKey(null, dir);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecretKey(null, dir)).toBe(first);
    expect(readFileSync(join(dir, 'secret.key'), 'utf8').trim()).toBe(first);
  });

  it('prefers the configured key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-key-'));
    expect(loadOrCreateSecretKey('AB'.repeat(32), dir)).toBe('ab'.repeat(32));
  });
});
