import { InvalidSshArgument } from './errors.js';
import { sshEndpointsFromInventory, validateSshEndpoints, type SshEndpoint } from './ssh-endpoint.js';

const PIN = 'SHA256:MiU8n3RpjxOQlfyBGX72HSCmcGuLetnCiMf2TsP/kLc';

const inventory = {
  sshHost: '127.0.0.1',
  sshPort: 45021,
  hostKeyFingerprint: PIN,
  privateKeyPath: '/var/lib/nimbus/rig/ssh/client_ed25519_key',
  hosts: [
    { name: 'nimbus-dev-h1', user: 'nimbus-dev-h1' },
    { name: 'nimbus-dev-h2', user: 'nimbus-dev-h2' },
  ],
};

describe(sshEndpointsFromInventory.name, () => {
  it('gives one endpoint per host, all through the inventory sshd and its pin', () => {
    expect(sshEndpointsFromInventory(inventory)).toEqual([
      {
        host: 'nimbus-dev-h1',
        address: '127.0.0.1',
        port: 45021,
        username: 'nimbus-dev-h1',
        privateKeyPath: '/var/lib/nimbus/rig/ssh/client_ed25519_key',
        hostKeyFingerprint: PIN,
      },
      expect.objectContaining({ host: 'nimbus-dev-h2', username: 'nimbus-dev-h2' }),
    ]);
  });

  it('refuses something that is not an inventory', () => {
    expect(() => sshEndpointsFromInventory(JSON.parse('{"hosts": 3}') as typeof inventory)).toThrow(
      InvalidSshArgument,
    );
  });
});

describe(validateSshEndpoints.name, () => {
  const good: SshEndpoint = sshEndpointsFromInventory(inventory)[0]!;

  it.each<[string, Partial<SshEndpoint>]>([
    ['a missing pin', { hostKeyFingerprint: '' }],
    ['an MD5 pin', { hostKeyFingerprint: 'MD5:aa:bb' }],
    ['a shell in the user name', { username: 'h1;id' }],
    ['port 0', { port: 0 }],
    ['an address with a space', { address: '127.0.0.1 -oProxyCommand=x' }],
    ['a relative key path', { privateKeyPath: 'ssh/key' }],
    ['a key path with ..', { privateKeyPath: '/var/../etc/key' }],
    ['a host name with a space', { host: 'h 1' }],
  ])('refuses %s', (_what, change) => {
    expect(() => validateSshEndpoints([{ ...good, ...change }])).toThrow(InvalidSshArgument);
  });

  it('lists every problem at once, and refuses a host named twice', () => {
    expect(() => validateSshEndpoints([good, { ...good, port: 0, username: 'X' }])).toThrow(
      /host is used twice.*port is not a port.*username is not a user name/,
    );
  });
});
