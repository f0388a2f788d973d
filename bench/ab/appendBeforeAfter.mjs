// Before/after of the append bench in ONE process (issue 14, session 5): raw fsync'd insert vs SqliteEventStore.append and
// handleOrderCommand(PlaceOrder), inline and worker, for each build given, writers interleaved in chunks of 100 on the same disk.
// Build each tree with `npx tsc -p tsconfig.build.json --outDir DIR` (a DIR beside node_modules), then:
//   node --expose-gc bench/ab/appendBeforeAfter.mjs N ROUNDS TMPDIR /abs/dist-before /abs/dist-after
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
const [N, ROUNDS, base, ...dists] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4], ...process.argv.slice(5)];
const MAKER = 'RTC' + 'a'.repeat(40);
const ctx = { correlationId: 'bench', causationId: null, actor: MAKER, now: () => new Date() };
function ev(p, i) {
  const data = { order_id: `otc_${p}${String(i).padStart(12, '0')}`, side: 'buy', pair: 'RTC/USDC', maker_wallet: MAKER, amount_micro_rtc: '2500000', price_per_rtc_nano_quote: '150000000', total_quote_nano: '375000000', maker_eth_address: null, htlc_hash: null, ttl_seconds: 3600, placed_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-01T01:00:00.000Z' };
  const eventId = randomUUID();
  return { eventId, type: 'OrderPlaced', data, metadata: { event_id: eventId, correlation_id: randomUUID(), causation_id: null, actor: MAKER, recorded_at: '2026-01-01T00:00:00.000Z', schema_version: 1, prev_hash: '0'.repeat(64), hash: 'f'.repeat(64) } };
}
const cmd = (p, i) => ({ type: 'PlaceOrder', orderId: `otc_${p}${String(i).padStart(12, '0')}`, side: 'buy', pair: 'RTC/USDC', makerWallet: MAKER, amountMicroRtc: 2_500_000n, pricePerRtcNanoQuote: 150_000_000n, ttlSeconds: 3600, makerEthAddress: null, htlcHash: null, now: new Date('2026-01-01T00:00:00.000Z') });
const mods = [];
for (const d of dists) mods.push({ name: d.split('/').pop(), ...(await import(`${d}/src/eventstore/sqlite.js`)), ...(await import(`${d}/src/commands/handleCommand.js`)) });
const WARM = 200, CH = 100;
const all = {};
for (let round = 0; round < ROUNDS; round++) {
  const TMP = mkdtempSync(base + '/s5a-'); let k = 0; const configs = [];
  { const db = new Database(`${TMP}/raw.db`); db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL'); db.exec(mods[0].EVENTS_SCHEMA);
    const ins = db.prepare('INSERT INTO events (stream, version, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)'); const one = db.transaction((r) => ins.run(...r)).immediate;
    const rows = Array.from({ length: N + WARM }, (_, i) => { const e = ev('raw', i); return [`order-${e.data.order_id}`, 1, e.eventId, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)]; });
    configs.push({ label: 'raw insert', run: async (f, t) => { for (let i = f; i < t; i++) one(rows[i]); }, close: () => db.close() }); }
  for (const [mi, m] of mods.entries()) for (const writer of ['inline', 'worker']) for (const kind of ['append', 'command']) {
    const s = new m.SqliteEventStore({ path: `${TMP}/s${k++}.db`, writer }); const p = `${mi}${writer[0]}${kind[0]}`;
    const evs = kind === 'append' ? Array.from({ length: N + WARM }, (_, i) => ev(p, i)) : null;
    configs.push({ label: `${kind} ${writer} ${m.name}`, close: () => s.close(), run: async (f, t) => { for (let i = f; i < t; i++) { if (evs) await s.append(`order-${evs[i].data.order_id}`, [evs[i]], 'no_stream'); else { const c = cmd(p, i); await m.handleOrderCommand(s, c.orderId, c, ctx); } } } });
  }
  for (const c of configs) { c.wall = 0; c.cpu = 0; await c.run(0, WARM); }
  for (let from = WARM, r = 0; from < WARM + N; from += CH, r++) for (let j = 0; j < configs.length; j++) {
    const c = configs[(j + r) % configs.length]; const t = performance.now(); const u = process.cpuUsage();
    await c.run(from, from + CH); const d = process.cpuUsage(u); c.wall += performance.now() - t; c.cpu += d.user + d.system;
  }
  for (const c of configs) { await c.close(); (all[c.label] ??= []).push({ rate: N / (c.wall / 1000), cpu: c.cpu / N, ratio: (configs[0].wall / c.wall) }); }
  rmSync(TMP, { recursive: true, force: true });
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [label, rs] of Object.entries(all)) console.log(label.padEnd(30), 'ops/s', rs.map((r) => r.rate.toFixed(0)).join(',').padEnd(18), 'ratio vs raw', rs.map((r) => r.ratio.toFixed(3)).join(',').padEnd(20), 'median', med(rs.map((r) => r.ratio)).toFixed(3), ' cpu us/op', rs.map((r) => r.cpu.toFixed(0)).join(','));
