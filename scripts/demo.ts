/**
 * `npm run demo`: the whole atomic swap against a running ledger in sandbox mode (`npm start`): the
 * seller places a sell order (RTC escrowed at the sandbox node), a buyer matches it, the buyer locks
 * USDC in the HTLC on the ledger's sandbox chain, the seller claims it there with the preimage, and
 * the ledger, having read the claim on chain, releases the RTC to the buyer and queues the payout:
 * nobody calls confirm. Each step is printed (transaction hashes, the order's status), then the
 * order's audit history. Any failure exits non-zero.
 *
 * The parties act on the chain through the sandbox chain's controls (anvil's account impersonation,
 * zero gas), on the RPC URL the ledger announces at `GET /__sandbox/chain`.
 *
 * The ledger: `--url <url>`, else the configured ledger URL, else the HOST and PORT the ledger
 * itself reads (so a ledger started with PORT=6000 and the demo run with the same environment
 * find each other).
 */
import { pathToFileURL } from 'node:url';
import type { Address, Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { expectOk, generateWalletKey, LedgerClient, type Order, type Result } from '../src/client/index.js';
import { loadConfig } from '../src/config.js';
import { connectSandboxChain } from '../src/sandbox/chain.js';

const POLL_INTERVAL_MS = 250;
const WAIT_LIMIT_MS = 60_000;

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

interface SandboxChainAnswer {
  readonly rpc_url: string;
  readonly chain_id: number;
  readonly htlc_contract: Address;
  readonly usdc_token: Address;
}

/** The ledger's sandbox chain, or an error saying how to start a ledger that has one. */
async function sandboxChainOf(url: string) {
  const response = await fetch(`${url}/__sandbox/chain`, { signal: AbortSignal.timeout(10_000) });
  if (response.status === 404) {
    throw new Error(`the ledger at ${url} runs no sandbox chain: start it with LEDGER_QUOTE_CHAIN=sandbox (the default of npm start)`);
  }
  if (!response.ok) throw new Error(`GET /__sandbox/chain answered HTTP ${response.status}`);
  const info = (await response.json()) as SandboxChainAnswer;
  return connectSandboxChain({ rpcUrl: info.rpc_url, chainId: info.chain_id, htlcAddress: info.htlc_contract, usdcAddress: info.usdc_token });
}

/** The whole swap against the ledger at `url`, printing each step through `log`; throws on any failure. */
export async function runDemo(url: string, log: (line: string) => void = (line) => console.log(line)): Promise<void> {
  const step = <T>(title: string, result: Result<T>): T => {
    const order = (result as { order?: { order_id: string; status: string } }).order;
    log(`\n== ${title}: HTTP ${result.httpStatus}${order ? `, order ${order.order_id} is ${order.status}` : ''}`);
    if (!result.ok) log(`   ${result.error}: ${result.message}`);
    return expectOk(result);
  };
  const client = new LedgerClient({ baseUrl: url });
  const chain = await sandboxChainOf(url);
  const seller = generateWalletKey();
  const buyer = generateWalletKey();
  // Fresh quote addresses each run: the sandbox acts for any address, so no run meets another's swaps.
  const sellerQuote = privateKeyToAccount(generatePrivateKey()).address;
  const buyerQuote = privateKeyToAccount(generatePrivateKey()).address;
  log(`ledger ${url}\nsandbox chain ${chain.chainId} at ${chain.rpcUrl}, HTLC ${chain.htlcAddress}, test USDC ${chain.usdcAddress}`);
  log(`seller ${seller.wallet} (quote address ${sellerQuote})\nbuyer  ${buyer.wallet} (quote address ${buyerQuote})`);
  step('fund the seller at the sandbox node', await client.sandbox.fund(seller.wallet, '1000'));

  const placed = step('the seller places a sell order for 100 RTC at 0.1 USDC (the RTC is escrowed at the node)',
    await client.placeOrder(seller, { side: 'sell', amountRtc: '100', pricePerRtc: '0.1', ethAddress: sellerQuote }));
  const orderId = placed.order.order_id;
  const preimage = `0x${placed.htlc_secret ?? ''}` as Hex;
  log(`   htlc_hash ${placed.order.htlc_hash} (the preimage was shown to the seller once)`);

  // The ledger refuses a match whose buyer's quote address lacks the amount at the finalized block.
  const amountBaseUnits = BigInt(placed.order.quote_leg?.amount_base_units ?? '0');
  await chain.fundUsdc(buyerQuote, amountBaseUnits);
  await chain.mine();
  log(`\n== the buyer's quote address gets ${amountBaseUnits} base units of test USDC (sandbox)`);
  const answered = step('the buyer matches it', await client.matchOrder(buyer, orderId, { ethAddress: buyerQuote }));
  // `awaiting_custody`: another driver (the reconciler) holds the escrow step; no lock instructions yet, do not lock.
  const matched = answered.order.quote_leg?.status === 'awaiting_custody'
    ? { order: await waitFor(client, orderId, (o) => o.quote_leg?.status !== 'awaiting_custody', 'the ledger to hold the escrow job') }
    : answered;
  const leg = quoteLegOf(matched.order);
  log(`   lock ${leg.amountBaseUnits} base units of ${leg.token} in ${leg.contract} by ${matched.order.quote_leg?.lock_by}, T between ${matched.order.quote_leg?.timelock_min} and ${matched.order.quote_leg?.timelock_max}`);

  const locked = await chain.lockUsdc({
    buyer: buyerQuote, seller: sellerQuote, hashlock: `0x${placed.order.htlc_hash ?? ''}`, timelock: leg.timelockSeconds, orderId, amount: leg.amountBaseUnits,
  });
  log(`\n== the buyer locks the USDC on chain: swap ${locked.swapId}\n   tx ${locked.txHash} (block ${locked.blockNumber})`);
  const seen = await waitFor(client, orderId, (o) => o.quote_leg?.status === 'locked', 'the ledger to verify the lock');
  log(`   the ledger verified the lock: quote_leg ${seen.quote_leg?.status}, order ${seen.status}`);

  const claimTx = await chain.claim(sellerQuote, locked.swapId, preimage);
  log(`\n== the seller claims the USDC on chain with the preimage (which the chain now shows)\n   tx ${claimTx}`);
  const queued = await waitFor(client, orderId, (o) => o.payout.key !== null, 'the ledger to release the RTC and queue the payout');
  log(`   the ledger read the claim: order ${queued.status}, escrow ${queued.escrow.status}, payout ${queued.payout.status}; nobody called confirm`);

  step('the sandbox node confirms the queued payout', await client.sandbox.confirmPayout(queued.payout.key ?? ''));
  const done = await waitFor(client, orderId, (o) => o.status === 'completed', 'the reconciler to see the confirmed payout');
  log(`\n== completed: quote_tx ${done.quote_tx} (the claim), the preimage is now readable: ${done.htlc_secret}`);
  await printHistory(client, orderId, buyer.wallet, log);
}

/** What the buyer must lock, from the match answer, and a timelock in the middle of the stated window. */
function quoteLegOf(order: Order) {
  const leg = order.quote_leg;
  if (leg === null || leg.mode !== 'sandbox' || !leg.contract || !leg.token || !leg.amount_base_units || !leg.timelock_min || !leg.timelock_max) {
    throw new Error(`the match answer carries no sandbox quote leg (${JSON.stringify(leg)})`);
  }
  const min = BigInt(Date.parse(leg.timelock_min) / 1000);
  const max = BigInt(Date.parse(leg.timelock_max) / 1000);
  return { contract: leg.contract, token: leg.token, amountBaseUnits: BigInt(leg.amount_base_units), timelockSeconds: (min + max) / 2n };
}

/** The audit history; fails unless the buyer was paid from the on-chain claim, with no confirm. */
async function printHistory(client: LedgerClient, orderId: string, buyerWallet: string, log: (line: string) => void): Promise<void> {
  const history = expectOk(await client.history(orderId));
  log(`\n== audit history (chain_valid: ${history.chain_valid})`);
  for (const e of history.events) {
    log(`  v${String(e.version).padEnd(3)} ${e.recorded_at}  ${e.type.padEnd(20)} ${e.actor.padEnd(44)} → ${e.status_after}`);
  }
  const types = history.events.map((e) => e.type);
  const payout = history.events.find((e) => e.type === 'PayoutQueued');
  if (!history.chain_valid) throw new Error('the order\'s hash chain does not verify');
  if (!types.includes('QuoteClaimObserved')) throw new Error('the history has no QuoteClaimObserved');
  if (types.includes('SettlementClaimed')) throw new Error('the history shows a confirm, which the demo never sent');
  if ((payout?.data as { to?: string } | undefined)?.to !== buyerWallet) throw new Error('the payout did not go to the buyer');
}

async function waitFor(client: LedgerClient, orderId: string, done: (order: Order) => boolean, what: string): Promise<Order> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const { order } = expectOk(await client.getOrder(orderId));
    if (done(order)) return order;
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_LIMIT_MS / 1000} s for ${what}; order ${orderId} is ${order.status}`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
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
