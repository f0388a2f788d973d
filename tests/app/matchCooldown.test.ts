import { describe, expect, it } from 'vitest';
import { checkMatchCooldown, cooldownEndMs, MatchCooldownActive, type MatchCooldown } from '../../src/app/matchCooldown.js';
import { loadConfig } from '../../src/config.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const NOW = new Date('2026-01-02T00:00:00.000Z');

describe('cooldownEndMs: the lapses-th lapse within 24 h starts a cool-down', () => {
  it('starts at the lapse that makes the count, and lasts the configured time from it', () => {
    expect(cooldownEndMs([0, 10 * HOUR_MS], 2, 3600)).toBe(10 * HOUR_MS + HOUR_MS);
    expect(cooldownEndMs([0, 10 * HOUR_MS, 11 * HOUR_MS], 3, 60)).toBe(11 * HOUR_MS + 60_000);
  });

  it('does not start below the count, nor for lapses more than a day apart, nor when the rule is off', () => {
    expect(cooldownEndMs([0], 2, 3600)).toBeNull();
    expect(cooldownEndMs([0, DAY_MS], 2, 3600)).toBeNull();
    expect(cooldownEndMs([0, 1], 0, 3600)).toBeNull();
  });
});

describe('checkMatchCooldown', () => {
  const rule = (times: Record<string, number[]>): MatchCooldown => ({
    lapses: 2, cooldownSeconds: 86_400,
    lapseTimes: async (who) => times[who.wallet ?? who.ethAddress ?? ''] ?? [],
  });
  const parties = [{ wallet: 'rtcwallet', ethAddress: '0xaddr' }];
  const now = () => NOW;

  it('refuses while the wallet or the address is cooling down (match_cooldown), with the end of it', async () => {
    const lapses = [NOW.getTime() - 2 * HOUR_MS, NOW.getTime() - HOUR_MS];
    const byWallet = await checkMatchCooldown({ now, matchCooldown: rule({ rtcwallet: lapses }) }, parties).catch((e: unknown) => e);
    expect(byWallet).toBeInstanceOf(MatchCooldownActive);
    expect((byWallet as MatchCooldownActive).code).toBe('match_cooldown');
    expect((byWallet as MatchCooldownActive).until.getTime()).toBe(NOW.getTime() - HOUR_MS + DAY_MS);
    await expect(checkMatchCooldown({ now, matchCooldown: rule({ '0xaddr': lapses }) }, parties)).rejects.toBeInstanceOf(MatchCooldownActive);
  });

  it('allows one lapse, a cool-down that has ended, no rule, and a read model out of service', async () => {
    await expect(checkMatchCooldown({ now, matchCooldown: rule({ rtcwallet: [NOW.getTime() - HOUR_MS] }) }, parties)).resolves.toBeUndefined();
    const old = [NOW.getTime() - 3 * DAY_MS, NOW.getTime() - 3 * DAY_MS + HOUR_MS];
    await expect(checkMatchCooldown({ now, matchCooldown: rule({ rtcwallet: old }) }, parties)).resolves.toBeUndefined();
    await expect(checkMatchCooldown({ now, matchCooldown: null }, parties)).resolves.toBeUndefined();
    const down: MatchCooldown = { lapses: 1, cooldownSeconds: 60, lapseTimes: async () => null };
    await expect(checkMatchCooldown({ now, matchCooldown: down }, parties)).resolves.toBeUndefined();
  });
});

describe('LEDGER_MATCH_COOLDOWN_*', () => {
  it('defaults to 3 lapses a day and a day of cool-down; 0 lapses turns it off; a bad value stops start-up', () => {
    expect(loadConfig({}).matchCooldown).toEqual({ lapses: 3, seconds: 86_400 });
    expect(loadConfig({ LEDGER_MATCH_COOLDOWN_LAPSES: '0', LEDGER_MATCH_COOLDOWN_SECONDS: '600' }).matchCooldown).toEqual({ lapses: 0, seconds: 600 });
    expect(() => loadConfig({ LEDGER_MATCH_COOLDOWN_SECONDS: '1' })).toThrow(/LEDGER_MATCH_COOLDOWN_SECONDS/);
  });
});
