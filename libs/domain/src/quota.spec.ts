import { QuotaLimitsSet, build } from '#libs/contracts';

import {
  type QuotaLimits,
  QuotaExceeded,
  checkInstanceQuota,
  decideSetQuota,
  effectiveLimits,
  quotaOverridesReducer,
} from './quota.js';
import { foldAll } from './testing/given.js';

const defaults: QuotaLimits = {
  instances: 10,
  cores: 20,
  ramMb: 51_200,
  keyPairs: 100,
  serverGroups: 10,
  serverGroupMembers: 10,
  metadataItems: 128,
};
const nano = { vcpus: 1, ramMb: 64 };

describe(checkInstanceQuota.name, () => {
  it('grants the whole request when it fits', () => {
    expect(
      checkInstanceQuota(
        defaults,
        { instances: 0, cores: 0, ramMb: 0 },
        { ...nano, minCount: 1, maxCount: 3 },
      ),
    ).toBe(3);
  });

  it('grants as many as fit when at least min_count do, as Nova does', () => {
    const usage = { instances: 8, cores: 8, ramMb: 512 };
    expect(checkInstanceQuota(defaults, usage, { ...nano, minCount: 1, maxCount: 5 })).toBe(2);
  });

  it("refuses with Nova's message naming every resource over its limit", () => {
    const usage = { instances: 10, cores: 20, ramMb: 640 };
    expect(() => checkInstanceQuota(defaults, usage, { ...nano, minCount: 1, maxCount: 1 })).toThrow(
      new QuotaExceeded(
        'Quota exceeded for cores, instances: Requested 1, 1, but already used 20, 10 of 20, 10 cores, instances',
      ),
    );
  });

  it('shows a range of instances when min_count and max_count differ', () => {
    const usage = { instances: 10, cores: 0, ramMb: 0 };
    expect(() => checkInstanceQuota(defaults, usage, { ...nano, minCount: 2, maxCount: 4 })).toThrow(
      'Quota exceeded for instances: Requested 2-4, but already used 10 of 10 instances',
    );
  });

  it('treats -1 as unlimited', () => {
    const limits = { ...defaults, instances: -1, cores: -1, ramMb: -1 };
    expect(
      checkInstanceQuota(
        limits,
        { instances: 1e6, cores: 1e6, ramMb: 1e9 },
        { ...nano, minCount: 1, maxCount: 1 },
      ),
    ).toBe(1);
  });
});

describe('quota overrides', () => {
  it('override the defaults limit by limit and record only what changes', () => {
    const state = foldAll(quotaOverridesReducer, [build(QuotaLimitsSet, { projectId: 'p-1', instances: 3 })]);
    const limits = effectiveLimits(defaults, state);
    expect(limits).toEqual({ ...defaults, instances: 3 });
    expect(decideSetQuota(limits, 'p-1', { instances: 3 })).toEqual([]);
    expect(decideSetQuota(limits, 'p-1', { instances: 3, cores: 4 })).toEqual([
      build(QuotaLimitsSet, { projectId: 'p-1', cores: 4 }),
    ]);
  });
});
