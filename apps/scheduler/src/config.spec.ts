import { readFileSync } from 'node:fs';

import { describe, expect, it } from '@jest/globals';

import { loadConfig, optionsOf, optionsTableDrift } from '#libs/config';

import { SchedulerConfig } from './config.js';
import { FILTER_NAMES } from './filters/index.js';

const CONFIGURATION_DOC = new URL('../../../docs/configuration.md', import.meta.url);

describe(SchedulerConfig.name, () => {
  it('is documented in docs/configuration.md exactly as it is declared', () => {
    expect(
      optionsTableDrift(readFileSync(CONFIGURATION_DOC, 'utf8'), 'scheduler', optionsOf(SchedulerConfig)),
    ).toBeNull();
  });

  it('enables every filter by default and reads a list of them in order', () => {
    expect(loadConfig(SchedulerConfig, {}).filters).toEqual([...FILTER_NAMES]);
    expect(
      loadConfig(SchedulerConfig, { NIMBUS_SCHEDULER_FILTERS: 'RamFilter, ComputeFilter' }).filters,
    ).toEqual(['RamFilter', 'ComputeFilter']);
    expect(() => loadConfig(SchedulerConfig, { NIMBUS_SCHEDULER_FILTERS: 'NoSuchFilter' })).toThrow(
      /filters/,
    );
  });

  // It once took any non-empty NATS_URL while the API refused one without a scheme; both use the
  // shared rule now.
  it('refuses a NATS URL without its scheme, as the API does', () => {
    expect(() => loadConfig(SchedulerConfig, { NATS_URL: 'localhost:4222' })).toThrow(/natsUrl/);
  });
});
