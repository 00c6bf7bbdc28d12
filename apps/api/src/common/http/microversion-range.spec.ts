import { describe, expect, it } from '@jest/globals';

import { Microversion } from './microversion.js';
import { inRange } from './microversion-range.js';

const at = (version: `${number}.${number}`) => ({ version, changed: 'a change' });
const v = (text: string) => Microversion.parse(text)!;

describe(inRange.name, () => {
  it('admits a route from the version that brought it', () => {
    expect(inRange(v('2.5'), { from: at('2.6') })).toBe(false);
    expect(inRange(v('2.6'), { from: at('2.6') })).toBe(true);
    expect(inRange(v('2.93'), { from: at('2.6') })).toBe(true);
  });

  it('refuses a route from the version that removed it', () => {
    expect(inRange(v('2.35'), { until: at('2.36') })).toBe(true);
    expect(inRange(v('2.36'), { until: at('2.36') })).toBe(false);
  });

  it('admits everything when no bound is given', () => {
    expect(inRange(v('2.1'), {})).toBe(true);
  });
});
