/**
 * Documentation of configuration options, kept next to the options themselves so the README and
 * `--help` never drift from what the code reads.
 */
export interface OptionDoc {
  readonly name: string;
  readonly description: string;
  readonly default: string;
  readonly allowed?: string;
}

export function describeConfig(title: string, options: readonly OptionDoc[]): string {
  const rows = options.map(
    (option) =>
      `  ${option.name}\n      ${option.description}\n      default: ${option.default}${option.allowed ? `; allowed: ${option.allowed}` : ''}`,
  );
  return `${title}\n${rows.join('\n')}`;
}
