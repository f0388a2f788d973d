import { useEffect, useRef, useState } from 'preact/hooks';
import { InvalidAmountError, type Failure } from '../../src/client/index.js';
import { PAIRS } from './market.js';
import { activeWallet, client, revealStore, sandboxChainStore, sandboxQuoteAddress, walletStore } from './session.js';
import { useStore } from './store.js';
import { CopyButton, Problem } from './ui.js';

/** The preimage the ledger generated for a seller, shown once: it is gone from the page when dismissed. */
export function SecretReveal({ orderId }: { orderId: string }) {
  const reveal = useStore(revealStore);
  const box = useRef<HTMLElement>(null);
  const shown = reveal !== null && reveal.orderId === orderId;
  // It asks for the trader's attention before anything else on the page: focus goes to it.
  useEffect(() => {
    if (shown) box.current?.focus();
  }, [shown]);
  if (!shown) return null;
  return (
    <section ref={box} tabIndex={-1} class="notice warn reveal" aria-labelledby="reveal-title" role="alertdialog" aria-describedby="reveal-text">
      <h2 id="reveal-title">Your preimage for {reveal.orderId}</h2>
      <p id="reveal-text"><strong>Shown this once.</strong> Save it now: you need it to confirm the settlement, and the ledger will not show it again
        until the trade is complete. Whoever has it can claim the buyer's quote payment.</p>
      <p><code class="secret">{reveal.secret}</code></p>
      <CopyButton text={reveal.secret} label="Preimage" />
      <button type="button" onClick={() => revealStore.set(null)}>I saved it — hide</button>
    </section>
  );
}

export function PlacePage({ pair: initialPair }: { pair: string }) {
  const wallets = useStore(walletStore);
  const chain = useStore(sandboxChainStore);
  const active = activeWallet(wallets);
  const [side, setSide] = useState<'buy' | 'sell'>('sell');
  const [pair, setPair] = useState(initialPair);
  const [amount, setAmount] = useState('');
  const [price, setPrice] = useState('');
  const [ttlHours, setTtlHours] = useState('168');
  const [ethAddress, setEthAddress] = useState<string | null>(null);
  const [htlcHash, setHtlcHash] = useState('');
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);

  if (active === null) return <div><h1>Place an order</h1><p>First <a href="#/wallet">generate or import a wallet</a>.</p></div>;
  // On the sandbox chain the wallet's development account is the default quote address.
  const quoteAddress = ethAddress ?? (pair === 'RTC/ERG' ? '' : sandboxQuoteAddress(chain, wallets, active.key.wallet) ?? '');

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const answer = await client.placeOrder(active.key, {
        side, pair, amountRtc: amount.trim(), pricePerRtc: price.trim(), ttlSeconds: Math.round(Number(ttlHours) * 3600),
        ethAddress: quoteAddress.trim() || null, htlcHash: side === 'sell' ? htlcHash.trim() || null : null,
      });
      if (!answer.ok) {
        setFailure(answer);
        return;
      }
      setFailure(null);
      if (answer.htlc_secret) revealStore.set({ orderId: answer.order.order_id, secret: answer.htlc_secret });
      location.hash = `#/order/${answer.order.order_id}`;
    } catch (error) {
      if (!(error instanceof InvalidAmountError)) throw error;
      setFailure({ ok: false, httpStatus: 0, error: error.code, message: 'amount and price must be decimals, like 100 or 0.25' });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div>
      <h1>Place an order</h1>
      <p>Signed in this browser by <strong>{active.label}</strong> (<code>{active.key.wallet}</code>).</p>
      <form class="stack" onSubmit={submit} aria-describedby="place-help">
        <fieldset>
          <legend>Side</legend>
          <label class="pill"><input type="radio" name="side" value="sell" checked={side === 'sell'} onChange={() => setSide('sell')} /> Sell RTC</label>
          <label class="pill"><input type="radio" name="side" value="buy" checked={side === 'buy'} onChange={() => setSide('buy')} /> Buy RTC</label>
        </fieldset>
        <label for="place-pair">Pair</label>
        <select id="place-pair" value={pair} onChange={(e) => setPair(e.currentTarget.value)}>
          {PAIRS.map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
        <label for="place-amount">Amount (RTC, up to 6 decimals)</label>
        <input id="place-amount" required inputMode="decimal" autoComplete="off" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />
        <label for="place-price">Price per RTC ({pair.split('/')[1]}, up to 9 decimals)</label>
        <input id="place-price" required inputMode="decimal" autoComplete="off" value={price} onInput={(e) => setPrice(e.currentTarget.value)} />
        <label for="place-ttl">Open for (hours)</label>
        <input id="place-ttl" type="number" min={1} max={695} step={1} value={ttlHours} onInput={(e) => setTtlHours(e.currentTarget.value)} />
        <label for="place-eth">Your {pair.split('/')[1]} address (optional)</label>
        <input id="place-eth" autoComplete="off" spellcheck={false} value={quoteAddress} onInput={(e) => setEthAddress(e.currentTarget.value)} />
        {side === 'sell' ? (
          <>
            <label for="place-hash">Your own hashlock, sha256 of your preimage (optional)</label>
            <input id="place-hash" autoComplete="off" spellcheck={false} value={htlcHash} onInput={(e) => setHtlcHash(e.currentTarget.value)} />
          </>
        ) : null}
        <p id="place-help" class="muted">
          {side === 'sell'
            ? 'A sell locks your RTC in escrow at the node first, plus the node\'s 5 % escrow fee (returned if the order is cancelled or expires). Without your own hashlock the ledger makes the preimage and shows it to you once.'
            : 'A buy order waits for a seller to take it; you pay the quote currency to the seller and receive the RTC.'}
        </p>
        <Problem failure={failure} />
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing and sending…' : `Sign and place ${side} order`}</button>
      </form>
    </div>
  );
}
