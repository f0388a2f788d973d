import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { JsonValue } from '../eventstore/types.js';
import { signedMessage, walletFromPublicKey, type WalletAction } from './walletAuth.js';

/** A client-side wallet (for tests, the demo and the signing helper): signs requests like a trader's client. */
export interface ClientWallet {
  readonly wallet: string;
  readonly publicKeyHex: string;
  sign(
    action: WalletAction,
    orderId: string,
    bound: Readonly<Record<string, JsonValue>>,
    timestamp: number,
    walletAsSent?: string,
  ): { public_key: string; signature: string; timestamp: number };
}

// An Ed25519 private key as PKCS#8 DER is this fixed prefix followed by the 32-byte seed.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function walletFromSeed(seedHex: string): ClientWallet {
  const der = Buffer.concat([PKCS8_PREFIX, Buffer.from(seedHex, 'hex')]);
  return makeWallet(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}

export function generateWallet(): ClientWallet {
  return makeWallet(generateKeyPairSync('ed25519').privateKey);
}

function makeWallet(privateKey: KeyObject): ClientWallet {
  const publicDer = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKeyHex = publicDer.subarray(publicDer.length - 32).toString('hex');
  const wallet = walletFromPublicKey(publicKeyHex);
  return {
    wallet,
    publicKeyHex,
    sign(action, orderId, bound, timestamp, walletAsSent = wallet) {
      const message = signedMessage(action, orderId, walletAsSent, timestamp, bound);
      const signature = sign(null, Buffer.from(message, 'utf8'), privateKey).toString('hex');
      return { public_key: publicKeyHex, signature, timestamp };
    },
  };
}
