import { z } from 'zod';
import { parseDecimalUnits, RTC_DECIMALS } from './aggregates/order/money.js';
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

const hex32 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (32 bytes)');

const ConfigSchema = z.object({
  PORT: int(0, 65535).default(5580),
  HOST: z.string().min(1).default('127.0.0.1'),
  LEDGER_DATA_DIR: z.string().min(1).default('./data'),
  LEDGER_STORE: z.enum(['sqlite', 'esdb']).default('sqlite'),
  EVENTSTORE_CONNECTION_STRING: z.string().optional(),
  RUSTCHAIN_NODE: z.string().url().optional(),
  RC_ADMIN_KEY: z.string().optional(),
  RUSTCHAIN_ALLOW_INSECURE: flag.default(false),
  LEDGER_NODE_TIMEOUT_MS: int(1, 600_000).default(15_000),
  LEDGER_ADMIN_TOKEN: z.string().min(1).optional(),
  LEDGER_SECRET_KEY: hex32.optional(),
  LEDGER_RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(10),
  LEDGER_TRUST_PROXY: flag.default(false),
  LEDGER_RECONCILE_INTERVAL_MS: int(0, 86_400_000).default(10_000),
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
});

export type Config = Readonly<{
  port: number;
  host: string;
  dataDir: string;
  store: 'sqlite' | 'esdb';
  eventStoreConnectionString: string | null;
  rustchainNode: string | null;
  rcAdminKey: string | null;
  rustchainAllowInsecure: boolean;
  nodeTimeoutMs: number;
  adminToken: string | null;
  secretKeyHex: string | null;
  rateLimitPerMinute: number;
  trustProxy: boolean;
  reconcileIntervalMs: number;
  settlementStuckMs: number;
  settleWindowSeconds: number;
  maxOrderMicroRtc: bigint;
  corsOrigins: readonly string[];
  logLevel: string;
}>;

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
  return Object.freeze({
    port: c.PORT,
    host: c.HOST,
    dataDir: c.LEDGER_DATA_DIR,
    store: c.LEDGER_STORE,
    eventStoreConnectionString: c.EVENTSTORE_CONNECTION_STRING ?? null,
    rustchainNode: c.RUSTCHAIN_NODE ?? null,
    rcAdminKey: c.RC_ADMIN_KEY ?? null,
    rustchainAllowInsecure: c.RUSTCHAIN_ALLOW_INSECURE,
    nodeTimeoutMs: c.LEDGER_NODE_TIMEOUT_MS,
    adminToken: c.LEDGER_ADMIN_TOKEN ?? null,
    secretKeyHex: c.LEDGER_SECRET_KEY ?? null,
    rateLimitPerMinute: c.LEDGER_RATE_LIMIT_PER_MINUTE,
    trustProxy: c.LEDGER_TRUST_PROXY,
    reconcileIntervalMs: c.LEDGER_RECONCILE_INTERVAL_MS,
    settlementStuckMs: c.LEDGER_SETTLEMENT_STUCK_MS,
    settleWindowSeconds: c.LEDGER_SETTLE_WINDOW_SECONDS,
    maxOrderMicroRtc: c.LEDGER_MAX_ORDER_RTC,
    corsOrigins: (c.LEDGER_CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    logLevel: c.LOG_LEVEL,
  });
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
