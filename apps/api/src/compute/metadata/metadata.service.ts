/**
 * The instance metadata service's answers (Nova's metadata API, OpenStack and EC2 flavours): which
 * instance asks, known from the network its request came from and its address there, and what it is
 * told about itself (its id, name, host name, zone, project, metadata, its key pair's public key and
 * the user data it was created with).
 * Must never answer for an address no live server's port holds on that network, nor tell one instance
 * about another.
 */
import { Injectable } from '@nestjs/common';

import { type BootRequested, streamFor } from '#libs/contracts';
import { DHCP_OWNER, type InstanceState, instanceReducer } from '#libs/domain';
import { EventStore } from '#libs/event-store';

import { NetworkDirectory } from '../../network/network-directory.js';
import { KeypairsService } from '../keypairs/keypairs.service.js';
import { sanitizeHostname } from '../servers/server.view.js';

/** What the metadata service says of one instance. */
export interface InstanceMetadata {
  readonly uuid: string;
  readonly name: string;
  readonly hostname: string;
  readonly availabilityZone: string;
  readonly projectId: string;
  readonly launchIndex: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly localIpv4: string;
  readonly key: { readonly name: string; readonly type: string; readonly publicKey: string } | null;
  /** The user data given at create, decoded; null when none was. */
  readonly userData: Buffer | null;
}

@Injectable()
export class MetadataService {
  constructor(
    private readonly directory: NetworkDirectory,
    private readonly store: EventStore,
    private readonly keypairs: KeypairsService,
  ) {}

  /** The instance whose port on `networkId` holds `address`, or null for none (a 404 to the guest). */
  async identify(networkId: string, address: string): Promise<InstanceMetadata | null> {
    const network = this.directory.network(networkId);
    if (!network) return null;
    const port = [...network.ports.values()].find(
      (candidate) =>
        candidate.deviceOwner !== DHCP_OWNER &&
        candidate.deviceId !== '' &&
        candidate.fixedIps.some((ip) => ip.ipAddress === address),
    );
    if (!port) return null;
    const { state } = await this.store.fold(streamFor('instance', port.deviceId), instanceReducer);
    const boot = state.boot;
    const live = state.exists && state.vmState !== 'deleted';
    if (!boot || !live || !state.interfaces.some((nic) => nic.portId === port.id)) return null;
    return this.describe(state, boot, address);
  }

  private async describe(
    state: InstanceState,
    boot: BootRequested,
    address: string,
  ): Promise<InstanceMetadata> {
    const keypair =
      boot.keyName === undefined
        ? null
        : await this.keypairs.show(boot.userId, boot.keyName).catch(() => null);
    return {
      uuid: state.id,
      name: state.name,
      hostname: sanitizeHostname(boot.name),
      availabilityZone: boot.availabilityZone ?? 'nova',
      projectId: boot.projectId,
      launchIndex: 0,
      meta: state.metadata,
      localIpv4: address,
      key: keypair && { name: keypair.name, type: keypair.type, publicKey: keypair.publicKey },
      userData: boot.userData === undefined ? null : Buffer.from(boot.userData, 'base64'),
    };
  }
}

/** `openstack/<version>/meta_data.json`, as Nova writes it. */
export function openstackMetaData(instance: InstanceMetadata): Record<string, unknown> {
  return {
    uuid: instance.uuid,
    name: instance.name,
    hostname: instance.hostname,
    launch_index: instance.launchIndex,
    availability_zone: instance.availabilityZone,
    project_id: instance.projectId,
    meta: instance.meta,
    public_keys: instance.key ? { [instance.key.name]: instance.key.publicKey } : {},
    keys: instance.key
      ? [{ name: instance.key.name, type: instance.key.type, data: instance.key.publicKey }]
      : [],
    devices: [],
  };
}

/** The EC2-style `meta-data/` tree: each leaf's text, and the listing of each folder. */
export function ec2MetaData(instance: InstanceMetadata): Map<string, string> {
  const leaves: [string, string][] = [
    ['ami-launch-index', String(instance.launchIndex)],
    ['hostname', instance.hostname],
    ['instance-id', instance.uuid],
    ['local-hostname', instance.hostname],
    ['local-ipv4', instance.localIpv4],
    ['placement/availability-zone', instance.availabilityZone],
  ];
  if (instance.key) {
    leaves.push(['public-keys/0/openssh-key', instance.key.publicKey]);
  }
  const tree = new Map<string, string>(leaves);
  const folders = new Map<string, Set<string>>();
  for (const [path] of leaves) {
    const parts = path.split('/');
    for (let depth = 0; depth < parts.length; depth += 1) {
      const folder = parts.slice(0, depth).join('/');
      const entry = depth < parts.length - 1 ? `${parts[depth]}/` : (parts[depth] ?? '');
      folders.set(folder, (folders.get(folder) ?? new Set()).add(entry));
    }
  }
  if (instance.key) folders.set('public-keys', new Set([`0=${instance.key.name}`]));
  for (const [folder, entries] of folders)
    tree.set(folder === '' ? '' : `${folder}/`, [...entries].join('\n'));
  return tree;
}
