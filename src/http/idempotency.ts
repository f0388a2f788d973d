import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SecretBox } from '../crypto/preimage.js';
import { ApiError } from './errorMap.js';
import { currentHolder, decodeHolder, encodeHolder, holderFor, isProvablyGone, lockDirFor, type LeaseHolder } from '../settlement/leaseHolder.js';

/**
 * One Idempotency-Key use: the key is scoped to the wallet that signs the request ("" for a
 * request no wallet signs), and to the method and path it was sent with. Without the wallet, keys
 * were global: one client could burn another's key, or learn that it had been used.
 */
export interface IdempotencyScope {
  readonly key: string;
  /** The signing wallet, lowercase; "" when the request is not wallet-signed. */
  readonly wallet: string;
  readonly method: string;
  readonly path: string;
}

export interface StoredAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type BeginResult =
  | { readonly kind: 'started' }
  | { readonly kind: 'replay'; readonly answer: StoredAnswer }
  | { readonly kind: 'reused' }
  | { readonly kind: 'in_flight' };

export interface IdempotencyStore {
  /** Claims the key for this body, or says why not. Atomic across processes sharing the file. */
  begin(scope: IdempotencyScope, fingerprint: string, nowMs: number): BeginResult;
  complete(scope: IdempotencyScope, answer: StoredAnswer): void;
  /** Forgets a claim whose request failed without an answer worth keeping (a 500), so a retry runs. */
  abandon(scope: IdempotencyScope): void;
  close(): void;
}

export interface IdempotencyOptions {
  /** A file in the data dir, or ':memory:' in tests. */
  readonly path: string;
  /** Answers can hold a just-generated preimage: with a box they are stored encrypted. */
  readonly box?: SecretBox;
  /** How long answers are kept; at least 24 h (api.md). Default 48 h. */
  readonly retentionMs?: number;
  /** A claim older than this without an answer is taken to be from a crashed process. Default 120 s. */
  readonly staleInFlightMs?: number;
  /** This process as the claims' holder; tests pass another to stand for a process that has died. */
  readonly holder?: LeaseHolder;
}

const DAY_MS = 86_400_000;

