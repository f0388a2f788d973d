import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { MarketPage } from './market.js';
import { OperatorPage } from './operator.js';
import { OrderPage } from './order.js';
import { MyOrdersPage } from './orders.js';
import { PlacePage } from './place.js';
import { detectSandbox, sandboxStore, setActive, walletStore } from './session.js';
import { useStore } from './store.js';
import { WalletPage } from './wallet.js';
import './styles.css';

type Route = { page: 'market' | 'wallet' | 'place' | 'orders' | 'operator' } | { page: 'order'; orderId: string };

function routeOf(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const order = /^\/order\/(otc_[0-9a-f]{16})$/.exec(path);
  if (order) return { page: 'order', orderId: order[1] as string };
  const page = path.slice(1);
  return page === 'wallet' || page === 'place' || page === 'orders' || page === 'operator' ? { page } : { page: 'market' };
}

const NAV: Array<[string, string, Route['page']]> = [
  ['#/', 'Market', 'market'], ['#/place', 'Place order', 'place'], ['#/orders', 'My orders', 'orders'],
  ['#/wallet', 'Wallets', 'wallet'], ['#/operator', 'Operator', 'operator'],
];

function ActiveWalletPicker() {
  const state = useStore(walletStore);
  if (state.wallets.length === 0) return <a href="#/wallet" class="wallet-pick">No wallet</a>;
  return (
    <span class="wallet-pick">
      <label for="active-wallet">Signing as</label>
      <select id="active-wallet" value={state.active ?? ''} onChange={(e) => setActive(e.currentTarget.value)}>
        {state.wallets.map((w) => <option key={w.key.wallet} value={w.key.wallet}>{w.label} · {w.key.wallet.slice(0, 9)}…</option>)}
      </select>
    </span>
  );
}

function App() {
  const [route, setRoute] = useState(routeOf(location.hash));
  const [pair, setPair] = useState('RTC/USDC');
  const sandbox = useStore(sandboxStore);
  useEffect(() => {
    const onHash = () => {
      setRoute(routeOf(location.hash));
      // Move focus to the new page's content, as a page load would, so Tab starts there.
      requestAnimationFrame(() => {
        const main = document.getElementById('main');
        if (main !== null && !main.contains(document.activeElement)) main.focus();
      });
    };
    addEventListener('hashchange', onHash);
    void detectSandbox();
    return () => removeEventListener('hashchange', onHash);
  }, []);

  return (
    <>
      <header class="top">
        <a class="brand" href="#/">otc-ledger</a>
        {sandbox === true ? <span class="sandbox-badge" title="Escrow and payouts go to the embedded sandbox node, not a real chain">SANDBOX</span> : null}
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label, page]) => (
              <li key={href}><a href={href} aria-current={route.page === page ? 'page' : undefined}>{label}</a></li>
            ))}
          </ul>
        </nav>
        <ActiveWalletPicker />
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'market' ? <MarketPage pair={pair} onPair={setPair} /> : null}
        {route.page === 'wallet' ? <WalletPage /> : null}
        {route.page === 'place' ? <PlacePage pair={pair} /> : null}
        {route.page === 'orders' ? <MyOrdersPage /> : null}
        {route.page === 'order' ? <OrderPage key={route.orderId} orderId={route.orderId} /> : null}
        {route.page === 'operator' ? <OperatorPage /> : null}
      </main>
      <footer class="muted">Keys never leave this browser. API reference: <a href="/docs">/docs</a>.</footer>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
