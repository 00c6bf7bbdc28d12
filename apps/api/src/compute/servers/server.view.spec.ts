import { describe, expect, it } from '@jest/globals';

import {
  BootRequested,
  DomainStarted,
  EventMetadata,
  HostSelected,
  NetworkInterfaceAttached,
  build,
  type DecodedEvent,
} from '#libs/contracts';

import { Microversion } from '../../common/http/microversion.js';
import { type ServerRecord, evolveServerRecord, initialServerRecord } from './server-record.js';
import {
  type ViewContext,
  addressesOf,
  hostIdOf,
  sanitizeHostname,
  serverBasic,
  serverDetail,
} from './server.view.js';

/** The server of the Nova Zed transcripts (tr-test1 on fake-2), rebuilt from events. */
const ID = 'c4edfa15-3777-4491-bbe5-846ee05ecb03';
const PROJECT = '1d2af88baffb435ebf00583098f72040';
const USER = 'fa5ed7cb15f846a48180710113528ab3';
const IMAGE = '09b22c38-1923-4f85-89ea-da26fe872fea';
const BASE = 'http://127.0.0.1:8774';
const CREATE_REQUEST = 'req-57a26f87-ecf3-4ea1-856f-45af92c46212';

function at<T extends object>(data: T, occurredAt: string, correlationId = CREATE_REQUEST): DecodedEvent<T> {
  return {
    type: data.constructor.name,
    data,
    metadata: build(EventMetadata, {
      eventId: '0b6f3c1e-2a4d-4f8b-9c7e-1d3a5b7c9e01',
      correlationId,
      causationId: null,
      actor: { userId: USER, projectId: PROJECT, kind: 'user' },
      occurredAt,
      schemaVersion: 1,
    }),
  };
}

function transcriptServer(): ServerRecord {
  const events = [
    at(
      build(BootRequested, {
        instanceId: ID,
        projectId: PROJECT,
        userId: USER,
        name: 'tr-test1',
        flavor: { id: '1', name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 },
        image: { id: IMAGE, name: 'fake-img', properties: {} },
        metadata: {},
        requestedNetworks: 'none',
      }),
      '2026-11-22T00:31:58.120Z',
    ),
    at(
      build(HostSelected, {
        instanceId: ID,
        attempt: 1,
        host: 'fake-2',
        alternates: [],
        trace: { hostsIn: 3, filters: [], weighed: [] },
      }),
      '2026-11-22T00:31:58.700Z',
    ),
    at(
      build(DomainStarted, {
        instanceId: ID,
        host: 'fake-2',
        domainName: 'instance-00000125',
        reason: 'boot',
      }),
      '2026-11-22T00:31:59.310Z',
    ),
  ];
  return events.reduce((record, event) => evolveServerRecord(record, event), initialServerRecord());
}

const view = (version: string, isAdmin = true): ViewContext => ({
  baseUrl: BASE,
  microversion: Microversion.parse(version)!,
  isAdmin,
  zoneOf: () => 'nova',
  hostStatus: (host) => (host ? 'UP' : ''),
  networkName: (networkId) => (networkId === NETWORK ? 'private' : 'other'),
  floatingIpsOf: (_portId, fixedIp) => (fixedIp === '10.0.0.6' ? ['172.24.4.9'] : []),
});

const NETWORK = '5b0e8c4a-2f1d-4e6b-9a7c-1d3e5f7a9b0c';
const SUBNET = '8e2a4c6f-1b3d-4f5a-8c7e-9d0b2a4c6e8f';

