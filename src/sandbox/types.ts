import type { JobStatus, PayoutPhase } from '../gateways/node.js';

/** One request to the sandbox node, independent of how it arrived (HTTP or in-process). */
export interface SandboxRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** Lower-case header names. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  /** Parsed JSON, or the raw text (parsed here, so bad JSON gets the node's 400). */
  readonly body?: unknown;
}

export interface SandboxResponse {
  readonly status: number;
  readonly body: unknown;
}

/** 'drop': close the connection without answering. 'hang': never answer. */
export type SandboxReply = SandboxResponse | 'drop' | 'hang';

export const FAULT_MODES = ['error_500', 'reject_400', 'drop_before_effect', 'timeout_after_effect', 'hang'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** 'immediate': transfers confirm when queued; 'off': only through the control; a number: after that many ms. */
export type AutoConfirm = 'immediate' | 'off' | number;

export interface SandboxJob {
  readonly jobId: string;
  readonly posterWallet: string;
  workerWallet: string | null;
  readonly title: string;
  readonly description: string;
  readonly category: string;
  readonly rewardMicroRtc: bigint;
  readonly feeMicroRtc: bigint;
  status: JobStatus;
  resultSummary: string | null;
  readonly tags: readonly unknown[];
  /** Unix seconds, like the node. */
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Insertion order, for the node's `created_at DESC` tie-break within one second. */
  readonly seq: number;
  readonly log: Array<{ action: string; actor: string | null; createdAt: number }>;
}

export interface SandboxTransfer {
  readonly pendingId: number;
  readonly idempotencyKey: string | null;
  readonly fromWallet: string;
  readonly toWallet: string;
  readonly amountMicroRtc: bigint;
  readonly reason: string;
  phase: PayoutPhase;
  readonly txHash: string;
  readonly createdAtMs: number;
  /** When it confirms on its own; null when only the control confirms it. */
  readonly confirmsAtMs: number | null;
}

export interface SandboxNodeOptions {
  /** The X-Admin-Key the transfer endpoint requires. */
  readonly adminKey?: string;
  readonly autoConfirm?: AutoConfirm;
  /** The node's anti-spam limit on open/claimed/delivered jobs per poster (429 beyond it). */
  readonly maxActiveJobsPerPoster?: number;
  /** The clock, in ms since the epoch; tests pass a controllable one. */
  readonly now?: () => number;
}
