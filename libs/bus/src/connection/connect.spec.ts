import { connectionOptions, maskUrl, reconnectBackoff } from './connect.js';

describe(reconnectBackoff.name, () => {
  it('doubles the delay per attempt up to the cap', () => {
    let now = 0;
    const backoff = reconnectBackoff(100, 1_000, () => now);
    const delays = Array.from({ length: 6 }, () => {
      now += 10;
      return backoff.next();
    });
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('starts over after a quiet spell, when the connection had recovered', () => {
    let now = 0;
    const backoff = reconnectBackoff(100, 1_000, () => now);
    backoff.next();
    backoff.next();
    now += 60_000;
    expect(backoff.next()).toBe(100);
  });
});

describe(maskUrl.name, () => {
  it('hides credentials in a server URL and leaves the rest', () => {
    expect(maskUrl('nats://nimbus:s3cret@10.0.0.5:4222')).toBe('nats://***@10.0.0.5:4222');
    expect(maskUrl('tls://token@nats.example:4222')).toBe('tls://***@nats.example:4222');
    expect(maskUrl('127.0.0.1:4222')).toBe('127.0.0.1:4222');
    expect(maskUrl('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
  });
});

describe(connectionOptions.name, () => {
  it('names the connection, waits for the first server and never stops reconnecting', () => {
    const options = connectionOptions({ url: 'nats://a:4222, nats://b:4222', name: 'scheduler' });
    expect(options).toMatchObject({
      servers: ['nats://a:4222', 'nats://b:4222'],
      name: 'scheduler',
      waitOnFirstConnect: true,
      reconnect: true,
      maxReconnectAttempts: -1,
    });
    expect(typeof options.reconnectDelayHandler).toBe('function');
  });

  it('refuses an empty URL with the variable to set', () => {
    expect(() => connectionOptions({ url: ' ', name: 'x' })).toThrow(/NATS_URL/);
  });
});