describe(addressesOf.name, () => {
  it("lists each NIC's addresses under its network's name, in attach order, each with its floating IPs, as Nova does", () => {
    const nic = (portId: string, networkId: string, mac: string, ips: string[]): DecodedEvent =>
      at(
        build(NetworkInterfaceAttached, {
          instanceId: ID,
          portId,
          networkId,
          macAddress: mac,
          fixedIps: ips.map((ipAddress) => ({ subnetId: SUBNET, ipAddress })),
          preserveOnDelete: false,
        }),
        '2026-11-22T00:31:58.200Z',
      );
    const record = [
      nic('2c4e6a8b-0d1f-4a3c-9e5b-7f9a1c3e5d7b', NETWORK, 'fa:16:3e:00:00:01', ['10.0.0.5', 'fd00::5']),
      nic(
        '3c4e6a8b-0d1f-4a3c-9e5b-7f9a1c3e5d7b',
        'aaaaaaaa-2f1d-4e6b-9a7c-1d3e5f7a9b0c',
        'fa:16:3e:00:00:02',
        ['192.168.0.7'],
      ),
      nic('4c4e6a8b-0d1f-4a3c-9e5b-7f9a1c3e5d7b', NETWORK, 'fa:16:3e:00:00:03', ['10.0.0.6']),
    ].reduce((state, event) => evolveServerRecord(state, event), transcriptServer());
    const fixed = (addr: string, mac: string, version = 4, type = 'fixed'): Record<string, unknown> => ({
      version,
      addr,
      'OS-EXT-IPS:type': type,
      'OS-EXT-IPS-MAC:mac_addr': mac,
    });
    expect(
      serverDetail(record, view('2.37'), { full: true, serverGroups: true, hostStatusLast: false })[
        'addresses'
      ],
    ).toEqual({
      private: [
        fixed('10.0.0.5', 'fa:16:3e:00:00:01'),
        fixed('fd00::5', 'fa:16:3e:00:00:01', 6),
        fixed('10.0.0.6', 'fa:16:3e:00:00:03'),
        fixed('172.24.4.9', 'fa:16:3e:00:00:03', 4, 'floating'),
      ],
      other: [fixed('192.168.0.7', 'fa:16:3e:00:00:02')],
    });
  });
});

/** Fields where Nimbus differs from Nova's fake driver by design (see the expectations below). */
const NIMBUS_OWN = ['OS-EXT-SRV-ATTR:reservation_id', 'OS-EXT-SRV-ATTR:root_device_name'];

