import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenRequests } from '../../src/http/openRequests.js';
import { until } from '../support/until.js';

/**
 * The server's open-request count, which the adaptive event-store writer asks before it commits on
 * the event loop: a request counts from its arrival until its response closes, finished or not.
 */
let server: Server | null = null;
afterEach(async () => {
  const s = server;
  server = null;
  if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
});

describe('OpenRequests', () => {
  it('counts each request from arrival to the close of its response, also when the client goes away first', async () => {
    const open = new OpenRequests();
    const held: Array<() => void> = [];
    const seenByHandler: number[] = [];
    server = createServer((_request, response) => {
      // The handler already sees its own request counted.
      seenByHandler.push(open.open);
      held.push(() => response.end('ok'));
    });
    open.follow(server);
    await new Promise<void>((resolve) => (server as Server).listen(0, '127.0.0.1', () => resolve()));
    const { port } = (server as Server).address() as AddressInfo;
    const send = () => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false });
      const answered = new Promise<void>((resolve) => req.on('response', (res) => res.resume().on('end', () => resolve())));
      req.on('error', () => undefined);
      req.end();
      return { req, answered };
    };

    expect(open.isCallerAlone()).toBe(true);
    const first = send();
    await until(() => held.length === 1, 'the first request to reach its handler');
    expect(open.open).toBe(1);
    expect(open.isCallerAlone()).toBe(true);
    const second = send();
    const abandoned = send();
    await until(() => held.length === 3, 'all three requests to reach their handlers');
    expect(seenByHandler).toEqual([1, 2, 3]);
    expect(open.isCallerAlone()).toBe(false);

    abandoned.req.destroy();
    await until(() => open.open === 2, 'the abandoned request to be released');
    held[0]?.();
    held[1]?.();
    await Promise.all([first.answered, second.answered]);
    await until(() => open.open === 0, 'every request to be released');
    expect(open.isCallerAlone()).toBe(true);
  });
});
