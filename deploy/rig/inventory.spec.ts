import { parseInventory, rigPaths, type RigInventory } from './inventory.js';

const valid: RigInventory = {
  sshHost: '127.0.0.1',
  sshPort: 40022,
  knownHostsLine: '[127.0.0.1]:40022 ssh-ed25519 AAAA',
  hostKeyFingerprint: 'SHA256:abc',
  privateKeyPath: '/s/ssh/client_ed25519_key',
  bootImagePath: '/s/images/nimbus-boot.qcow2',
  guestImagePath: '/s/images/nimbus-guest.qcow2',
  network: {
    netns: 'nimbus-dev',
    helperPath: '/s/net/host-net',
    metadataSocket: '/run/nimbus-dev/metadata.sock',
  },
  hosts: [
    {
      name: 'nimbus-ci-h1',
      user: 'nimbus-ci-h1',
      libvirtUri: 'qemu:///session',
      home: '/home/nimbus-ci-h1',
      imageCacheDir: '/home/nimbus-ci-h1/images',
      instancesDir: '/home/nimbus-ci-h1/instances',
      availabilityZone: 'nova',
      cpuArch: 'x86_64',
      hypervisorType: 'qemu',
    },
  ],
};

describe(parseInventory.name, () => {
  it('accepts what createRig writes', () => {
    expect(parseInventory(JSON.parse(JSON.stringify(valid)))).toEqual(valid);
  });

  it('lists every problem at once, naming the host field', () => {
    const broken = {
      ...valid,
      sshPort: 0,
      hosts: [{ ...valid.hosts[0], home: 'relative', libvirtUri: 'qemu:///system' }],
    };
    expect(() => parseInventory(broken, 'inventory.json')).toThrow(
      'inventory.json is not a valid rig inventory: sshPort must be a port from 1 to 65535; ' +
        'hosts[0].home must be an absolute path; hosts[0].libvirtUri must be qemu:///session',
    );
  });

  it('rejects an inventory with no hosts and one that is not an object', () => {
    expect(() => parseInventory({ ...valid, hosts: [] })).toThrow(/hosts must be a non-empty list/);
    expect(() => parseInventory(null)).toThrow(/sshHost must be 127.0.0.1/);
  });
});

describe(rigPaths.name, () => {
  it('keeps every file of the rig inside its state folder', () => {
    for (const file of Object.values(rigPaths('/state'))) expect(file.startsWith('/state')).toBe(true);
  });
});
