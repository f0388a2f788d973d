import { describe, expect, it } from 'vitest';
import { generateWallet, walletFromSeed } from '../../src/crypto/signer.js';
import { signedMessage, verifyWalletAuth, verifyWalletAuthAsync, walletFromPublicKey, WalletAuthError, type SignedRequest } from '../../src/crypto/walletAuth.js';

const NOW_MS = Date.parse('2026-11-26T12:00:00Z');
const NOW_S = NOW_MS / 1000;

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    return error instanceof WalletAuthError ? error.code : `unexpected: ${String(error)}`;
  }
}

function signedCancel(overrides: Partial<SignedRequest> = {}, timestamp = NOW_S) {
  const w = walletFromSeed('11'.repeat(32));
  const auth = w.sign('cancel_order', 'otc_00000000000000aa', {}, timestamp);
  const request: SignedRequest = { action: 'cancel_order', orderId: 'otc_00000000000000aa', wallet: w.wallet, bound: {}, auth, ...overrides };
  return { w, request };
}

describe('wallet signatures', () => {
  it('derives the wallet from the first 40 hex digits of sha256(public key)', () => {
    const w = walletFromSeed('11'.repeat(32));
    expect(w.wallet).toMatch(/^RTC[0-9a-f]{40}$/);
    expect(walletFromPublicKey(w.publicKeyHex)).toBe(w.wallet);
  });

  it('signs compact JSON with keys sorted by code point and bound fields included', () => {
    const message = signedMessage('match_order', 'otc_1', 'RTCab', 5, { htlc_hash: '', eth_address: '0xab' });
    expect(message).toBe('{"action":"match_order","eth_address":"0xab","htlc_hash":"","order_id":"otc_1","timestamp":5,"wallet":"RTCab"}');
  });

  it('accepts a valid signature and returns it in lowercase', () => {
    const { request } = signedCancel();
    const sig = verifyWalletAuth(request, NOW_MS);
    expect(sig).toMatch(/^[0-9a-f]{128}$/);
  });

  it('accepts the wallet in upper-case hex when the signature covers it exactly as sent', () => {
    const w = generateWallet();
    const sent = `RTC${w.wallet.slice(3).toUpperCase()}`;
    const auth = w.sign('cancel_order', 'otc_1', {}, NOW_S, sent);
    expect(() => verifyWalletAuth({ action: 'cancel_order', orderId: 'otc_1', wallet: sent, bound: {}, auth }, NOW_MS)).not.toThrow();
  });

  it('refuses a wallet that is not a native RTC address first', () => {
    const { request } = signedCancel({ wallet: '0xabc', auth: undefined });
    expect(codeOf(() => verifyWalletAuth(request, NOW_MS))).toBe('wallet_must_be_native_rtc_address');
  });

  it('refuses a missing wallet_auth', () => {
    const { request } = signedCancel({ auth: undefined });
    expect(codeOf(() => verifyWalletAuth(request, NOW_MS))).toBe('wallet_auth_required');
  });

  it.each([
    ['a string', 'nope'],
    ['a short key', { public_key: 'ab', signature: 'cd'.repeat(64), timestamp: NOW_S }],
    ['a short signature', { public_key: 'ab'.repeat(32), signature: 'cd', timestamp: NOW_S }],
    ['a fractional timestamp', { public_key: 'ab'.repeat(32), signature: 'cd'.repeat(64), timestamp: 1.5 }],
    ['a string timestamp', { public_key: 'ab'.repeat(32), signature: 'cd'.repeat(64), timestamp: String(NOW_S) }],
  ])('refuses malformed wallet_auth: %s', (_label, auth) => {
    const { request } = signedCancel({ auth });
    expect(codeOf(() => verifyWalletAuth(request, NOW_MS))).toBe('wallet_auth_malformed');
  });

  it('refuses a timestamp more than 300 s from the server clock, either way', () => {
    expect(codeOf(() => verifyWalletAuth(signedCancel({}, NOW_S - 301).request, NOW_MS))).toBe('wallet_auth_timestamp_expired');
    expect(codeOf(() => verifyWalletAuth(signedCancel({}, NOW_S + 301).request, NOW_MS))).toBe('wallet_auth_timestamp_expired');
    expect(codeOf(() => verifyWalletAuth(signedCancel({}, NOW_S - 300).request, NOW_MS))).toBeNull();
  });

  it('refuses a public key that does not derive the wallet', () => {
    const other = generateWallet();
    const { request } = signedCancel({ wallet: other.wallet });
    expect(codeOf(() => verifyWalletAuth(request, NOW_MS))).toBe('wallet_auth_public_key_does_not_match_wallet');
  });

  it('refuses a signature over different bound fields', () => {
    const w = generateWallet();
    const auth = w.sign('confirm_settlement', 'otc_1', { quote_tx: 'a', secret_sha256: 'b' }, NOW_S);
    const request: SignedRequest = { action: 'confirm_settlement', orderId: 'otc_1', wallet: w.wallet, bound: { quote_tx: 'changed', secret_sha256: 'b' }, auth };
    expect(codeOf(() => verifyWalletAuth(request, NOW_MS))).toBe('wallet_auth_invalid_signature');
  });

  it('refuses a signature made for another action or order', () => {
    const w = generateWallet();
    const auth = w.sign('cancel_order', 'otc_1', {}, NOW_S);
    expect(codeOf(() => verifyWalletAuth({ action: 'cancel_order', orderId: 'otc_2', wallet: w.wallet, bound: {}, auth }, NOW_MS))).toBe('wallet_auth_invalid_signature');
    expect(codeOf(() => verifyWalletAuth({ action: 'match_order', orderId: 'otc_1', wallet: w.wallet, bound: { eth_address: '', htlc_hash: '' }, auth }, NOW_MS))).toBe('wallet_auth_invalid_signature');
  });

  it('never puts the signature or key into an error message', () => {
    const w = generateWallet();
    const auth = w.sign('cancel_order', 'otc_1', {}, NOW_S);
    try {
      verifyWalletAuth({ action: 'cancel_order', orderId: 'otc_2', wallet: w.wallet, bound: {}, auth }, NOW_MS);
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(auth.signature);
      expect(String((error as Error).message)).not.toContain(auth.public_key);
    }
  });
});

