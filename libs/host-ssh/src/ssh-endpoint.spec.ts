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

  it("reaches a host through its own sshd and pin where it names them, the inventory's otherwise", () => {
    const other = 'SHA256:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCdE';
    const perHost = {
      privateKeyPath: inventory.privateKeyPath,
      sshPort: 22,
      hosts: [
        { name: 'hv-1', user: 'nimbus', sshHost: 'hv-1.example.org', hostKeyFingerprint: PIN },
        { name: 'hv-2', user: 'nimbus', sshHost: '10.0.0.2', sshPort: 2222, hostKeyFingerprint: other },
      ],
    };
    expect(
      sshEndpointsFromInventory(perHost).map(({ address, port, hostKeyFingerprint }) => [
        address,
        port,
        hostKeyFingerprint,
      ]),
    ).toEqual([
      ['hv-1.example.org', 22, PIN],
      ['10.0.0.2', 2222, other],
    ]);
  });

  it('refuses a host left with no sshd or no pin, naming it', () => {
    const partial = {
      privateKeyPath: inventory.privateKeyPath,
      sshPort: 22,
      hosts: [
        { name: 'hv-1', user: 'nimbus', hostKeyFingerprint: PIN },
        { name: 'hv-2', user: 'nimbus', sshHost: 'hv-2' },
      ],
    };
    expect(() => sshEndpointsFromInventory(partial)).toThrow(
      /hv-1: address is not an address.*hv-2: hostKeyFingerprint must be SHA256/,
    );
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
