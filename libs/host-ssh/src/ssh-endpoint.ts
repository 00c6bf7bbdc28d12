/**
 * Where and how to reach a host over SSH, checked before any connection is attempted: an address, a
 * port, a POSIX user, the path of the private key and the pinned host key. Also reads the SSH part of
 * a host inventory (the rig's inventory.json: one sshd and pin shared by every host, one user per
 * host), which the compute agent and the console proxy both load.
 * Must never hold key material (only the private key's path), and never accept an endpoint without
 * a well-formed pin.
 */
import path from 'node:path';

import { InvalidSshArgument } from './errors.js';
import { isFingerprint } from './host-key.js';

export interface SshEndpoint {
  /** The host's name, for messages and for finding its session. */
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly username: string;
  /** Read at each connection attempt, so a rotated key file is picked up; its content is never logged. */
  readonly privateKeyPath: string;
  /** The only host key accepted (`SHA256:...`). */
  readonly hostKeyFingerprint: string;
}

/**
 * How a host of an inventory is reached over SSH, where it differs from the inventory's defaults: one
 * sshd per hypervisor machine in a real cloud, one sshd for every host on the rig.
 */
export interface SshOverrides {
  readonly sshHost?: string;
  readonly sshPort?: number;
  readonly hostKeyFingerprint?: string;
}

/**
 * The SSH part of a host inventory file; other fields (libvirt's, the rig's) are left to their readers.
 * The top-level sshd, port and pin are each host's unless the host names its own.
 */
export interface SshInventory extends SshOverrides {
  readonly privateKeyPath: string;
  readonly hosts: readonly ({ readonly name: string; readonly user: string } & SshOverrides)[];
}

/** An IPv4 address or a DNS name. */
const ADDRESS = /^([0-9]{1,3}(\.[0-9]{1,3}){3}|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;
/** POSIX portable user names. */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
/** A host's name is only a label here, but one that is safe in a message: printable, no spaces. */
const HOST_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const isSshAddress = (value: unknown): boolean => typeof value === 'string' && ADDRESS.test(value);
export const isSshUser = (value: unknown): boolean => typeof value === 'string' && USER_NAME.test(value);
export const isPort = (value: unknown): boolean =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536;
export const isAbsoluteFile = (value: unknown): boolean =>
  typeof value === 'string' && path.posix.isAbsolute(value) && path.posix.normalize(value) === value;

/** Everything wrong with one endpoint, each as `<field> ...`; empty when it is usable. */
export function sshEndpointProblems(endpoint: SshEndpoint): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  check(typeof endpoint.host === 'string' && HOST_LABEL.test(endpoint.host), 'host is not a host name');
  check(isSshAddress(endpoint.address), 'address is not an address');
  check(isPort(endpoint.port), 'port is not a port');
  check(isSshUser(endpoint.username), 'username is not a user name');
  check(isAbsoluteFile(endpoint.privateKeyPath), 'privateKeyPath must be an absolute, normalised path');
  check(isFingerprint(endpoint.hostKeyFingerprint), 'hostKeyFingerprint must be SHA256:<base64>');
  return problems;
}

/** Checks every endpoint and that host names are unique; throws one error listing every problem. */
export function validateSshEndpoints(endpoints: readonly SshEndpoint[]): readonly SshEndpoint[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  endpoints.forEach((endpoint, index) => {
    const label = typeof endpoint.host === 'string' && endpoint.host ? endpoint.host : `hosts[${index}]`;
    if (seen.has(endpoint.host)) problems.push(`${label}: host is used twice`);
    seen.add(endpoint.host);
    problems.push(...sshEndpointProblems(endpoint).map((problem) => `${label}: ${problem}`));
  });
  if (problems.length > 0) throw new InvalidSshArgument(`invalid SSH endpoints: ${problems.join('; ')}`);
  return endpoints;
}

/**
 * One endpoint per inventory host: through the host's own sshd and pin where it names them, the
 * inventory's otherwise; checked as validateSshEndpoints (a host left with no sshd is refused).
 */
export function sshEndpointsFromInventory(inventory: SshInventory): readonly SshEndpoint[] {
  // Typed, but read from a file: check the shape before trusting it.
  const hosts: unknown = (inventory as Partial<SshInventory> | null)?.hosts;
  if (!Array.isArray(hosts)) {
    throw new InvalidSshArgument('a host inventory must be an object with a list of hosts');
  }
  return validateSshEndpoints(
    inventory.hosts.map((host) => ({
      host: host.name,
      address: host.sshHost ?? inventory.sshHost ?? '',
      port: host.sshPort ?? inventory.sshPort ?? 0,
      username: host.user,
      privateKeyPath: inventory.privateKeyPath,
      hostKeyFingerprint: host.hostKeyFingerprint ?? inventory.hostKeyFingerprint ?? '',
    })),
  );
}
