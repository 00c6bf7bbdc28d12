/**
 * Loads the JSON samples (libs/contracts/samples/<Type>.v<version>.json) for specs: each is an event as the
 * store holds it, envelope included, and doubles as a realistic fixture for other libraries' tests.
 * Must never be imported by production code (it reads files; the barrel does not export it), and resolves
 * the folder from the source tree, so it works under Jest, not from dist/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { RawEvent } from '../codec.js';

export const SAMPLES_DIR = new URL('../../samples/', import.meta.url);

const FILE_NAME = /^(?<type>[A-Z][A-Za-z0-9]*)\.v(?<version>[1-9][0-9]*)\.json$/;

export interface Sample {
  readonly file: string;
  /** The type and version the file name claims. */
  readonly type: string;
  readonly version: number;
  readonly event: RawEvent;
}

export function loadSamples(): Sample[] {
  return readdirSync(SAMPLES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const groups = FILE_NAME.exec(file)?.groups;
      if (groups?.['type'] === undefined || groups['version'] === undefined) {
        throw new Error(`samples/${file}: name it <Type>.v<version>.json`);
      }
      const event = JSON.parse(readFileSync(new URL(file, SAMPLES_DIR), 'utf8')) as RawEvent;
      return { file, type: groups['type'], version: Number(groups['version']), event };
    });
}

/** The sample of the given type and version (the data and metadata are fresh copies, safe to mutate). */
export function sampleOf(type: string, version = 1): RawEvent {
  const sample = loadSamples().find((candidate) => candidate.type === type && candidate.version === version);
  if (sample === undefined) throw new Error(`no sample ${type}.v${version}.json`);
  return sample.event;
}
