import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import type { RunningLedger } from '../../src/main.js';
import { baseEnv, generateWallet, placeBuyBody, post, startFromEnv, tempDir, until } from './support.js';

/**
 * Issue 14 lever 3, LEDGER_SQLITE_WRITER=adaptive through the composition root: the server counts
 * its open HTTP requests, and the store commits a command's append on the event loop only when its
 * request is the only one open; concurrent commands go to the writer thread. /metrics shows where
 * (otc_ledger_store_commits{on}).
 */
const dirs: Array<{ remove(): void }> = [];
const running: RunningLedger[] = [];
const sockets: Socket[] = [];
afterAll(async () => {
  // A held request left open by a failed assertion would keep close() waiting for it.
  for (const socket of sockets) socket.destroy();
  for (const r of running) await r.close().catch(() => undefined);
  for (const d of dirs) d.remove();
});

async function commits(base: string): Promise<{ loop: number; thread: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const count = (site: string) => Number(new RegExp(`^otc_ledger_store_commits\\{on="${site}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { loop: count('loop'), thread: count('thread') };
}

/** A request the server has received (headers) but not finished: its body never comes until the socket closes. */
async function holdRequestOpen(base: string): Promise<Socket> {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(`POST /api/orders HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
  return socket;
}

describe('the adaptive event-store writer in the server', () => {
  it('commits a lone command on the loop, concurrent ones and one made while another request is open on the writer thread, and a lone one on the loop again after them', async () => {
    const dir = tempDir('adaptive-writer');
    dirs.push(dir);
    const ledger = await startFromEnv(baseEnv(dir.path, { LEDGER_SQLITE_WRITER: 'adaptive' }));
    running.push(ledger);
    expect((ledger.store as SqliteEventStore).writer).toBe('adaptive');
    const base = ledger.url;
    const buyer = generateWallet();

    const before = await commits(base);
    expect(before).toEqual({ loop: 0, thread: 0 });
    expect((await post(base, '/api/orders', placeBuyBody(buyer, '10'))).status).toBe(201);
    const afterLone = await commits(base);
    expect(afterLone.loop).toBeGreaterThan(0);
    expect(afterLone.thread).toBe(0);

    const wallets = Array.from({ length: 24 }, () => generateWallet());
    const placed = await Promise.all(wallets.map((w) => post(base, '/api/orders', placeBuyBody(w, '10'))));
    expect(placed.map((p) => p.status)).toEqual(wallets.map(() => 201));
    const afterConcurrent = await commits(base);
    expect(afterConcurrent.thread).toBeGreaterThan(0);

    // Every request that ended was released: a lone command commits on the loop again.
    expect((await post(base, '/api/orders', placeBuyBody(buyer, '10'))).status).toBe(201);
    const afterLoneAgain = await commits(base);
    expect(afterLoneAgain.loop).toBeGreaterThan(afterConcurrent.loop);
    expect(afterLoneAgain.thread).toBe(afterConcurrent.thread);

    // Another request open (its body still on the way): even a command alone in time goes to the thread.
    const held = await holdRequestOpen(base);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await post(base, '/api/orders', placeBuyBody(buyer, '10'))).status).toBe(201);
    const whileHeld = await commits(base);
    expect(whileHeld.loop).toBe(afterLoneAgain.loop);
    expect(whileHeld.thread).toBeGreaterThan(afterLoneAgain.thread);
    held.destroy();
    // Released when its socket closed: the loop again.
    await until(async () => {
      expect((await post(base, '/api/orders', placeBuyBody(buyer, '10'))).status).toBe(201);
      return (await commits(base)).loop > whileHeld.loop;
    }, 'a lone command to commit on the loop after the held request went away');
  }, 60_000);
});
