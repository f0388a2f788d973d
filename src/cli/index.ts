import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, loadQuoteChainConfig, type Config } from '../config.js';
import type { EventStore } from '../eventstore/types.js';
import { SandboxNode, startSandboxServer } from '../sandbox/index.js';
import { isLoopbackHost } from '../gateways/transport.js';
import { createLogger, openStore, startLedger } from '../main.js';
import { runProjectionsRebuild, runProjectionsStatus } from './projectionsCommand.js';
import { runReplay } from './replayCommand.js';
import { quoteChainAuditFor, runVerify } from './verifyCommand.js';
import { runChainStatus } from './chainCommand.js';
import { runReconcileOnce } from './reconcileCommand.js';
import { colourFor } from './table.js';
import { PACKAGE_VERSION } from '../version.js';
import { registerOrderCommands } from './orderCommand.js';
import { lowerBackgroundThreads, type BackgroundThreads } from '../threadPriority.js';

const out = process.stdout;

/** One line on what `serve` did to its background threads, once the policy changes have ended. */
function logBackgroundThreads(log: Logger, cfg: Config, background: BackgroundThreads): void {
  const { batched, lowered, batchUnavailable } = background;
  if (batched.size > 0 || lowered.size > 0) {
    log.info({ policy: batched.size > 0 ? 'batch' : 'normal', nice: cfg.backgroundThreadNice, batched: batched.size, niced: lowered.size }, 'background threads yield to the event loop');
  }
  if (batchUnavailable !== null) {
    log.warn({ reason: batchUnavailable }, 'background threads stay under SCHED_OTHER: set LEDGER_BACKGROUND_THREAD_NICE for the same effect by priority');
  }
}

async function withStore<T>(config: Config, fn: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await openStore(config);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const readDbPath = (config: Config) => join(config.dataDir, 'read.db');

function parseVersion(value: string): bigint {
  if (!/^\d{1,15}$/.test(value) || BigInt(value) < 1n) throw new InvalidArgumentError('must be a positive integer');
  return BigInt(value);
}

function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number');
  return Number(value);
}

