/**
 * `npm run demo`: one trade end to end against a running ledger on the embedded sandbox node,
 * through the typed client (`otc-ledger/client`): fund the seller, place a sell order, match it,
 * confirm with the preimage, confirm the sandbox payout, wait for the reconciler to complete the
 * order, then print its audit history.
 *
 * The ledger: `--url <url>`, else the configured ledger URL, else the HOST and PORT the ledger
 * itself reads (so a ledger started with PORT=6000 and the demo run with the same environment
 * find each other).
 */
import { pathToFileURL } from 'node:url';
import { expectOk, generateWalletKey, LedgerClient, randomHex32, type Result } from '../src/client/index.js';
import { loadConfig } from '../src/config.js';

const MAX_WAIT_POLLS = 60;
const POLL_INTERVAL_MS = 500;

/** Where the demo finds the ledger; `ledgerUrl` is the configured one, when the configuration has it. */
export interface DemoTarget {
  readonly ledgerUrl?: string | null;
  readonly host: string;
  readonly port: number;
}

/** `--url X` or `--url=X` on the command line, then the configured URL, then http://HOST:PORT. */
export function demoUrl(argv: readonly string[], config: DemoTarget): string {
  const i = argv.findIndex((a) => a === '--url' || a.startsWith('--url='));
  const given = i === -1 ? undefined : argv[i]?.startsWith('--url=') ? argv[i]?.slice('--url='.length) : argv[i + 1];
  if (i !== -1 && (given === undefined || given === '')) throw new Error('--url needs a URL, like --url http://127.0.0.1:5580');
  const url = given ?? config.ledgerUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  return new URL(url).toString().replace(/\/$/, '');
}

/** The whole trade against the ledger at `url`, printing each step through `log`. */
export async function runDemo(url: string, log: (line: string) => void = (line) => console.log(line)): Promise<void> {
  const step = <T>(title: string, result: Result<T>): T => {
    const order = (result as { order?: { order_id: string; status: string } }).order;
    log(`\n== ${title}: HTTP ${result.httpStatus}${order ? `, order ${order.order_id} is ${order.status}` : ''}`);
    if (!result.ok) log(`   ${result.error}: ${result.message}`);
    return expectOk(result);
  };
  const client = new LedgerClient({ baseUrl: url });
  const seller = generateWalletKey();
  const buyer = generateWalletKey();
  log(`ledger ${url}\nseller ${seller.wallet}\nbuyer  ${buyer.wallet}`);
  step('fund the seller at the sandbox node', await client.sandbox.fund(seller.wallet, '1000'));

  const placed = step('place a sell order for 100 RTC at 0.1 USDC', await client.placeOrder(seller, { side: 'sell', amountRtc: '100', pricePerRtc: '0.1' }));
  const orderId = placed.order.order_id;
  log(`   htlc_hash ${placed.order.htlc_hash} (the preimage was shown to the seller once)`);

  step('the buyer matches it', await client.matchOrder(buyer, orderId));

  const quoteTx = `0x${randomHex32()}`;
  const confirmed = step('the seller confirms with the preimage (release, then payout)',
    await client.confirmSettlement(seller, orderId, { secret: placed.htlc_secret ?? '', quoteTx }));
  if (confirmed.order.status === 'payout_pending' && confirmed.order.payout.key !== null) {
    step('the sandbox node confirms the queued payout', await client.sandbox.confirmPayout(confirmed.order.payout.key));
    await waitForCompletion(client, orderId, log);
  }
  const history = expectOk(await client.history(orderId));
  log(`\n== audit history (chain_valid: ${history.chain_valid})`);
  for (const e of history.events) {
    log(`  v${String(e.version).padEnd(3)} ${e.recorded_at}  ${e.type.padEnd(20)} ${e.actor.padEnd(44)} → ${e.status_after}`);
  }
}

async function waitForCompletion(client: LedgerClient, orderId: string, log: (line: string) => void): Promise<void> {
  log('   waiting for the reconciler to see the confirmed payout');
  for (let i = 0; i < MAX_WAIT_POLLS; i++) {
    const { order } = expectOk(await client.getOrder(orderId));
    if (order.status === 'completed') {
      log(`\n== completed: the preimage is now readable: ${order.htlc_secret}`);
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
