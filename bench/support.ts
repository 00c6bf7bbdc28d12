/** Shared helpers for the benchmarks: percentiles, medians and the table + JSON report format. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/**
 * Prints a readable table and then, as the very last line, one JSON object with the figures, so
 * people read the table and scripts read the last line.
 */
export function report(
  title: string,
  rows: readonly (readonly [string, string | number, string])[],
  figures: object,
): void {
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => String(row[column]).length)));
  const line = (cells: readonly (string | number)[]): string =>
    cells.map((cell, column) => String(cell).padEnd(widths[column] ?? 0)).join('  ');
  process.stdout.write(`\n${title}\n`);
  process.stdout.write(`${'-'.repeat(title.length)}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
