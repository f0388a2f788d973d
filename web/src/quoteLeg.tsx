import { useState } from 'preact/hooks';
import type { Order, Result } from '../../src/client/index.js';
import { client, ownsWallet, revealStore, sandboxChainStore, walletStore } from './session.js';
import { useStore } from './store.js';
import { decimalOfBaseUnits } from './baseUnits.js';
import { Countdown, Short, Status, TableBox, When } from './ui.js';

/**
 * The quote leg of a matched order: what the buyer must lock (contract, token, amount, hashlock,
 * deadline, timelock window), what the ledger has seen on chain (the lock, rejected locks, the
 * claim, refunds), and, on the sandbox chain, buttons that play the buyer's lock and the seller's
 * claim through the ledger's sandbox chain controls.
 */

type Leg = NonNullable<Order['quote_leg']>;
export type Act = (run: () => Promise<Result<unknown>>, done: string) => Promise<void>;

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

/**
 * On the sandbox chain, gives the buyer's development address the order's test USDC (ETH it already
 * has) and mines a block, so the match's check of the buyer's funds at the finalized block passes.
 */
export async function fundSandboxBuyer(order: Order, buyerAddress: string | null): Promise<Result<unknown> | null> {
  const leg = order.quote_leg;
  if (leg === null || leg.mode !== 'sandbox' || buyerAddress === null || buyerAddress === '') return null;
  if (leg.token === null || leg.token === ZERO_ADDRESS || leg.amount_base_units === null) return null;
  const funded = await client.sandbox.chain.fund(buyerAddress, { usdcBaseUnits: BigInt(leg.amount_base_units) });
  if (!funded.ok) return funded;
  const mined = await client.sandbox.chain.mine();
  return mined.ok ? null : mined;
}

const assetOf = (leg: Leg, order: Order): { name: string; decimals: number; unit: string } =>
  leg.token === null || leg.token === ZERO_ADDRESS
    ? { name: 'ETH (native)', decimals: 18, unit: 'wei' }
    : { name: order.quote_currency ?? 'token', decimals: 6, unit: 'base units' };

/** The seller's and the buyer's quote addresses: a sell order's maker sells, a buy order's maker buys. */
const quoteAddresses = (order: Order) =>
  order.side === 'sell'
    ? { seller: order.maker_eth_address, buyer: order.taker_eth_address }
    : { seller: order.taker_eth_address, buyer: order.maker_eth_address };

