import { describe, expect, it } from '@jest/globals';
import { IsString } from 'class-validator';

import { configFromCommandLine } from './command-line.js';
import { documentedOptions, optionsTable, optionsTableDrift } from './describe-config.js';
import { loadConfig } from './load-config.js';
import { Option, optionsOf } from './option.js';
import { IntOption, PortOption, StoreClientOptions } from './options.js';

class Example extends StoreClientOptions {
  @PortOption({ env: 'EXAMPLE_PORT', flag: 'port', doc: 'where to listen | on' })
  port = 8080;

  @Option({ env: 'EXAMPLE_NAME', optional: true, doc: 'a name like <name>' }, IsString())
  name?: string;

  @IntOption({ env: 'EXAMPLE_RETRIES', doc: 'how often to retry', default: 'three times', min: 1 })
  retries = 3;
}

describe(Option.name, () => {
  it('records each option once, base class first, with its default read from the field', () => {
    expect(optionsOf(Example)).toEqual([
      expect.objectContaining({
        env: 'EVENTSTORE_URL',
        property: 'eventStoreUrl',
        default: 'esdb://127.0.0.1:2113?tls=false',
      }),
      expect.objectContaining({ env: 'OTEL_EXPORTER_OTLP_ENDPOINT', property: 'otlpEndpoint' }),
      expect.objectContaining({ env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', property: 'otlpTracesEndpoint' }),
      {
        property: 'port',
        env: 'EXAMPLE_PORT',
        flag: 'port',
        description: 'where to listen | on',
        default: '8080',
        allowed: '0-65535',
      },
      { property: 'name', env: 'EXAMPLE_NAME', description: 'a name like <name>', default: 'unset' },
      {
        property: 'retries',
        env: 'EXAMPLE_RETRIES',
        description: 'how often to retry',
        default: 'three times',
        allowed: '>= 1',
      },
    ]);
  });

  it('reads the declared variables and applies the rules', () => {
    expect(loadConfig(Example, { EXAMPLE_PORT: '9', EXAMPLE_NAME: 'x' })).toMatchObject({
      port: 9,
      name: 'x',
      retries: 3,
    });
    expect(() => loadConfig(Example, { EXAMPLE_RETRIES: '0' })).toThrow(/retries/);
    expect(() => loadConfig(Example, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /otlpEndpoint/,
    );
  });

  it('refuses a class that declares one variable twice', () => {
    expect(() => {
      class Twice {
        @Option({ env: 'SAME', doc: 'one' }, IsString())
        one = 'a';

        @Option({ env: 'SAME', doc: 'two' }, IsString())
        two = 'b';
      }
      return Twice;
    }).toThrow(/SAME is declared twice/);
  });

  it('lets a declared flag win over its variable', () => {
    const config = configFromCommandLine('example', Example, {
      argv: ['--port', '7'],
      env: { EXAMPLE_PORT: '9' },
    });
    expect(config?.port).toBe(7);
  });
});

describe(optionsTableDrift.name, () => {
  const table = `# Options\n\n## example\n\n${optionsTable(optionsOf(Example))}\n\n## other\n\ntext\n`;

  it('finds nothing to say when the table is the one the declarations render', () => {
    expect(optionsTableDrift(table, 'example', optionsOf(Example))).toBeNull();
  });

  it('reads a table padded by a formatter, escapes and all', () => {
    const padded = table.replace(/ \| /g, '   |   ').replace(/^\| /gm, '|  ');
    expect(documentedOptions(padded, 'example')).toEqual(documentedOptions(table, 'example'));
    expect(documentedOptions(table, 'example')?.find((row) => row.option === 'EXAMPLE_NAME')).toEqual({
      option: 'EXAMPLE_NAME',
      default: 'unset',
      allowed: '',
      what: 'a name like <name>',
    });
  });

  it('names an option added without documentation, and renders the table to paste', () => {
    class Grown extends Example {
      @Option({ env: 'EXAMPLE_NEW', doc: 'added later' }, IsString())
      added = 'x';
    }
    const drift = optionsTableDrift(table, 'example', optionsOf(Grown));
    expect(drift).toContain('undocumented: EXAMPLE_NEW');
    expect(drift).toContain('| `EXAMPLE_NEW` | `x` |  | added later |');
  });

  it('names a documented option nothing declares, and a missing section', () => {
    const stale = table.replace(/^\| `EXAMPLE_RETRIES`.*\n/m, '$&| `EXAMPLE_GONE` | `1` |  | removed |\n');
    expect(optionsTableDrift(stale, 'example', optionsOf(Example))).toContain(
      'documented but not declared: EXAMPLE_GONE',
    );
    expect(optionsTableDrift(table, 'missing', optionsOf(Example))).toContain(
      'no options table under "## missing"',
    );
  });
});
