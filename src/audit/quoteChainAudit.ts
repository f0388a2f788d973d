/**
 * Every quote-chain observation an order recorded, checked against the chain (issue 11, item 10):
 * the log its key names (`chain id:tx hash:log index`) must be the HTLC's event of that kind, for that
 * swap, in that block, with that block's time; a lock's timelock and amount must be the log's, and
 * `getSwap` at that block must show the swap; a claim's on-chain preimage must hash to the order's
 * `htlc_hash`. An observation followed by its QuoteObservationReorged is not looked for (its log is
 * gone, and the order says so). Reads only. A chain that cannot be read is one finding, and the check stops there.
 */
import { sha256, type Hex } from 'viem';
import type { HtlcLog, QuoteChain } from '../gateways/quoteChain.js';
import type { RecordedEvent } from '../eventstore/types.js';
import type { Finding } from './findings.js';

export interface QuoteChainAudit {
  readonly chain: QuoteChain;
  /** The chain id the RPC must report, and every observation must name. */
  readonly chainId: number;
}

const EVENT_OF: Readonly<Record<string, HtlcLog['event']>> = {
  QuoteLockObserved: 'SwapCreated',
  QuoteLockRejected: 'SwapCreated',
  QuoteClaimObserved: 'SwapClaimed',
  QuoteRefundObserved: 'SwapRefunded',
};

/** Thrown when a read fails: the chain check stops with one finding instead of one per observation. */
class Unreachable extends Error {}

export interface ObservationChecker {
  check(stream: string, events: readonly RecordedEvent[]): Promise<Finding[]>;
}

/** One checker per verify run: block reads are cached across orders, and an unreachable chain is reported once. */
export function createObservationChecker(audit: QuoteChainAudit): ObservationChecker {
  const logsByBlock = new Map<bigint, readonly HtlcLog[]>();
  const timeByBlock = new Map<bigint, bigint>();
  let stopped = false;
  let chainIdChecked = false;
  const read = async <T>(what: string, outcome: Promise<{ kind: 'ok'; value: T } | { kind: 'rejected' | 'unknown'; reason: string }>): Promise<T> => {
    const answer = await outcome;
    if (answer.kind !== 'ok') throw new Unreachable(`${what}: ${answer.kind} ${answer.reason}`);
    return answer.value;
  };
  const logsAt = async (block: bigint) => {
    if (!logsByBlock.has(block)) logsByBlock.set(block, (await read(`logs of block ${block}`, audit.chain.htlcLogs({ fromBlock: block, toBlock: block }))).logs);
    return logsByBlock.get(block) ?? [];
  };
  const timeAt = async (block: bigint) => {
    if (!timeByBlock.has(block)) timeByBlock.set(block, (await read(`block ${block}`, audit.chain.blockByNumber(block)))?.timestampSeconds ?? -1n);
    return timeByBlock.get(block) ?? -1n;
  };
  const ctx = { audit, read, logsAt, timeAt };

  return {
    async check(stream, events) {
      if (stopped) return [];
      const findings: Finding[] = [];
      let htlcHash: string | null = null;
      try {
        if (!chainIdChecked && events.some((e) => EVENT_OF[e.type] !== undefined)) {
          const reported = await read('chain id', audit.chain.chainId());
          if (reported !== audit.chainId) throw new Unreachable(`the RPC reports chain ${reported}, not ${audit.chainId}`);
          chainIdChecked = true;
        }
        const reorgedAt = lastReorgs(events);
        for (const [index, event] of events.entries()) {
          if (typeof event.data.htlc_hash === 'string') htlcHash = event.data.htlc_hash;
          if (EVENT_OF[event.type] === undefined) continue;
          // Its log vanished in a reorganisation, and the order recorded so after it: nothing to find on the chain.
          if ((reorgedAt.get(String(event.data.key)) ?? -1) > index) continue;
          const problem = await checkObservation(ctx, event, htlcHash);
          if (problem !== null) findings.push({ kind: problem.kind, stream, version: Number(event.version), message: `${stream} v${event.version}: ${event.type} ${problem.message}` });
        }
      } catch (error) {
        if (!(error instanceof Unreachable)) throw error;
        stopped = true;
        findings.push({ kind: 'quote_chain_unreachable', message: `the quote chain could not be read (${error.message}); the remaining observations were not checked` });
      }
      return findings;
    },
  };
}

