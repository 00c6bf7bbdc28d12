/**
 * Shared helpers for the benchmarks: percentiles, medians, the table + JSON report format, a process's
 * CPU time, and an API process over a given store with its admin logged in.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { OpenStackHttp } from '../deploy/clients/openstack-http.js';
import { ADMIN_PASSWORD, startApp } from '../test/support/system.js';

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The CPU time a process has used so far, user and system, in ms (to 10 ms). */
export function cpuMsOf(pid: number): number {
  // The fields after the command name, which may itself hold spaces: utime and stime are 14th and 15th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** Prints a titled table of rows, columns padded to their widest cell. */
export function table(title: string, rows: readonly (readonly (string | number)[])[]): void {
  const columns = Math.max(...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) =>
    Math.max(...rows.map((row) => String(row[column] ?? '').length)),
  );
  const line = (cells: readonly (string | number)[]): string =>
    cells.map((cell, column) => String(cell).padEnd(widths[column] ?? 0)).join('  ');
  process.stdout.write(`\n${title}\n`);
  process.stdout.write(`${'-'.repeat(title.length)}\n`);
  for (const row of rows) process.stdout.write(`${line(row).trimEnd()}\n`);
}

/**
 * Prints a readable table and then, as the very last line, one JSON object with the figures, so
 * people read the table and scripts read the last line.
 */
export function report(
  title: string,
  rows: readonly (readonly [string, string | number, string])[],
  figures: object,
): void {
  table(title, rows);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

export interface BenchApi {
  readonly url: string;
  readonly admin: OpenStackHttp;
  /** The admin's user and project ids, for events written as the admin's. */
  readonly adminUserId: string;
  readonly adminProjectId: string;
  /** Stops the API and removes its data folder. */
  stop(): Promise<void>;
}

/** The API as its own process over the store at `eventStoreUrl`, its data in a fresh folder. */
export async function startBenchApi(eventStoreUrl: string): Promise<BenchApi> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-api-'));
  const api = await startApp('api', {
    EVENTSTORE_URL: eventStoreUrl,
    NIMBUS_API_PORT: '0',
    NIMBUS_API_DATA_DIR: dataDir,
    NIMBUS_API_ADMIN_PASSWORD: ADMIN_PASSWORD,
  }).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  const stop = async (): Promise<void> => {
    await api.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const url = `http://127.0.0.1:${api.port}`;
    const admin = await OpenStackHttp.login(url, {
      user: 'admin',
      password: ADMIN_PASSWORD,
      project: 'admin',
    });
    const me = await fetch(`${url}/v3/auth/tokens`, {
      headers: { 'X-Auth-Token': admin.token, 'X-Subject-Token': admin.token },
    });
    const { token } = (await me.json()) as { token: { project: { id: string }; user: { id: string } } };
    return { url, admin, adminUserId: token.user.id, adminProjectId: token.project.id, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
