import { OriginPolicy, originOf } from './origin.js';

describe(OriginPolicy.name, () => {
  const policy = new OriginPolicy(['http://127.0.0.1:6080', 'https://console.example.org/some/path']);

  it('keeps only the origins of the URLs it is given', () => {
    expect(policy.list()).toEqual(['http://127.0.0.1:6080', 'https://console.example.org']);
    expect(originOf('http://H.example:80/x?y')).toBe('http://h.example');
  });

  it.each(['http://127.0.0.1:6080', 'https://console.example.org'])('allows %s', (origin) => {
    expect(policy.allows(origin)).toBe(true);
  });

  it.each<[string, string | string[] | undefined]>([
    ['no Origin at all', undefined],
    ['an empty Origin', ''],
    ['the opaque origin', 'null'],
    ['another port', 'http://127.0.0.1:6081'],
    ['another scheme', 'https://127.0.0.1:6080'],
    ['another host that resolves the same', 'http://localhost:6080'],
    ['a lookalike', 'https://console.example.org.evil.test'],
    ['a path after the origin', 'https://console.example.org/'],
    ['upper case (browsers serialise in lower case)', 'HTTPS://CONSOLE.EXAMPLE.ORG'],
    ['the default port spelled out', 'https://console.example.org:443'],
    ['a file origin', 'file://'],
    ['several values', ['http://127.0.0.1:6080', 'http://127.0.0.1:6080']],
  ])('refuses %s', (_what, header) => {
    expect(policy.allows(header)).toBe(false);
  });

  it('needs at least one origin, and only http(s) ones', () => {
    expect(() => new OriginPolicy([])).toThrow(/at least one/);
    expect(() => new OriginPolicy(['ftp://example.org'])).toThrow(/not an http/);
  });
});
