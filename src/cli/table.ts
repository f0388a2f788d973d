import type { Output } from './progress.js';

/**
 * Plain-text tables and colour for the CLI. Colour only on a terminal and never with NO_COLOR
 * (https://no-color.org): piped output, CI logs and files get plain text that greps and diffs well.
 */
export type Tone = 'bold' | 'dim' | 'green' | 'red' | 'yellow' | 'cyan';

const CODES: Readonly<Record<Tone, [number, number]>> = {
  bold: [1, 22], dim: [2, 22], green: [32, 39], red: [31, 39], yellow: [33, 39], cyan: [36, 39],
};

export interface Paint {
  readonly enabled: boolean;
  (tone: Tone, text: string): string;
}

export function paint(enabled: boolean): Paint {
  const fn = (tone: Tone, text: string): string => {
    if (!enabled || text === '') return text;
    const [open, close] = CODES[tone];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  };
  return Object.assign(fn, { enabled });
}

/** Colour when writing to a terminal and NO_COLOR is not set. */
export const colourFor = (out: Output, noColor: boolean): boolean => out.isTTY === true && !noColor;

/** A cell: its text, and optionally a tone applied after padding (so escapes never skew widths). */
export type Cell = string | { readonly text: string; readonly tone: Tone | null };

const textOf = (cell: Cell): string => (typeof cell === 'string' ? cell : cell.text);

/** Columns padded to their widest cell, the last one left ragged; a header row and a rule. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[], p: Paint): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => textOf(r[i] ?? '').length)));
  const line = (cells: readonly Cell[], headerTone: Tone | null): string =>
    cells
      .map((cell, i) => {
        const text = textOf(cell);
        const padded = i === cells.length - 1 ? text : text.padEnd(widths[i] ?? 0);
        const tone = headerTone ?? (typeof cell === 'string' ? null : cell.tone);
        return tone === null ? padded : p(tone, padded);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers, 'bold'), p('dim', rule), ...rows.map((r) => line(r, null))].join('\n') + '\n';
}