function Terms({ order, leg }: { order: Order; leg: Leg }) {
  const asset = assetOf(leg, order);
  const parties = quoteAddresses(order);
  const rows: Array<[string, preact.ComponentChildren]> = [
    ['Mode', <>{leg.mode}{leg.mode === 'sandbox' ? ' (a local test chain: nothing on it has value)' : ''}</>],
    ['Chain id', leg.chain_id ?? '—'],
    ['HTLC contract', <code>{leg.contract}</code>],
    ['Token', <>{asset.name} <code>{leg.token}</code></>],
    ['Amount to lock', leg.amount_base_units === null ? '—' : <><code class="base-units">{leg.amount_base_units}</code> {asset.unit} ({decimalOfBaseUnits(leg.amount_base_units, asset.decimals)} {asset.name}), at least</>],
    ['Hashlock', order.htlc_hash === null ? '—' : <code class="hashlock">0x{order.htlc_hash}</code>],
    ['Claim address (the seller\'s)', <code>{parties.seller ?? '—'}</code>],
    ['Lock from (the buyer\'s)', <code>{parties.buyer ?? '—'}</code>],
    ['Lock by', order.status === 'matched' && leg.status === 'awaiting_lock' ? <Countdown at={leg.lock_by} /> : <When at={leg.lock_by} />],
    ['Timelock T between', <><When at={leg.timelock_min} /> and <When at={leg.timelock_max} /></>],
    ['Observed on chain', leg.status === null ? '—' : <Status status={leg.status} />],
    ['Lock', leg.swap_id === null ? 'none seen yet' : <>swap <Short value={leg.swap_id} /> in tx <Short value={leg.lock_tx} /></>],
    ['Claim', leg.claim_tx === null ? 'none seen yet' : <>tx <Short value={leg.claim_tx} /></>],
    ['Refund', leg.refund_tx === null ? 'none seen' : <>tx <Short value={leg.refund_tx} /></>],
  ];
  return <dl class="facts">{rows.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl>;
}

function RejectedLocks({ leg }: { leg: Leg }) {
  if (leg.rejected_locks.length === 0) return null;
  return (
    <TableBox label="Rejected locks">
      <thead><tr><th scope="col">Swap</th><th scope="col">Transaction</th><th scope="col">Why it does not count</th><th scope="col">Claimable by the seller until</th></tr></thead>
      <tbody>
        {leg.rejected_locks.map((r) => (
          <tr key={r.swap_id}>
            <td><Short value={r.swap_id} /></td><td><Short value={r.tx_hash} /></td><td>{r.reason}</td>
            <td>claimable by the seller until <When at={r.timelock} /></td>
          </tr>
        ))}
      </tbody>
    </TableBox>
  );
}

function Instructions({ order, leg }: { order: Order; leg: Leg }) {
  if (order.status !== 'matched' || leg.status !== 'awaiting_lock') return null;
  const asset = assetOf(leg, order);
  const parties = quoteAddresses(order);
  const eth = asset.decimals === 18;
  return (
    <div class="notice">
      <h3>Buyer: lock the quote</h3>
      <ol>
        {eth ? null : <li>From <code>{parties.buyer}</code>, approve the contract <code>{leg.contract}</code> for exactly <code>{leg.amount_base_units}</code> base units of <code>{leg.token}</code>.</li>}
        <li>Call <code>{eth ? `createSwapETH(seller, hashlock, timelock, rtcOrderId)` : 'createSwapERC20(seller, token, amount, hashlock, timelock, rtcOrderId)'}</code>{eth ? <> with <code>{leg.amount_base_units}</code> wei</> : null}: seller <code>{parties.seller}</code>, hashlock <code>0x{order.htlc_hash}</code>, rtcOrderId <code>{order.order_id}</code>, and a timelock T between <When at={leg.timelock_min} /> and <When at={leg.timelock_max} /> (at least one hour after your lock's block).</li>
        <li>Its block must be at or before <When at={leg.lock_by} />. The ledger sees the lock on chain; nobody needs to tell it.</li>
      </ol>
      <p class="muted">The seller then claims with the preimage before T (and before the claim guard); the ledger sees the claim and pays you the RTC. If the seller never claims, refund your lock after T.</p>
    </div>
  );
}

function SandboxButtons({ order, leg, act }: { order: Order; leg: Leg; act: Act }) {
  const chain = useStore(sandboxChainStore);
  const wallets = useStore(walletStore);
  const reveal = useStore(revealStore);
  const [preimage, setPreimage] = useState('');
  if (chain === null || leg.mode !== 'sandbox' || order.status !== 'matched') return null;
  const buyer = ownsWallet(wallets, order.buyer_wallet);
  const seller = ownsWallet(wallets, order.seller_wallet);
  const id = order.order_id;
  const buyerAddress = quoteAddresses(order).buyer;
  const lock = () => void act(async () => {
    // The development account gets the test USDC first; ETH it already has.
    if (buyerAddress !== null && leg.token !== null && leg.token !== ZERO_ADDRESS && leg.amount_base_units !== null) {
      const funded = await client.sandbox.chain.fund(buyerAddress, { usdcBaseUnits: BigInt(leg.amount_base_units) });
      if (!funded.ok) return funded;
    }
    return client.sandbox.chain.lock(id);
  }, 'Locked on the sandbox chain; the ledger shows the lock once its block is final.');
  const claim = (e: Event) => {
    e.preventDefault();
    const secret = preimage.trim() || (reveal?.orderId === id ? reveal.secret : '');
    void act(() => client.sandbox.chain.claim(id, secret), 'Claimed on the sandbox chain; the ledger sees the claim and releases the RTC to the buyer.');
  };
  const forms = [];
  if (buyer !== null && leg.status === 'awaiting_lock') {
    forms.push(<button key="lock" type="button" class="primary" onClick={lock}>Lock on chain (sandbox)</button>);
  }
  if (seller !== null && leg.status === 'locked') {
    forms.push(
      <form key="claim" class="stack" onSubmit={claim} aria-label="Claim on the sandbox chain">
        <label for="claim-preimage">Preimage (64 hex; the one shown to the seller once)</label>
        <input id="claim-preimage" type="password" autoComplete="off" spellcheck={false} value={preimage} onInput={(e) => setPreimage(e.currentTarget.value)}
          placeholder={reveal?.orderId === id ? 'the preimage shown above is used' : ''} />
        <button type="submit" class="primary">Claim on chain (sandbox)</button>
      </form>,
    );
  }
  if (forms.length === 0) return null;
  return <div class="actions sandbox-chain" aria-label="Sandbox chain actions">{forms}</div>;
}

export function QuoteLegSection({ order, act }: { order: Order; act: Act }) {
  if (order.status === 'open' || order.status === 'escrow_pending' || order.status === 'rejected') return null;
  const leg = order.quote_leg;
  if (leg === null || leg.mode === 'manual') {
    return (
      <section aria-labelledby="quote-leg-title">
        <h2 id="quote-leg-title">Quote leg</h2>
        <p class="muted">
          The {order.quote_currency ?? 'quote'} leg is not followed on a chain here (manual mode): the buyer pays the seller directly, and a
          confirm with the preimage (by either party) releases the RTC to the buyer.
        </p>
      </section>
    );
  }
  return (
    <section aria-labelledby="quote-leg-title">
      <h2 id="quote-leg-title">Quote leg</h2>
      <Instructions order={order} leg={leg} />
      <SandboxButtons order={order} leg={leg} act={act} />
      <Terms order={order} leg={leg} />
      <RejectedLocks leg={leg} />
    </section>
  );
}
