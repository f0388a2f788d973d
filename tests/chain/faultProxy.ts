/**
 * A loopback HTTP proxy in front of anvil that injects RPC faults, so the gateway meets them through
 * its real transport: a request that never answers (timeout), a 5xx, a capped eth_getLogs, a chain id
 * that is not the configured one, a JSON-RPC error answer. Faults are queued per JSON-RPC method (and,
 * optionally, a text the request must contain, such as a function selector) and used up one per
 * request. `retarget` sends everything to another node (a lagging one) until it is pointed back.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'hang' | 'http500' | 'cap_logs' | 'garbage' | 'chain_id_1' | 'rpc_error';

export interface FaultProxy {
  readonly url: string;
  /** The next `times` requests for `method` ('*' = any) whose body contains `containing` get this fault. */
  inject(method: string, fault: Fault, times?: number, containing?: string): void;
  /** Where requests go from now on (the original target when absent). */
  retarget(url?: string): void;
  /** Requests seen, by method. */
  count(method: string): number;
  /** The last requests' bodies (at most 50) for a method, oldest first. */
  requests(method: string): string[];
  clear(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const queued: { method: string; fault: Fault; containing: string | undefined }[] = [];
  let target = targetUrl;
  const seen = new Map<string, number>();
  const bodies = new Map<string, string[]>();
  const server = createServer((req, res) => {
    // A node that is gone (a stopped lagging anvil) ends the connection: the client sees a network error.
    handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const method = rpcMethod(body);
    seen.set(method, (seen.get(method) ?? 0) + 1);
    bodies.set(method, [...(bodies.get(method) ?? []), body].slice(-50));
    const index = queued.findIndex((q) => (q.method === method || q.method === '*') && (q.containing === undefined || body.includes(q.containing)));
    const fault = index >= 0 ? queued.splice(index, 1)[0]!.fault : null;
    if (fault === 'hang') return; // never answered; the client's timeout ends it
    if (fault === 'http500') return void res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
    if (fault === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":');
    const id = (JSON.parse(body) as { id?: unknown }).id ?? null;
    if (fault === 'cap_logs') {
      return void res.writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32005, message: 'query returned more than 10000 results' } }));
    }
    if (fault === 'rpc_error') {
      return void res.writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: 'the method is not available' } }));
    }
    if (fault === 'chain_id_1') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, result: '0x1' }));
    const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inject: (method, fault, times = 1, containing) => {
      for (let i = 0; i < times; i += 1) queued.push({ method, fault, containing });
    },
    retarget: (url) => {
      target = url ?? targetUrl;
    },
    count: (method) => seen.get(method) ?? 0,
    requests: (method) => [...(bodies.get(method) ?? [])],
    clear: () => {
      queued.length = 0;
      target = targetUrl;
      seen.clear();
      bodies.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function rpcMethod(body: string): string {
  try {
    const parsed = JSON.parse(body) as { method?: unknown };
    return typeof parsed.method === 'string' ? parsed.method : 'unknown';
  } catch {
    return 'unparseable';
  }
}
