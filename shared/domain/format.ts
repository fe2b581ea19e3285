/** How numbers and tables read in pages and reports: one place, so every page says them alike. */

export const usd = (n: number): string => `$${n.toFixed(2)}`;

/** A number as a person reads it in a sentence: at most two decimals. */
export const plainNumber = (n: number): string => String(Math.round(n * 100) / 100);

export const percent = (n: number | null): string => (n === null ? '-' : `${plainNumber(n)} %`);

const round = (n: number, decimals: number): number => Math.round(n * 10 ** decimals) / 10 ** decimals;

/** Decimal units, as CloudWatch reports network bytes; one decimal in tables, two in sentences. */
export function decimalBytes(n: number | null, decimals = 1): string {
  if (n === null) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${round(value, decimals)} ${units[unit]}`;
}

/** `a 2, b 1`: how many of each, in name order. */
export function countBy(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

/** A plain-text table for a page body: columns padded to their widest cell, indented two spaces. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `  ${cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}
