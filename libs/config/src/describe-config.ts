/**
 * The documentation of a config class, derived from its `@Option` metadata: the `--help` text and the
 * markdown options table of docs/configuration.md, and the reading of that table back into rows, so a
 * spec can hold the document to the code. Never written by hand, so it cannot drift.
 */
import type { OptionDoc } from './option.js';

/** The name an option goes by: its variable, and its flag when it has one. */
const nameOf = (option: OptionDoc): string =>
  option.flag === undefined ? option.env : `${option.env} (--${option.flag})`;

export function describeConfig(title: string, options: readonly OptionDoc[]): string {
  const rows = options.map(
    (option) =>
      `  ${nameOf(option)}\n      ${option.description}\n      default: ${option.default}${option.allowed ? `; allowed: ${option.allowed}` : ''}`,
  );
  return `${title}\n${rows.join('\n')}`;
}

/** One row of an options table, as the document shows it. */
export interface OptionRow {
  readonly option: string;
  readonly default: string;
  readonly allowed: string;
  readonly what: string;
}

const HEADER = ['option', 'default', 'allowed', 'what'] as const;

export function optionRows(options: readonly OptionDoc[]): OptionRow[] {
  return options.map((option) => ({
    option: nameOf(option),
    default: option.default,
    allowed: option.allowed ?? '',
    what: option.description,
  }));
}

/** Names and values as code spans, so `<host>` stays literal; a `|` is escaped in any cell. */
const code = (text: string): string => (text === '' ? '' : `\`${text.replace(/\|/g, '\\|')}\``);

/** Prose cells: `<` escaped so `<image id>` is not taken for HTML. */
const prose = (text: string): string => text.replace(/([|<])/g, '\\$1');

/** The markdown table of these options (prettier may pad it; `documentedOptions` reads either). */
export function optionsTable(options: readonly OptionDoc[]): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `| ${HEADER.map(() => '---').join(' | ')} |`];
  for (const row of optionRows(options))
    lines.push(
      `| ${[code(row.option), code(row.default), prose(row.allowed), prose(row.what)].join(' | ')} |`,
    );
  return lines.join('\n');
}

const uncode = (cell: string): string => {
  const text = cell.trim();
  const match = /^`(.*)`$/.exec(text);
  return (match ? (match[1] ?? '') : text).replace(/\\([|<])/g, '$1');
};

/**
 * The rows of the first table after the heading `## <section>` in a markdown document, or null when
 * the section has no table.
 */
export function documentedOptions(markdown: string, section: string): OptionRow[] | null {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === `## ${section}`);
  if (start < 0) return null;
  const rows: OptionRow[] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (!line.trim().startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map(uncode);
    if (cells[0] === HEADER[0] || /^:?-+:?$/.test(cells[0] ?? '')) continue;
    const [option = '', fallback = '', allowed = '', what = ''] = cells;
    rows.push({ option, default: fallback, allowed, what });
  }
  return inTable ? rows : null;
}

/**
 * Null when the `## <section>` table of a markdown document lists exactly the options `options`
 * declares (names, defaults, allowed values, descriptions, in order); otherwise what differs and the
 * table to paste in its place.
 */
export function optionsTableDrift(
  markdown: string,
  section: string,
  options: readonly OptionDoc[],
): string | null {
  const documented = documentedOptions(markdown, section);
  const declared = optionRows(options);
  if (documented !== null && JSON.stringify(documented) === JSON.stringify(declared)) return null;
  const names = new Set((documented ?? []).map((row) => row.option));
  const missing = declared.filter((row) => !names.has(row.option)).map((row) => row.option);
  const declaredNames = new Set(declared.map((row) => row.option));
  const extra = (documented ?? []).filter((row) => !declaredNames.has(row.option)).map((row) => row.option);
  return [
    documented === null
      ? `no options table under "## ${section}"`
      : `the "## ${section}" table differs from the declarations`,
    ...(missing.length > 0 ? [`undocumented: ${missing.join(', ')}`] : []),
    ...(extra.length > 0 ? [`documented but not declared: ${extra.join(', ')}`] : []),
    'the table the declarations render:',
    optionsTable(options),
  ].join('\n');
}
