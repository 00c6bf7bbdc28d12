/**
 * What the fault suites check after a fault: that work was still in flight when the fault landed
 * (else the test proved nothing), and that once the system has settled every server the API
 * accepted is ACTIVE, started exactly once, with exactly one running domain on the host the API
 * shows, no domain the store does not know, and one claim per server on its host.
 */
import { streamFor } from '#libs/contracts';
import { hostReducer } from '#libs/domain';
import type { EventStore } from '#libs/event-store';

import { VirshDriver, hostConfigsFromInventory } from '../../apps/compute/src/hypervisor/index.js';
import { eventually } from './eventually.js';
import { InstanceEvents } from './instance-events.js';
import { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import { settledServers } from './servers.js';
import { collect } from './streams.js';
import { ADMIN_PASSWORD, type NimbusSystem, type SystemOptions, startSystem } from './system.js';

/** What the checks read: the store, and the names of the hosts the rig's libvirt is asked about. */
export interface SettledTarget {
  readonly store: EventStore;
  readonly hosts: readonly string[];
}

/** A system the tests started, as the checks read it. */
export function settledTargetOf(system: NimbusSystem): SettledTarget {
  return { store: system.store, hosts: system.rig!.hosts.map((host) => host.name) };
}

export class SettledSystem {
  constructor(
    private readonly system: SettledTarget,
    private readonly os: OpenStackHttp,
    private readonly virsh: VirshDriver,
  ) {}

  async eventTypes(id: string): Promise<string[]> {
    return (await collect(this.system.store.read(streamFor('instance', id)))).map((event) => event.type);
  }

  /**
   * Fails unless some boot of the burst had neither started its domain nor failed when `fault` was
   * done. Read after the fault, so it can only under-count what was in flight: events only accrue.
   */
  async expectInFlight(fault: string, ids: readonly string[]): Promise<void> {
    const types = await Promise.all(ids.map((id) => this.eventTypes(id)));
    const pending = types.filter(
      (seen) => !seen.includes('DomainStarted') && !seen.includes('InstanceFailed'),
    );
    if (pending.length === 0)
      throw new Error(
        `${fault} came after all ${ids.length} boots of the burst had settled (each had DomainStarted or ` +
          'InstanceFailed): no work was in flight, so this test proved nothing',
      );
  }

  /** Every server ACTIVE, started once, one running domain each on its host, one claim each there. */
  async expectAllActiveAndNothingDoubled(ids: readonly string[]): Promise<void> {
    const servers = await settledServers(this.os, ids, 240_000);
    expect(
      servers.filter((server) => server.status === 'ERROR').map((server) => server.fault?.message),
    ).toEqual([]);
    expect(servers.filter((server) => server.status === 'ACTIVE')).toHaveLength(ids.length);

    const started = await Promise.all(
      ids.map(async (id) => (await this.eventTypes(id)).filter((type) => type === 'DomainStarted').length),
    );
    expect(started).toEqual(ids.map(() => 1));

    const placed = servers.map((server) => `${server.id}@${server['OS-EXT-SRV-ATTR:host']}`).sort();
    const { hosts } = this.system;
    // The power sync removes what a crash left behind: wait for it, then no domain may be missing,
    // doubled, on another host, stopped, or unknown to the store.
    await settlesTo(
      'one running domain per server, on its host, and no other',
      async () => {
        const domains = await Promise.all(
          hosts.map(async (host) =>
            (await this.virsh.listDomains(host))
              .filter((domain) => domain.instanceId !== null)
              .map(
                (domain) =>
                  `${domain.instanceId}@${host}${domain.powerState === 'running' ? '' : ` ${domain.powerState}`}`,
              ),
          ),
        );
        return domains.flat().sort();
      },
      placed,
    );
    await settlesTo(
      'one claim per server, on its host, and no other',
      async () => {
        const claims = await Promise.all(
          hosts.map(async (host) => {
            const { state } = await this.system.store.fold(streamFor('host', host), hostReducer);
            return Object.keys(state.allocations).map((id) => `${id}@${host}`);
          }),
        );
        return claims.flat().sort();
      },
      placed,
    );
  }
}

/**
 * Polls `observe` until it gives `expected`; if it never does, fails with the difference between
 * the last observation and `expected`, which says what stayed wrong.
 */
async function settlesTo(what: string, observe: () => Promise<string[]>, expected: string[]): Promise<void> {
  let last: string[] = [];
  const same = (observed: string[]) => JSON.stringify(observed) === JSON.stringify(expected);
  await eventually(
    what,
    async () => {
      last = await observe();
      return same(last) ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  ).catch(() => undefined);
  expect(last).toEqual(expected);
}

/** A rig system for a fault suite: the API as admin, the hosts' libvirt, and the instance events. */
export interface FaultRig {
  readonly system: NimbusSystem;
  readonly os: OpenStackHttp;
  readonly virsh: VirshDriver;
  readonly events: InstanceEvents;
  readonly settled: SettledSystem;
  stop(): Promise<void>;
}

export async function startFaultRig(options: SystemOptions): Promise<FaultRig> {
  const system = await startSystem(options);
  const os = await OpenStackHttp.login(system.apiUrl!, {
    user: 'admin',
    password: ADMIN_PASSWORD,
    project: 'admin',
  });
  const virsh = new VirshDriver({ hosts: hostConfigsFromInventory(system.rig!) });
  const events = await InstanceEvents.watch(system.client);
  return {
    system,
    os,
    virsh,
    events,
    settled: new SettledSystem(settledTargetOf(system), os, virsh),
    async stop() {
      // The system's processes are stopped whatever happens to the watchers before them.
      try {
        await events.stop();
        await virsh.close();
      } finally {
        await system.stop();
      }
    },
  };
}