describe('wallet signatures verified on the thread pool (verifyWalletAuthAsync)', () => {
  const asyncCodeOf = async (request: SignedRequest): Promise<string | null> => {
    try {
      await verifyWalletAuthAsync(request, NOW_MS);
      return null;
    } catch (error) {
      return error instanceof WalletAuthError ? error.code : `unexpected: ${String(error)}`;
    }
  };

  it('accepts what the synchronous check accepts, returning the same lowercase signature', async () => {
    const { request } = signedCancel();
    expect(await verifyWalletAuthAsync(request, NOW_MS)).toBe(verifyWalletAuth(request, NOW_MS));
  });

  it('refuses with the same codes, in the same order, as the synchronous check', async () => {
    const { w, request } = signedCancel();
    const other = generateWallet();
    const cases: SignedRequest[] = [
      { ...request, wallet: 'not-a-wallet' },
      { ...request, auth: undefined },
      { ...request, auth: { public_key: 'zz', signature: 'ab', timestamp: NOW_S } },
      signedCancel({}, NOW_S - 301).request,
      { ...request, auth: { ...(request.auth as object), public_key: other.publicKeyHex } },
      { ...request, bound: { eth_address: '0xab' } },
      { ...request, orderId: 'otc_00000000000000bb' },
      { ...request, wallet: w.wallet, auth: { ...(request.auth as object), signature: 'ab'.repeat(64) } },
    ];
    const expected = [
      'wallet_must_be_native_rtc_address', 'wallet_auth_required', 'wallet_auth_malformed', 'wallet_auth_timestamp_expired',
      'wallet_auth_public_key_does_not_match_wallet', 'wallet_auth_invalid_signature', 'wallet_auth_invalid_signature', 'wallet_auth_invalid_signature',
    ];
    expect(cases.map((c) => codeOf(() => verifyWalletAuth(c, NOW_MS)))).toEqual(expected);
    expect(await Promise.all(cases.map(asyncCodeOf))).toEqual(expected);
  });
});
