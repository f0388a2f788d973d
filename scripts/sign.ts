/**
 * Signing helper for curl walk-throughs: prints a wallet and a `wallet_auth` object for one request.
 *
 *   node dist/scripts/sign.js wallet <seed-hex>
 *   node dist/scripts/sign.js <seed-hex> <action> <order_id> '<bound fields as JSON>'
 *
 * The seed is a 32-byte Ed25519 private seed (64 hex). Anyone holding it controls the wallet:
 * use throwaway seeds with the sandbox node only.
 */
import { walletFromSeed } from '../src/crypto/signer.js';
import type { WalletAction } from '../src/crypto/walletAuth.js';

const ACTIONS: readonly WalletAction[] = ['create_order', 'match_order', 'cancel_order', 'confirm_settlement'];

function main(argv: string[]): number {
  const [first, second, third, fourth] = argv;
  if (first === 'wallet' && second && /^[0-9a-fA-F]{64}$/.test(second)) {
    console.log(walletFromSeed(second).wallet);
    return 0;
  }
  if (!first || !/^[0-9a-fA-F]{64}$/.test(first) || !second || !ACTIONS.includes(second as WalletAction) || !third) {
    console.error('usage: sign.js wallet <seed-hex> | sign.js <seed-hex> <action> <order_id> [bound-json]');
    return 2;
  }
  const wallet = walletFromSeed(first);
  const bound = fourth ? (JSON.parse(fourth) as Record<string, string | number>) : {};
  const auth = wallet.sign(second as WalletAction, third, bound, Math.floor(Date.now() / 1000));
  console.log(JSON.stringify({ wallet: wallet.wallet, wallet_auth: auth }));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
