/**
 * Gathers the facts the checker judges, once the faults have healed: every instance, host and
 * console stream read from `$all` through the official client (each event decoded and validated
 * by the contracts), the domains each rig host's libvirt lists (virsh run locally as the host's
 * user, so no part of the system under test stands between), and the servers as the API lists
 * and shows them. It only reads.
 */
import { EventStoreDBClient } from '@eventstore/db-client';

import { decodeStored } from '#libs/event-store';

import type { OpenStackHttp } from '../clients/openstack-http.js';
import { findTool, TOOLS } from '../rig/exec.js';
import { listDomains } from '../rig/libvirt-session.js';
import type { RigInventory } from '../rig/rig.js';
import { lookupUser } from '../rig/users.js';
import type { ApiServer, FactEvent, Facts, OperationRecord } from './checker.js';

const CATEGORIES = ['instance', 'host', 'console'] as const;

export async function gatherFacts(
  eventStoreUrl: string,
  os: OpenStackHttp,
  rig: RigInventory,
  operations: readonly OperationRecord[],
): Promise<Facts> {
  const streams = await readStreams(eventStoreUrl);
  const byCategory = (category: (typeof CATEGORIES)[number]) =>
    new Map(
      [...streams]
        .filter(([stream]) => stream.startsWith(`${category}-`))
        .map(([stream, events]) => [
          category === 'console' ? stream : stream.slice(category.length + 1),
          events,
        ]),
    );
  const instances = byCategory('instance');
  const [domains, apiList, apiShow] = await Promise.all([
    hostDomains(rig),
    listServers(os),
    showServers(os, [...instances.keys()]),
  ]);
  return {
    operations,
    instances,
    hosts: byCategory('host'),
    consoles: byCategory('console'),
    domains,
    apiList,
    apiShow,
    checkedAt: new Date(),
  };
}

async function readStreams(eventStoreUrl: string): Promise<Map<string, FactEvent[]>> {
  const client = EventStoreDBClient.connectionString(eventStoreUrl);
  const streams = new Map<string, FactEvent[]>();
  try {
    for await (const resolved of client.readAll()) {
      const recorded = resolved.event;
      if (!recorded || recorded.type.startsWith('$')) continue;
      if (!CATEGORIES.some((category) => recorded.streamId.startsWith(`${category}-`))) continue;
      const { type, data, metadata, stream, revision } = decodeStored(recorded);
      const events = streams.get(stream) ?? [];
      events.push({ type, data, metadata, stream, revision: Number(revision) });
      streams.set(stream, events);
    }
  } finally {
    await client.dispose();
  }
  return streams;
}

/** Every domain of every rig host; a domain's uuid is its instance's id. */
async function hostDomains(rig: RigInventory): Promise<{ host: string; instanceId: string }[]> {
  const [getent, virsh] = await Promise.all([findTool(TOOLS.getent), findTool(TOOLS.virsh)]);
  const perHost = await Promise.all(
    rig.hosts.map(async (host) => {
      const user = await lookupUser(getent, host.user);
      if (!user) throw new Error(`rig host user ${host.user} is missing`);
      return (await listDomains(virsh, user)).map((uuid) => ({ host: host.name, instanceId: uuid }));
    }),
  );
  return perHost.flat();
}

interface ServerView {
  readonly id: string;
  readonly status: string;
  readonly 'OS-EXT-SRV-ATTR:host'?: string | null;
  readonly 'OS-EXT-STS:task_state'?: string | null;
  readonly 'OS-EXT-STS:vm_state'?: string | null;
}

const apiServer = (view: ServerView): ApiServer => ({
  id: view.id,
  status: view.status,
  host: view['OS-EXT-SRV-ATTR:host'] ?? null,
  taskState: view['OS-EXT-STS:task_state'] ?? null,
  vmState: view['OS-EXT-STS:vm_state'] ?? null,
});

/** Every page of `GET /servers/detail?all_tenants=1`. */
async function listServers(os: OpenStackHttp): Promise<ApiServer[]> {
  const servers: ApiServer[] = [];
  let marker: string | undefined;
  for (;;) {
    const query = `all_tenants=1&limit=500${marker === undefined ? '' : `&marker=${marker}`}`;
    const reply = await os.compute<{ servers: ServerView[] }>('GET', `/servers/detail?${query}`);
    if (reply.status !== 200) throw new Error(`listing servers answered ${reply.status}`);
    servers.push(...reply.body.servers.map(apiServer));
    if (reply.body.servers.length < 500) return servers;
    marker = reply.body.servers.at(-1)?.id;
  }
}

async function showServers(
  os: OpenStackHttp,
  ids: readonly string[],
): Promise<Map<string, ApiServer | null>> {
  const shown = new Map<string, ApiServer | null>();
  for (let start = 0; start < ids.length; start += 8) {
    await Promise.all(
      ids.slice(start, start + 8).map(async (id) => {
        const reply = await os.compute<{ server: ServerView }>('GET', `/servers/${id}`);
        if (reply.status === 404) shown.set(id, null);
        else if (reply.status === 200) shown.set(id, apiServer(reply.body.server));
        else throw new Error(`showing server ${id} answered ${reply.status}`);
      }),
    );
  }
  return shown;
}
