/** Small helpers shared by the sandbox's endpoint handlers: answers, body fields, route params. */
import type { SandboxLedger } from './ledger.js';
import type { SandboxNodeOptions, SandboxResponse } from './types.js';

export interface HandlerContext {
  readonly ledger: SandboxLedger;
  readonly nowMs: number;
  readonly options: Required<Pick<SandboxNodeOptions, 'adminKey' | 'maxActiveJobsPerPoster'>>;
}

export interface RoutedRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The JSON body when it was an object, else null (the node's `get_json(silent=True)`). */
  readonly body: Readonly<Record<string, unknown>> | null;
}

export type Handler = (ctx: HandlerContext, req: RoutedRequest) => SandboxResponse;

export const reply = (status: number, body: unknown): SandboxResponse => ({ status, body });
export const fail = (status: number, error: string, extra: Record<string, unknown> = {}): SandboxResponse =>
  reply(status, { error, ...extra });

/** `str(data.get(name, "")).strip()`, as the node reads text fields. */
export function textField(body: RoutedRequest['body'], name: string): string {
  const value = body?.[name];
  if (value === undefined || value === null) return '';
  return (typeof value === 'string' ? value : String(value)).trim();
}

export const nowSeconds = (ctx: HandlerContext): number => Math.floor(ctx.nowMs / 1000);

/** `min(int(arg), cap)` with a default; null when the argument is not an integer (the node 500s there). */
export function intQuery(raw: string | undefined, fallback: number): number | null {
  if (raw === undefined || raw.trim() === '') return fallback;
  return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : null;
}

export function param(req: RoutedRequest, name: string): string {
  return req.params[name] ?? '';
}
