/**
 * `npm run demo`: one trade end to end against a running ledger on the embedded sandbox node:
 * fund two wallets, place a sell order, match it, confirm with the preimage, confirm the sandbox
 * payout, wait for the reconciler to complete the order, then print its audit history.
 *
 * The ledger: `--url <url>`, else LEDGER_URL, else the HOST and PORT the ledger itself reads (so a
 * ledger started with PORT=6000 and the demo run with the same environment find each other).
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { loadConfig, type Config } from '../src/config.js';
import { walletFromSeed, type ClientWallet } from '../src/crypto/signer.js';
import { htlcHashOf } from '../src/crypto/preimage.js';

const MAX_WAIT_POLLS = 60;
const POLL_INTERVAL_MS = 500;

/** `--url X` or `--url=X` on the command line, then LEDGER_URL, then http://HOST:PORT. */
export function demoUrl(argv: readonly string[], config: Pick<Config, 'ledgerUrl' | 'host' | 'port'>): string {
  const i = argv.findIndex((a) => a === '--url' || a.startsWith('--url='));
  const given = i === -1 ? undefined : argv[i]?.startsWith('--url=') ? argv[i]?.slice('--url='.length) : argv[i + 1];
  if (i !== -1 && (given === undefined || given === '')) throw new Error('--url needs a URL, like --url http://127.0.0.1:5580');
  const url = given ?? config.ledgerUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  return new URL(url).toString().replace(/\/$/, '');
}

// Set by runDemo for its run: the ledger's URL and where the steps are printed.
let base = '';
let say: (line: string) => void = (line) => console.log(line);

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function step(title: string, result: { status: number; json: Record<string, unknown> }): Record<string, unknown> {
  const order = result.json['order'] as Record<string, unknown> | undefined;
  say(`\n== ${title}: HTTP ${result.status}${order ? `, order ${String(order['order_id'])} is ${String(order['status'])}` : ''}`);
  if (result.status >= 400) {
    say(JSON.stringify(result.json, null, 2));
    throw new Error(`${title} failed`);
  }
  return result.json;
}

const now = () => Math.floor(Date.now() / 1000);
const newWallet = (): ClientWallet => walletFromSeed(randomBytes(32).toString('hex'));

/** The whole trade against the ledger at `url`, printing each step through `log`. */
export async function runDemo(url: string, log: (line: string) => void = (line) => console.log(line)): Promise<void> {
  base = url;
  say = log;
  const seller = newWallet();
  const buyer = newWallet();
  say(`ledger ${base}\nseller ${seller.wallet}\nbuyer  ${buyer.wallet}`);
  step('fund the seller at the sandbox node', await call('POST', '/__sandbox/fund', { wallet: seller.wallet, amount_rtc: 1000 }));

  const placeBound = { side: 'sell', pair: 'RTC/USDC', amount_micro_rtc: 100_000_000, price_per_rtc_nano_quote: 100_000_000, ttl_seconds: 604800, eth_address: '', htlc_hash: '' };
  const placed = step('place a sell order for 100 RTC at 0.1 USDC', await call('POST', '/api/orders', {
    side: 'sell', pair: 'RTC/USDC', wallet: seller.wallet, amount_rtc: '100', price_per_rtc: '0.1',
    wallet_auth: seller.sign('create_order', 'create_order', placeBound, now()),
  }));
  const order = placed['order'] as Record<string, string>;
  const orderId = order['order_id'] as string;
  const secret = placed['htlc_secret'] as string;
  say(`   htlc_hash ${order['htlc_hash']} (the preimage was shown to the seller once)`);

  step('the buyer matches it', await call('POST', `/api/orders/${orderId}/match`, {
    wallet: buyer.wallet, wallet_auth: buyer.sign('match_order', orderId, { eth_address: '', htlc_hash: '' }, now()),
  }));

  const secretSha = htlcHashOf(secret);
  const quoteTx = `0x${randomBytes(32).toString('hex')}`;
  const confirmed = await call('POST', `/api/orders/${orderId}/confirm`, {
    wallet: seller.wallet, quote_tx: quoteTx, secret,
    wallet_auth: seller.sign('confirm_settlement', orderId, { quote_tx: quoteTx, secret_sha256: secretSha }, now()),
  });
  step('the seller confirms with the preimage (release, then payout)', confirmed);

  if ((confirmed.json['order'] as Record<string, string>)['status'] === 'payout_pending') {
    step('the sandbox node confirms the queued payout', await call('POST', `/__sandbox/transfers/key/${encodeURIComponent((confirmed.json['order'] as { payout: { key: string } }).payout.key)}/confirm`, {}));
    await waitForCompletion(orderId);
  }
  const history = await call('GET', `/api/orders/${orderId}/history`);
  say(`\n== audit history (chain_valid: ${String(history.json['chain_valid'])})`);
  for (const e of history.json['events'] as Array<Record<string, unknown>>) {
    say(`  v${String(e['version']).padEnd(3)} ${String(e['recorded_at'])}  ${String(e['type']).padEnd(20)} ${String(e['actor']).padEnd(44)} → ${String(e['status_after'])}`);
  }
}

async function waitForCompletion(orderId: string): Promise<void> {
  say('   waiting for the reconciler to see the confirmed payout');
  for (let i = 0; i < MAX_WAIT_POLLS; i++) {
    const current = await call('GET', `/api/orders/${orderId}`);
    const order = current.json['order'] as Record<string, string>;
    if (order['status'] === 'completed') {
      say(`\n== completed: the preimage is now readable: ${order['htlc_secret']}`);
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  throw new Error('the order did not complete; is the reconciler running (LEDGER_RECONCILE_INTERVAL_MS)?');
}

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runAsScript) {
  Promise.resolve()
    .then(() => runDemo(demoUrl(process.argv.slice(2), loadConfig())))
    .catch((error: unknown) => {
      console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    });
}
