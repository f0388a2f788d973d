import type { LedgerDeps } from './deps.js';

/**
 * quote-chain.md, "Griefing": a buyer who takes orders and never locks the quote ties up each seller
 * for the lock window. Lapses are counted per wallet and per quote address (the lapses read model);
 * the `lapses`-th lapse within 24 h starts a cool-down of `cooldownSeconds`, during which that wallet
 * and that address are refused further matches (429 match_cooldown), as taker or as the maker of the
 * order being matched.
 */
export interface MatchCooldown {
  /** Lapses within a day that start a cool-down; 0 turns the rule off. */
  readonly lapses: number;
  readonly cooldownSeconds: number;
  /** Lapse times (ms, ascending) of a wallet or a quote address since `sinceMs`; null when the read model is out of service. */
  readonly lapseTimes: (who: { readonly wallet?: string; readonly ethAddress?: string }, sinceMs: number) => Promise<number[] | null>;
}

const DAY_MS = 86_400_000;

/**
 * 429 match_cooldown: too many lapses; matches are refused until `until`, which is
 * `retryAfterSeconds` (whole seconds, rounded up) after the clock that decided it.
 */
export class MatchCooldownActive extends Error {
  readonly code = 'match_cooldown';
  constructor(readonly until: Date, readonly retryAfterSeconds: number) {
    super(`too many matches lapsed without a quote lock; this wallet or quote address may match again from ${until.toISOString()}`);
    this.name = 'MatchCooldownActive';
  }
}

/**
 * The end of the latest cool-down these lapse times start, or null: a cool-down starts at a lapse
 * that is the `lapses`-th within 24 h (counting itself), and lasts `cooldownSeconds` from it.
 */
export function cooldownEndMs(timesMs: readonly number[], lapses: number, cooldownSeconds: number): number | null {
  if (lapses <= 0) return null;
  let end: number | null = null;
  for (let i = lapses - 1; i < timesMs.length; i++) {
    const at = timesMs[i] as number;
    const first = timesMs[i - lapses + 1] as number;
    if (at - first < DAY_MS) end = Math.max(end ?? 0, at + cooldownSeconds * 1000);
  }
  return end;
}

/** Refuses the match when the taker's or the maker's wallet or quote address is cooling down; allowed without the rule or its read model. */
export async function checkMatchCooldown(
  deps: Pick<LedgerDeps, 'matchCooldown' | 'now'>, parties: ReadonlyArray<{ readonly wallet: string; readonly ethAddress: string | null }>,
): Promise<void> {
  const rule = deps.matchCooldown;
  if (!rule || rule.lapses <= 0) return;
  const nowMs = deps.now().getTime();
  // Lapses that can still start a cool-down reaching now: the window plus the day before it.
  const sinceMs = nowMs - rule.cooldownSeconds * 1000 - DAY_MS;
  const keys = parties.flatMap((p) => [{ wallet: p.wallet }, ...(p.ethAddress ? [{ ethAddress: p.ethAddress }] : [])]);
  for (const who of keys) {
    const times = await rule.lapseTimes(who, sinceMs);
    const end = times === null ? null : cooldownEndMs(times, rule.lapses, rule.cooldownSeconds);
    // Measured on the ledger's own clock (the one that decided), so the client's clock does not matter.
    if (end !== null && nowMs < end) throw new MatchCooldownActive(new Date(end), Math.ceil((end - nowMs) / 1000));
  }
}
