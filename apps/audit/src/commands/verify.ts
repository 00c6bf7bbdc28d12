/**
 * `verify FILE`: checks an audit log's hash chain record by record. Exit status 0 when the chain is
 * whole; 1 naming the first bad record (its line number and why); 2 when there is no such file.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

import { ChainVerifier, type ChainVerdict } from '#libs/audit';

import { type AuditIo, type AuditOptions, UsageError } from '../cli.js';

export async function verify(file: string, options: AuditOptions, io: AuditIo): Promise<number> {
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  const verifier = new ChainVerifier();
  let verdict: ChainVerdict | undefined;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    verdict = verifier.push(line);
    if (verdict) break;
  }
  lines.close();
  verdict ??= verifier.end();
  if (options.json) io.write(`${JSON.stringify({ file, ...verdict })}\n`);
  else if (verdict.ok) io.write(`${file}: ${verdict.records} record(s), the chain is whole\n`);
  else
    io.write(
      `${file}: line ${verdict.line}: ${verdict.reason} (${verdict.records} record(s) before it are whole)\n`,
    );
  return verdict.ok ? 0 : 1;
}
