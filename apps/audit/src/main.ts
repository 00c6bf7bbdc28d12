/**
 * The audit CLI, a reference subscriber of the API's audit feed:
 *
 *   npm run audit -- tail | export [--out FILE] [--since FROM] [--project ID | --all-projects] [--json]
 *   npm run audit -- verify FILE [--json]
 *
 * It reaches the API over HTTP with a Keystone token, as any outside auditor would, never the store.
 */
import { runAudit } from './audit-cli.js';

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

runAudit(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  write: (text) => process.stdout.write(text),
  warn: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  signal: stop.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`audit: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
