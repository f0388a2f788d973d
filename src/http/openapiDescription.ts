import { AUTH_WINDOW_SECONDS } from '../crypto/walletAuth.js';
import { WORKED_PLACE } from './schemas/examples.js';
import { WALLET_AUTH_CODES } from './schemas/operations.js';

/**
 * The signing rules, written once for both the WalletAuth schema and the document's description.
 * docs/PROTOCOL.md says the same in more words; tests/http/openapi.test.ts checks the worked example.
 */
const SIGNING_RULES = `
Each state-changing order call (place, match, confirm, cancel) carries \`wallet_auth\` in its JSON body:
\`{"public_key": <64 hex: the raw 32-byte Ed25519 public key>, "signature": <128 hex>, "timestamp": <integer Unix seconds>}\`.

- The **wallet** is \`"RTC"\` + the first 40 hex digits of sha256(the 32 public-key bytes).
- The **signed message** is the UTF-8 bytes of a JSON object with the keys \`action\`, \`order_id\`, \`timestamp\`,
  \`wallet\` and the action's bound fields, keys sorted by code point, no whitespace (\`JSON.stringify\` of the
  sorted object). \`wallet\` is exactly as sent in the body; \`timestamp\` is the one in \`wallet_auth\`; a bound
  field that was not sent is \`""\`.
- The **signature** is plain Ed25519 (RFC 8032, no pre-hash, no context) of those bytes.
- \`timestamp\` must be within ${AUTH_WINDOW_SECONDS} s of the server clock, and each signature is accepted once.

| action | order_id | bound fields |
|---|---|---|
| \`create_order\` | \`"create_order"\` | \`side\` (lowercase), \`pair\` (uppercase), \`amount_micro_rtc\`, \`price_per_rtc_nano_quote\` and \`ttl_seconds\` (JSON integers, default applied), \`eth_address\`, \`htlc_hash\` |
| \`match_order\` | the order id | \`eth_address\`, \`htlc_hash\` |
| \`cancel_order\` | the order id | none |
| \`confirm_settlement\` | the order id | \`quote_tx\`, \`secret_sha256\` (lowercase hex sha256 of the 32 preimage bytes) |

Refusals are 401, checked in this order: ${WALLET_AUTH_CODES.map((c) => `\`${c}\``).join(', ')}.
`.trim();

function workedExample(): string {
  const w = WORKED_PLACE;
  return `
**Worked example** (a development key: never fund it). Ed25519 seed \`${w.seedHex}\` gives public key
\`${w.publicKeyHex}\` and wallet \`${w.wallet}\`. Placing a sell order of 100 RTC at 0.1 USDC, TTL 604800 s,
at timestamp ${w.timestamp}, signs exactly these bytes:

\`\`\`
${w.message}
\`\`\`

and the signature is \`${w.signatureHex}\`.
`.trim();
}

export const WALLET_AUTH_SCHEMA: { type: 'object'; required: string[]; properties: Record<string, object>; description: string; examples: object[] } = {
  type: 'object',
  required: ['public_key', 'signature', 'timestamp'],
  properties: {
    public_key: { type: 'string', pattern: '^[0-9a-fA-F]{64}$', description: 'The raw 32-byte Ed25519 public key, hex' },
    signature: { type: 'string', pattern: '^[0-9a-fA-F]{128}$', description: 'Ed25519 signature of the canonical message, hex' },
    timestamp: { type: 'integer', description: `Unix seconds, within ${AUTH_WINDOW_SECONDS} s of the server clock` },
  },
  description: `${SIGNING_RULES}\n\n${workedExample()}`,
  examples: [{ public_key: WORKED_PLACE.publicKeyHex, signature: WORKED_PLACE.signatureHex, timestamp: WORKED_PLACE.timestamp }],
};

const CONVENTIONS = `
Event-sourced settlement ledger for OTC RTC trades with escrow. JSON in, JSON out, snake_case.
The protocol (statuses, events, the atomic swap, deadlines) is described in docs/PROTOCOL.md of the repository.

**Errors** are \`{"ok": false, "error": "<code>", "message": "<sentence>"}\`; a 5xx never carries detail.
Validation codes are checked in a fixed order (the order each route lists them), and the first one found is answered.
Each route lists the codes it can answer under the status they come with.

**Money** out is always a string: \`amount_rtc\` ("100.000000"), \`amount_micro_rtc\` ("100000000"), \`price_per_rtc\`
("0.100000000"), \`price_per_rtc_nano_quote\`, \`total_quote\`, \`total_quote_nano\`. Money in (\`amount_rtc\`,
\`price_per_rtc\`) is a decimal string or a JSON number, at most 6 and 9 decimals. Times are ISO-8601 UTC.

**Versions and positions**: every order has \`version\` (its event count), also sent as \`ETag: "<version>"\`.
A command with \`If-Match: "<version>"\` that no longer matches is 412 \`version_mismatch\` (\`"3"\`, \`W/"3"\` and \`3\`
are read alike; \`*\` means no check; anything else is 400 \`if_match_invalid\`). Commands answer \`position\`: pass it
as \`min_position\` to a read to see your write; reads of the read models wait up to 5 s for it, else 503
\`read_model_lagging\`. \`GET /api/orders/:id\` and its history read the order's own stream, so they are always current.
`.trim();

