/**
 * The RustChain adapter: NodeGateway over a pluggable transport, speaking exactly the endpoints and
 * bodies of rustchain-node.md. Amounts go out as floats the node reads back exactly (nodeAmounts.ts)
 * and come back in micro-RTC; every failure is an outcome (rustchainClient.ts), never an exception.
 */
import type { JobStatus } from './node.js';
import { BRIDGE_WORKER_WALLET, escrowJobTitle, MAX_JOB_TTL_SECONDS } from './node.js';
import type { EscrowJob, LockEscrowRequest, NodeGateway, NodeOutcome, TransferRequest, TransferResult } from './node.js';
import { toNodeRtc } from './nodeAmounts.js';
import { createUndiciTransport } from './transport.js';
import type { NodeTransport } from './transport.js';
import { createNodeExchange, errorText, okOutcome, rejectedOutcome, unknownOutcome } from './rustchainClient.js';
import type { NodeAlert, NodeAnswer, NodeExchange } from './rustchainClient.js';
import {
  JOB_STATUSES,
  parseBalanceAnswer,
  parseJobAnswer,
  readJobPageFor,
  parseLockAnswer,
  parsePendingAnswer,
  parseTransferAnswer,
} from './rustchainResponses.js';

export type { NodeAlert } from './rustchainClient.js';

/** The node's own page cap for `GET /agent/jobs`; a bigger page would look "short" and end the scan early. */
const NODE_JOB_PAGE_MAX = 100;
const DEFAULT_FIND_MAX_PAGES = 30;
/** The node ignores `offset` on the pending list, so one page of its maximum size is all there is. */
const PENDING_LIST_LIMIT = 500;

export interface RustchainGatewayOptions {
  readonly baseUrl: string;
  readonly adminKey: string;
  /** RUSTCHAIN_ALLOW_INSECURE: permits plain http to a non-loopback host. */
  readonly allowInsecure?: boolean;
  /** LEDGER_NODE_TIMEOUT_MS: bounds every request. */
  readonly timeoutMs: number;
  /** Defaults to undici over the network; the embedded sandbox passes its in-process transport. */
  readonly transport?: NodeTransport;
  readonly onAlert?: (alert: NodeAlert) => void;
  /** findJobByTitle: page size (at most the node's 100) and total page budget across all statuses. */
  readonly findPageSize?: number;
  readonly findMaxPages?: number;
}

export interface RustchainGateway extends NodeGateway {
  /** Releases the default transport's connections (nothing to do for an injected transport). */
  close(): Promise<void>;
}

export function createRustchainGateway(options: RustchainGatewayOptions): RustchainGateway {
  const ownTransport = options.transport ? null : createUndiciTransport({ connectTimeoutMs: options.timeoutMs });
  const exchange = createNodeExchange({
    baseUrl: options.baseUrl,
    adminKey: options.adminKey,
    allowInsecure: options.allowInsecure ?? false,
    timeoutMs: options.timeoutMs,
    transport: options.transport ?? (ownTransport as NodeTransport),
    onAlert: options.onAlert,
  });
  const scan = {
    pageSize: Math.max(1, Math.min(options.findPageSize ?? NODE_JOB_PAGE_MAX, NODE_JOB_PAGE_MAX)),
    maxPages: Math.max(1, options.findMaxPages ?? DEFAULT_FIND_MAX_PAGES),
  };
  const step = (jobId: string, name: string, body: unknown): Promise<NodeOutcome<void>> =>
    exchange({ method: 'POST', path: jobPath(jobId, `/${name}`), body }, () => undefined);
  return {
    lockEscrow: (request) => lockEscrow(exchange, request),
    getJob: (jobId) => exchange({ method: 'GET', path: jobPath(jobId) }, parseJobAnswer, jobNotFound),
    findJobByTitle: (title, accept, statuses) => findJobByTitle(exchange, title, scan, accept, statuses),
    claimJob: (jobId) => step(jobId, 'claim', { worker_wallet: BRIDGE_WORKER_WALLET }),
    deliverJob: (jobId, resultSummary) => step(jobId, 'deliver', { worker_wallet: BRIDGE_WORKER_WALLET, result_summary: resultSummary }),
    acceptJob: (jobId, posterWallet) => step(jobId, 'accept', { poster_wallet: posterWallet, rating: 5 }),
    cancelJob: (jobId, posterWallet) => step(jobId, 'cancel', { poster_wallet: posterWallet }),
    transfer: (request) => transfer(exchange, request),
    listPending: (wallet) =>
      exchange({ method: 'GET', path: '/pending/list', query: { miner_id: wallet, status: 'all', limit: String(PENDING_LIST_LIMIT) } }, parsePendingAnswer),
    balance: (wallet) => exchange({ method: 'GET', path: '/wallet/balance', query: { miner_id: wallet } }, parseBalanceAnswer),
    close: async () => {
      await ownTransport?.close();
    },
  };
}

