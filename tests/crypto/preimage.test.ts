import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSecretBox, generatePreimage, loadOrCreateSecretKey, sha256Hex } from '../../src/crypto/preimage.js';

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
    const sealed = box.encrypt(secretHex);
    expect(sealed).not.toContain(secretHex);
    expect(box.encrypt(secretHex)).not.toBe(sealed);
    expect(box.decrypt(sealed)).toBe(secretHex);
  });

  it('refuses to decrypt under another key or after tampering', () => {
    const sealed = createSecretBox('ab'.repeat(32)).encrypt('cd'.repeat(32));
    expect(() => createSecretBox('ef'.repeat(32)).decrypt(sealed)).toThrow();
    const parts = sealed.split(':');
    parts[3] = Buffer.from('x'.repeat(32)).toString('base64');
    expect(() => createSecretBox('ab'.repeat(32)).decrypt(parts.join(':'))).toThrow();
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
