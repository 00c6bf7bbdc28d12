import {
  authorizedKeysFile,
  knownHostsLine,
  parsePublicKey,
  renderSshdConfig,
  sha256Fingerprint,
} from './ssh-files.js';

// A throwaway key made for this test: `ssh-keygen -t ed25519`, then `ssh-keygen -l -E sha256`.
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIDbFV9gLz1AwDTm/N6tjp3eg/CxB5ipd9DZ6irSHLva vector';
const FINGERPRINT = 'SHA256:KUs47RQqybD8j291jcy3mgvN/na+Or7SVP7ycd8gJpI';

const input = {
  port: 40022,
  hostKeyPath: '/state/ssh/host_ed25519_key',
  pidFilePath: '/state/ssh/sshd.pid',
  allowUsers: ['nimbus-a-h1', 'nimbus-a-h2'],
};

function directives(config: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of config.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [key, ...rest] = line.split(' ');
    map.set(key!, [...(map.get(key!) ?? []), rest.join(' ')]);
  }
  return map;
}

describe(renderSshdConfig.name, () => {
  const config = directives(renderSshdConfig(input));

  it('listens on the loopback port with the rig host key and pid file', () => {
    expect(config.get('Port')).toEqual(['40022']);
    expect(config.get('ListenAddress')).toEqual(['127.0.0.1']);
    expect(config.get('HostKey')).toEqual(['/state/ssh/host_ed25519_key']);
    expect(config.get('PidFile')).toEqual(['/state/ssh/sshd.pid']);
  });

  it('accepts keys only, for the rig users only, never root', () => {
    expect(config.get('AuthenticationMethods')).toEqual(['publickey']);
    expect(config.get('PasswordAuthentication')).toEqual(['no']);
    expect(config.get('KbdInteractiveAuthentication')).toEqual(['no']);
    expect(config.get('PermitRootLogin')).toEqual(['no']);
    expect(config.get('AllowUsers')).toEqual(['nimbus-a-h1 nimbus-a-h2']);
    expect(config.get('StrictModes')).toEqual(['yes']);
  });

  it('forwards only to the host loopback, as the console tunnel needs', () => {
    expect(config.get('AllowTcpForwarding')).toEqual(['local']);
    expect(config.get('PermitOpen')).toEqual(['127.0.0.1:*']);
    expect(config.get('X11Forwarding')).toEqual(['no']);
    expect(config.get('AllowAgentForwarding')).toEqual(['no']);
  });

  it('serves SFTP without depending on where sftp-server is installed', () => {
    expect(config.get('Subsystem')).toEqual(['sftp internal-sftp']);
  });

  it('names each directive once, so no later line silently overrides an earlier one', () => {
    for (const [key, values] of config) expect([key, values.length]).toEqual([key, 1]);
  });

  it('refuses to render an sshd nobody may log in to', () => {
    expect(() => renderSshdConfig({ ...input, allowUsers: [] })).toThrow(/no allowed users/);
  });
});

describe(knownHostsLine.name, () => {
  it('pins the key for [127.0.0.1]:port and drops the comment', () => {
    expect(knownHostsLine(PUBLIC_KEY, 40022)).toBe(
      '[127.0.0.1]:40022 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIDbFV9gLz1AwDTm/N6tjp3eg/CxB5ipd9DZ6irSHLva',
    );
  });

  it('uses the bare address on port 22, as OpenSSH does', () => {
    expect(knownHostsLine(PUBLIC_KEY, 22)).toMatch(/^127\.0\.0\.1 ssh-ed25519 /);
  });
});

describe(sha256Fingerprint.name, () => {
  it('matches what ssh-keygen -l -E sha256 printed for the same key', () => {
    expect(sha256Fingerprint(PUBLIC_KEY)).toBe(FINGERPRINT);
  });
});

describe(parsePublicKey.name, () => {
  it('rejects text that is not a public key line, such as a private key file', () => {
    expect(() => parsePublicKey('-----BEGIN OPENSSH PRIVATE KEY-----')).toThrow(/not an OpenSSH public key/);
    expect(() => parsePublicKey('')).toThrow(/not an OpenSSH public key/);
  });
});

describe(authorizedKeysFile.name, () => {
  it('holds the client key with a comment of its own, not the one ssh-keygen wrote', () => {
    const lines = authorizedKeysFile(PUBLIC_KEY).trim().split('\n');
    expect(lines.at(-1)).toBe(
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIDbFV9gLz1AwDTm/N6tjp3eg/CxB5ipd9DZ6irSHLva nimbus-rig-client',
    );
  });
});
