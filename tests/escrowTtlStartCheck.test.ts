import { describe, expect, it } from 'vitest';
import { loadQuoteChainConfig } from '../src/config.js';
import { MAX_JOB_TTL_SECONDS } from '../src/gateways/node.js';
import { escrowTailSeconds, escrowTtlSeconds, maxOrderTtlSecondsFor, quoteTailSecondsFor } from '../src/settlement/steps.js';
import { checkEscrowOutlivesQuoteLeg } from '../src/startChecks.js';
import { refusalOf as refusal } from './support/configRefusal.js';

/**
 * The escrow job outlives every accepted T by the release slack (quote-chain.md, windows): in a
 * chain-verified mode the job's TTL covers the order TTL, the quote lock window, the longest claim
 * window and the slack; a configuration where no order could fit the node's 30-day cap is refused.
 */

describe('escrow TTL against the quote leg', () => {
  it('with the defaults the longest chain order TTL is 2,399,400 s, and its job still outlives the latest T by the slack', () => {
    const qc = loadQuoteChainConfig({ LEDGER_QUOTE_CHAIN: 'sandbox' });
    const tail = escrowTailSeconds(86_400, quoteTailSecondsFor(qc));
    const longest = maxOrderTtlSecondsFor(tail);
    expect(longest).toBe(MAX_JOB_TTL_SECONDS - (1800 + 14_400 + 172_800) - 3600);
    const jobTtl = escrowTtlSeconds(longest, tail);
    expect(jobTtl).toBeLessThanOrEqual(MAX_JOB_TTL_SECONDS);
    // A match just before expires_at, a lock at lock_by with the longest timelock: T, then the slack, then the job's end.
    const latestT = longest + qc.lockWindowSeconds + qc.claimWindowMaxSeconds;
    expect(latestT + qc.escrowReleaseSlackSeconds).toBeLessThanOrEqual(jobTtl);
  });

  it('manual mode keeps the settle window as the only tail', () => {
    expect(escrowTailSeconds(86_400, 0)).toBe(86_400);
    expect(maxOrderTtlSecondsFor(escrowTailSeconds(86_400))).toBe(2_502_000);
  });

  it('passes the defaults in sandbox mode and anything in manual mode', () => {
    expect(refusal(() => checkEscrowOutlivesQuoteLeg({ settleWindowSeconds: 86_400 }, loadQuoteChainConfig({ LEDGER_QUOTE_CHAIN: 'sandbox' })))).toBe('no error');
    const huge = { LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS: '604800', LEDGER_ESCROW_RELEASE_SLACK_SECONDS: '1209600', LEDGER_QUOTE_LOCK_WINDOW_SECONDS: '86400' };
    expect(refusal(() => checkEscrowOutlivesQuoteLeg({ settleWindowSeconds: 86_400 }, loadQuoteChainConfig({ LEDGER_QUOTE_CHAIN: 'manual', ...huge })))).toBe('no error');
  });

  // The variables' own bounds (config.ts) keep the sum under the node's cap today, so the refusal is
  // reached with a config object beyond them: the check still guards any later widening of a bound.
  const sandboxWith = (slack: number) => ({ ...loadQuoteChainConfig({ LEDGER_QUOTE_CHAIN: 'sandbox' }), escrowReleaseSlackSeconds: slack });

  it('refuses a chain config where no order TTL of an hour fits the node\'s cap, naming the variables', () => {
    const message = refusal(() => checkEscrowOutlivesQuoteLeg({ settleWindowSeconds: 86_400 }, sandboxWith(2_590_000)));
    expect(message).toMatch(/^invalid configuration: LEDGER_QUOTE_LOCK_WINDOW_SECONDS \+ LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS \+ LEDGER_ESCROW_RELEASE_SLACK_SECONDS/);
  });

  it('the boundary: a tail leaving exactly one hour passes, one second more is refused', () => {
    const fits = MAX_JOB_TTL_SECONDS - 3600 - 3600 - 1800 - 14_400;
    const at = (slack: number) => refusal(() => checkEscrowOutlivesQuoteLeg({ settleWindowSeconds: 86_400 }, sandboxWith(slack)));
    expect(at(fits)).toBe('no error');
    expect(at(fits + 1)).toMatch(/^invalid configuration/);
  });
});
