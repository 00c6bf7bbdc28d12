import { readFileSync } from 'node:fs';

import { describe, expect, it } from '@jest/globals';

import { MAX_MICROVERSION, Microversion, type VersionChange } from '../common/http/microversion.js';
import * as named from './microversions.js';
import { VERSION_HISTORY } from './microversions.js';

const DOC = new URL('../../../../docs/api-microversions.md', import.meta.url);

/** The rows of the doc's version table, as the code's table would write them. */
function documentedHistory(): { version: string; changed: string }[] {
  return readFileSync(DOC, 'utf8')
    .split('\n')
    .map((line) => /^\|\s*(\d+\.\d+)\s*\|\s*(.*?)\s*\|$/.exec(line))
    .flatMap((match) => (match ? [{ version: match[1] ?? '', changed: match[2] ?? '' }] : []));
}

const isChange = (value: unknown): value is VersionChange =>
  typeof value === 'object' && value !== null && 'version' in value && 'changed' in value;

describe('the compute microversion history', () => {
  it('is documented in docs/api-microversions.md exactly as the code declares it', () => {
    expect(documentedHistory()).toEqual(
      VERSION_HISTORY.map(({ version, changed }) => ({ version, changed })),
    );
  });

  it('lists every named change once, oldest first', () => {
    const declared = Object.values(named).filter(isChange);
    expect(new Set(VERSION_HISTORY)).toEqual(new Set(declared));
    expect(VERSION_HISTORY).toHaveLength(declared.length);
    const versions = VERSION_HISTORY.map(({ version }) => Microversion.parse(version));
    versions.forEach((version, index) => {
      const previous = versions[index - 1];
      if (previous && version) expect(version.compare(previous)).toBeGreaterThan(0);
    });
  });

  it('names no version this API does not serve', () => {
    for (const { version } of VERSION_HISTORY) {
      const parsed = Microversion.parse(version);
      expect(parsed).not.toBeNull();
      expect(parsed!.compare(MAX_MICROVERSION)).toBeLessThanOrEqual(0);
    }
  });
});
