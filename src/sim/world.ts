/**
 * The simulated world of one run: one event store, the sandbox node, a simulated clock and network,
 * and up to two ledger instances over that store, each built from the real use cases, driver and
 * reconciler. An instance can "crash" at an await point (a node call, an append) and is then dead:
 * nothing it does reaches the store or the node again, and its order leases die with it (the
 * SQLite leases' holder liveness), as after a SIGKILL. A restart builds a fresh instance over the
 * same store.
 */
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import type { LedgerDeps } from '../app/deps.js';
import { createLedger, type Ledger } from '../app/ledger.js';
import { createFinalLookUp } from '../app/finalLookUp.js';
import { createObservationSink, createOrderDirectory } from '../app/observeQuoteChain.js';
import type { QuoteLegDeps } from '../app/quoteLeg.js';
import { createChainFollower, type ChainFollower } from '../chain/follower.js';
import { createSecretBox, type SecretBox } from '../crypto/preimage.js';
import { verifyWalletAuth } from '../crypto/walletAuth.js';
import type { BlockRef } from '../gateways/quoteChain.js';
import type { AppendResult, EventStore, ExpectedVersion, NewEvent, RecordedEvent, Subscription, SubscriptionHandler } from '../eventstore/types.js';
import { createRustchainGateway, type RustchainGateway } from '../gateways/rustchain.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, EMBEDDED_SANDBOX_BASE_URL } from '../sandbox/index.js';
import type { Leases } from '../settlement/leases.js';
import type { StepReport } from '../settlement/driver.js';
import type { ChainTimeWatch } from '../settlement/chainTime.js';
import { reconcilePass, scanAllOrders, type ReconcileSummary } from '../settlement/reconciler.js';
import { SimCrash, simTransport, type SimNetworkOptions } from './network.js';
import type { Prng } from './prng.js';
import { SIM_CHAIN_ID, SIM_HTLC, SIM_USDC, type SimChain } from './simChain.js';

/** The simulated ledger's settings: short windows, so clock jumps cross expires_at and settle_by. */
export const SIM_SETTINGS = {
  nodeTimeoutMs: 2_000,
  leaseTtlMs: 60_000,
  stuckMs: 30_000,
  settleWindowSeconds: 1_800,
  secretKeyHex: '5e'.repeat(32),
  /** The quote leg's windows (LEDGER_QUOTE_*), short like the rest. */
  lockWindowSeconds: 1_800,
  claimWindowMaxSeconds: 7_200,
  claimGuardSeconds: 600,
  /** Matched and lapsed orders one reconciler pass considers on chain time (CHAIN_TIME_PER_PASS of src/main.ts). */
  chainTimePerPass: 200,
} as const;

/** One process's view: dead after a crash, when every store call and node call it makes fails. */
export class Instance {
  alive = true;
  constructor(
    readonly id: number,
    private readonly prng: Prng,
    /** Probability that one await point of this instance crashes it (0 once faults stop). */
    public crashRate: number,
    private readonly onCrash: (instance: Instance, where: string) => void,
  ) {}

  /** An await point: throws if the instance is dead, and may kill it here. */
  point(where: string): void {
    if (!this.alive) throw new SimCrash(where);
    if (this.crashRate > 0 && this.prng.chance(this.crashRate)) {
      this.alive = false;
      this.onCrash(this, where);
      throw new SimCrash(where);
    }
  }

  /** Only checks liveness: reads of a dead instance fail, but reads are no crash points of their own. */
  check(where: string): void {
    if (!this.alive) throw new SimCrash(where);
  }
}

/** The shared store as one instance sees it: its appends are crash points (before and after commit). */
export class InstanceStore implements EventStore {
  readonly name: string;
  constructor(private readonly inner: EventStore, private readonly instance: Instance) {
    this.name = inner.name;
  }

  async append(stream: string, events: readonly NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    this.instance.point('before an append');
    const result = await this.inner.append(stream, events, expected);
    this.instance.point('after an append');
    return result;
  }

