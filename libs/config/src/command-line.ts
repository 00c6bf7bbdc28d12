/**
 * The start of every service's main: `--help` prints the documented options; otherwise the
 * configuration is read from the environment, and a bad value ends the process with exit status
 * 78 (EX_CONFIG) and the list of problems, so a supervisor sees a configuration error rather than
 * a crash to retry.
 */
import { parseArgs } from 'node:util';

import type { OptionDoc } from './describe-config.js';
import { describeConfig } from './describe-config.js';
import { ConfigError, loadConfig } from './load-config.js';

export const EXIT_CONFIG = 78;

/** The validated configuration, or null after `--help` (the caller then returns). */
export function configFromCommandLine<T extends object>(
  service: string,
  Config: new () => T,
  options: readonly OptionDoc[],
  argv: readonly string[] = process.argv.slice(2),
): T | null {
  let help = false;
  try {
    help =
      parseArgs({ args: [...argv], options: { help: { type: 'boolean' } }, strict: true }).values.help ===
      true;
  } catch (error) {
    process.stderr.write(
      `${service}: ${(error as Error).message}\n${describeConfig('options (environment):', options)}\n`,
    );
    process.exit(2);
  }
  if (help) {
    process.stdout.write(`${describeConfig(`nimbus ${service}; options (environment):`, options)}\n`);
    return null;
  }
  try {
    return loadConfig(Config, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}
