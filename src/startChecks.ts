import { accessSync, chmodSync, constants, existsSync, mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, type Config, type QuoteChainConfig } from './config.js';
import { MAX_JOB_TTL_SECONDS } from './gateways/node.js';
import { escrowTailSeconds, maxOrderTtlSecondsFor, quoteTailSecondsFor } from './settlement/steps.js';
import { checkSecretKeyFile } from './crypto/preimage.js';
import type { EventStore } from './eventstore/types.js';
import { leaseTtlMsFor } from './settlement/driver.js';

/**
 * Checks that need the file system or the network, run by startLedger before anything is opened
 * or listened on; each failure is one line naming the variable to fix. (The checks of the values
 * alone are in config.ts.)
 */

const refuse = (message: string): never => {
  throw new ConfigError(`invalid configuration: ${message}`);
};

/** Every check startLedger runs before it opens anything. */
export function runStartChecks(config: Pick<Config, 'dataDir' | 'nodeTimeoutMs' | 'http'>): void {
  checkConnectionTimeout(config);
  prepareDataDir(config);
}

/**
 * A socket silent both ways is closed after LEDGER_HTTP_CONNECTION_TIMEOUT_MS, and an inline
 * settlement can keep a request silent for as long as the order's lease: shorter, and the client
 * would lose answers the ledger still sends.
 */
function checkConnectionTimeout(config: Pick<Config, 'nodeTimeoutMs' | 'http'>): void {
  const leaseMs = leaseTtlMsFor(config.nodeTimeoutMs);
  if (config.http.connectionTimeoutMs < leaseMs) {
    refuse(`LEDGER_HTTP_CONNECTION_TIMEOUT_MS must be at least ${leaseMs} (an order's lease at LEDGER_NODE_TIMEOUT_MS), or answers to inline settlements would be cut off`);
  }
}

/**
 * In a chain-verified mode an escrow job must outlive every accepted T by the release slack
 * (quote-chain.md, windows): job TTL = order TTL + quote lock window + claim window max + release
 * slack + an hour, within the node's 30-day cap. When even the shortest order TTL (1 h) cannot fit,
 * `T <= job expiry - release slack` could not hold for any order: refused at start.
 */
export function checkEscrowOutlivesQuoteLeg(config: Pick<Config, 'settleWindowSeconds'>, qc: QuoteChainConfig): void {
  if (qc.mode === 'manual') return;
  const longest = maxOrderTtlSecondsFor(escrowTailSeconds(config.settleWindowSeconds, quoteTailSecondsFor(qc)));
  if (longest < MIN_ORDER_TTL_SECONDS) {
    refuse(`LEDGER_QUOTE_LOCK_WINDOW_SECONDS + LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS + LEDGER_ESCROW_RELEASE_SLACK_SECONDS (and LEDGER_SETTLE_WINDOW_SECONDS) leave no order TTL of at least ${MIN_ORDER_TTL_SECONDS} s whose escrow job fits the node's ${MAX_JOB_TTL_SECONDS} s cap: the job could expire before a quote lock's timelock plus the release slack`);
  }
}

/** The shortest order TTL the API accepts. */
const MIN_ORDER_TTL_SECONDS = 3600;

/** Pseudo file systems that accept a path but can hold no ledger. */
const PSEUDO_FILE_SYSTEMS = ['/proc', '/sys'];

/**
 * The data dir: a writable directory on a real file system, mode 0700, whose files are 0600. Files
 * created afterwards are 0600 too: the umask covers every SQLite file (SQLite gives its -wal and
 * -shm files the mode of their database) and the generated key, without naming each file here.
 */
export function prepareDataDir(config: Pick<Config, 'dataDir'>): void {
  const dir = resolve(config.dataDir);
  const real = realpathOfNearest(dir);
  if (PSEUDO_FILE_SYSTEMS.some((root) => real === root || real.startsWith(`${root}/`))) {
    refuse(`LEDGER_DATA_DIR ${dir} is under ${real.split('/').slice(0, 2).join('/')}, which cannot hold a ledger's files`);
  }
  if (existsSync(dir) && !statSync(dir).isDirectory()) refuse(`LEDGER_DATA_DIR ${dir} is not a directory`);
  process.umask(0o077);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    refuse(`LEDGER_DATA_DIR ${dir} cannot be created (${codeOf(error)})`);
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    refuse(`LEDGER_DATA_DIR ${dir} is not writable by this process`);
  }
  // Before tightening, which would hide a key file that was exposed.
  checkSecretKeyFile(dir);
  tighten(dir);
}

/** Mode 0700 on the dir and 0600 on its files, where this process owns them (an earlier run's). */
function tighten(dir: string): void {
  const owner = process.getuid?.();
  const own = (path: string): boolean => owner === undefined || statSync(path).uid === owner;
  if (own(dir) && (statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && own(path) && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
}

/** The real path of the dir, or of its nearest existing parent when it does not exist yet. */
function realpathOfNearest(path: string): string {
  let current = path;
  for (;;) {
    try {
      return join(realpathSync(current), path.slice(current.length));
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      current = parent;
    }
  }
}

const codeOf = (error: unknown): string => (error as { code?: string }).code ?? 'error';

/**
 * The event store opened and answering within LEDGER_START_TIMEOUT_MS, before the HTTP port opens:
 * an unreachable EventStoreDB is one line at start, not a raw gRPC error after the port is open.
 */
export async function checkedStore(config: Pick<Config, 'store' | 'startTimeoutMs'>, open: () => Promise<EventStore>): Promise<EventStore> {
  const variable = config.store === 'esdb' ? 'EVENTSTORE_CONNECTION_STRING' : 'LEDGER_DATA_DIR';
  let store: EventStore;
  try {
    store = await open();
  } catch (error) {
    return refuse(`${variable}: the event store cannot be opened (${oneLine(error)})`);
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((done) => {
    timer = setTimeout(() => done('late'), config.startTimeoutMs);
  });
  try {
    const answer = await Promise.race([store.headPosition().then(() => 'ok' as const), late]);
    if (answer === 'late') throw new ConfigError(`invalid configuration: ${variable}: the event store did not answer within ${config.startTimeoutMs} ms (LEDGER_START_TIMEOUT_MS)`);
    return store;
  } catch (error) {
    await Promise.race([store.close().catch(() => undefined), new Promise((done) => setTimeout(done, 1_000))]);
    if (error instanceof ConfigError) throw error;
    return refuse(`${variable}: the event store does not answer (${oneLine(error)})`);
  } finally {
    clearTimeout(timer);
  }
}

/** An error's first line, without credentials a connection string may carry. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').replace(/\/\/[^@/\s]*@/g, '//').slice(0, 200);
}

/**
 * Dependencies known to be unusable while running (a node the gateway refuses to call, …): /ready
 * is 503 while any is reported, instead of 200 with every order failing.
 */
export interface DependencyHealth {
  report(dependency: string, problem: string): void;
  clear(dependency: string): void;
  /** The first known problem, or null. */
  problem(): string | null;
}

export function createDependencyHealth(): DependencyHealth {
  const problems = new Map<string, string>();
  return {
    report: (dependency, problem) => void problems.set(dependency, problem),
    clear: (dependency) => void problems.delete(dependency),
    problem() {
      const first = problems.entries().next();
      return first.done === true ? null : `${first.value[0]}: ${first.value[1]}`;
    },
  };
}
