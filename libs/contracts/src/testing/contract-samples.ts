/**
 * Specs only: every current sample's data and envelope as plain JSON with the class that holds it, and
 * every variant of a plain value with one change, for specs that compare two ways of reading contracts.
 */
import { EventMetadata } from '../envelope.js';
import { eventDefinitions } from '../registry.js';
import type { ContractClass } from '../validation.js';
import { loadSamples } from './samples.js';

/** Values put in place of each value of a sample, one at a time. */
export const REPLACEMENTS: readonly unknown[] = [
  null,
  undefined,
  '',
  'x',
  ' padded ',
  'a'.repeat(300),
  '2026-12-06T02:29:00.000Z',
  '2026-13-45',
  '0b7d5c62-6a4f-4c2e-9a43-7d2f8d1b1e01',
  '0B7D5C62-6A4F-4C2E-9A43-7D2F8D1B1E01',
  'hv-1',
  -1,
  0,
  1,
  1.5,
  2 ** 31,
  true,
  [],
  [null],
  ['x'],
  [{}],
  {},
  { key: 'value' },
];

export type Json = null | string | number | boolean | Json[] | { [key: string]: Json };

/** Every variant of `plain` with one change: a value replaced, a property removed, or one added. */
export function* mutations(plain: Json): Generator<{ where: string; value: unknown }> {
  const clone = (): Json => JSON.parse(JSON.stringify(plain)) as Json;
  const paths: (string | number)[][] = [];
  const walk = (value: Json, path: (string | number)[]): void => {
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, [...path, index]));
    else if (value !== null && typeof value === 'object')
      for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
    paths.push(path);
  };
  walk(plain, []);
  const at = (root: Json, path: (string | number)[]): unknown =>
    path.reduce<unknown>((value, key) => (value as Record<string | number, unknown>)[key], root);
  for (const path of paths) {
    const where = path.join('.') || '(root)';
    const key = path.at(-1);
    if (key !== undefined) {
      const parentPath = path.slice(0, -1);
      for (const replacement of REPLACEMENTS) {
        const root = clone();
        (at(root, parentPath) as Record<string | number, unknown>)[key] = replacement;
        const shown = replacement === undefined ? 'undefined' : JSON.stringify(replacement);
        yield { where: `${where} = ${shown}`, value: root };
      }
      const root = clone();
      const parent = at(root, parentPath);
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else Reflect.deleteProperty(parent as object, key);
      yield { where: `${where} removed`, value: root };
    }
    const root = clone();
    const target = at(root, path);
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
      (target as Record<string, unknown>)['unexpected'] = 'x';
      yield { where: `${where}.unexpected added`, value: root };
    }
  }
}

/** Each current sample's data (with its event class) and envelope (with EventMetadata). */
export function contractSamples(): { name: string; contract: ContractClass; plain: Json }[] {
  return loadSamples().flatMap((sample) => {
    const definition = eventDefinitions().find(
      (candidate) => candidate.type === sample.type && candidate.version === sample.version,
    );
    if (definition === undefined) return [];
    const {
      $correlationId: _correlation,
      $causationId: _causation,
      ...metadata
    } = sample.event.metadata as Record<string, Json>;
    return [
      { name: `${sample.file} data`, contract: definition.eventClass, plain: sample.event.data as Json },
      { name: `${sample.file} metadata`, contract: EventMetadata, plain: metadata },
    ];
  });
}
