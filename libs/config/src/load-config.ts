/**
 * Parses configuration once, at start-up, into a validated class: every app declares its options
 * as a class with class-validator rules and a documented default, and a bad value stops the
 * process with the full list of what is wrong instead of failing later, somewhere else.
 */
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

function flatten(errors: readonly ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = `${prefix}${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => `${path}: ${message}`);
    return [...own, ...flatten(error.children ?? [], `${path}.`)];
  });
}

/**
 * Builds `Config` from a plain source (usually `process.env`): only the keys the class declares are
 * read, strings are converted by the class's `@Type`/`@Transform` rules, defaults are the class's
 * property initialisers.
 */
export function loadConfig<T extends object>(
  Config: new () => T,
  source: Record<string, string | undefined>,
): T {
  const defined = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  );
  const config = plainToInstance(Config, defined, {
    excludeExtraneousValues: true,
    exposeDefaultValues: true,
  });
  const problems = flatten(validateSync(config, { forbidUnknownValues: true }));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
