import type { MatchCooldown } from './app/matchCooldown.js';
import type { Config } from './config.js';
import { lapseTimes } from './projections/lapses.js';
import type { ReadModelRunner } from './projections/runner.js';

/**
 * LEDGER_MATCH_COOLDOWN_* over the lapses read model. A read first waits (briefly) for the model to
 * reach the store's head, so a lapse just decided is counted; a model out of service allows the match.
 */
export function matchCooldownFor(config: Config, runner: ReadModelRunner, headPosition: () => Promise<bigint>): MatchCooldown | null {
  if (config.matchCooldown.lapses === 0) return null;
  return {
    lapses: config.matchCooldown.lapses,
    cooldownSeconds: config.matchCooldown.seconds,
    async lapseTimes(who, sinceMs) {
      await runner.waitFor(await headPosition(), 2_000);
      return lapseTimes(runner.db, who, sinceMs);
    },
  };
}