describe(serverDetail.name, () => {
  it("renders the transcript's ACTIVE server at 2.37 exactly as Nova did", () => {
    const nova = {
      id: ID,
      name: 'tr-test1',
      status: 'ACTIVE',
      tenant_id: PROJECT,
      user_id: USER,
      metadata: {},
      hostId: '2be850c8ac0521096457f7fc07f50d7bb71b26e9b9ff0919dec284a9',
      image: { id: IMAGE, links: [{ rel: 'bookmark', href: `${BASE}/images/${IMAGE}` }] },
      flavor: { id: '1', links: [{ rel: 'bookmark', href: `${BASE}/flavors/1` }] },
      created: '2026-11-22T00:31:58Z',
      updated: '2026-11-22T00:31:59Z',
      addresses: {},
      accessIPv4: '',
      accessIPv6: '',
      links: [
        { rel: 'self', href: `${BASE}/v2.1/servers/${ID}` },
        { rel: 'bookmark', href: `${BASE}/servers/${ID}` },
      ],
      'OS-DCF:diskConfig': 'MANUAL',
      progress: 0,
      'OS-EXT-AZ:availability_zone': 'nova',
      config_drive: '',
      key_name: null,
      'OS-SRV-USG:launched_at': '2026-11-22T00:31:59.000000',
      'OS-SRV-USG:terminated_at': null,
      'OS-EXT-SRV-ATTR:host': 'fake-2',
      'OS-EXT-SRV-ATTR:instance_name': 'instance-00000125',
      'OS-EXT-SRV-ATTR:hypervisor_hostname': 'fake-2',
      'OS-EXT-SRV-ATTR:reservation_id': 'r-oouznsq4',
      'OS-EXT-SRV-ATTR:launch_index': 0,
      'OS-EXT-SRV-ATTR:hostname': 'tr-test1',
      'OS-EXT-SRV-ATTR:kernel_id': '',
      'OS-EXT-SRV-ATTR:ramdisk_id': '',
      'OS-EXT-SRV-ATTR:root_device_name': '/dev/sda',
      'OS-EXT-SRV-ATTR:user_data': null,
      'OS-EXT-STS:task_state': null,
      'OS-EXT-STS:vm_state': 'active',
      'OS-EXT-STS:power_state': 1,
      'os-extended-volumes:volumes_attached': [],
      host_status: 'UP',
      locked: false,
      description: null,
      tags: [],
    };
    const ours = serverDetail(transcriptServer(), view('2.37'), {
      full: true,
      serverGroups: true,
      hostStatusLast: false,
    });
    expect(Object.keys(ours)).toEqual(Object.keys(nova));
    const withoutOwn = (server: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(server).filter(([key]) => !NIMBUS_OWN.includes(key)));
    expect(withoutOwn(ours)).toEqual(withoutOwn(nova));
    // Reservation ids are random in Nova; ours are derived from the request and have Nova's form.
    expect(ours['OS-EXT-SRV-ATTR:reservation_id']).toMatch(/^r-[a-z0-9]{8}$/);
    // Libvirt guests boot from a virtio disk; Nova's fake driver reports /dev/sda.
    expect(ours['OS-EXT-SRV-ATTR:root_device_name']).toBe('/dev/vda');
  });

  it('embeds the flavor from 2.47 and adds the 2.92 fields in show order, host status last in a list', () => {
    const shown = serverDetail(transcriptServer(), view('2.92'), {
      full: true,
      serverGroups: true,
      hostStatusLast: false,
    });
    expect(shown['flavor']).toEqual({
      vcpus: 1,
      ram: 512,
      disk: 1,
      ephemeral: 0,
      swap: 0,
      original_name: 'm1.tiny',
      extra_specs: {},
    });
    expect(Object.keys(shown).slice(-8)).toEqual([
      'os-extended-volumes:volumes_attached',
      'host_status',
      'locked',
      'locked_reason',
      'description',
      'tags',
      'trusted_image_certificates',
      'server_groups',
    ]);
    const listed = serverDetail(transcriptServer(), view('2.92'), {
      full: true,
      serverGroups: false,
      hostStatusLast: true,
    });
    expect(Object.keys(listed).slice(-6)).toEqual([
      'locked',
      'locked_reason',
      'description',
      'tags',
      'trusted_image_certificates',
      'host_status',
    ]);
  });

  it('hides the admin-only attributes from a member, who sees the hostname only from 2.90', () => {
    const member = serverDetail(transcriptServer(), view('2.89', false), {
      full: true,
      serverGroups: true,
      hostStatusLast: false,
    });
    expect(
      Object.keys(member).filter((key) => key.startsWith('OS-EXT-SRV-ATTR') || key === 'host_status'),
    ).toEqual([]);
    const modern = serverDetail(transcriptServer(), view('2.90', false), {
      full: true,
      serverGroups: true,
      hostStatusLast: false,
    });
    expect(modern['OS-EXT-SRV-ATTR:hostname']).toBe('tr-test1');
  });

  it('answers an update before 2.75 without the extended attributes, as Nova does', () => {
    const updated = serverDetail(transcriptServer(), view('2.19'), {
      full: false,
      serverGroups: true,
      hostStatusLast: false,
    });
    expect(Object.keys(updated)).toEqual([
      'id',
      'name',
      'status',
      'tenant_id',
      'user_id',
      'metadata',
      'hostId',
      'image',
      'flavor',
      'created',
      'updated',
      'addresses',
      'accessIPv4',
      'accessIPv6',
      'links',
      'OS-DCF:diskConfig',
      'progress',
      'locked',
      'description',
    ]);
  });
});

describe('server view helpers', () => {
  it("computes Nova's hostId: sha224 of project id and host, empty without a host", () => {
    expect(hostIdOf(PROJECT, 'fake-2')).toBe('2be850c8ac0521096457f7fc07f50d7bb71b26e9b9ff0919dec284a9');
    expect(hostIdOf(PROJECT, null)).toBe('');
  });

  it('sanitizes display names into hostnames as Nova does', () => {
    expect(sanitizeHostname('My Web_Server.01')).toBe('my-web-server-01');
    expect(sanitizeHostname('--édge--')).toBe('édge');
    expect(sanitizeHostname('a'.repeat(80))).toHaveLength(63);
  });

  it('lists a server by id, name and links', () => {
    expect(serverBasic(BASE, transcriptServer())).toEqual({
      id: ID,
      name: 'tr-test1',
      links: [
        { rel: 'self', href: `${BASE}/v2.1/servers/${ID}` },
        { rel: 'bookmark', href: `${BASE}/servers/${ID}` },
      ],
    });
  });
});
