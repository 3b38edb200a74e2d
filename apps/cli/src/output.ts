/**
 * How `radar` prints. Data goes to stdout (a table for people, JSON with `--json` for scripts);
 * notes and warnings go to stderr, so `radar ... --json | jq` always receives pure JSON.
 */

export type Cell = string | number | boolean | null | undefined;

export interface Writer {
  write(text: string): unknown;
}

export class Output {
  constructor(
    private readonly stdout: Writer = process.stdout,
    private readonly stderr: Writer = process.stderr,
  ) {}

  /** Machine-readable output: one JSON document, Dates as ISO strings. */
  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  table(headers: readonly string[], rows: readonly (readonly Cell[])[], empty = '(none)'): void {
    if (rows.length === 0) {
      this.line(empty);
      return;
    }
    this.stdout.write(renderTable(headers, rows));
  }

  /** A remark for the operator that is not data (a clipped range, a hint): stderr. */
  note(text: string): void {
    this.stderr.write(`radar: ${text}\n`);
  }
}

/** The longest a table cell may be; longer text (errors, titles) is cut with an ellipsis. */
const MAX_CELL = 60;

export function cellText(cell: Cell): string {
  if (cell === null || cell === undefined || cell === '') return '-';
  const text = String(cell).replace(/\s+/g, ' ');
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const texts = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...texts.map((r) => (r[i] ?? '').length)));
  const format = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[format(headers), ...texts.map(format)].join('\n')}\n`;
}

/** `2024-05-01 08:00Z`: ISO without seconds, compact enough for a table, still unambiguous. */
export function formatTime(value: Date | number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  const date = typeof value === 'number' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return '-';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** `3m ago` / `in 2h` relative to now, for the status overview. */
export function formatRelative(value: Date | number | null | undefined, now: Date): string {
  if (value === null || value === undefined) return '-';
  const ms = (typeof value === 'number' ? value : value.getTime()) - now.getTime();
  const span = formatSpan(Math.abs(ms));
  return ms >= 0 ? `in ${span}` : `${span} ago`;
}

/** A coarse human span: `45s`, `12m`, `3h10m`, `2d4h`. */
export function formatSpan(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
}
