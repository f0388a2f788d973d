import { z } from 'zod';
import { parseDecimalUnits, RTC_DECIMALS } from './aggregates/order/money.js';

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
  // Operator experience (issue 12 part 4): pino-pretty logs for a terminal, colour in the CLI's
  // tables unless NO_COLOR is set (https://no-color.org), and the ledger the demo talks to.
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  NO_COLOR: z.string().optional(),
  LEDGER_URL: z.string().url().optional(),
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
  // Operator experience (issue 12 part 4).
  logFormat: 'json' | 'pretty';
  noColor: boolean;
  ledgerUrl: string | null;
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
    // Operator experience (issue 12 part 4). An empty NO_COLOR is no NO_COLOR (dropped above), as the convention says.
    logFormat: c.LOG_FORMAT,
    noColor: c.NO_COLOR !== undefined,
    ledgerUrl: c.LEDGER_URL ?? null,
  });
}