export function createIdempotencyStore(options: IdempotencyOptions): IdempotencyStore {
  const retentionMs = Math.max(options.retentionMs ?? 2 * DAY_MS, DAY_MS);
  const staleMs = options.staleInFlightMs ?? 120_000;
  const db: Db = new Database(options.path);
  // A new file gets 1 KiB pages: a claim (~300 bytes) then rewrites 1 KiB pages instead of 4 KiB
  // ones, and an answer's overflow chain wastes less. (Ignored by a file that already has pages.)
  db.pragma('page_size = 1024');
  db.pragma('busy_timeout = 5000');
  if (options.path !== ':memory:') db.pragma('journal_mode = WAL');
  migrate(db);
  // A claim names the process that made it (as leases do, see settlement/leaseHolder.ts): the claim
  // of a process proven gone is abandoned at once, not after staleInFlightMs.
  const lockDir = lockDirFor(options.path);
  const holder = encodeHolder(options.holder ?? holderFor(lockDir));
  const holderGone = (text: string | null): boolean => {
    const claimant = decodeHolder(text);
    return claimant !== null && isProvablyGone(claimant, currentHolder(), lockDir);
  };
  const where = 'key = ? AND wallet = ? AND method = ? AND path = ?';
  const find = db.prepare(`SELECT fingerprint, state, status, body, headers, created_at_ms, holder FROM ${TABLE} WHERE ${where}`);
  const claim = db.prepare(`INSERT OR REPLACE INTO ${TABLE} (key, wallet, method, path, fingerprint, state, created_at_ms, holder) VALUES (?, ?, ?, ?, ?, 'in_flight', ?, ?)`);
  const finish = db.prepare(`UPDATE ${TABLE} SET state = 'done', status = ?, body = ?, headers = ? WHERE ${where}`);
  const drop = db.prepare(`DELETE FROM ${TABLE} WHERE ${where} AND state = 'in_flight'`);
  const purge = db.prepare(`DELETE FROM ${TABLE} WHERE created_at_ms < ?`);
  const at = (scope: IdempotencyScope) => [scope.key, scope.wallet, scope.method, scope.path] as const;
  // A stored answer is bound to its own key's scope: it cannot be replayed under another.
  const binding = (scope: IdempotencyScope) => ({ purpose: 'idempotency_answer', key: scope.key, wallet: scope.wallet, method: scope.method, path: scope.path });
  const codec = answerCodec(options.box, binding);
  let begins = 0;

  type Row = { fingerprint: string; state: string; status: number | null; body: string | null; headers: string | null; created_at_ms: number; holder: string | null };
  const beginTx = db.transaction((scope: IdempotencyScope, fingerprint: string, nowMs: number): BeginResult => {
    // Bounded housekeeping: every 100 claims, drop what is past retention.
    if (begins++ % 100 === 0) purge.run(nowMs - retentionMs);
    const row = find.get(...at(scope)) as Row | undefined;
    const expired = row !== undefined && row.created_at_ms < nowMs - retentionMs;
    const abandoned = row !== undefined && row.state === 'in_flight' && (row.created_at_ms < nowMs - staleMs || holderGone(row.holder));
    if (row === undefined || expired || abandoned) {
      claim.run(...at(scope), fingerprint, nowMs, holder);
      return { kind: 'started' };
    }
    if (row.fingerprint !== fingerprint) return { kind: 'reused' };
    if (row.state === 'in_flight') return { kind: 'in_flight' };
    const headers = JSON.parse(row.headers ?? '{}') as Record<string, string>;
    return { kind: 'replay', answer: { status: row.status ?? 200, body: codec.decode(scope, row.body ?? ''), headers } };
  });

  return {
    begin: (scope, fingerprint, nowMs) => beginTx.immediate(scope, fingerprint, nowMs),
    complete(scope, answer) {
      finish.run(answer.status, codec.encode(scope, answer.body), JSON.stringify(answer.headers), ...at(scope));
    },
    abandon(scope) {
      drop.run(...at(scope));
    },
    close() {
      db.close();
    },
  };
}

/**
 * How an answer's body is stored. Compact (prefix "z1:", issue 14 lever 1: bytes written per trade):
 * the UTF-8 body deflated, then sealed by the box (or base64 without one): ~0.6 of the earlier
 * size, so a row fits one 1 KiB page instead of spilling to an overflow page. Rows stored before
 * keep their format and read as they were: with a box the sealed body (its bytes given to the box
 * as hex), without one the body's own text. An answer is JSON (or empty), so no earlier text starts
 * with "z1:", and no sealed one either ("v1:"/"v2:"). Compressing before sealing reveals nothing
 * through lengths: only the requester's own answer is in the row, and it was sent to the requester.
 */
const COMPACT_BODY = 'z1:';

function answerCodec(box: SecretBox | undefined, binding: (scope: IdempotencyScope) => Record<string, string>) {
  const sealPacked = (scope: IdempotencyScope, packed: Buffer): string => (box ? box.encrypt(packed.toString('hex'), binding(scope)) : packed.toString('base64'));
  const openPacked = (scope: IdempotencyScope, text: string): Buffer => (box ? Buffer.from(box.decrypt(text, binding(scope)), 'hex') : Buffer.from(text, 'base64'));
  const openEarlier = (scope: IdempotencyScope, text: string): string => (box ? Buffer.from(box.decrypt(text, binding(scope)), 'hex').toString('utf8') : text);
  return {
    encode: (scope: IdempotencyScope, body: string): string => COMPACT_BODY + sealPacked(scope, deflateRawSync(Buffer.from(body, 'utf8'))),
    decode: (scope: IdempotencyScope, stored: string): string => (stored.startsWith(COMPACT_BODY)
      ? inflateRawSync(openPacked(scope, stored.slice(COMPACT_BODY.length))).toString('utf8')
      : openEarlier(scope, stored)),
  };
}

const TABLE = 'idempotency_keys_by_wallet';

/**
 * The table keyed by wallet too. Rows of the earlier wallet-less table are carried over under the
 * unsigned scope (""): their bodies are not stored, so their wallet cannot be recovered; a
 * signed retry of one of them runs again and meets the signature's own one-use rule.
 */
