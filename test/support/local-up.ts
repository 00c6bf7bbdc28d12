/**
 * The README's `npm run up` and `npm run down` as the end-to-end suites run them: the built commands on
 * a state folder of the suite's own, and what they leave behind (the environment file, processes).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `up` or `down` with `--state-dir stateDir` and the given options, and `env` on top of this process's
 * environment (which the parts `up` starts inherit); resolves with standard output.
 */
export async function nimbusCommand(
  stateDir: string,
  command: 'up' | 'down',
  args: readonly string[],
  timeoutMs: number,
  env: Readonly<Record<string, string>> = {},
): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [`dist/deploy/local/${command}.js`, '--state-dir', stateDir, ...args],
    { timeout: timeoutMs, env: { ...process.env, ...env } },
  );
  return stdout;
}

/** The variables `up` wrote to an environment file. */
export { readEnvFile as envOf } from '../../deploy/local/services.js';

/** Running, as opposed to gone or a zombie that no parent has reaped yet (up's children outlive it). */
export function alive(pid: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
