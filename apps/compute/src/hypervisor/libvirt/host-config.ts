/**
 * How the libvirt adapter reaches and lays out each host: SSH endpoint and pin, libvirt URI, and the
 * two folders it owns there (the image cache and the instances). Checked once when the driver is made,
 * so a bad entry stops the agent at start-up rather than on the first boot.
 * Must never hold key material (only the private key's path), and never accept a relative or
 * unnormalised folder: instance folders are removed recursively, so their parent must be exact.
 */
import path from 'node:path';

import { PATTERNS } from '#libs/contracts';
import { isFingerprint, isPort, isSshAddress, isSshUser, type SshOverrides } from '#libs/host-ssh';

import { InvalidArgument } from '../errors.js';
import type { VirtType } from './domain-xml.js';

export interface LibvirtHostConfig {
  /** The Nimbus host name (one DNS label), as the scheduler and events name it. */
  readonly name: string;
  readonly sshAddress: string;
  readonly sshPort: number;
  readonly sshUser: string;
  readonly privateKeyPath: string;
  /** `SHA256:...`: the only host key accepted. */
  readonly hostKeyFingerprint: string;
  /** `qemu:///session` on the rig, `qemu:///system` on a real hypervisor. */
  readonly libvirtUri: string;
  readonly imageCacheDir: string;
  readonly instancesDir: string;
  readonly virtType: VirtType;
  /**
   * The host's network helper (an absolute path), run as `sudo -n <helper> prepare|plug|unplug` to wire
   * guests' NICs into their networks. Absent: the host boots guests without NICs only.
   */
  readonly networkHelper?: string;
}

/** Accepted libvirt URIs: local QEMU drivers only (the connection to the host is SSH already). */
const LIBVIRT_URI = /^qemu:\/\/\/(session|system)$/;

/** Checks every host and that names are unique; throws one InvalidArgument listing every problem. */
export function validateHostConfigs(hosts: readonly LibvirtHostConfig[]): readonly LibvirtHostConfig[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  hosts.forEach((host, index) => {
    const label = typeof host.name === 'string' ? host.name : `hosts[${index}]`;
    const check = (ok: boolean, what: string) => {
      if (!ok) problems.push(`${label}: ${what}`);
    };
    check(typeof host.name === 'string' && PATTERNS.hostName.test(host.name), 'name must be one DNS label');
    check(!seen.has(host.name), 'name is used twice');
    seen.add(host.name);
    // What an SSH endpoint may be is the host SSH library's to say; only the wording is ours.
    check(isSshAddress(host.sshAddress), 'sshAddress is not an address');
    check(isPort(host.sshPort), 'sshPort is not a port');
    check(isSshUser(host.sshUser), 'sshUser is not a user name');
    check(isAbsolute(host.privateKeyPath), 'privateKeyPath must be an absolute path');
    check(isFingerprint(host.hostKeyFingerprint), 'hostKeyFingerprint must be SHA256:<base64>');
    check(
      typeof host.libvirtUri === 'string' && LIBVIRT_URI.test(host.libvirtUri),
      'libvirtUri must be qemu:///session or qemu:///system',
    );
    check(
      isAbsolute(host.imageCacheDir) && host.imageCacheDir !== '/',
      'imageCacheDir must be an absolute, normalised folder',
    );
    check(
      isAbsolute(host.instancesDir) && host.instancesDir !== '/',
      'instancesDir must be an absolute, normalised folder',
    );
    const virtType: string = host.virtType; // typed, but read from config at run time
    check(virtType === 'qemu' || virtType === 'kvm', 'virtType must be qemu or kvm');
    check(
      host.networkHelper === undefined ||
        (isAbsolute(host.networkHelper) && /^[A-Za-z0-9._/-]+$/.test(host.networkHelper)),
      'networkHelper must be an absolute, normalised path',
    );
  });
  if (problems.length > 0)
    throw new InvalidArgument(`invalid hypervisor host configuration: ${problems.join('; ')}`);
  return hosts;
}

/**
 * The shape of a host inventory (the rig writes one: deploy/rig/inventory.ts) that this adapter needs.
 * The top-level sshd, port and pin are each host's unless the host names its own.
 */
export interface HostInventoryFile extends SshOverrides {
  readonly privateKeyPath: string;
  readonly hosts: readonly (SshOverrides & {
    readonly name: string;
    readonly user: string;
    readonly libvirtUri: string;
    readonly imageCacheDir: string;
    readonly instancesDir: string;
    readonly hypervisorType: string;
  })[];
  /** The rig's guest network, when it has one. */
  readonly network?: { readonly helperPath: string };
}

/** Host configs from an inventory file: each host through its own sshd where it names one (the rig's share one). */
export function hostConfigsFromInventory(inventory: HostInventoryFile): readonly LibvirtHostConfig[] {
  return validateHostConfigs(
    inventory.hosts.map((host) => ({
      name: host.name,
      sshAddress: host.sshHost ?? inventory.sshHost ?? '',
      sshPort: host.sshPort ?? inventory.sshPort ?? 0,
      sshUser: host.user,
      privateKeyPath: inventory.privateKeyPath,
      hostKeyFingerprint: host.hostKeyFingerprint ?? inventory.hostKeyFingerprint ?? '',
      libvirtUri: host.libvirtUri,
      imageCacheDir: host.imageCacheDir,
      instancesDir: host.instancesDir,
      virtType: host.hypervisorType === 'kvm' ? 'kvm' : 'qemu',
      ...(inventory.network === undefined ? {} : { networkHelper: inventory.network.helperPath }),
    })),
  );
}

/** Absolute and already normalised (no `..`, no `//`, no trailing slash), so joins stay beneath it. */
function isAbsolute(value: unknown): boolean {
  if (typeof value !== 'string' || !path.posix.isAbsolute(value)) return false;
  return path.posix.normalize(value) === value && (value === '/' || !value.endsWith('/'));
}
