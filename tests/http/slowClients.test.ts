import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

/**
 * Slow clients over a real socket on loopback: a body or headers trickled a byte at a time are cut
 * off after the configured timeouts instead of holding the socket for as long as the client likes.
 * The limits are short here so the test is quick; every wait is bounded by the test's own clock.
 */
const LIMITS = { requestTimeoutMs: 1_500, headersTimeoutMs: 1_000, keepAliveTimeoutMs: 500, connectionTimeoutMs: 60_000, maxRequestsPerSocket: 3 };
/** Far longer than any limit above: a socket still open by then was not cut off. */
const GIVE_UP_MS = 12_000;

let h: HttpHarness;
let port: number;
beforeAll(async () => {
  h = await startHttpHarness({ config: { http: LIMITS } });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.address() as { port: number }).port;
});
afterAll(async () => {
  await h.close();
});

interface Trickle {
  readonly socket: Socket;
  readonly received: () => string;
  /** Resolves when the server closes the socket: how many trickled bytes were sent by then. */
  readonly closed: Promise<number>;
  stop(): void;
}

/** Writes `head` at once, then one byte of `tail` every `everyMs`, until the server closes the socket. */
function trickle(head: string, tail: string, everyMs: number): Trickle {
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  let sent = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  socket.write(head);
  const timer = setInterval(() => {
    if (sent < tail.length && !socket.destroyed) socket.write(tail[sent++] ?? '');
  }, everyMs);
  const closed = new Promise<number>((resolve, reject) => {
    const giveUp = setTimeout(() => reject(new Error(`the server kept a slow socket open for ${GIVE_UP_MS} ms (${sent} bytes trickled)`)), GIVE_UP_MS);
    socket.once('close', () => {
      clearTimeout(giveUp);
      clearInterval(timer);
      resolve(sent);
    });
  });
  return { socket, received: () => received, closed, stop: () => { clearInterval(timer); socket.destroy(); } };
}

describe('slow clients', () => {
  it('cuts off a body sent one byte at a time, answering 408', async () => {
    const body = JSON.stringify({ side: 'sell', pad: 'x'.repeat(200) });
    const head = `POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const slow = trickle(head, body, 100);
    try {
      const sent = await slow.closed;
      expect(sent).toBeLessThan(body.length);
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      slow.stop();
    }
  }, GIVE_UP_MS + 5_000);

  it('cuts off headers sent one byte at a time', async () => {
    const headers = `Host: 127.0.0.1\r\nX-Pad: ${'y'.repeat(200)}\r\n\r\n`;
    const slow = trickle('GET /health HTTP/1.1\r\n', headers, 100);
    try {
      const sent = await slow.closed;
      expect(sent).toBeLessThan(headers.length);
      expect(slow.received()).not.toContain('"status":"up"');
    } finally {
      slow.stop();
    }
  }, GIVE_UP_MS + 5_000);

  it('closes an idle keep-alive socket after its answer', async () => {
    const idle = trickle('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', '', 1_000);
    try {
      await idle.closed;
      expect(idle.received()).toMatch(/^HTTP\/1\.1 200/);
      expect(idle.received()).toMatch(/keep-alive: timeout=/i);
    } finally {
      idle.stop();
    }
  }, GIVE_UP_MS + 5_000);

  it('serves a bounded number of requests on one socket, then closes it', async () => {
    const one = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const pipelined = trickle(one.repeat(5), '', 1_000);
    try {
      await pipelined.closed;
      const answers = pipelined.received().match(/HTTP\/1\.1 200/g) ?? [];
      expect(answers).toHaveLength(LIMITS.maxRequestsPerSocket);
    } finally {
      pipelined.stop();
    }
  }, GIVE_UP_MS + 5_000);

  it('lets a request that arrives promptly through on the same server', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
  });
});
