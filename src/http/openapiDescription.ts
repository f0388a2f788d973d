/**
 * The OpenAPI description: api.md's conventions plus the choices this implementation made where
 * api.md leaves a detail open (api.md: "document it in the OpenAPI description").
 */
export const API_DESCRIPTION = `
Event-sourced settlement ledger for OTC RTC trades with escrow. JSON in, JSON out, snake_case.

**Errors** are \`{"ok": false, "error": "<code>", "message": "<sentence>"}\`; a 5xx never carries detail.
Validation codes are checked in the order api.md lists them, and the first one found is answered.

**Choices where api.md leaves a detail open**
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
- \`GET /api/orders/:id\` and its history read the order's own stream, so they are always current;
  \`min_position\` is validated there and already satisfied. Listing, book, trades, stats and recovery
  read the projections and wait for \`min_position\` up to 5 s, else 503 \`read_model_lagging\`.
- \`POST /api/orders/:id/confirm\` when the release or payout outcome is still unknown (status \`settling\`)
  answers 202 \`settled: false\`, like a queued payout: the reconciler finishes it.
- \`POST /api/orders\` answering 202 (\`escrow_pending\`) still carries the generated \`htlc_secret\`: it is the
  only time the seller can get it.
- \`If-Match\` takes \`"3"\`, \`W/"3"\` or \`3\`; \`*\` means no check; anything else is 400 \`if_match_invalid\`.
- **Idempotency-Key** (1..255 visible ASCII characters, else 400 \`idempotency_key_invalid\`) is scoped to
  the signing wallet (the body's \`wallet\` on a signed request), the method and the path: another wallet
  using the same key has a key of its own. "Same body" means byte-identical JSON. The claim is taken after
  validation, so a refused body is never stored. Every answer the route gives is stored and replayed,
  including 4xx and the 502 settlement outcomes, except 401 wallet-auth refusals (they prove nothing about
  the wallet, so they must not occupy its key); other 5xx are forgotten so a retry runs again. Stored answers
  are encrypted at rest (they may hold a generated preimage) and kept 48 h. A claim left without an answer
  for twice the settlement lease, 2 × max(60 s, 16 × \`LEDGER_NODE_TIMEOUT_MS\`) (480 s with the default
  15 s), is taken to be from a crashed process and may be taken over; until then a repeat is 409
  \`idempotency_key_in_flight\`.
- The rate limit applies to \`POST /api/orders\`, \`/match\`, \`/confirm\` and \`/cancel\`, per minute per client
  address; a replayed Idempotency-Key request also counts.
- \`X-Request-Id\` (8..128 of \`[A-Za-z0-9._:-]\`) is honoured, else a UUID is generated; it is echoed back and
  becomes the \`correlation_id\` of every event the request writes.
- \`GET /ready\` is 503 \`not_ready\` when the store does not answer or a read model is failed, stopped, or
  more than 1000 events behind.
- \`GET /admin/projections\` gives \`position\` as a string (a global position) and \`lag\` as a number.
`.trim();
