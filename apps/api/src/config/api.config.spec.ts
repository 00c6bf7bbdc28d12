import { describe, expect, it } from '@jest/globals';

import { ConfigError, loadConfig } from '#libs/config';

import { API_OPTIONS, ApiConfig } from './api.config.js';

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
      ['1', 'm1.tiny', 512, 1],
      ['2', 'm1.small', 2048, 20],
    ]);
    expect(API_OPTIONS.map((option) => option.name)).toContain('NIMBUS_API_TOKEN_SECRET');
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
