// The text of the files the rig's sshd and its clients read: sshd_config, authorized_keys and the
// known_hosts pin, plus the SHA256 fingerprint of a public key as ssh-keygen prints it.
// Pure functions of their inputs. They only ever see public keys, never a private one.

import { createHash } from 'node:crypto';

export const SSH_HOST = '127.0.0.1';

export interface SshdConfigInput {
  readonly port: number;
  readonly hostKeyPath: string;
  readonly pidFilePath: string;
  readonly allowUsers: readonly string[];
}

/**
 * A complete sshd_config: nothing is inherited from /etc/ssh, so the machine's own sshd settings
 * cannot widen what the rig allows. Paths must be absolute: sshd resolves nothing relative.
 */
export function renderSshdConfig(input: SshdConfigInput): string {
  if (input.allowUsers.length === 0) throw new Error('an sshd with no allowed users would refuse everyone');
  return [
    '# Written by the Nimbus hypervisor rig (deploy/rig); rewritten on every createRig. Do not edit.',
    `Port ${input.port}`,
    `ListenAddress ${SSH_HOST}`,
    'AddressFamily inet',
    `HostKey ${input.hostKeyPath}`,
    `PidFile ${input.pidFilePath}`,
    '',
    '# Keys only. UsePAM stays off: PAM would bring the machine login stack (and pam_systemd) into it.',
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'HostbasedAuthentication no',
    'UsePAM no',
    'PermitRootLogin no',
    `AllowUsers ${input.allowUsers.join(' ')}`,
    '# Relative to each host user home, which the rig keeps root-owned along with .ssh and the file,',
    '# so StrictModes holds and a host user cannot change who may log in as it.',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'StrictModes yes',
    'PermitUserEnvironment no',
    'PermitUserRC no',
    '',
    '# The console proxy tunnels to VNC on the host loopback (direct-tcpip); nothing else is forwarded.',
    'AllowTcpForwarding local',
    `PermitOpen ${SSH_HOST}:*`,
    'AllowStreamLocalForwarding no',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PermitTunnel no',
    'GatewayPorts no',
    '',
    '# The compute agent copies images over SFTP and multiplexes many exec channels on one connection.',
    'Subsystem sftp internal-sftp',
    'MaxSessions 64',
    'MaxStartups 64:30:256',
    '',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/**
 * The `type base64` pair at the start of an OpenSSH public key line (the comment is dropped).
 * The key blob must begin with its own type name, as every SSH public key blob does, which tells a
 * real key from any two words (the error never quotes the input: it could be a private key).
 */
export function parsePublicKey(line: string): { type: string; base64: string } {
  const [type, base64] = line.trim().split(/\s+/);
  const blob = Buffer.from(base64 ?? '', 'base64');
  const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const blobType = blob.subarray(4, 4 + nameLength).toString('latin1');
  if (!type || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || blobType !== type) {
    throw new Error('not an OpenSSH public key line');
  }
  return { type, base64 };
}

/** The pin a client writes in known_hosts: OpenSSH names a non-22 port as `[host]:port`. */
export function knownHostsLine(hostPublicKey: string, port: number): string {
  const { type, base64 } = parsePublicKey(hostPublicKey);
  const host = port === 22 ? SSH_HOST : `[${SSH_HOST}]:${port}`;
  return `${host} ${type} ${base64}`;
}

/** `SHA256:<unpadded base64 of the key blob digest>`, the form `ssh-keygen -l` and ssh2 print. */
export function sha256Fingerprint(publicKey: string): string {
  const blob = Buffer.from(parsePublicKey(publicKey).base64, 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function authorizedKeysFile(clientPublicKey: string): string {
  const { type, base64 } = parsePublicKey(clientPublicKey);
  return `# Written by the Nimbus hypervisor rig: the compute agent's key.\n${type} ${base64} nimbus-rig-client\n`;
}
