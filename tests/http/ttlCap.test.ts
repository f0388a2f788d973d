import { describe, expect, it } from 'vitest';
import { maxTtlSecondsFor, placeOrderBody } from '../../src/http/schemas/orders.js';
import { MAX_JOB_TTL_SECONDS } from '../../src/gateways/node.js';
import { escrowTtlSeconds } from '../../src/settlement/steps.js';

describe('order TTL cap: the escrow must outlive the order and its settle window', () => {
  it('is api.md\'s 2,502,000 s with the default 24 h settle window', () => {
    expect(maxTtlSecondsFor(86_400)).toBe(2_502_000);
  });

  it.each([3600, 86_400, 172_800, 604_800])('keeps the escrow TTL uncapped for the longest order with a %i s settle window', (settleWindowSeconds) => {
    const longest = maxTtlSecondsFor(settleWindowSeconds);
    const escrowTtl = escrowTtlSeconds(longest, settleWindowSeconds);
    expect(escrowTtl).toBe(longest + settleWindowSeconds + 3600);
    expect(escrowTtl).toBeLessThanOrEqual(MAX_JOB_TTL_SECONDS);
  });

  it('refuses a TTL beyond the cap with ttl_invalid when the settle window is long', () => {
    const schema = placeOrderBody(10_000_000_000n, maxTtlSecondsFor(604_800));
    const result = schema.safeParse({ side: 'sell', wallet: 'RTC' + 'a'.repeat(40), amount_rtc: '1', price_per_rtc: '1', ttl_seconds: 2_502_000, wallet_auth: {} });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toContain('ttl_invalid');
  });
});