export function buildCli(config: () => Config): Command {
  const program = new Command('otc-ledger')
    .description('Event-sourced settlement ledger for OTC RTC trades with escrow')
    .version(PACKAGE_VERSION, '-V, --version', 'print the version and exit')
    .showHelpAfterError();

  program.command('serve').description('run the HTTP service (what npm start runs)').action(async () => {
    const cfg = config();
    const log = createLogger(cfg);
    // Signals are taken from the start: one that arrives while the ledger is still starting (the
    // read-model writer's thread catching up) shuts it down cleanly once it is up, instead of
    // ending the process mid-start.
    let signalledEarly: string | null = null;
    let onSignal = (signal: string): void => {
      signalledEarly = signal;
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    // A refused start exits at once: a half-opened client (an EventStoreDB channel still
    // retrying) must not keep the process alive after its one line.
    const running = await startLedger(cfg, log, { quoteChain: loadQuoteChainConfig() }).catch((error: unknown) => {
      process.stderr.write(`otc-ledger: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
    // After the start, so the writer threads exist; threads started later are found by its rescans.
    const background = lowerBackgroundThreads({ nice: cfg.backgroundThreadNice, policy: cfg.backgroundThreadPolicy });
    void background.settled().then(() => logBackgroundThreads(log, cfg, background));
    const shutdown = (signal: string) => {
      background.stop();
      const startedMs = Date.now();
      log.info({ signal }, 'shutting down: finishing in-flight requests');
      running.close().then(() => {
        log.info({ signal, durationMs: Date.now() - startedMs }, 'otc-ledger stopped: requests finished, stores closed');
        process.exit(0);
      }, (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
    };
    onSignal = shutdown;
    if (signalledEarly !== null) shutdown(signalledEarly);
  });

  program.command('replay <order_id>').description("an order's audit history as a table, with the hash-chain check; exit 2 when the chain is broken")
    .option('--at <version>', 'the order as it stood after event N', parseVersion)
    .option('--json', 'machine-readable output: every event with its ids, correlation, causation and hash links', false)
    .action(async (orderId: string, opts: { at?: bigint; json: boolean }) => {
      const cfg = config();
      const colour = colourFor(out, cfg.noColor);
      process.exitCode = await withStore(cfg, (store) => runReplay({ store, orderId, at: opts.at, json: opts.json, colour }, out));
    });

  program.command('verify').description('replay every stream: invariants, hash chains, read models vs a fresh rebuild; exit 1 on any finding')
    .option('--json', 'one JSON document with every finding, no progress lines', false)
    .option('--url <url>', 'sandbox mode: check the quote-chain observations against the chain of the running ledger at this URL')
    .action(async (opts: { json: boolean; url?: string }) => {
      const cfg = config();
      // evm mode: every observation is checked against the configured chain; sandbox: only with --url.
      const quoteChain = await quoteChainAuditFor(loadQuoteChainConfig(), opts.url?.replace(/\/$/, '') ?? null);
      process.exitCode = await withStore(cfg, (store) => runVerify({ store, readDbPath: readDbPath(cfg), json: opts.json, quoteChain }, out));
    });

  const projections = program.command('projections').description('read-model checkpoints and rebuilds');
  projections.command('status').description('checkpoint, lag and state of each read model').action(async () => {
    const cfg = config();
    process.exitCode = await withStore(cfg, (store) => runProjectionsStatus({ store, readDbPath: readDbPath(cfg) }, out));
  });
  projections.command('rebuild [name]').description('rebuild one read model (or all) from position 0, blue/green').action(async (name?: string) => {
    const cfg = config();
    process.exitCode = await withStore(cfg, (store) => runProjectionsRebuild({ store, readDbPath: readDbPath(cfg), name }, out));
  });

  const chain = program.command('chain').description('the quote chain the ledger follows');
  chain.command('status').description('per quote chain: head, finalized block, the follower\'s checkpoint, its lag in blocks and the last reorg; exit 1 when the configured chain cannot be read')
    .option('--json', 'machine-readable output', false)
    .option('--rpc-url <url>', 'read the head from this JSON-RPC endpoint instead of the configured one')
    .option('--url <url>', 'the running ledger: with LEDGER_ADMIN_TOKEN, its follower as it runs (GET /admin/chain) instead of the data dir; without, where to ask for its sandbox chain (default LEDGER_URL, else http://HOST:PORT)')
    .action(async (opts: { json: boolean; rpcUrl?: string; url?: string }) => {
      const cfg = config();
      const hostPart = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
      const ledgerUrl = (opts.url ?? cfg.ledgerUrl ?? `http://${hostPart}:${cfg.port}`).replace(/\/$/, '');
      // A ledger named on the command line, with the token to ask it: its own view, not this machine's data dir.
      const askLedger = opts.url !== undefined && opts.rpcUrl === undefined && cfg.adminToken !== null ? { adminToken: cfg.adminToken } : undefined;
      process.exitCode = await runChainStatus({ dataDir: cfg.dataDir, quoteChain: loadQuoteChainConfig(), ledgerUrl, rpcUrl: opts.rpcUrl, json: opts.json, askLedger }, out);
    });

  program.command('reconcile').description('one reconciler pass against RUSTCHAIN_NODE, printing what it examined and what each order became')
    .option('--json', 'the summary as JSON', false)
    .action(async (opts: { json: boolean }) => {
      const cfg = config();
      process.exitCode = await runReconcileOnce(cfg, out, { json: opts.json, colour: colourFor(out, cfg.noColor) });
    });

  program.command('sandbox-node').description('the sandbox RustChain node alone, over HTTP')
    .option('--port <port>', 'port to listen on', parsePort, 5590)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--auto-confirm <ms>', 'confirm queued transfers after this many ms ("off" to confirm by hand)', 'off')
    .action(async (opts: { port: number; host: string; autoConfirm: string }) => {
      // Its /__sandbox/ controls fund wallets: never on the network unless said so explicitly.
      if (!isLoopbackHost(opts.host) && !config().sandboxPublic) {
        process.stderr.write(`invalid configuration: --host ${opts.host} is not a loopback address; the sandbox node's /__sandbox/ controls fund wallets (set LEDGER_SANDBOX_PUBLIC=1 to expose it deliberately)\n`);
        process.exitCode = 2;
        return;
      }
      const autoConfirm = opts.autoConfirm === 'off' ? 'off' : /^\d+$/.test(opts.autoConfirm) ? Number(opts.autoConfirm) : 'off';
      const server = await startSandboxServer({ node: new SandboxNode({ autoConfirm }), host: opts.host, port: opts.port });
      out.write(`SANDBOX RustChain node (not a real chain) listening on ${server.url}\n`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  registerOrderCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // Every file a command creates (a data dir, a SQLite file and its -wal/-shm, a generated key) is
  // the owner's alone, whichever command creates it first.
  process.umask(0o077);
  const config = (): Config => {
    try {
      return loadConfig();
    } catch (error) {
      if (error instanceof ConfigError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(2);
      }
      throw error;
    }
  };
  try {
    await buildCli(config).parseAsync(argv);
  } catch (error) {
    process.stderr.write(`otc-ledger: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
