import { afterEach, describe, expect, it } from 'vitest';
import type { RunningLedger } from '../../src/main.js';
import { useChainAndProxy } from '../chain/support.js';
import { metricValue, startChainLedger, swapDesk } from './quoteChainLedger.js';
import { setSigningClockOffset, tempDir, until } from './support.js';

/**
 * The clock-drift alert (quote-chain.md): the ledger alerts, by log and metric, when its clock and the
 * chain head's time drift more than 60 s apart, and chain time still decides everything. The ledger's
 * clock is moved with its injected clock (hours ahead, hours behind), the chain's with
 * evm_increaseTime; in each case a whole swap plays exactly as with agreeing clocks.
 */

const env = useChainAndProxy();
const HOURS_3_MS = 3 * 3600 * 1000;
let ledger: RunningLedger | null = null;
const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(async () => {
  await ledger?.close();
  ledger = null;
  setSigningClockOffset(0);
  for (const d of dirs.splice(0)) d.remove();
});

async function start(offsetMs: number): Promise<RunningLedger> {
  const dir = tempDir('swap-clock');
  dirs.push(dir);
  // Signatures are judged on the ledger's clock: the parties sign on it.
  setSigningClockOffset(offsetMs);
  ledger = await startChainLedger(dir.path, { rpcUrl: env.proxy.url, chain: env.chain, start: { now: () => new Date(Date.now() + offsetMs) } });
  return ledger;
}

const driftSeries = () => `otc_ledger_quote_chain_clock_drift_seconds{chain_id="${env.chain.chainId}"}`;
const alertSeries = () => `otc_ledger_quote_follower_alerts_total{chain_id="${env.chain.chainId}",code="clock_drift"}`;

/** New blocks until the ledger has measured the drift on a fresh head; answers the drift it shows. */
async function untilDriftMeasured(l: RunningLedger): Promise<number> {
  await until(async () => {
    await env.chain.mine();
    return (await metricValue(l.url, driftSeries())) !== null;
  }, 'a drift measured', 20_000);
  return (await metricValue(l.url, driftSeries()))!;
}

/** A whole sell swap, claim on chain, no confirm: lock_by on chain time, the lock verified, the buyer paid. */
async function expectWholeSwap(l: RunningLedger): Promise<void> {
  const desk = swapDesk(() => l, () => env.chain);
  const trade = await desk.matched('sell', 'usdc');
  const chainNow = Number((await env.chain.latestBlock()).timestamp);
  const lockBySeconds = Date.parse(trade.quoteLeg.lock_by as string) / 1000;
  expect(Math.abs(lockBySeconds - (chainNow + 1_800))).toBeLessThan(30);
  const lock = await desk.lock(trade);
  await desk.untilEvent(trade.orderId, 'QuoteLockObserved');
  await desk.claim(trade, lock.swapId);
  await desk.untilEvent(trade.orderId, 'PayoutConfirmed');
  const events = await desk.historyOf(trade.orderId);
  expect(events.map((e) => e.type)).not.toContain('QuoteLockRejected');
  expect(events.filter((e) => e.type === 'PayoutQueued').map((e) => e.data.to)).toEqual([trade.buyer.wallet]);
  expect((await desk.orderOf(trade.orderId)).status).toBe('completed');
}

describe("the ledger's clock hours off the chain's", () => {
  it('stays quiet while the clocks agree', async () => {
    const l = await start(0);
    expect(Math.abs(await untilDriftMeasured(l))).toBeLessThanOrEqual(60);
    expect(await metricValue(l.url, alertSeries())).toBeNull();
    await expectWholeSwap(l);
  }, 60_000);

  it('three hours ahead (the ledger\'s clock): one alert, the drift in /metrics, and the swap unchanged', async () => {
    const l = await start(HOURS_3_MS);
    const drift = await untilDriftMeasured(l);
    expect(drift).toBeGreaterThan(3 * 3600 - 60);
    expect(drift).toBeLessThan(3 * 3600 + 60);
    expect(await metricValue(l.url, alertSeries())).toBe(1);
    await expectWholeSwap(l);
    expect(await metricValue(l.url, alertSeries())).toBe(1);
  }, 60_000);

  it('three hours behind (the ledger\'s clock): lock_by still counts from chain time, so the lock is valid', async () => {
    const l = await start(-HOURS_3_MS);
    const drift = await untilDriftMeasured(l);
    expect(drift).toBeLessThan(-3 * 3600 + 60);
    expect(await metricValue(l.url, alertSeries())).toBe(1);
    await expectWholeSwap(l);
  }, 60_000);

  // Last: anvil keeps the time travelled.
  it('three hours of time travel on the chain (evm_increaseTime): one alert, and the swap unchanged', async () => {
    const l = await start(0);
    await untilDriftMeasured(l);
    expect(await metricValue(l.url, alertSeries())).toBeNull();
    await env.chain.advanceTime(3 * 3600);
    await until(async () => {
      await env.chain.mine();
      return (await metricValue(l.url, alertSeries())) === 1;
    }, 'the drift alert', 20_000);
    expect(await metricValue(l.url, driftSeries())).toBeLessThan(-3 * 3600 + 60);
    await expectWholeSwap(l);
  }, 60_000);
});
