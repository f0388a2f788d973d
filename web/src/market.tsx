import { useState } from 'preact/hooks';
import type { Failure, Order, OrderBook, Stats, Trade } from '../../src/client/index.js';
import { client } from './session.js';
import { usePoll } from './store.js';
import { Problem, Short, TableBox, When } from './ui.js';

export const PAIRS = ['RTC/USDC', 'RTC/ETH', 'RTC/ERG'] as const;
const REFRESH_MS = 3000;

interface MarketData {
  book: OrderBook;
  stats: Stats;
  trades: Trade[];
  open: Order[];
}

async function loadMarket(pair: string): Promise<{ ok: true; data: MarketData } | Failure> {
  const [book, stats, trades, open] = await Promise.all([
    client.orderBook(pair), client.stats(pair), client.trades({ pair, limit: 20 }), client.listOrders({ pair, status: 'open', limit: 50 }),
  ]);
  if (!book.ok) return book;
  if (!stats.ok) return stats;
  if (!trades.ok) return trades;
  if (!open.ok) return open;
  return { ok: true, data: { book, stats, trades: trades.trades, open: open.orders } };
}

function DepthTable({ side, levels }: { side: 'asks' | 'bids'; levels: OrderBook['asks'] }) {
  const max = levels.reduce((m, l) => Math.max(m, Number(l.total_rtc)), 0);
  const title = side === 'asks' ? 'Asks (sell orders)' : 'Bids (buy orders)';
  return (
    <TableBox label={title}>
      <caption>{title}</caption>
      <thead><tr><th scope="col">Price</th><th scope="col">RTC</th><th scope="col">Orders</th><th scope="col"><span class="sr-only">Depth</span></th></tr></thead>
      <tbody>
        {levels.length === 0 ? <tr><td colSpan={4} class="muted">none</td></tr> : levels.map((l) => (
          <tr key={l.price}>
            <td class={`num ${side}`}>{l.price}</td>
            <td class="num">{l.total_rtc}</td>
            <td class="num">{l.order_count}</td>
            {/* Widths set through the CSSOM, which the CSP allows; inline style attributes it does not. */}
            <td class="depth-cell" aria-hidden="true"><div class={`depth depth-${side}`} style={{ width: `${max > 0 ? (Number(l.total_rtc) / max) * 100 : 0}%` }} /></td>
          </tr>
        ))}
      </tbody>
    </TableBox>
  );
}

function Summary({ book, stats }: { book: OrderBook; stats: Stats }) {
  const items: Array<[string, string | number | null]> = [
    ['Best ask', book.best_ask], ['Best bid', book.best_bid], ['Spread', book.spread], ['Last price', book.last_price],
    ['24 h volume (RTC)', stats.volume_24h_rtc], ['24 h trades', book.trades_24h], ['24 h high', stats.high_24h], ['24 h low', stats.low_24h],
    ['7 d volume (RTC)', stats.volume_7d_rtc], ['All trades', stats.total_trades], ['Open sells', `${stats.open_sells.count} · ${stats.open_sells.total_rtc} RTC`],
    ['Open buys', `${stats.open_buys.count} · ${stats.open_buys.total_rtc} RTC`],
  ];
  return (
    <dl class="stats" aria-label="Market summary">
      {items.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v ?? '—'}</dd></div>)}
    </dl>
  );
}

export function MarketPage({ pair, onPair }: { pair: string; onPair: (pair: string) => void }) {
  const [data, setData] = useState<MarketData | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  usePoll(async () => {
    const loaded = await loadMarket(pair);
    setFailure(loaded.ok ? null : loaded);
    if (loaded.ok) setData(loaded.data);
  }, REFRESH_MS, [pair]);

  return (
    <div>
      <h1>Market</h1>
      <fieldset class="pair-picker">
        <legend>Pair</legend>
        {PAIRS.map((p) => (
          <label key={p} class="pill">
            <input type="radio" name="pair" value={p} checked={pair === p} onChange={() => onPair(p)} /> {p}
          </label>
        ))}
      </fieldset>
      <Problem failure={failure} />
      {data === null ? <p aria-busy="true">Loading…</p> : (
        <>
          <Summary book={data.book} stats={data.stats} />
          <div class="columns">
            <DepthTable side="asks" levels={data.book.asks} />
            <DepthTable side="bids" levels={data.book.bids} />
          </div>
          <h2>Open orders</h2>
          <TableBox label="Open orders">
            <thead><tr><th scope="col">Order</th><th scope="col">Side</th><th scope="col">RTC</th><th scope="col">Price</th><th scope="col">Maker</th><th scope="col">Expires</th></tr></thead>
            <tbody>
              {data.open.length === 0 ? <tr><td colSpan={6} class="muted">No open orders on {pair}.</td></tr> : data.open.map((o) => (
                <tr key={o.order_id}>
                  <td><a href={`#/order/${o.order_id}`}>{o.order_id}</a></td>
                  <td>{o.side}</td><td class="num">{o.amount_rtc}</td><td class="num">{o.price_per_rtc}</td>
                  <td><Short value={o.maker_wallet} keep={8} /></td><td><When at={o.expires_at} /></td>
                </tr>
              ))}
            </tbody>
          </TableBox>
          <h2>Recent trades</h2>
          <TableBox label="Recent trades">
            <thead><tr><th scope="col">Completed</th><th scope="col">RTC</th><th scope="col">Price</th><th scope="col">Total</th><th scope="col">Order</th></tr></thead>
            <tbody>
              {data.trades.length === 0 ? <tr><td colSpan={5} class="muted">No trades yet.</td></tr> : data.trades.map((t) => (
                <tr key={t.trade_id}>
                  <td><When at={t.completed_at} /></td><td class="num">{t.amount_rtc}</td><td class="num">{t.price_per_rtc}</td>
                  <td class="num">{t.total_quote}</td><td><a href={`#/order/${t.order_id}`}>{t.order_id}</a></td>
                </tr>
              ))}
            </tbody>
          </TableBox>
        </>
      )}
    </div>
  );
}
