import { useState } from 'preact/hooks';
import { escrowFeeRtc, escrowTotalRtc, type Failure, type History, type Order, type Result } from '../../src/client/index.js';
import { historyCsv, historyJson } from './audit.js';
import { SecretReveal } from './place.js';
import { fundSandboxBuyer, QuoteLegSection } from './quoteLeg.js';
import { activeWallet, client, ownsWallet, revealStore, sandboxChainStore, sandboxQuoteAddress, sandboxStore, walletStore } from './session.js';
import { usePoll, useStore } from './store.js';
import { Countdown, Done, download, Problem, Short, Status, TableBox, When } from './ui.js';

const TERMINAL = new Set(['completed', 'cancelled', 'expired', 'rejected']);
const REFRESH_MS = 2000;

function Facts({ order }: { order: Order }) {
  const rows: Array<[string, preact.ComponentChildren]> = [
    ['Side', order.side], ['Pair', order.pair], ['Amount', `${order.amount_rtc} RTC`],
    ['Price', `${order.price_per_rtc} ${order.quote_currency ?? ''} per RTC`], ['Total', `${order.total_quote} ${order.quote_currency ?? ''}`],
    ['Maker', <Short value={order.maker_wallet} />], ['Taker', <Short value={order.taker_wallet} />],
    ['Seller', <Short value={order.seller_wallet} />], ['Buyer', <Short value={order.buyer_wallet} />],
    ['Hashlock (htlc_hash)', <Short value={order.htlc_hash} />], ['Quote transaction', <Short value={order.quote_tx} />],
    ['Created', <When at={order.created_at} />], ['Matched', <When at={order.matched_at} />], ['Completed', <When at={order.completed_at} />],
  ];
  return <dl class="facts">{rows.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl>;
}

function Deadlines({ order }: { order: Order }) {
  return (
    <section aria-labelledby="deadlines-title">
      <h2 id="deadlines-title">Deadlines</h2>
      <dl class="facts">
        <div><dt>Open until (expires_at)</dt><dd>{order.status === 'open' ? <Countdown at={order.expires_at} /> : <When at={order.expires_at} />}</dd></div>
        <div><dt>Settle by (settle_by)</dt><dd>{order.status === 'matched' ? <Countdown at={order.settle_by} /> : <When at={order.settle_by} />}</dd></div>
      </dl>
    </section>
  );
}

function Money({ order }: { order: Order }) {
  return (
    <section aria-labelledby="money-title">
      <h2 id="money-title">Escrow, payout and fees</h2>
      <dl class="facts">
        <div><dt>Escrow</dt><dd><Status status={order.escrow.status} /> job <Short value={order.escrow.job_id} /></dd></div>
        <div><dt>Payout to the buyer</dt><dd><Status status={order.payout.status} /> {order.payout.tx_hash ? <>tx <Short value={order.payout.tx_hash} /></> : null}</dd></div>
        <div><dt>Node escrow fee (5 %)</dt><dd>{escrowFeeRtc(order.amount_micro_rtc)} RTC, paid by the seller on top of the amount; kept by the node on release, returned on a refund</dd></div>
        <div><dt>Seller's escrow at the node</dt><dd>{escrowTotalRtc(order.amount_micro_rtc)} RTC (amount + fee)</dd></div>
        <div><dt>Buyer receives</dt><dd>{order.amount_rtc} RTC</dd></div>
        <div><dt>Ledger fee</dt><dd>none</dd></div>
      </dl>
    </section>
  );
}

function Timeline({ history }: { history: History }) {
  // Correlation ids and chain links are shown when the ledger's history carries them.
  const linked = history.events.some((e) => e.correlation_id !== undefined || e.hash !== undefined);
  return (
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">Audit timeline</h2>
      <p>Hash chain: {history.chain_valid ? <strong class="good">valid (chain_valid: true)</strong> : <strong class="bad">BROKEN (chain_valid: false)</strong>}</p>
      <div class="actions">
        <button type="button" onClick={() => download(`${history.order_id}-history.json`, 'application/json', historyJson(history))}>Download JSON</button>
        <button type="button" onClick={() => download(`${history.order_id}-history.csv`, 'text/csv', historyCsv(history))}>Download CSV</button>
      </div>
      <TableBox label="Audit timeline">
        <thead><tr>
          <th scope="col">Version</th><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Status after</th>
          {linked ? <><th scope="col">Correlation id</th><th scope="col">Hash</th></> : null}
        </tr></thead>
        <tbody>
          {history.events.map((e) => (
            <tr key={e.version}>
              <td class="num">{e.version}</td><td><When at={e.recorded_at} /></td><td>{e.type}</td><td><Short value={e.actor} keep={8} /></td>
              <td><Status status={e.status_after} /></td>
              {linked ? <><td><Short value={e.correlation_id ?? null} keep={8} /></td><td><Short value={e.hash ?? null} keep={8} /></td></> : null}
            </tr>
          ))}
        </tbody>
      </TableBox>
    </section>
  );
}

type Act = (run: () => Promise<Result<unknown>>, done: string) => Promise<void>;

function Actions({ order, act }: { order: Order; act: Act }) {
  const wallets = useStore(walletStore);
  const sandbox = useStore(sandboxStore);
  const chain = useStore(sandboxChainStore);
  const active = activeWallet(wallets);
  const same = (a: string | null | undefined, b: string | null) => a !== undefined && a !== null && b !== null && a.toLowerCase() === b.toLowerCase();
  // The active wallet matches and cancels.
  const maker = active !== null && same(active.key.wallet, order.maker_wallet) ? active : null;
  // The seller holds the preimage, so a seller's wallet in this page signs the confirm; else the buyer's.
  const party = ownsWallet(wallets, order.seller_wallet) ?? ownsWallet(wallets, order.buyer_wallet);
  const [typedEthAddress, setEthAddress] = useState<string | null>(null);
  const ethAddress = typedEthAddress ?? (order.pair === 'RTC/ERG' ? '' : sandboxQuoteAddress(chain, wallets, active?.key.wallet) ?? '');
  const [secret, setSecret] = useState('');
  const [quoteTx, setQuoteTx] = useState('');
  const id = order.order_id;

  const match = (e: Event) => {
    e.preventDefault();
    if (active === null) return;
    void act(async () => {
      // In the sandbox the buyer's address is a development account the page may fund (a match checks its balance).
      if (chain !== null) {
        const failed = await fundSandboxBuyer(order, order.side === 'sell' ? ethAddress.trim() : order.maker_eth_address);
        if (failed !== null) return failed as Failure;
      }
      const answer = await client.matchOrder(active.key, id, { ethAddress: ethAddress.trim() || null });
      if (answer.ok && answer.htlc_secret) revealStore.set({ orderId: id, secret: answer.htlc_secret });
      return answer;
    }, 'Matched.');
  };
  const confirmSettle = (e: Event) => {
    e.preventDefault();
    if (party === null) return;
    void act(() => client.confirmSettlement(party.key, id, { secret: secret.trim(), quoteTx: quoteTx.trim() }), 'Confirmed.');
  };

  const forms = [];
  if (order.status === 'open' && maker === null) {
    forms.push(active === null ? <p key="m">To take this order, <a href="#/wallet">add a wallet</a>.</p> : (
      <form key="m" class="stack" onSubmit={match}>
        <h3>Take this order as {active.label}</h3>
        <label for="match-eth">Your {order.quote_currency ?? ''} address (optional)</label>
        <input id="match-eth" autoComplete="off" spellcheck={false} value={ethAddress} onInput={(e) => setEthAddress(e.currentTarget.value)} />
        <button type="submit" class="primary">Sign and match</button>
      </form>
    ));
  }
  if (order.status === 'open' && maker !== null) {
    forms.push(<button key="c" type="button" class="danger" onClick={() => void act(() => client.cancelOrder(maker.key, id), 'Cancelled.')}>Sign and cancel this order</button>);
  }
  if (order.status === 'matched' && party !== null) {
    forms.push(
      <form key="s" class="stack" onSubmit={confirmSettle}>
        <h3>Confirm the settlement as {party.label}</h3>
        <label for="confirm-secret">Preimage (64 hex)</label>
        <input id="confirm-secret" required type="password" autoComplete="off" spellcheck={false} value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
        <label for="confirm-quote-tx">Quote transaction</label>
        <input id="confirm-quote-tx" required autoComplete="off" spellcheck={false} value={quoteTx} onInput={(e) => setQuoteTx(e.currentTarget.value)} />
        <button type="submit" class="primary">Sign and confirm</button>
      </form>,
    );
  }
  if (order.status === 'payout_pending' && sandbox === true && order.payout.key !== null) {
    const key = order.payout.key;
    forms.push(<button key="p" type="button" onClick={() => void act(() => client.sandbox.confirmPayout(key), 'The sandbox node confirmed the payout; the reconciler completes the order on its next pass.')}>Sandbox: confirm the queued payout</button>);
  }
  if (forms.length === 0) return null;
  return <section aria-labelledby="actions-title"><h2 id="actions-title">Actions</h2>{forms}</section>;
}

export function OrderPage({ orderId }: { orderId: string }) {
  const [order, setOrder] = useState<Order | null>(null);
  const [history, setHistory] = useState<History | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  usePoll(async () => {
    const [o, h] = await Promise.all([client.getOrder(orderId), client.history(orderId)]);
    if (!o.ok) setFailure(o);
    else setOrder(o.order);
    if (h.ok) setHistory(h);
  }, REFRESH_MS, [orderId, tick], order === null || !TERMINAL.has(order.status));

  const act: Act = async (run, message) => {
    const answer = await run();
    setFailure(answer.ok ? null : answer);
    setDone(answer.ok ? message : null);
    const carried = (answer as { order?: Order }).order;
    if (carried) setOrder(carried);
    setTick((t) => t + 1);
  };

  return (
    <div>
      <p><a href="#/orders">← My orders</a></p>
      <h1>Order <code>{orderId}</code></h1>
      <SecretReveal orderId={orderId} />
      <Problem failure={failure} />
      {done ? <Done>{done}</Done> : null}
      {order === null ? (failure ? null : <p aria-busy="true">Loading…</p>) : (
        <>
          <p class="headline">Status: <Status status={order.status} /> <span class="muted">version {order.version}</span></p>
          {order.htlc_secret ? <p>Preimage (revealed after the payout confirmed): <code class="secret">{order.htlc_secret}</code></p> : null}
          <Actions order={order} act={act} />
          <Facts order={order} />
          <Deadlines order={order} />
          <Money order={order} />
          <QuoteLegSection order={order} act={act} />
        </>
      )}
      {history ? <Timeline history={history} /> : null}
    </div>
  );
}
