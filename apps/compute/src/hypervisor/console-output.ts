/**
 * Cutting a serial console log down to what os-getConsoleOutput returns, shared by every driver so
 * `length` means the same everywhere: the last N lines, as Nova's API slices them.
 * Must never return more than the log holds, or a partial line at the start of a byte-cut tail.
 */

/** Nova's MAX_CONSOLE_BYTES: console output never includes more than the last 100 KiB of the log. */
export const MAX_CONSOLE_BYTES = 100 * 1024;

/**
 * The last `length` lines (all when undefined). When the text was cut at a byte limit, its first line is
 * probably partial and is dropped. A final newline does not count as an extra, empty line.
 */
export function lastLines(text: string, truncated: boolean, length: number | undefined): string {
  let lines = text.split('\n');
  if (truncated) lines = lines.slice(1);
  const endsWithNewline = lines.length > 0 && lines[lines.length - 1] === '';
  if (endsWithNewline) lines = lines.slice(0, -1);
  if (length !== undefined) lines = length === 0 ? [] : lines.slice(-length);
  const joined = lines.join('\n');
  return endsWithNewline && lines.length > 0 ? `${joined}\n` : joined;
}
