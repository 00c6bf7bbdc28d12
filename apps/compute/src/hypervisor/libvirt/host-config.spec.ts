import { InvalidArgument } from '../errors.js';
import { hostConfigsFromInventory, validateHostConfigs, type LibvirtHostConfig } from './host-config.js';

const PIN = 'SHA256:MiU8n3RpjxOQlfyBGX72HSCmcGuLetnCiMf2TsP/kLc';

const inventory = {
  sshHost: '127.0.0.1',
  sshPort: 45021,
  knownHostsLine:
    '[127.0.0.1]:45021 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGCk2I1/mMYw/lQcdynlLj4uVAsUKMfIoz91sm9oCtMN',
  hostKeyFingerprint: PIN,
  privateKeyPath: '/var/lib/nimbus/rig/ssh/client_ed25519_key',
  bootImagePath: '/var/lib/nimbus/rig/images/nimbus-boot.qcow2',
  hosts: [
    {
      name: 'nimbus-dev-h1',
      user: 'nimbus-dev-h1',
      libvirtUri: 'qemu:///session',
      home: '/home/nimbus-dev-h1',
      imageCacheDir: '/home/nimbus-dev-h1/images',
      instancesDir: '/home/nimbus-dev-h1/instances',
      availabilityZone: 'nova',
      cpuArch: 'x86_64',
      hypervisorType: 'qemu',
    },
  ],
};

describe(hostConfigsFromInventory.name, () => {
  it("maps the rig's inventory to one host config per host, sharing its sshd and pin", () => {
    expect(hostConfigsFromInventory(inventory)).toEqual([
      {
        name: 'nimbus-dev-h1',
        sshAddress: '127.0.0.1',
        sshPort: 45021,
        sshUser: 'nimbus-dev-h1',
        privateKeyPath: '/var/lib/nimbus/rig/ssh/client_ed25519_key',
        hostKeyFingerprint: PIN,
        libvirtUri: 'qemu:///session',
        imageCacheDir: '/home/nimbus-dev-h1/images',
        instancesDir: '/home/nimbus-dev-h1/instances',
        virtType: 'qemu',
      },
    ]);
  });

  it("gives every host the rig network's helper when the rig has one", () => {
    const withNetwork = {
      ...inventory,
      network: { netns: 'nimbus-dev', helperPath: '/var/lib/nimbus/rig/net/host-net' },
    };
    expect(hostConfigsFromInventory(withNetwork).map((host) => host.networkHelper)).toEqual([
      '/var/lib/nimbus/rig/net/host-net',
    ]);
  });
});

describe(`${hostConfigsFromInventory.name} with one sshd per host`, () => {
  const [h1] = inventory.hosts;
  const perHost = {
    privateKeyPath: inventory.privateKeyPath,
    sshPort: 22,
    hosts: [
      { ...h1!, name: 'hv-1', sshHost: 'hv-1.example.org', hostKeyFingerprint: PIN },
      { ...h1!, name: 'hv-2', sshHost: '10.0.0.2', sshPort: 2222, hostKeyFingerprint: PIN },
    ],
  };

  it("takes each host's own sshd, port and pin over the inventory's", () => {
    expect(
      hostConfigsFromInventory(perHost).map(({ sshAddress, sshPort }) => `${sshAddress}:${sshPort}`),
    ).toEqual(['hv-1.example.org:22', '10.0.0.2:2222']);
  });

  it('refuses a host that has no pin of its own and none to inherit', () => {
    const unpinned = { ...perHost, hosts: [{ ...perHost.hosts[0]!, hostKeyFingerprint: undefined }] };
    expect(() => hostConfigsFromInventory(unpinned)).toThrow(/hv-1: hostKeyFingerprint must be SHA256/);
  });
});

describe(validateHostConfigs.name, () => {
  const good = hostConfigsFromInventory(inventory)[0]!;

  it.each<[string, Partial<LibvirtHostConfig>]>([
    ['a host name with a dot', { name: 'h1.example' }],
    ['a missing pin', { hostKeyFingerprint: '' }],
    ['an MD5 pin', { hostKeyFingerprint: 'MD5:aa:bb' }],
    ['a remote libvirt URI', { libvirtUri: 'qemu+ssh://other/system' }],
    ['an instances folder with ..', { instancesDir: '/home/h1/../../etc' }],
    ['the root as instances folder', { instancesDir: '/' }],
    ['a relative image cache', { imageCacheDir: 'images' }],
    ['a trailing slash', { imageCacheDir: '/home/h1/images/' }],
    ['a shell in the user name', { sshUser: 'h1;id' }],
    ['port 0', { sshPort: 0 }],
    ['a relative network helper', { networkHelper: 'net/host-net' }],
    ['a network helper path with a space', { networkHelper: '/srv/rig net/host-net' }],
  ])('refuses %s', (_what, change) => {
    expect(() => validateHostConfigs([{ ...good, ...change }])).toThrow(InvalidArgument);
  });

  it('lists every problem at once, and refuses a name used twice', () => {
    expect(() => validateHostConfigs([good, { ...good, sshPort: 0, instancesDir: 'x' }])).toThrow(
      /name is used twice.*sshPort.*instancesDir/,
    );
  });
});
