/**
 * The proxy's log: one JSON object per line on stdout, like the `listening` line, so a supervisor
 * or a test can read it. Callers pass fields, never formatted strings with request data in them.
 * Must never be given a token or a request URL (it holds the token): a token is logged, at most, as
 * the first 8 hex digits of its hash.
 */
export type Log = (msg: string, fields?: Readonly<Record<string, unknown>>) => void;

export const jsonLog =
  (write: (line: string) => void = (line) => process.stdout.write(line)): Log =>
  (msg, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
  };

/**
 * Text from elsewhere (an error from the store names the stream `console-<sha256>`) with every
 * SHA-256 hex digest cut to the 8-digit prefix a log line may carry.
 */
export function redact(text: string): string {
  return text.replace(/\b([0-9a-f]{8})[0-9a-f]{56}\b/gi, '$1…');
}
