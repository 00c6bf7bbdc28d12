import { readFileSync } from 'node:fs';

import { describe, expect, it } from '@jest/globals';

import { loadConfig, optionsOf, optionsTableDrift } from '#libs/config';

import { ComputeConfig } from './config.js';

const CONFIGURATION_DOC = new URL('../../../docs/configuration.md', import.meta.url);

describe(ComputeConfig.name, () => {
  it('is documented in docs/configuration.md exactly as it is declared', () => {
    expect(
      optionsTableDrift(readFileSync(CONFIGURATION_DOC, 'utf8'), 'compute', optionsOf(ComputeConfig)),
    ).toBeNull();
  });

  it('has loopback defaults for the store, NATS and the console proxy', () => {
    expect(loadConfig(ComputeConfig, {})).toMatchObject({
      eventStoreUrl: 'esdb://127.0.0.1:2113?tls=false',
      natsUrl: 'nats://127.0.0.1:4222',
      driver: 'libvirt',
      hosts: [],
      consoleBaseUrl: 'http://127.0.0.1:6080',
      healthPort: 0,
    });
  });

  // The agent once took a console base URL without its scheme, which the console proxy (reading the
  // same variable) refuses; both now use the one http(s) URL rule, so they agree on what is valid.
  it('refuses a console base URL without its scheme, as the console proxy does', () => {
    expect(() => loadConfig(ComputeConfig, { NIMBUS_CONSOLE_BASE_URL: '127.0.0.1:6080' })).toThrow(
      /consoleBaseUrl/,
    );
  });

  // It once took any non-empty EVENTSTORE_URL and NATS_URL; the shared rules refuse at start what the
  // clients would refuse at their first connection.
  it('refuses store and NATS URLs the clients cannot use', () => {
    expect(() => loadConfig(ComputeConfig, { EVENTSTORE_URL: '127.0.0.1:2113' })).toThrow(/eventStoreUrl/);
    expect(() => loadConfig(ComputeConfig, { NATS_URL: '127.0.0.1:4222' })).toThrow(/natsUrl/);
  });
});
