import { readFileSync } from 'node:fs';

import { ConfigError, loadConfig, optionsOf, optionsTableDrift } from '#libs/config';

import { ConsoleProxyConfig } from './config.js';

const CONFIGURATION_DOC = new URL('../../../docs/configuration.md', import.meta.url);

describe(ConsoleProxyConfig.name, () => {
  it('is documented in docs/configuration.md exactly as it is declared', () => {
    expect(
      optionsTableDrift(
        readFileSync(CONFIGURATION_DOC, 'utf8'),
        'console-proxy',
        optionsOf(ConsoleProxyConfig),
      ),
    ).toBeNull();
  });

  it('has loopback defaults and needs only the inventory', () => {
    expect(loadConfig(ConsoleProxyConfig, { NIMBUS_CONSOLE_INVENTORY: '/rig/inventory.json' })).toMatchObject(
      {
        eventStoreUrl: 'esdb://127.0.0.1:2113?tls=false',
        host: '127.0.0.1',
        port: 6080,
        baseUrl: undefined,
        allowedOrigins: [],
        inventory: '/rig/inventory.json',
        healthPort: 0,
        maxConnections: 1000,
        connectTimeoutMs: 15000,
      },
    );
  });

  it('reads every option', () => {
    const config = loadConfig(ConsoleProxyConfig, {
      EVENTSTORE_URL: 'esdb://store:2113?tls=false',
      NIMBUS_CONSOLE_HOST: '0.0.0.0',
      NIMBUS_CONSOLE_PORT: '0',
      NIMBUS_CONSOLE_BASE_URL: 'https://console.example.org',
      NIMBUS_CONSOLE_ALLOWED_ORIGINS: 'https://console.example.org, https://dashboard.example.org',
      NIMBUS_CONSOLE_INVENTORY: 'inventory.json',
      NIMBUS_CONSOLE_HEALTH_PORT: '9090',
      NIMBUS_CONSOLE_MAX_CONNECTIONS: '10',
      NIMBUS_CONSOLE_CONNECT_TIMEOUT_MS: '2000',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      baseUrl: 'https://console.example.org',
      allowedOrigins: ['https://console.example.org', 'https://dashboard.example.org'],
      healthPort: 9090,
      maxConnections: 10,
      connectTimeoutMs: 2000,
    });
  });

  it('lists everything wrong at once, naming the missing inventory', () => {
    let error: unknown;
    try {
      loadConfig(ConsoleProxyConfig, {
        NIMBUS_CONSOLE_HOST: 'localhost',
        NIMBUS_CONSOLE_PORT: '70000',
        NIMBUS_CONSOLE_BASE_URL: 'ftp://x',
        NIMBUS_CONSOLE_ALLOWED_ORIGINS: 'not a url',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const field of ['host', 'port', 'baseUrl', 'allowedOrigins', 'NIMBUS_CONSOLE_INVENTORY'])
      expect(problems).toContain(field);
  });
});
