/**
 * `npm run demo`: one trade end to end against a running ledger on the embedded sandbox node,
 * through the typed client (`otc-ledger/client`): fund the seller, place a sell order, match it,
 * confirm with the preimage, confirm the sandbox payout, wait for the reconciler to complete the
 * order, then print its audit history.
 *
 *   npm run demo -- --url http://127.0.0.1:5580     (or LEDGER_URL; default http://127.0.0.1:5580)
 */
import { expectOk, generateWalletKey, LedgerClient, randomHex32, type Result } from '../src/client/index.js';

const MAX_WAIT_POLLS = 60;
const POLL_INTERVAL_MS = 500;

function baseUrlOf(argv: readonly string[]): string {
  const flag = argv.indexOf('--url');
  return (flag >= 0 ? argv[flag + 1] : undefined) ?? process.env['LEDGER_URL'] ?? 'http://127.0.0.1:5580';
}

function step<T>(title: string, result: Result<T>): T {
  const order = (result as { order?: { order_id: string; status: string } }).order;
  console.log(`\n== ${title}: HTTP ${result.httpStatus}${order ? `, order ${order.order_id} is ${order.status}` : ''}`);
  if (!result.ok) console.log(`   ${result.error}: ${result.message}`);
  return expectOk(result);
}

async function main(): Promise<void> {
  const base = baseUrlOf(process.argv.slice(2));
  const client = new LedgerClient({ baseUrl: base });
  const seller = generateWalletKey();
  const buyer = generateWalletKey();
  console.log(`ledger ${base}\nseller ${seller.wallet}\nbuyer  ${buyer.wallet}`);
  step('fund the seller at the sandbox node', await client.sandbox.fund(seller.wallet, '1000'));

  const placed = step('place a sell order for 100 RTC at 0.1 USDC', await client.placeOrder(seller, { side: 'sell', amountRtc: '100', pricePerRtc: '0.1' }));
  const orderId = placed.order.order_id;
  const secret = placed.htlc_secret ?? '';
  console.log(`   htlc_hash ${placed.order.htlc_hash} (the preimage was shown to the seller once)`);

  step('the buyer matches it', await client.matchOrder(buyer, orderId));

  const quoteTx = `0x${randomHex32()}`;
  const confirmed = step('the seller confirms with the preimage (release, then payout)', await client.confirmSettlement(seller, orderId, { secret, quoteTx }));
  if (confirmed.order.status === 'payout_pending' && confirmed.order.payout.key !== null) {
    step('the sandbox node confirms the queued payout', await client.sandbox.confirmPayout(confirmed.order.payout.key));
    await waitForCompletion(client, orderId);
  }
  const history = expectOk(await client.history(orderId));
  console.log(`\n== audit history (chain_valid: ${history.chain_valid})`);
  for (const e of history.events) {
    console.log(`  v${String(e.version).padEnd(3)} ${e.recorded_at}  ${e.type.padEnd(20)} ${e.actor.padEnd(44)} → ${e.status_after}`);
  }
}

async function waitForCompletion(client: LedgerClient, orderId: string): Promise<void> {
  process.stdout.write('   waiting for the reconciler to see the confirmed payout');
  for (let i = 0; i < MAX_WAIT_POLLS; i++) {
    const { order } = expectOk(await client.getOrder(orderId));
    if (order.status === 'completed') {
      console.log(`\n== completed: the preimage is now readable: ${order.htlc_secret}`);
      return;
    }
    process.stdout.write('.');
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  throw new Error('the order did not complete; is the reconciler running (LEDGER_RECONCILE_INTERVAL_MS)?');
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
