/**
 * The sandbox node in a process of its own, for the trade bench's remote-node runs (issue 14: "it
 * also runs against a node in a separate process over HTTP, since a real node is remote"). Forked
 * by bench/trades.ts with `--sandbox-node`; answers over IPC with its URL, and with its own CPU time
 * on request, so the bench bills the node's work to the node instead of to the ledger.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SandboxNode } from '../src/sandbox/index.js';
import { startSandboxServer, type SandboxServer } from '../src/sandbox/server.js';

type NodeRequest = { readonly kind: 'cpu' } | { readonly kind: 'close' };
type NodeAnswer = { readonly kind: 'ready'; readonly url: string } | { readonly kind: 'cpu'; readonly cpuMs: number } | { readonly kind: 'closed' };

export interface NodeProcess {
  readonly url: string;
  /** The node process's CPU time so far (user + system, ms). */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

const START_LIMIT_MS = 30_000;
const ANSWER_LIMIT_MS = 10_000;

export async function startNodeProcess(): Promise<NodeProcess> {
  const entry = fileURLToPath(import.meta.url);
  const child = fork(entry, ['--sandbox-node'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await nextAnswer(child, 'ready', START_LIMIT_MS);
  if (ready.kind !== 'ready') throw new Error('the sandbox node process did not start');
  const ask = async (request: NodeRequest, kind: NodeAnswer['kind']): Promise<NodeAnswer> => {
    const answer = nextAnswer(child, kind, ANSWER_LIMIT_MS);
    child.send(request);
    return answer;
  };
  return {
    url: ready.url,
    async cpuMs() {
      const answer = await ask({ kind: 'cpu' }, 'cpu');
      return answer.kind === 'cpu' ? answer.cpuMs : Number.NaN;
    },
    async close() {
      if (child.exitCode !== null) return;
      await ask({ kind: 'close' }, 'closed').catch(() => undefined);
      if (child.exitCode === null) child.kill();
    },
  };
}

function nextAnswer(child: ChildProcess, kind: NodeAnswer['kind'], limitMs: number): Promise<NodeAnswer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`the sandbox node process gave no ${kind} answer in ${limitMs} ms`)), limitMs);
    const onMessage = (message: NodeAnswer) => {
      if (message.kind === kind) done(null, message);
    };
    const onExit = (code: number | null) => done(new Error(`the sandbox node process exited (${code})`));
    function done(error: Error | null, message?: NodeAnswer) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message as NodeAnswer);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** The child's side: as the embedded node the bench uses, payouts confirmed at once, no per-poster job cap. */
async function serveNode(): Promise<void> {
  const node = new SandboxNode({ autoConfirm: 'immediate', maxActiveJobsPerPoster: 1_000_000 });
  const server: SandboxServer = await startSandboxServer({ node, host: '127.0.0.1' });
  const send = (answer: NodeAnswer) => process.send?.(answer);
  process.on('message', (request: NodeRequest) => {
    if (request.kind === 'cpu') {
      const used = process.cpuUsage();
      send({ kind: 'cpu', cpuMs: (used.user + used.system) / 1000 });
    } else {
      void server.close().then(() => {
        send({ kind: 'closed' });
        process.disconnect?.();
      });
    }
  });
  send({ kind: 'ready', url: server.url });
}

if (process.send !== undefined && process.argv.includes('--sandbox-node')) void serveNode();