  async readStream(stream: string, fromVersion?: bigint): Promise<RecordedEvent[]> {
    this.instance.check('a read');
    return this.inner.readStream(stream, fromVersion);
  }

  async readAll(afterPosition: bigint, maxCount: number): Promise<RecordedEvent[]> {
    this.instance.check('a read');
    return this.inner.readAll(afterPosition, maxCount);
  }

  async headPosition(): Promise<bigint> {
    this.instance.check('a read');
    return this.inner.headPosition();
  }

  async listStreams(prefix: string, afterPosition?: bigint, maxCount?: number): Promise<{ stream: string; position: bigint }[]> {
    this.instance.check('a read');
    return this.inner.listStreams(prefix, afterPosition, maxCount);
  }

  subscribeAll(afterPosition: bigint, handler: SubscriptionHandler): Subscription {
    return this.inner.subscribeAll(afterPosition, handler);
  }

  async close(): Promise<void> {
    // The store outlives the instance: a restart opens the same one.
  }
}

/**
 * Order leases every instance shares (like the SQLite lease file of one data dir). A lease whose
 * holder instance is dead is free at once: the holder liveness of src/settlement/leases.ts.
 */
export class SharedLeases {
  private readonly held = new Map<string, { owner: string; holder: Instance; expiresAtMs: number }>();

  viewFor(instance: Instance): Leases {
    return {
      acquire: (name, owner, ttlMs, nowMs) => {
        instance.check('a lease');
        const current = this.held.get(name);
        if (current && current.owner !== owner && current.holder.alive && current.expiresAtMs > nowMs) return false;
        this.held.set(name, { owner, holder: instance, expiresAtMs: nowMs + ttlMs });
        return true;
      },
      release: (name, owner) => {
        // A dead process releases nothing: its leases end because it is gone, not because it let go.
        if (!instance.alive) return;
        if (this.held.get(name)?.owner === owner) this.held.delete(name);
      },
      close: () => undefined,
    };
  }
}

export interface LedgerInstance {
  readonly instance: Instance;
  readonly ledger: Ledger;
  readonly gateway: RustchainGateway;
  /** The real chain follower of this instance, over the simulated quote chain. */
  readonly follower: ChainFollower;
  reconcile(stuckMs: number): Promise<ReconcileSummary>;
}

export interface WorldSources {
  readonly store: EventStore;
  readonly net: SimNetworkOptions;
  readonly leases: SharedLeases;
  readonly now: () => Date;
  readonly ids: Prng;
  /** Order ids, in order of creation (the escrow watch samples these). */
  readonly escrowWatchIds: () => Promise<readonly string[]>;
  /** Told of every order id handed out, before its order exists (a crash may leave it half-placed). */
  readonly onNewOrderId: (orderId: string) => void;
  /** Told of every external step a driver ran and its outcome (the trace). */
  readonly onStep: (instance: Instance, report: StepReport) => void;
  readonly chain: SimChain;
  /** The follower's tables (quote-chain.db of the data dir, shared by every instance). */
  readonly followerDb: Database.Database;
  /** The orders read model's answer (caught up first), as src/main.ts gives the follower. */
  readonly orderByHtlcHash: (htlcHash: string) => Promise<string | null>;
  /** A fresh walk of the matched and lapsed orders (the work queue, caught up first), as src/main.ts gives the reconciler. */
  readonly chainTimeCandidates: () => () => Promise<readonly string[]>;
}

type SimQuoteLeg = QuoteLegDeps & { finalized: { block: BlockRef | null } };

/** The quote leg of one instance, as quoteChainFromConfig builds it in sandbox mode: chain time is its own follower's last finalized block. */
function quoteLegOf(): SimQuoteLeg {
  const finalized = { block: null as BlockRef | null };
  return {
    mode: 'sandbox', chainId: SIM_CHAIN_ID, htlcAddress: SIM_HTLC, usdcToken: SIM_USDC,
    lockWindowSeconds: SIM_SETTINGS.lockWindowSeconds, claimWindowMaxSeconds: SIM_SETTINGS.claimWindowMaxSeconds,
    claimGuardSeconds: SIM_SETTINGS.claimGuardSeconds, finalizedTimeSeconds: () => finalized.block?.timestampSeconds ?? null, finalized,
  };
}