/** Each observation key a QuoteObservationReorged names, with the position of the last such event. */
function lastReorgs(events: readonly RecordedEvent[]): Map<string, number> {
  const at = new Map<string, number>();
  events.forEach((event, index) => {
    if (event.type === 'QuoteObservationReorged') at.set(String(event.data.key), index);
  });
  return at;
}

interface CheckContext {
  readonly audit: QuoteChainAudit;
  read<T>(what: string, outcome: Promise<{ kind: 'ok'; value: T } | { kind: 'rejected' | 'unknown'; reason: string }>): Promise<T>;
  logsAt(block: bigint): Promise<readonly HtlcLog[]>;
  timeAt(block: bigint): Promise<bigint>;
}

type Problem = { kind: 'quote_observation_missing' | 'quote_observation_mismatch'; message: string } | null;
const mismatch = (message: string): Problem => ({ kind: 'quote_observation_mismatch', message });

async function checkObservation(ctx: CheckContext, event: RecordedEvent, htlcHash: string | null): Promise<Problem> {
  const d = event.data as Record<string, unknown>;
  const [keyChain, txHash, logIndex] = String(d.key).split(':');
  if (Number(d.chain_id) !== ctx.audit.chainId || Number(keyChain) !== ctx.audit.chainId) {
    return mismatch(`names chain ${String(d.chain_id)}, but the configured quote chain is ${ctx.audit.chainId}`);
  }
  const block = BigInt(String(d.block_number));
  const log = (await ctx.logsAt(block)).find((l) => l.txHash.toLowerCase() === txHash?.toLowerCase() && String(l.logIndex) === logIndex);
  if (log === undefined) return { kind: 'quote_observation_missing', message: `names log ${String(d.key)} in block ${block}, which the chain does not have` };
  if (log.event !== EVENT_OF[event.type]) return mismatch(`names a ${log.event} log, not a ${EVENT_OF[event.type]}`);
  if (log.swapId.toLowerCase() !== String(d.swap_id).toLowerCase()) return mismatch(`names swap ${String(d.swap_id)}, the log is of swap ${log.swapId}`);
  const time = await ctx.timeAt(block);
  if (time.toString() !== String(d.block_time_seconds)) return mismatch(`says block ${block} has time ${String(d.block_time_seconds)}, the chain says ${time}`);
  if (log.event === 'SwapCreated') return checkLock(ctx, event, log, block);
  if (log.event === 'SwapClaimed' && htlcHash !== null && sha256(log.preimage).slice(2) !== htlcHash.toLowerCase().replace(/^0x/, '')) {
    return mismatch(`names a claim whose preimage does not hash to the order's htlc_hash`);
  }
  return null;
}

async function checkLock(ctx: CheckContext, event: RecordedEvent, log: HtlcLog & { event: 'SwapCreated' }, block: bigint): Promise<Problem> {
  const d = event.data as Record<string, unknown>;
  if (String(d.timelock_seconds) !== log.timelock.toString()) return mismatch(`has timelock ${String(d.timelock_seconds)}, the log ${log.timelock}`);
  if (event.type === 'QuoteLockObserved' && String(d.amount_base_units) !== log.amount.toString()) {
    return mismatch(`has amount ${String(d.amount_base_units)}, the log ${log.amount}`);
  }
  const swap = await ctx.read(`getSwap at block ${block}`, ctx.audit.chain.getSwap(log.swapId as Hex, block));
  if (swap === null) return mismatch(`names swap ${log.swapId}, which getSwap at block ${block} does not know`);
  if (swap.amount !== log.amount || swap.timelock !== log.timelock || swap.hashlock.toLowerCase() !== log.hashlock.toLowerCase()) {
    return mismatch(`names swap ${log.swapId}, whose terms at block ${block} differ from its log`);
  }
  return null;
}

