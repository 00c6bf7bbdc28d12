/**
 * The start of every service's main: `--help` prints the options the config class declares;
 * otherwise the configuration is read from the environment, with the declared command-line flags
 * winning over their variables, and a bad value ends the process with exit status 78 (EX_CONFIG) and
 * the list of problems, so a supervisor sees a configuration error rather than a crash to retry.
 */
import { parseArgs } from 'node:util';

import { describeConfig } from './describe-config.js';
import { ConfigError, loadConfig } from './load-config.js';
import { optionsOf } from './option.js';

export const EXIT_CONFIG = 78;

export interface CommandLine {
  /** The first line of `--help`; `nimbus <service>; options (environment):` by default. */
  readonly title?: string;
  readonly argv?: readonly string[];
  readonly env?: Record<string, string | undefined>;
}

/** The validated configuration, or null after `--help` (the caller then returns). */
export function configFromCommandLine<T extends object>(
  service: string,
  Config: new () => T,
  {
    title = `nimbus ${service}; options (environment):`,
    argv = process.argv.slice(2),
    env = process.env,
  }: CommandLine = {},
): T | null {
  const options = optionsOf(Config);
  const flagged = options.filter((option) => option.flag !== undefined);
  const flags: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const option of flagged) flags[option.flag ?? ''] = { type: 'string' };
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options: flags, strict: true }).values;
  } catch (error) {
    process.stderr.write(`${service}: ${(error as Error).message}\n${describeConfig('options:', options)}\n`);
    process.exit(2);
  }
  if (values.help === true) {
    process.stdout.write(`${describeConfig(title, options)}\n`);
    return null;
  }
  const source = { ...env };
  for (const option of flagged) {
    const value = values[option.flag ?? ''];
    if (typeof value === 'string') source[option.env] = value;
  }
  try {
    return loadConfig(Config, source);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}
