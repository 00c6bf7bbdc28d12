/**
 * What every ops command shares: the usage error (exit status 2, nothing done), where the store is,
 * and how results are printed: readable by default, `--json` for scripts, colours only on a terminal.
 */
import { existsSync, readFileSync } from 'node:fs';

import Table from 'cli-table3';

import { plain } from './checks/state-diff.js';

/** Bad input on the command line: the CLI says what is wrong, prints its usage and exits with 2. */
export class UsageError extends Error {}

export function storeUrl(flag: string | undefined): string {
  if (flag) return flag;
  if (process.env.EVENTSTORE_URL) return process.env.EVENTSTORE_URL;
  if (existsSync('.nimbus/env')) {
    const match = /EVENTSTORE_URL='([^']+)'/.exec(readFileSync('.nimbus/env', 'utf8'));
    if (match?.[1]) return match[1];
  }
  throw new UsageError('no event store: set EVENTSTORE_URL, pass --url, or run `npm run up` first');
}

/** JSON with bigints (revisions, positions) as decimal strings. */
export function toJson(value: unknown, indent: number | undefined = 2): string {
  return JSON.stringify(
    value,
    // A fold may key its parts by id in a Map (a network's ports): shown as an object.
    (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : plain(inner)),
    indent,
  );
}

export function table(head: string[]): Table.Table {
  return new Table({
    head,
    wordWrap: true,
    // Colours only on a terminal: piped into a file, grep or a pager, the table stays plain text.
    ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
  });
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Progress of long work on standard error, at most once a second and only on a terminal, so piped
 * output and scripts see the result alone.
 */
export function progress(label: string): { tick(count: number): void; done(count: number): void } {
  const started = performance.now();
  let shown = 0;
  const line = (count: number) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(count / seconds) : count;
    return `${label}: ${count} events, ${seconds.toFixed(1)} s, ${rate} events/s`;
  };
  return {
    tick(count) {
      if (!process.stderr.isTTY) return;
      const now = performance.now();
      if (now - shown < 1000) return;
      shown = now;
      process.stderr.write(`\r${line(count)}`);
    },
    done(count) {
      if (process.stderr.isTTY) process.stderr.write(`\r${line(count)}\n`);
    },
  };
}
