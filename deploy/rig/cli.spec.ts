import { parseCommand, summarize, UsageError } from './cli.js';
import type { RigInventory } from './inventory.js';

const cwd = '/srv/nimbus';

describe(parseCommand.name, () => {
  it('parses up with a state folder resolved against the working directory', () => {
    expect(parseCommand(['up', '--state', '.nimbus/rig', '--hosts', '2'], cwd)).toEqual({
      command: 'up',
      stateDir: '/srv/nimbus/.nimbus/rig',
      hosts: 2,
      sshPort: 0,
    });
  });

  it('parses up with a port and a prefix', () => {
    expect(
      parseCommand(['up', '--state', '/s', '--hosts', '3', '--port', '2222', '--prefix', 'ci'], cwd),
    ).toEqual({
      command: 'up',
      stateDir: '/s',
      hosts: 3,
      sshPort: 2222,
      namePrefix: 'ci',
    });
  });

  it('parses down, with and without --remove-users', () => {
    expect(parseCommand(['down', '--state', '/s'], cwd)).toEqual({
      command: 'down',
      stateDir: '/s',
      removeUsers: false,
    });
    expect(parseCommand(['down', '--state', '/s', '--remove-users'], cwd)).toEqual({
      command: 'down',
      stateDir: '/s',
      removeUsers: true,
    });
  });

  it.each([
    [[], /exactly one command/],
    [['up', 'down', '--state', '/s'], /exactly one command/],
    [['sideways', '--state', '/s'], /unknown command 'sideways'/],
    [['up', '--hosts', '2'], /--state <dir> is required/],
    [['up', '--state', '/s'], /--hosts <n> is required/],
    [['up', '--state', '/s', '--hosts', 'two'], /--hosts must be a whole number/],
    [['up', '--state', '/s', '--hosts', '1e1'], /--hosts must be a whole number/],
    [['up', '--state', '/s', '--hosts', '0'], /hosts must be a whole number from 1 to 64/],
    [
      ['up', '--state', '/s', '--hosts', '1', '--port', '70000'],
      /--port must be a whole number from 0 to 65535/,
    ],
    [['up', '--state', '/s', '--hosts', '1', '--prefix', 'Bad-Name'], /namePrefix 'Bad-Name'/],
    [['up', '--state', '/s', '--hosts', '1', '--remove-users'], /up does not take --remove-users/],
    [['down', '--state', '/s', '--hosts', '1'], /down does not take --hosts/],
    [['up', '--state', '/s', '--hosts', '1', '--colour'], /Unknown option '--colour'/],
    [['up', '--state'], /argument missing/],
  ])('rejects %j with a message that says what is wrong', (argv, message) => {
    const parse = () => parseCommand(argv, cwd);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
  });
});

describe(summarize.name, () => {
  const inventory: RigInventory = {
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

  it('names the endpoint, the key fingerprint, each host, and a command that logs in with the pin', () => {
    const text = summarize(inventory, '/s/inventory.json', '/s/ssh/known_hosts');
    expect(text).toContain('127.0.0.1:40022');
    expect(text).toContain('SHA256:abc');
    expect(text).toContain('nimbus-ci-h1  qemu:///session  /home/nimbus-ci-h1');
    expect(text).toContain(
      '-o UserKnownHostsFile=/s/ssh/known_hosts -o StrictHostKeyChecking=yes nimbus-ci-h1@127.0.0.1',
    );
  });
});