const CHOICES = `
**Details worth knowing**
- An unknown or malformed order id (not \`otc_\` + 16 hex) is 404 \`order_not_found\`, checked before the body.
- \`wallet\` missing, null, empty or not a string is 400 \`wallet_required\` on every POST that takes one;
  a string that is not \`RTC\` + 40 hex is 401 \`wallet_must_be_native_rtc_address\` (wallet auth).
- \`eth_address\` and \`htlc_hash\`: absent, null and "" all mean "not given".
- On match, \`eth_address\` may be either address form (the pair is the order's); \`htlc_hash\` on a sell
  order is 400 \`htlc_hash_not_allowed\`.
- A body that is not a JSON object, empty, or not JSON is 400 \`invalid_json\`. A \`text/plain\` body is read as
  a string, never parsed as JSON, so it is 400 \`invalid_json\` too, even when its text is a JSON object; any
  other content type is 415 \`unsupported_media_type\`; above 64 KiB is 413 \`payload_too_large\`.
- \`limit\`/\`offset\` take at most 15 digits; \`limit\` above 200 is capped, not refused.
- \`POST /api/orders/:id/confirm\` when the release or payout outcome is still unknown (status \`settling\`)
  answers 202 \`settled: false\`, like a queued payout: the reconciler finishes it.
- \`POST /api/orders/:id/confirm\` is open to either party with the preimage (the seller, or the buyer who read
  it on the quote chain); anyone else is 403 \`not_party\`. The payout always goes to the buyer. With the quote
  leg on a chain (\`quote_leg.mode\` \`sandbox\` or \`evm\`), the seller's confirm before a verified lock is 409
  \`quote_lock_missing\`, and any confirm from \`T\` minus the claim guard on, with no claim seen, is 409
  \`claim_window_closing\`; a claim seen on chain settles the order to the buyer with no confirm. A match on
  such a pair needs both quote addresses (400 \`eth_address_required\`). \`quote_leg\` is null in listings.
- \`POST /api/orders\` answering 202 (\`escrow_pending\`) still carries the generated \`htlc_secret\`: it is the
  only time the seller can get it.
- The rate limit (when configured) applies to \`POST /api/orders\`, \`/match\`, \`/confirm\` and \`/cancel\`, one budget
  per minute per client address; a replayed Idempotency-Key request also counts. Refusals are 429 \`rate_limited\`
  with \`Retry-After\`. A match refused during a cool-down (429 \`match_cooldown\`) also carries \`Retry-After\`: the
  seconds until \`cooldown_until\`, rounded up.
- \`If-Match\` takes \`"3"\`, \`W/"3"\` or \`3\`; \`*\` means no check; anything else is 400 \`if_match_invalid\`.
- \`X-Request-Id\` (8..128 of \`[A-Za-z0-9._:-]\`) is honoured, else a UUID is generated; it is echoed back and
  becomes the \`correlation_id\` of every event the request writes.
- \`GET /ready\` is 503 \`not_ready\` when the store does not answer or a read model is failed, stopped, or
  more than 1000 events behind.
- Admin endpoints need \`Authorization: Bearer <LEDGER_ADMIN_TOKEN>\` (compared in constant time).
  \`GET /admin/projections\` gives \`position\` as a string (a global position) and \`lag\` as a number.
`.trim();

const IDEMPOTENCY = `
**Idempotency-Key** (optional header on every POST; 1..255 visible ASCII characters, else 400 \`idempotency_key_invalid\`)
- The key is scoped to the signing wallet (the body's \`wallet\` on a signed request), the method and the path:
  another wallet using the same key, or the same key on another order, is another key.
- A repeat with the same key and a byte-identical JSON body gets the stored status, body and ETag again, with
  \`Idempotent-Replayed: true\`; nothing runs twice. The same key with a different body is 422 \`idempotency_key_reused\`;
  a repeat while the first request still runs is 409 \`idempotency_key_in_flight\` (retry after a moment).
- The claim is taken after validation, so a refused body is never stored. Every answer the route gives is stored
  and replayed, including 4xx and the 502 settlement outcomes (they are facts), except 401 wallet-auth refusals (they
  prove nothing about the wallet, so they must not occupy its key); other 5xx are forgotten, so a retry runs again.
  A claim left without an answer for twice the settlement lease, 2 × max(60 s, 16 × \`LEDGER_NODE_TIMEOUT_MS\`)
  (480 s with the default 15 s), may be taken over; at once when the process that made it is provably gone.
- Stored answers are encrypted at rest (they may hold a generated preimage) and kept 48 h (at least 24 h is promised).
`.trim();

/** The document's description: conventions, wallet auth with a worked example, idempotency, details. */
export function apiDescription(): string {
  return [CONVENTIONS, `**Wallet auth**\n\n${SIGNING_RULES}\n\n${workedExample()}`, IDEMPOTENCY, CHOICES].join('\n\n');
}
