import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { Failure } from '../../src/client/index.js';
import { useNow } from './store.js';

/** A refusal from the ledger, announced to screen readers, with the server's code. */
export function Problem({ failure }: { failure: Failure | null }) {
  if (failure === null) return null;
  return (
    <div class="notice error" role="alert">
      <strong>{failure.error}</strong>
      {failure.httpStatus > 0 ? ` (HTTP ${failure.httpStatus})` : ''}: {failure.message}
    </div>
  );
}

export function Done({ children }: { children: ComponentChildren }) {
  return <div class="notice ok" role="status">{children}</div>;
}

/** A table that scrolls sideways on a phone instead of squeezing its columns. */
export function TableBox({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-box" role="region" aria-label={label} tabIndex={0}>
      <table>{children}</table>
    </div>
  );
}

/** A long hex id, shortened on screen, whole for screen readers and on hover. */
export function Short({ value, keep = 10 }: { value: string | null | undefined; keep?: number }) {
  if (value === null || value === undefined || value === '') return <span class="muted">—</span>;
  if (value.length <= keep * 2 + 1) return <code>{value}</code>;
  return <code title={value} aria-label={value}>{value.slice(0, keep)}…{value.slice(-6)}</code>;
}

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status.replace(/_/g, ' ')}</span>;
}

function durationText(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = d > 0 ? [`${d}d`, `${h}h`, `${m}m`] : h > 0 ? [`${h}h`, `${m}m`, `${s % 60}s`] : [`${m}m`, `${s % 60}s`];
  return parts.join(' ');
}

/** A deadline counting down (or how long ago it passed). */
export function Countdown({ at }: { at: string | null }) {
  const now = useNow();
  if (at === null) return <span class="muted">—</span>;
  const left = Date.parse(at) - now;
  return (
    <span>
      <time dateTime={at}>{new Date(at).toLocaleString()}</time>{' '}
      <span class={left < 0 ? 'muted' : 'countdown'}>{left < 0 ? `(passed ${durationText(left)} ago)` : `(in ${durationText(left)})`}</span>
    </span>
  );
}

export function When({ at }: { at: string | null }) {
  if (at === null) return <span class="muted">—</span>;
  return <time dateTime={at}>{new Date(at).toLocaleString()}</time>;
}

/** Copies text; where the Clipboard API is unavailable (plain http), selects it for Ctrl+C. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  const fallback = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Copied.');
    } catch {
      fallback.current?.select();
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };
  return (
    <span class="copy">
      <input ref={fallback} class="copy-source" readOnly tabIndex={-1} aria-hidden="true" value={text} aria-label={label} />
      <button type="button" onClick={copy}>Copy</button>
      <span role="status" class="muted">{copied ?? ''}</span>
    </span>
  );
}

/** Offers a file for download from memory (a Blob URL), for the audit exports. */
export function download(filename: string, type: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
