/**
 * Reading query strings the way Nova reads them: a parameter given several times counts by its first
 * value, and a time filter (`changes-since`, `changes-before`) is parsed once, here, with Nova's 400 for
 * a value that is not a date-time. Must never coerce anything but what it is asked to read.
 */
import { badRequest } from '../http/api-error.js';

/** The parameter's text (its first value when repeated), or undefined when absent or not text. */
export function queryText(query: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Every text value of a parameter that may be repeated (`status=ACTIVE&status=SHUTOFF`). */
export function queryTexts(query: Readonly<Record<string, unknown>>, name: string): string[] {
  return ([] as unknown[])
    .concat(query[name] ?? [])
    .filter((value): value is string => typeof value === 'string');
}

/** ISO 8601 as Nova's `date-time` reads it: a date, or a date and time, with or without a zone (UTC). */
const ISO_8601 =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * A time filter as milliseconds since the epoch, or undefined when absent. `quoted` bounds how much of a
 * bad value the error repeats (the instance-action filters quote at most 40 characters, as they always have).
 */
export function queryTime(
  query: Readonly<Record<string, unknown>>,
  name: string,
  quoted = Number.POSITIVE_INFINITY,
): number | undefined {
  const text = queryText(query, name);
  if (text === undefined) return undefined;
  // ISO 8601 only (JavaScript alone would also read `2011/01/01`); a time without a zone is UTC.
  const [, date, time, zone] = ISO_8601.exec(text) ?? [];
  const parsed = date === undefined ? Number.NaN : Date.parse(time ? `${date}T${time}${zone ?? 'Z'}` : date);
  if (Number.isNaN(parsed)) {
    const shown = text.slice(0, quoted);
    throw badRequest(
      `Invalid input for query parameters ${name}. Value: ${shown}. '${shown}' is not a 'date-time'`,
    );
  }
  return parsed;
}

/**
 * A reader for Nimbus's own endpoints (the audit feed, the servers watch), stricter than Nova's: a
 * parameter it does not know, or one given twice, is a 400 rather than ignored. Returns the reader of
 * one parameter's text (undefined when absent).
 */
export function strictQuery(
  query: Readonly<Record<string, unknown>>,
  known: ReadonlySet<string>,
): (name: string) => string | undefined {
  const unknown = Object.keys(query).filter((key) => !known.has(key));
  if (unknown.length > 0) throw badRequest(`unknown query parameter(s): ${unknown.join(', ')}`);
  return (name) => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw badRequest(`${name} may be given once`);
    return value;
  };
}
