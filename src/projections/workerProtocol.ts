import type { RunnerPhase } from './runner.js';

/** What the main thread gives the read-model writer's thread at start (structured-clone safe). */
export interface WorkerSettings {
  readonly eventsPath: string;
  readonly readDbPath: string;
  readonly retryDelayMs: number;
  /** How often a caught-up writer looks for appends nobody announced. */
  readonly followPollMs: number;
}

/** Main thread → writer thread. */
export type ToWorker =
  | { readonly kind: 'wake' }
  | { readonly kind: 'retry'; readonly name: string }
  | { readonly kind: 'stop' };

/** Writer thread → main thread. Positions travel as decimal strings (bigint). */
export type FromWorker =
  | { readonly kind: 'phase'; readonly phase: RunnerPhase }
  /** A committed batch: its last position and each projection's checkpoint it committed (name, position). */
  | { readonly kind: 'batch'; readonly position: string; readonly checkpoints: readonly (readonly [string, string])[] }
  | { readonly kind: 'error'; readonly projection: string | null; readonly message: string; readonly code: string | null }
  | { readonly kind: 'closed' };
