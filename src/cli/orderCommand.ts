import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command, InvalidArgumentError } from 'commander';
import {
  generateWalletKey, InvalidAmountError, LedgerClient, walletKeyFromSeed, type Order, type Result, type WalletKey,
} from '../client/index.js';

/**
 * The trader's commands (`otc-ledger order ...`), signed with a key file through the typed client:
 * the same requests the web app sends. A key file holds a 32-byte Ed25519 seed as 64 hex digits;
 * whoever reads it controls the wallet, so `new-key` writes it with mode 0600.
 */

const DEFAULT_URL = 'http://127.0.0.1:5580';

interface Common { keyFile: string; url: string; json: boolean }

export function loadKeyFile(path: string): WalletKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InvalidArgumentError(`cannot read the key file ${path}`);
  }
  try {
    return walletKeyFromSeed(text.trim());
  } catch {
    throw new InvalidArgumentError(`${path} must hold a 32-byte seed as 64 hex digits`);
  }
}

function describeOrder(order: Order): string {
  return `${order.order_id} ${order.side} ${order.amount_rtc} RTC at ${order.price_per_rtc} ${order.quote_currency ?? ''} — ${order.status} (version ${order.version})`;
}

/** Prints a result; the exit code is 0 for a success, 1 for a refusal (its code and message on stderr). */
function report(result: Result<{ order?: Order; htlc_secret?: string }>, opts: Common, out: Writable, err: Writable): number {
  if (opts.json) out.write(`${JSON.stringify(result, null, 2)}\n`);
  if (!result.ok) {
    err.write(`refused (HTTP ${result.httpStatus}): ${result.error}: ${result.message}\n`);
    if (result.order && !opts.json) err.write(`order ${describeOrder(result.order)}\n`);
    return 1;
  }
  if (opts.json) return 0;
  if (result.order) out.write(`order ${describeOrder(result.order)}\n`);
  if (result.htlc_secret) {
    out.write(`preimage ${result.htlc_secret}\n`);
    out.write('  shown this once: keep it secret; you need it to confirm the settlement.\n');
  }
  return 0;
}

const commonOptions = (command: Command): Command =>
  command
    .requiredOption('--key-file <path>', 'file holding the wallet\'s 32-byte seed (64 hex)')
    .option('--url <url>', 'the ledger', DEFAULT_URL)
    .option('--json', 'print the whole answer as JSON', false);

function parseSecret(value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value.trim())) throw new InvalidArgumentError('must be 64 hex digits');
  return value.trim();
}

export function registerOrderCommands(program: Command, out: Writable = process.stdout, err: Writable = process.stderr): void {
  const order = program.command('order').description('trade: place, match, confirm or cancel an order, signed with a key file');
  const client = (url: string) => new LedgerClient({ baseUrl: url });
  const run = async (opts: Common, call: (c: LedgerClient, key: WalletKey) => Promise<Result<{ order?: Order; htlc_secret?: string }>>) => {
    const key = loadKeyFile(opts.keyFile);
    process.exitCode = report(await call(client(opts.url), key), opts, out, err);
  };

  order.command('new-key').description('create a key file (mode 0600) with a new wallet and print the wallet')
    .requiredOption('--key-file <path>', 'where to write the seed; never overwritten')
    .action((opts: { keyFile: string }) => {
      if (existsSync(opts.keyFile)) throw new InvalidArgumentError(`${opts.keyFile} exists; it is never overwritten`);
      const key = generateWalletKey();
      writeFileSync(opts.keyFile, `${key.seedHex}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(opts.keyFile, 0o600);
      out.write(`${key.wallet}\n`);
    });

  order.command('wallet').description('print the wallet a key file controls')
    .requiredOption('--key-file <path>', 'file holding the seed')
    .action((opts: { keyFile: string }) => void out.write(`${loadKeyFile(opts.keyFile).wallet}\n`));

  commonOptions(order.command('place').description('place a buy or sell order (a sell locks your RTC in escrow first)'))
    .requiredOption('--side <side>', 'buy or sell')
    .requiredOption('--amount <rtc>', 'RTC amount, e.g. 100 or 0.5')
    .requiredOption('--price <quote>', 'quote currency per RTC, e.g. 0.1')
    .option('--pair <pair>', 'RTC/USDC, RTC/ETH or RTC/ERG', 'RTC/USDC')
    .option('--ttl <seconds>', 'how long the order stays open', (v) => Number(v))
    .option('--eth-address <address>', 'where you receive the quote currency')
    .option('--htlc-hash <hex>', 'a seller\'s own hashlock (else the ledger generates the preimage)')
    .action(async (opts: Common & { side: string; amount: string; price: string; pair: string; ttl?: number; ethAddress?: string; htlcHash?: string }) => {
      const side = opts.side.toLowerCase();
      if (side !== 'buy' && side !== 'sell') throw new InvalidArgumentError('--side must be buy or sell');
      await run(opts, async (c, key) => {
        try {
          return await c.placeOrder(key, { side, pair: opts.pair, amountRtc: opts.amount, pricePerRtc: opts.price, ttlSeconds: opts.ttl, ethAddress: opts.ethAddress, htlcHash: opts.htlcHash });
        } catch (error) {
          if (error instanceof InvalidAmountError) throw new InvalidArgumentError(`${error.code}: --amount and --price are decimals`);
          throw error;
        }
      });
    });

  commonOptions(order.command('match <order_id>').description('take an open order'))
    .option('--eth-address <address>', 'where you receive the quote currency')
    .option('--htlc-hash <hex>', 'your own hashlock, when you take a buy order (you sell)')
    .action(async (orderId: string, opts: Common & { ethAddress?: string; htlcHash?: string }) =>
      run(opts, (c, key) => c.matchOrder(key, orderId, { ethAddress: opts.ethAddress, htlcHash: opts.htlcHash })));

  commonOptions(order.command('confirm <order_id>').description('settle a matched order with the preimage (seller, or the buyer who read it on the quote chain)'))
    .requiredOption('--secret <hex>', 'the preimage, 64 hex', parseSecret)
    .requiredOption('--quote-tx <tx>', 'the quote-currency transaction')
    .action(async (orderId: string, opts: Common & { secret: string; quoteTx: string }) =>
      run(opts, (c, key) => c.confirmSettlement(key, orderId, { secret: opts.secret, quoteTx: opts.quoteTx })));

  commonOptions(order.command('cancel <order_id>').description('cancel your open order (its escrow is refunded)'))
    .action(async (orderId: string, opts: Common) => run(opts, (c, key) => c.cancelOrder(key, orderId)));
}
