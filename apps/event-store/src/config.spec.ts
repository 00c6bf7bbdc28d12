import { readFileSync } from 'node:fs';

import { describe, expect, it } from '@jest/globals';

import { configFromCommandLine, loadConfig, optionsOf, optionsTableDrift } from '#libs/config';

import { EventStoreConfig } from './config.js';

const CONFIGURATION_DOC = new URL('../../../docs/configuration.md', import.meta.url);

describe(EventStoreConfig.name, () => {
  it('is documented in docs/configuration.md exactly as it is declared', () => {
    expect(
      optionsTableDrift(readFileSync(CONFIGURATION_DOC, 'utf8'), 'event-store', optionsOf(EventStoreConfig)),
    ).toBeNull();
  });

  it('listens on loopback port 2113 by default', () => {
    expect(loadConfig(EventStoreConfig, {})).toMatchObject({
      dataDir: '.nimbus/event-store',
      host: '127.0.0.1',
      port: 2113,
      maxAppendSize: 1_048_576,
    });
  });

  it('lets --data-dir, --host and --port win over their variables', () => {
    const config = configFromCommandLine('event-store', EventStoreConfig, {
      argv: ['--data-dir', '/tmp/store', '--host', '::1', '--port', '0'],
      env: { NIMBUS_EVENTSTORE_DATA_DIR: 'elsewhere', NIMBUS_EVENTSTORE_PORT: '2113' },
    });
    expect(config).toMatchObject({ dataDir: '/tmp/store', host: '::1', port: 0 });
  });
});
