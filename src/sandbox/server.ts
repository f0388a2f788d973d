/**
 * The sandbox node over real HTTP (node:http, so a fault can destroy the socket or hold the answer).
 * Hung requests are kept until the client gives up or `close()` destroys their connections.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SandboxNode } from './sandboxNode.js';

/** The node's bodies are small; anything bigger is refused rather than buffered. */
const MAX_BODY_BYTES = 1_000_000;

export interface SandboxServer {
  readonly url: string;
  readonly node: SandboxNode;
  close(): Promise<void>;
}

export interface SandboxServerOptions {
  readonly node?: SandboxNode;
  readonly host?: string;
  readonly port?: number;
}

export async function startSandboxServer(options: SandboxServerOptions = {}): Promise<SandboxServer> {
  const node = options.node ?? new SandboxNode();
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    serve(node, req, res).catch(() => {
      // A client that went away mid-body, or a sandbox bug: answer 500 if the socket is still there.
      if (!res.headersSent && !res.destroyed) send(res, 500, { error: 'Internal error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const close = async (): Promise<void> => {
    // Destroying every connection is what releases hung requests; close() alone would wait on them.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url: `http://${urlHost}:${port}`, node, close };
}

async function serve(node: SandboxNode, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  if (body === null) {
    send(res, 413, { error: 'Request body too large' });
    return;
  }
  const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
  const reply = await node.handle({
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: flattenHeaders(req.headers),
    body,
  });
  if (reply === 'drop') req.socket.destroy();
  else if (reply !== 'hang') send(res, reply.status, reply.body);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]));
}