/** The follower wired as quoteChainFromConfig wires it: the real sink, directory and final look-up. */
function followerOf(sources: WorldSources, deps: LedgerDeps & { quoteLeg: SimQuoteLeg }, instance: Instance): ChainFollower {
  const directory = createOrderDirectory(deps, { orderByHtlcHash: sources.orderByHtlcHash });
  const sink = createObservationSink(deps, {
    onFinalized: (block) => {
      deps.quoteLeg.finalized.block = block;
    },
    finalLookup: { chain: sources.chain, fromBlock: 0n, directory },
  });
  return createChainFollower({
    chain: sources.chain, chainId: SIM_CHAIN_ID, db: sources.followerDb, directory, sink, leases: deps.leases,
    owner: `sim-instance-${instance.id}`, registry: new Registry(), startBlock: 0n, rescanDepthBlocks: 8n,
    now: () => sources.now().getTime(),
  });
}

/** A ledger instance built exactly as src/main.ts builds one, over the simulated store and network. */
export function buildInstance(sources: WorldSources, instance: Instance): LedgerInstance {
  const store = new InstanceStore(sources.store, instance);
  const transport = simTransport(sources.net, (where) => instance.point(where));
  const gateway = createRustchainGateway({
    baseUrl: EMBEDDED_SANDBOX_BASE_URL,
    adminKey: DEFAULT_SANDBOX_ADMIN_KEY,
    timeoutMs: SIM_SETTINGS.nodeTimeoutMs,
    transport,
  });
  const leases = sources.leases.viewFor(instance);
  const secretBox: SecretBox = createSecretBox(SIM_SETTINGS.secretKeyHex, (size) => sources.ids.bytes(size));
  const newEventId = (): string => sources.ids.uuid();
  const onStep = (report: StepReport): void => sources.onStep(instance, report);
  const quoteLeg = quoteLegOf();
  // The final look-up at this instance's last finalized block, as quoteChainFromConfig's finalLookUp builds it.
  const finalLookUp = createFinalLookUp({ store, quoteLeg }, { chain: sources.chain, fromBlock: 0n, finalizedBlock: () => quoteLeg.finalized.block });
  const deps: LedgerDeps & { quoteLeg: SimQuoteLeg } = {
    store, node: gateway, leases, secretBox,
    settleWindowSeconds: SIM_SETTINGS.settleWindowSeconds,
    leaseTtlMs: SIM_SETTINGS.leaseTtlMs,
    now: sources.now,
    newOrderId: () => {
      const orderId = `otc_${sources.ids.hex(8)}`;
      sources.onNewOrderId(orderId);
      return orderId;
    },
    newEventId,
    randomBytes: (size) => sources.ids.bytes(size),
    verifySignature: verifyWalletAuth,
    onStep,
    quoteLeg,
    finalLookUp,
  };
  const chainTime: ChainTimeWatch = { candidates: sources.chainTimeCandidates(), finalizedTimeSeconds: quoteLeg.finalizedTimeSeconds, lookUp: finalLookUp };
  const ledger = createLedger(deps);
  return {
    instance, ledger, gateway, follower: followerOf(sources, deps, instance),
    reconcile: (stuckMs) =>
      reconcilePass({
        store, node: gateway, leases,
        settleWindowSeconds: SIM_SETTINGS.settleWindowSeconds,
        leaseTtlMs: SIM_SETTINGS.leaseTtlMs,
        stuckMs, now: sources.now,
        candidates: scanAllOrders({ store }),
        escrowWatch: sources.escrowWatchIds,
        chainTime,
        finalLookUp,
        newPassId: () => sources.ids.hex(8),
        newEventId,
        onStep,
      }),
  };
}
