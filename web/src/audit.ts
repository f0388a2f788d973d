import type { History, HistoryEvent } from '../../src/client/index.js';

/** The audit timeline's columns, in the order both exports write them. */
const COLUMNS = ['version', 'recorded_at', 'type', 'actor', 'status_after', 'correlation_id', 'causation_id', 'event_id', 'prev_hash', 'hash', 'data'] as const;

function cell(event: HistoryEvent, column: (typeof COLUMNS)[number]): string {
  if (column === 'data') return JSON.stringify(event.data);
  const value = event[column];
  return value === undefined || value === null ? '' : String(value);
}

/**
 * One CSV field: quoted when needed, and a leading = + - @ (which a spreadsheet would run as a
 * formula) neutralised with a quote mark, since fields like quote_tx are a trader's free text.
 */
function csvField(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function historyCsv(history: History): string {
  const header = ['order_id', 'chain_valid', ...COLUMNS].join(',');
  const rows = history.events.map((e) => [history.order_id, String(history.chain_valid), ...COLUMNS.map((c) => cell(e, c))].map(csvField).join(','));
  return `${[header, ...rows].join('\r\n')}\r\n`;
}

export const historyJson = (history: History): string => `${JSON.stringify({ order_id: history.order_id, chain_valid: history.chain_valid, events: history.events }, null, 2)}\n`;
