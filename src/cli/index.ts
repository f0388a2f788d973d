import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import type { EventStore } from '../eventstore/types.js';
import { SandboxNode, startSandboxServer } from '../sandbox/index.js';
import { createLogger, openStore, startLedger } from '../main.js';
import { runProjectionsRebuild, runProjectionsStatus } from './projectionsCommand.js';
import { runReplay } from './replayCommand.js';
import { runVerify } from './verifyCommand.js';
import { runReconcileOnce } from './reconcileCommand.js';

const out = process.stdout;

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
    .showHelpAfterError();

  program.command('serve').description('run the HTTP service (what npm start runs)').action(async () => {
    const cfg = config();
    const log = createLogger(cfg);
    const running = await startLedger(cfg, log);
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down: finishing in-flight requests');
      running.close().then(() => process.exit(0), (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });

  program.command('replay <order_id>').description("an order's audit history as a timeline, with the hash-chain check")
    .option('--at <version>', 'the order as it stood after event N', parseVersion)
    .option('--json', 'machine-readable output', false)
    .action(async (orderId: string, opts: { at?: bigint; json: boolean }) => {
      process.exitCode = await withStore(config(), (store) => runReplay({ store, orderId, at: opts.at, json: opts.json }, out));
    });

  program.command('verify').description('replay every stream: invariants, hash chains, read models vs a fresh rebuild; exit 1 on any finding')
    .action(async () => {
      const cfg = config();
      process.exitCode = await withStore(cfg, (store) => runVerify({ store, readDbPath: readDbPath(cfg) }, out));
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

  program.command('reconcile').description('one reconciler pass, printing its summary').action(async () => {
    process.exitCode = await runReconcileOnce(config(), out);
  });

  program.command('sandbox-node').description('the sandbox RustChain node alone, over HTTP')
    .option('--port <port>', 'port to listen on', parsePort, 5590)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--auto-confirm <ms>', 'confirm queued transfers after this many ms ("off" to confirm by hand)', 'off')
    .action(async (opts: { port: number; host: string; autoConfirm: string }) => {
      const autoConfirm = opts.autoConfirm === 'off' ? 'off' : /^\d+$/.test(opts.autoConfirm) ? Number(opts.autoConfirm) : 'off';
      const server = await startSandboxServer({ node: new SandboxNode({ autoConfirm }), host: opts.host, port: opts.port });
      out.write(`SANDBOX RustChain node (not a real chain) listening on ${server.url}\n`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  return program;
}

export async function main(argv: string[]): Promise<void> {
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
