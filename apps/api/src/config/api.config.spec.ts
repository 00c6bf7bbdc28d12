import { readFileSync } from 'node:fs';

import { describe, expect, it } from '@jest/globals';

import { ConfigError, loadConfig, optionsOf, optionsTableDrift } from '#libs/config';

import { ApiConfig } from './api.config.js';

const CONFIGURATION_DOC = new URL('../../../../docs/configuration.md', import.meta.url);

describe(ApiConfig.name, () => {
  it('has a documented default for every option', () => {
    const config = loadConfig(ApiConfig, {});
    expect(config).toMatchObject({
      port: 8774,
      imagePrefix: '/image',
      tokenTtlSeconds: 3600,
      region: 'RegionOne',
    });
    expect(config.flavors.map((flavor) => [flavor.id, flavor.name, flavor.ram, flavor.disk])).toEqual([
      ['0', 'm1.nano', 64, 0],
      ['84', 'm1.micro', 128, 0],
      ['1', 'm1.tiny', 512, 1],
      ['2', 'm1.small', 2048, 20],
    ]);
  });

  it('is documented in docs/configuration.md exactly as it is declared', () => {
    expect(
      optionsTableDrift(readFileSync(CONFIGURATION_DOC, 'utf8'), 'api', optionsOf(ApiConfig)),
    ).toBeNull();
  });

  // The API once took kurrentdb:// too, which the official client refuses when it connects: the shared
  // rule of every app now refuses it at start, with the configuration error.
  it('refuses an event store URL the client cannot parse, as every app does', () => {
    expect(() => loadConfig(ApiConfig, { EVENTSTORE_URL: 'kurrentdb://127.0.0.1:2113' })).toThrow(
      /eventStoreUrl/,
    );
    expect(loadConfig(ApiConfig, { EVENTSTORE_URL: 'esdb+discover://cluster:2113' }).eventStoreUrl).toBe(
      'esdb+discover://cluster:2113',
    );
  });

  it('reads flavors as JSON and refuses bad values with every problem listed', () => {
    const config = loadConfig(ApiConfig, {
      NIMBUS_API_FLAVORS: '[{"id":"x","name":"tiny","vcpus":1,"ram":32,"disk":0}]',
    });
    expect(config.flavors).toHaveLength(1);
    try {
      loadConfig(ApiConfig, {
        NIMBUS_API_PORT: '70000',
        NIMBUS_API_TOKEN_SECRET: 'short',
        NIMBUS_API_IMAGE_PREFIX: 'image',
      });
      throw new Error('accepted bad configuration');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/port/);
      expect(problems).toMatch(/tokenSecret/);
      expect(problems).toMatch(/imagePrefix/);
      expect(problems).not.toContain('short');
    }
  });
});
