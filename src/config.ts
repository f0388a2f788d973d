import { z } from 'zod';
import { isIP } from 'node:net';
import { parseDecimalUnits, RTC_DECIMALS } from './aggregates/order/money.js';
import { isLoopbackHost, isTransportAllowed } from './gateways/transport.js';
import type { Finality } from './gateways/quoteChain.js';

/** Environment flag: "1"/"true"/"yes" on, "0"/"false"/"no"/"" off; anything else is a start-up error. */
const flag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', ''].includes(v), 'must be 0 or 1')
  .transform((v) => ['1', 'true', 'yes'].includes(v));

const int = (min: number, max: number) => {
  const message = `must be an integer from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message).max(max, message));
};

const ADMIN_TOKEN_MIN_LENGTH = 32;
/** Node calls in one release step (look up, claim, deliver, accept), each bounded by the node timeout. */
export const RELEASE_NODE_CALLS = 4;
const listOf = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

const hex32 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (32 bytes)');

// ---- perimeter (issue 10): listen address, slow clients, admin, sandbox exposure, proxies, start bounds ----
/** A hostname (RFC 1123 labels) or an IP address: what HOST may be. */
const hostName = z
  .string()
  .trim()
  .refine(
    (v) => isIP(v) !== 0 || /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(v),
    'must be an IP address or a host name',
  );

/** An IPv4/IPv6 address or CIDR block, as proxy-addr (fastify's trustProxy) takes them. */
const cidr = (v: string): boolean => {
  const [address = '', bits, extra] = v.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};

const PERIMETER_SCHEMA = {
  HOST: hostName.default('127.0.0.1'),
  LEDGER_ADMIN_TOKEN: z.string().min(ADMIN_TOKEN_MIN_LENGTH, `must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters (e.g. openssl rand -hex 32)`).optional(),
  LEDGER_ADMIN_AUTH_FAILURES_PER_MINUTE: int(1, 10_000).default(10),
  LEDGER_SANDBOX_PUBLIC: flag.default(false),
  LEDGER_TRUSTED_PROXIES: z
    .string()
    .optional()
    .refine((v) => v === undefined || listOf(v).every(cidr), 'must be a comma list of IP addresses or CIDR blocks'),
  // Slow clients: each bounds what one socket can hold without sending a whole request.
  LEDGER_HTTP_REQUEST_TIMEOUT_MS: int(1_000, 600_000).default(30_000),
  LEDGER_HTTP_HEADERS_TIMEOUT_MS: int(1_000, 600_000).default(10_000),
  LEDGER_HTTP_KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5_000),
  LEDGER_HTTP_CONNECTION_TIMEOUT_MS: int(1_000, 3_600_000).default(300_000),
  LEDGER_HTTP_MAX_REQUESTS_PER_SOCKET: int(1, 1_000_000).default(1_000),
  LEDGER_START_TIMEOUT_MS: int(100, 600_000).default(10_000),
  // Sane minimums: a node timeout under 100 ms fails every call on a real network, and a reconciler
  // timer under 100 ms would drive the node continuously (0 still means "only at start and on demand").
  LEDGER_NODE_TIMEOUT_MS: int(100, 600_000).default(15_000),
  LEDGER_RECONCILE_INTERVAL_MS: int(0, 86_400_000)
    .refine((v) => v === 0 || v >= 100, 'must be 0 (off) or at least 100')
    .default(10_000),
} as const;

// ---- refusals (issue 10, "Open-order limits"): orders one wallet may hold open ----
// The default is the node's own cap of active escrow jobs per poster (see src/app/openOrderCap.ts).
const REFUSALS_SCHEMA = {
  LEDGER_MAX_OPEN_ORDERS_PER_WALLET: int(1, 100_000).default(20),
} as const;

// ---- match cool-down (issue 11, quote-chain.md "Griefing"): repeated lapses refuse further matches ----
// The lapse count within 24 h that starts a cool-down (0 = off), and how long it lasts.
const MATCH_COOLDOWN_SCHEMA = {
  LEDGER_MATCH_COOLDOWN_LAPSES: int(0, 1_000).default(3),
  LEDGER_MATCH_COOLDOWN_SECONDS: int(60, 2_592_000).default(86_400),
  // esdb lease heartbeats (issue 13 part 2): an EventStoreDB lease dies with its holder. This is
  // the heartbeat timeout; each instance appends a heartbeat every third of it (two may be lost).
  LEDGER_LEASE_HEARTBEAT_MS: int(300, 600_000).default(10_000),
} as const;

// ---- commit off the loop (issue 14 lever 3): where the SQLite event store commits appends ----
// 'adaptive' (the default, session 7): a lone append (the writer thread idle, no other request in
// progress) on the event loop, anything else on a writer thread with its own connection; 'worker':
// every append on that thread (BEGIN, COMMIT's fsync and WAL checkpoints leave the event loop);
// 'inline': on the event loop, as before lever 3. LEDGER_STORE=sqlite only.
const SQLITE_WRITER_SCHEMA = {
  LEDGER_SQLITE_WRITER: z.enum(['inline', 'worker', 'adaptive']).default('adaptive'),
} as const;

// ---- read-model writer (issue 14 lever 1): where the projection runner runs ----
// 'worker' (default): on a worker thread of its own, for the SQLite store (the esdb store's runner
// stays on the main thread); 'inline': on the request thread, as before.
const READ_MODEL_SCHEMA = {
  LEDGER_READ_MODEL_WRITER: z.enum(['worker', 'inline']).default('worker'),
} as const;

// ---- the request thread first (issue 14): the process's other threads never preempt the loop ----
// `serve` puts every thread but the event loop's under SCHED_BATCH ('batch', Linux, with util-linux's
// chrt) and/or gives them a nice value (0 = leave it), so background work (the writer threads,
// libuv's pool, V8's helpers) no longer takes the loop's core in the middle of a request.
const THREAD_PRIORITY_SCHEMA = {
  LEDGER_BACKGROUND_THREAD_POLICY: z.enum(['batch', 'normal']).default('batch'),
  LEDGER_BACKGROUND_THREAD_NICE: int(0, 19).default(0),
} as const;

const ConfigSchema = z.object({
  PORT: int(0, 65535).default(5580),
  LEDGER_DATA_DIR: z.string().min(1).default('./data'),
  LEDGER_STORE: z.enum(['sqlite', 'esdb']).default('sqlite'),
  EVENTSTORE_CONNECTION_STRING: z.string().optional(),
  RUSTCHAIN_NODE: z.string().url().optional(),
  RC_ADMIN_KEY: z.string().optional(),
  RUSTCHAIN_ALLOW_INSECURE: flag.default(false),
  LEDGER_SECRET_KEY: hex32.optional(),
  LEDGER_RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(10),
  LEDGER_TRUST_PROXY: flag.default(false),
  LEDGER_SETTLEMENT_STUCK_MS: int(0, 86_400_000).default(120_000),
  // At most 30 days less two hours: longer, and not even a one-hour order's escrow would fit the
  // node's 30-day job cap, so every order would be refused.
  LEDGER_SETTLE_WINDOW_SECONDS: int(60, 2_584_800).default(86_400),
  LEDGER_MAX_ORDER_RTC: z
    .string()
    .default('10000')
    .transform((v, ctx) => {
      const units = parseDecimalUnits(v, RTC_DECIMALS);
      if (units === null || units <= 0n) {
        ctx.addIssue({ code: 'custom', message: 'must be a positive RTC amount with at most 6 decimals' });
        return z.NEVER;
      }
      return units;
    }),
  LEDGER_CORS_ORIGINS: z
    .string()
    .optional()
    .refine((v) => v === undefined || !v.split(',').map((s) => s.trim()).includes('*'), 'must list origins; "*" is refused'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Operator experience (issue 12 part 4): pino-pretty logs for a terminal, colour in the CLI's
  // tables unless NO_COLOR is set (https://no-color.org), and the ledger the demo talks to.
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  NO_COLOR: z.string().optional(),
  LEDGER_URL: z.string().url().optional(),
  ...PERIMETER_SCHEMA,
  ...REFUSALS_SCHEMA,
  ...MATCH_COOLDOWN_SCHEMA,
  ...SQLITE_WRITER_SCHEMA,
  ...THREAD_PRIORITY_SCHEMA,
  ...READ_MODEL_SCHEMA,
});

export type Config = Readonly<{
  port: number;
  host: string;
  dataDir: string;
  store: 'sqlite' | 'esdb';
  /** Issue 14 lever 3: the SQLite store's appends commit on a writer thread, on the event loop, or adaptively on either. */
  sqliteWriter: 'inline' | 'worker' | 'adaptive';
  /** LEDGER_BACKGROUND_THREAD_POLICY: 'batch' = `serve` puts every thread but the event loop's under SCHED_BATCH. */
  backgroundThreadPolicy: 'batch' | 'normal';
  /** LEDGER_BACKGROUND_THREAD_NICE: the nice value `serve` gives every thread but the event loop's (0 = none). */
  backgroundThreadNice: number;
  eventStoreConnectionString: string | null;
  rustchainNode: string | null;
  rcAdminKey: string | null;
  rustchainAllowInsecure: boolean;
  nodeTimeoutMs: number;
  adminToken: string | null;
  secretKeyHex: string | null;
  rateLimitPerMinute: number;
  reconcileIntervalMs: number;
  settlementStuckMs: number;
  settleWindowSeconds: number;
  maxOrderMicroRtc: bigint;
  corsOrigins: readonly string[];
  logLevel: string;
  // Operator experience (issue 12 part 4).
  logFormat: 'json' | 'pretty';
  noColor: boolean;
  ledgerUrl: string | null;
  // perimeter (issue 10)
  adminAuthFailuresPerMinute: number;
  sandboxPublic: boolean;
  /** Proxies whose X-Forwarded-For is honoured (addresses or CIDRs); empty = the socket peer is the client. */
  trustedProxies: readonly string[];
  http: HttpLimits;
  startTimeoutMs: number;
  // refusals (issue 10)
  maxOpenOrdersPerWallet: number;
  // match cool-down (issue 11)
  /** Lapses within 24 h that start a cool-down (0 = off), and its length. */
  matchCooldown: { readonly lapses: number; readonly seconds: number };
  // esdb lease heartbeats (issue 13 part 2)
  /** LEDGER_LEASE_HEARTBEAT_MS: a store lease whose holder's heartbeat has not advanced for this long is free. */
  leaseHeartbeatTimeoutMs: number;
  // read-model writer (issue 14 lever 1)
  /** LEDGER_READ_MODEL_WRITER: the projection runner on a worker thread (SQLite store only) or inline. */
  readModelWriter: 'worker' | 'inline';
}>;

/** What one client socket may hold (slow clients): see buildApp. */
export interface HttpLimits {
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly maxRequestsPerSocket: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The only reader of process.env: a bad value stops start-up with one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`invalid configuration: ${name} ${issue?.message ?? 'is invalid'}`);
  }
  const c = parsed.data;
  if (c.LEDGER_STORE === 'esdb' && !c.EVENTSTORE_CONNECTION_STRING) {
    throw new ConfigError('invalid configuration: EVENTSTORE_CONNECTION_STRING is required when LEDGER_STORE=esdb');
  }
  checkCombinations(c);
  return Object.freeze({
    port: c.PORT,
    host: c.HOST,
    dataDir: c.LEDGER_DATA_DIR,
    store: c.LEDGER_STORE,
    sqliteWriter: c.LEDGER_SQLITE_WRITER,
    backgroundThreadPolicy: c.LEDGER_BACKGROUND_THREAD_POLICY,
    backgroundThreadNice: c.LEDGER_BACKGROUND_THREAD_NICE,
    eventStoreConnectionString: c.EVENTSTORE_CONNECTION_STRING ?? null,
    rustchainNode: c.RUSTCHAIN_NODE ?? null,
    rcAdminKey: c.RC_ADMIN_KEY ?? null,
    rustchainAllowInsecure: c.RUSTCHAIN_ALLOW_INSECURE,
    nodeTimeoutMs: c.LEDGER_NODE_TIMEOUT_MS,
    adminToken: c.LEDGER_ADMIN_TOKEN ?? null,
    secretKeyHex: c.LEDGER_SECRET_KEY ?? null,
    rateLimitPerMinute: c.LEDGER_RATE_LIMIT_PER_MINUTE,
    reconcileIntervalMs: c.LEDGER_RECONCILE_INTERVAL_MS,
    settlementStuckMs: c.LEDGER_SETTLEMENT_STUCK_MS,
    settleWindowSeconds: c.LEDGER_SETTLE_WINDOW_SECONDS,
    maxOrderMicroRtc: c.LEDGER_MAX_ORDER_RTC,
    corsOrigins: (c.LEDGER_CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    logLevel: c.LOG_LEVEL,
    // Operator experience (issue 12 part 4). An empty NO_COLOR is no NO_COLOR (dropped above), as the convention says.
    logFormat: c.LOG_FORMAT,
    noColor: c.NO_COLOR !== undefined,
    ledgerUrl: c.LEDGER_URL ?? null,
    adminAuthFailuresPerMinute: c.LEDGER_ADMIN_AUTH_FAILURES_PER_MINUTE,
    sandboxPublic: c.LEDGER_SANDBOX_PUBLIC,
    trustedProxies: listOf(c.LEDGER_TRUSTED_PROXIES ?? ''),
    http: Object.freeze({
      requestTimeoutMs: c.LEDGER_HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: c.LEDGER_HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: c.LEDGER_HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionTimeoutMs: c.LEDGER_HTTP_CONNECTION_TIMEOUT_MS,
      maxRequestsPerSocket: c.LEDGER_HTTP_MAX_REQUESTS_PER_SOCKET,
    }),
    startTimeoutMs: c.LEDGER_START_TIMEOUT_MS,
    maxOpenOrdersPerWallet: c.LEDGER_MAX_OPEN_ORDERS_PER_WALLET,
    matchCooldown: Object.freeze({ lapses: c.LEDGER_MATCH_COOLDOWN_LAPSES, seconds: c.LEDGER_MATCH_COOLDOWN_SECONDS }),
    leaseHeartbeatTimeoutMs: c.LEDGER_LEASE_HEARTBEAT_MS,
    readModelWriter: c.LEDGER_READ_MODEL_WRITER,
  });
}

type ParsedConfig = z.infer<typeof ConfigSchema>;

/**
 * perimeter (issue 10): settings that are each valid alone but unsafe or unusable together. Each
 * refusal is one line naming the variable to change, so start-up fails instead of the first order.
 */
function checkCombinations(c: ParsedConfig): void {
  const refuse = (message: string): never => {
    throw new ConfigError(`invalid configuration: ${message}`);
  };
  if (c.RUSTCHAIN_NODE !== undefined && !isTransportAllowed(c.RUSTCHAIN_NODE, c.RUSTCHAIN_ALLOW_INSECURE)) {
    refuse('RUSTCHAIN_NODE must be https, or plain http to a loopback host; the admin key would cross the network in clear (set RUSTCHAIN_ALLOW_INSECURE=1 to allow it anyway)');
  }
  if (c.RUSTCHAIN_NODE === undefined && !isLoopbackHost(c.HOST) && !c.LEDGER_SANDBOX_PUBLIC) {
    refuse(`HOST ${c.HOST} is not a loopback address and RUSTCHAIN_NODE is unset: the embedded sandbox node and its /__sandbox/ controls (which fund wallets) would be reachable from the network; set RUSTCHAIN_NODE, bind HOST=127.0.0.1, or set LEDGER_SANDBOX_PUBLIC=1 to expose the sandbox deliberately`);
  }
  if (c.EVENTSTORE_CONNECTION_STRING !== undefined && !/^esdb(\+discover)?:\/\/[^\s/?#]+/i.test(c.EVENTSTORE_CONNECTION_STRING)) {
    refuse('EVENTSTORE_CONNECTION_STRING must look like esdb://host:2113?tls=false (or esdb+discover://)');
  }
  const minStuckMs = RELEASE_NODE_CALLS * c.LEDGER_NODE_TIMEOUT_MS;
  if (c.LEDGER_SETTLEMENT_STUCK_MS < minStuckMs) {
    refuse(`LEDGER_SETTLEMENT_STUCK_MS must be at least ${minStuckMs} (a whole release: ${RELEASE_NODE_CALLS} node calls at LEDGER_NODE_TIMEOUT_MS), or the reconciler would take over releases still running`);
  }
  if (c.LEDGER_HTTP_HEADERS_TIMEOUT_MS > c.LEDGER_HTTP_REQUEST_TIMEOUT_MS) {
    refuse('LEDGER_HTTP_HEADERS_TIMEOUT_MS must not exceed LEDGER_HTTP_REQUEST_TIMEOUT_MS');
  }
  if (c.LEDGER_TRUST_PROXY && c.LEDGER_TRUSTED_PROXIES === undefined) {
    refuse('LEDGER_TRUST_PROXY trusted any address as a proxy and is replaced: list the proxies in LEDGER_TRUSTED_PROXIES (addresses or CIDRs, e.g. 10.0.0.5,10.1.0.0/16)');
  }
}

// ── Quote chain (issue 11, quote-chain.md): read by loadQuoteChainConfig only, not yet part of Config. ──

const evmAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be 0x and 40 hex digits');
const QuoteChainSchema = z.object({
  LEDGER_QUOTE_CHAIN: z.enum(['sandbox', 'evm', 'manual']).default('sandbox'),
  LEDGER_EVM_RPC_URL: z.string().url().optional(),
  LEDGER_EVM_CHAIN_ID: int(1, 2_147_483_647).optional(),
  LEDGER_HTLC_CONTRACT: evmAddress.optional(),
  LEDGER_HTLC_CODE_HASH: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x and 64 hex digits (keccak256 of the runtime code)').optional(),
  LEDGER_USDC_TOKEN: evmAddress.optional(),
  LEDGER_EVM_FINALITY: z.string().trim().regex(/^(finalized|[1-9]\d{0,3})$/, 'must be "finalized" or a number of confirmations from 1 to 9999').optional(),
  // The first block a fresh follower (and the final look-up) reads in evm mode: the HTLC's deployment
  // block, so a follower does not scan a real chain's whole history from block 0.
  LEDGER_EVM_START_BLOCK: z.string().trim().regex(/^(0|[1-9]\d{0,15})$/, 'must be a block number (digits, no sign)').optional(),
  LEDGER_QUOTE_LOCK_WINDOW_SECONDS: int(60, 86_400).default(1_800),
  // From the contract's 1 h minimum to its 7-day maximum.
  LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS: int(3_600, 604_800).default(14_400),
  LEDGER_QUOTE_CLAIM_GUARD_SECONDS: int(0, 86_400).default(1_800),
  LEDGER_ESCROW_RELEASE_SLACK_SECONDS: int(0, 1_209_600).default(172_800),
  LEDGER_QUOTE_OBSERVE_MARGIN_SECONDS: int(0, 1_209_600).default(7_200),
});

/** How blocks become final: the chain's `finalized` tag, or N confirmations (1 = the head). */
export type QuoteChainFinality = Finality;

export type QuoteChainConfig = Readonly<{
  mode: 'sandbox' | 'evm' | 'manual';
  /** Only for `evm`: every address and id of the real chain. */
  evm: Readonly<{
    rpcUrl: string;
    chainId: number;
    htlcContract: string;
    htlcCodeHash: string;
    usdcToken: string | null;
    finality: QuoteChainFinality;
    /** LEDGER_EVM_START_BLOCK: where a follower with no checkpoint starts (default 0). */
    startBlock: bigint;
  }> | null;
  /** `sandbox` finality: 1 confirmation unless LEDGER_EVM_FINALITY says otherwise. */
  sandboxFinality: QuoteChainFinality;
  lockWindowSeconds: number;
  claimWindowMaxSeconds: number;
  claimGuardSeconds: number;
  escrowReleaseSlackSeconds: number;
  observeMarginSeconds: number;
}>;

const finalityOf = (value: string | undefined, fallback: QuoteChainFinality): QuoteChainFinality =>
  value === undefined ? fallback : value === 'finalized' ? { kind: 'tag' } : { kind: 'confirmations', count: Number(value) };

/** The quote-chain settings (the only reader of their variables); a bad or missing value stops start-up. */
export function loadQuoteChainConfig(env: NodeJS.ProcessEnv = process.env): QuoteChainConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = QuoteChainSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid configuration: ${String(issue?.path[0] ?? 'environment')} ${issue?.message ?? 'is invalid'}`);
  }
  const c = parsed.data;
  let evm: QuoteChainConfig['evm'] = null;
  if (c.LEDGER_QUOTE_CHAIN === 'evm') {
    const missing = (['LEDGER_EVM_RPC_URL', 'LEDGER_EVM_CHAIN_ID', 'LEDGER_HTLC_CONTRACT', 'LEDGER_HTLC_CODE_HASH'] as const).find((name) => c[name] === undefined);
    if (missing) throw new ConfigError(`invalid configuration: ${missing} is required when LEDGER_QUOTE_CHAIN=evm`);
    evm = Object.freeze({
      rpcUrl: c.LEDGER_EVM_RPC_URL as string,
      chainId: c.LEDGER_EVM_CHAIN_ID as number,
      htlcContract: c.LEDGER_HTLC_CONTRACT as string,
      htlcCodeHash: (c.LEDGER_HTLC_CODE_HASH as string).toLowerCase(),
      usdcToken: c.LEDGER_USDC_TOKEN ?? null,
      finality: finalityOf(c.LEDGER_EVM_FINALITY, { kind: 'tag' }),
      startBlock: BigInt(c.LEDGER_EVM_START_BLOCK ?? '0'),
    });
  }
  if (c.LEDGER_QUOTE_CLAIM_GUARD_SECONDS >= c.LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS) {
    throw new ConfigError('invalid configuration: LEDGER_QUOTE_CLAIM_GUARD_SECONDS must be shorter than LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS');
  }
  return Object.freeze({
    mode: c.LEDGER_QUOTE_CHAIN,
    evm,
    sandboxFinality: finalityOf(c.LEDGER_EVM_FINALITY, { kind: 'confirmations', count: 1 }),
    lockWindowSeconds: c.LEDGER_QUOTE_LOCK_WINDOW_SECONDS,
    claimWindowMaxSeconds: c.LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS,
    claimGuardSeconds: c.LEDGER_QUOTE_CLAIM_GUARD_SECONDS,
    escrowReleaseSlackSeconds: c.LEDGER_ESCROW_RELEASE_SLACK_SECONDS,
    observeMarginSeconds: c.LEDGER_QUOTE_OBSERVE_MARGIN_SECONDS,
  });
}