function migrate(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (
    key TEXT NOT NULL, wallet TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, fingerprint TEXT NOT NULL,
    state TEXT NOT NULL, status INTEGER, body TEXT, headers TEXT, created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (key, wallet, method, path))`);
  const columns = db.prepare(`SELECT name FROM pragma_table_info('${TABLE}')`).all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === 'holder')) db.exec(`ALTER TABLE ${TABLE} ADD COLUMN holder TEXT`);
  // Checked inside the write transaction: processes sharing the file may start together.
  db.transaction(() => {
    const legacy = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'idempotency_keys'").get();
    if (legacy === undefined) return;
    db.exec(`INSERT OR IGNORE INTO ${TABLE} (key, wallet, method, path, fingerprint, state, status, body, headers, created_at_ms)
      SELECT key, '', method, path, fingerprint, state, status, body, headers, created_at_ms FROM idempotency_keys`);
    db.exec('DROP TABLE idempotency_keys');
  }).immediate();
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The raw JSON text, kept so a repeat can be compared byte for byte. */
    rawBody: string | null;
    idempotencyScope: IdempotencyScope | null;
  }
}

/** The wallet a signed body names (lowercase), or "" for a body without wallet_auth. */
export function signingWalletOf(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const { wallet, wallet_auth: auth } = body as { wallet?: unknown; wallet_auth?: unknown };
  return auth !== undefined && auth !== null && typeof wallet === 'string' ? wallet.toLowerCase() : '';
}

const isWalletAuthRefusal = (code: string | null): boolean =>
  code !== null && (code.startsWith('wallet_auth_') || code === 'wallet_must_be_native_rtc_address');

/** Headers of an answer that a replay must repeat. */
const REPLAYED_HEADERS = ['etag', 'content-type'] as const;

/**
 * Idempotency-Key on every POST, scoped to the signing wallet, method and path. The claim is taken
 * after validation (a refused body is never stored), the answer is stored as it is sent. Everything
 * the route decided is kept, including 4xx and the 502 settlement outcomes, which are facts; other
 * 5xx are forgotten so a retry runs, and so are wallet-auth refusals (see onSend).
 * "Same body" means byte-identical JSON: a client retry resends what it sent.
 */
export function installIdempotency(app: FastifyInstance, store: IdempotencyStore, now: () => Date): void {
  app.decorateRequest('idempotencyScope', null);
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || typeof key !== 'string') return;
    const scope: IdempotencyScope = { key, wallet: signingWalletOf(request.body), method: request.method, path: request.url.split('?')[0] ?? '' };
    const fingerprint = createHash('sha256').update(request.rawBody ?? '').digest('hex');
    const result = store.begin(scope, fingerprint, now().getTime());
    if (result.kind === 'reused') throw new ApiError('idempotency_key_reused', 'this Idempotency-Key was used with a different body');
    if (result.kind === 'in_flight') throw new ApiError('idempotency_key_in_flight', 'a request with this Idempotency-Key is still running');
    if (result.kind === 'started') {
      request.idempotencyScope = scope;
      return;
    }
    return reply.code(result.answer.status).headers({ ...result.answer.headers, 'idempotent-replayed': 'true' }).send(result.answer.body);
  });
  // An answer that never reached onSend (the client went away mid-flight) must not wedge the key.
  app.addHook('onResponse', async (request: FastifyRequest) => {
    if (request.idempotencyScope !== null) store.abandon(request.idempotencyScope);
  });
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const scope = request.idempotencyScope;
    if (scope === null) return payload;
    request.idempotencyScope = null;
    const status = reply.statusCode;
    // A wallet-auth refusal proved nothing about the wallet it names: kept under that wallet's
    // scope, anyone could burn the wallet's key by sending it with a bad signature first.
    if ((status >= 500 && status !== 502) || isWalletAuthRefusal(request.errorCode)) {
      store.abandon(scope);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name);
      if (typeof value === 'string') headers[name] = value;
    }
    store.complete(scope, { status, body: typeof payload === 'string' ? payload : '', headers });
    return payload;
  });
}
