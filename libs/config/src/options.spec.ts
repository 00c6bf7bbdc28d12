import { describe, expect, it } from '@jest/globals';

import { loadConfig } from './load-config.js';
import { BusClientOptions, HttpUrlOption, PortOption } from './options.js';

class Service extends BusClientOptions {
  @PortOption({ env: 'SERVICE_PORT', doc: 'port' })
  port = 1;

  @HttpUrlOption({ env: 'SERVICE_URL', optional: true, doc: 'url' })
  url?: string;
}

const problemsOf = (source: Record<string, string>): string => {
  try {
    loadConfig(Service, source);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('the shared option rules', () => {
  it.each([
    'esdb://127.0.0.1:2113?tls=false',
    'esdb+discover://cluster.example.org:2113',
    'esdb://admin:changeit@a:2113,b:2113,c:2113?tls=true',
  ])('accept the event store URL %s', (url) => {
    expect(problemsOf({ EVENTSTORE_URL: url })).toBe('');
  });

  // The official client parses only esdb:// and esdb+discover://; anything else would fail at connect.
  it.each(['kurrentdb://127.0.0.1:2113', '127.0.0.1:2113', 'esdb://', 'http://127.0.0.1:2113'])(
    'refuse the event store URL %s, which the client cannot parse',
    (url) => {
      expect(problemsOf({ EVENTSTORE_URL: url })).toMatch(/eventStoreUrl must be an esdb/);
    },
  );

  it('accept a NATS URL with its scheme and refuse one without', () => {
    expect(problemsOf({ NATS_URL: 'nats://user:secret@127.0.0.1:4222' })).toBe('');
    expect(problemsOf({ NATS_URL: 'tls://nats.example.org:4222' })).toBe('');
    expect(problemsOf({ NATS_URL: '127.0.0.1:4222' })).toMatch(/natsUrl must be a nats/);
  });

  it('accept ports 0 to 65535 only', () => {
    expect(problemsOf({ SERVICE_PORT: '0' })).toBe('');
    expect(problemsOf({ SERVICE_PORT: '65535' })).toBe('');
    expect(problemsOf({ SERVICE_PORT: '65536' })).toMatch(/port/);
    expect(problemsOf({ SERVICE_PORT: '-1' })).toMatch(/port/);
    expect(problemsOf({ SERVICE_PORT: '80.5' })).toMatch(/port/);
  });

  it('accept http(s) URLs with their scheme only', () => {
    expect(problemsOf({ SERVICE_URL: 'http://127.0.0.1:8774' })).toBe('');
    expect(problemsOf({ SERVICE_URL: 'https://api.example.org/prefix' })).toBe('');
    expect(problemsOf({ SERVICE_URL: 'http://localhost:6080' })).toBe('');
    expect(problemsOf({ SERVICE_URL: '127.0.0.1:8774' })).toMatch(/url/);
    expect(problemsOf({ SERVICE_URL: 'ftp://example.org' })).toMatch(/url/);
  });
});
