import { useState } from 'preact/hooks';
import type { Failure, Order } from '../../src/client/index.js';
import { activeWallet, client, walletStore } from './session.js';
import { usePoll, useStore } from './store.js';
import { Problem, Status, TableBox, When } from './ui.js';

/** Every order the active wallet made or took, newest first. */
export function MyOrdersPage() {
  const wallets = useStore(walletStore);
  const active = activeWallet(wallets);
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  usePoll(async () => {
    if (active === null) return;
    const answer = await client.listOrders({ wallet: active.key.wallet, status: 'all', limit: 200 });
    setFailure(answer.ok ? null : answer);
    if (answer.ok) setOrders(answer.orders);
  }, 3000, [active?.key.wallet]);

  if (active === null) return <div><h1>My orders</h1><p>First <a href="#/wallet">generate or import a wallet</a>.</p></div>;
  return (
    <div>
      <h1>My orders</h1>
      <p>Orders of <strong>{active.label}</strong> (<code>{active.key.wallet}</code>), as maker or taker.</p>
      <Problem failure={failure} />
      {orders === null ? <p aria-busy="true">Loading…</p> : (
        <TableBox label="My orders">
          <thead><tr><th scope="col">Order</th><th scope="col">Role</th><th scope="col">Side</th><th scope="col">Pair</th><th scope="col">RTC</th><th scope="col">Price</th><th scope="col">Status</th><th scope="col">Updated</th></tr></thead>
          <tbody>
            {orders.length === 0 ? <tr><td colSpan={8} class="muted">No orders yet. <a href="#/place">Place one</a>.</td></tr> : orders.map((o) => (
              <tr key={o.order_id}>
                <td><a href={`#/order/${o.order_id}`}>{o.order_id}</a></td>
                <td>{o.maker_wallet?.toLowerCase() === active.key.wallet.toLowerCase() ? 'maker' : 'taker'}</td>
                <td>{o.side}</td><td>{o.pair}</td><td class="num">{o.amount_rtc}</td><td class="num">{o.price_per_rtc}</td>
                <td><Status status={o.status} /></td><td><When at={o.updated_at} /></td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
    </div>
  );
}
