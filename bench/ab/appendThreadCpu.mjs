// CPU per lone append, per thread (from /proc/self/task/*/stat, 10 ms ticks: use N >= 3000), for one build and writer:
//   node bench/ab/appendThreadCpu.mjs /abs/dist N inline|worker [TMPDIR]
// The main thread is the first 'node' entry; with the worker writer the writer thread is the last.
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
const d = process.argv[2]; const N = Number(process.argv[3]); const writer = process.argv[4]; const base = process.argv[5] ?? '/tmp';
const { SqliteEventStore } = await import(`${d}/src/eventstore/sqlite.js`);
const ticks = () => Object.fromEntries(readdirSync('/proc/self/task').map((t) => { const f = readFileSync(`/proc/self/task/${t}/stat`, 'utf8'); const name = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim(); const a = f.slice(f.lastIndexOf(')') + 2).split(' '); return [`${t}:${name}`, [Number(a[11]), Number(a[12])]]; }));
const s = new SqliteEventStore({ path: `${mkdtempSync(base + '/s5a-')}/a.db`, writer });
const MAKER = 'RTC' + 'a'.repeat(40);
const one = async (i) => { const eventId = randomUUID(); await s.append(`order-${i}`, [{ eventId, type: 'OrderPlaced', data: { order_id: `otc_${i}`, side: 'buy', maker_wallet: MAKER, amount: '2500000' }, metadata: { event_id: eventId, correlation_id: 'x', causation_id: null, actor: MAKER, recorded_at: '2026-01-01T00:00:00.000Z' } }], 'no_stream'); };
for (let i = 0; i < 300; i++) await one(`w${i}`);
const t0 = ticks(); const w = performance.now();
for (let i = 0; i < N; i++) await one(i);
const wall = (performance.now() - w) * 1000 / N; const t1 = ticks();
const rows = Object.entries(t1).map(([k, [u, sy]]) => [k, (u - (t0[k]?.[0] ?? 0)) * 10000 / N, (sy - (t0[k]?.[1] ?? 0)) * 10000 / N]).filter(([, u, sy]) => u + sy > 0);
console.log(writer, 'wall', wall.toFixed(0), 'us/op;', rows.map(([k, u, sy]) => `${k.split(':')[1]} ${u.toFixed(0)}u+${sy.toFixed(0)}s`).join(', '), 'us/op');
await s.close();