const jobPath = (jobId: string, suffix = ''): string => `/agent/jobs/${encodeURIComponent(jobId)}${suffix}`;

/** Only the node's own "Job not found" means there is no job; a bare 404 (wrong base path, a proxy) does not. */
const jobNotFound = ({ status, json }: NodeAnswer): NodeOutcome<EscrowJob | null> | null =>
  status === 404 && errorText(json) === 'Job not found' ? okOutcome(null) : null;

function lockEscrow(exchange: NodeExchange, request: LockEscrowRequest): Promise<NodeOutcome<EscrowJob>> {
  const rewardRtc = toNodeRtc(request.amountMicroRtc);
  if (rewardRtc === null || request.amountMicroRtc <= 0n) return Promise.resolve(rejectedOutcome('amount_not_representable'));
  if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds <= 0 || request.ttlSeconds > MAX_JOB_TTL_SECONDS) {
    return Promise.resolve(rejectedOutcome('ttl_seconds_out_of_range'));
  }
  const title = escrowJobTitle(request.orderId, request.party);
  const body = {
    poster_wallet: request.posterWallet,
    title,
    description: `Escrow held by otc-ledger for OTC order ${request.orderId} (${request.party} leg).`,
    category: 'other',
    reward_rtc: rewardRtc,
    ttl_seconds: request.ttlSeconds,
    tags: ['otc_bridge', 'escrow'],
  };
  return exchange({ method: 'POST', path: '/agent/jobs', body }, (json) => parseLockAnswer(json, { title, posterWallet: request.posterWallet }));
}

/**
 * Pages through each status (open first: where a just-locked job is) until the title shows up. A short
 * page ends a status. Running out of page budget is `unknown`, never "absent": the job may be further on.
 */
async function findJobByTitle(
  exchange: NodeExchange,
  title: string,
  scan: { pageSize: number; maxPages: number },
  accept: (job: EscrowJob) => boolean = () => true,
  statuses: readonly JobStatus[] = JOB_STATUSES,
): Promise<NodeOutcome<EscrowJob | null>> {
  let pagesLeft = scan.maxPages;
  const readPage = readJobPageFor(title);
  for (const status of statuses) {
    for (let offset = 0; ; offset += scan.pageSize) {
      if (pagesLeft === 0) return unknownOutcome('find_scan_bound_reached');
      pagesLeft -= 1;
      const query = { status, category: 'other', limit: String(scan.pageSize), offset: String(offset) };
      const page = await exchange({ method: 'GET', path: '/agent/jobs', query }, readPage);
      if (page.kind !== 'ok') return page;
      // The page's first job with this title that `accept` takes, in page order.
      const found = page.value.matches.find(accept);
      if (found) return okOutcome(found);
      const { count, total } = page.value;
      if (count < scan.pageSize || (total !== null && offset + count >= total)) break;
    }
  }
  return okOutcome(null);
}

function transfer(exchange: NodeExchange, request: TransferRequest): Promise<NodeOutcome<TransferResult>> {
  const amountRtc = toNodeRtc(request.amountMicroRtc);
  if (amountRtc === null || request.amountMicroRtc <= 0n) return Promise.resolve(rejectedOutcome('amount_not_representable'));
  const body = {
    from_miner: BRIDGE_WORKER_WALLET,
    to_miner: request.toWallet,
    amount_rtc: amountRtc,
    reason: request.key,
    idempotency_key: request.key,
  };
  return exchange({ method: 'POST', path: '/wallet/transfer', body, admin: true }, parseTransferAnswer);
}

/** The status a `409 Job is not open (status: claimed)` style answer reports, for resuming release steps. */
export function conflictJobStatus(reason: string): string | null {
  const match = /\((?:status|current): (\w+)\)/.exec(reason);
  return match?.[1] ?? null;
}
