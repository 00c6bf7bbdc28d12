/**
 * The compute agent's wiring: the store, the hypervisor driver the configuration chooses (libvirt
 * over SSH by default; the fake only when asked for, for scale benchmarks), fenced by the leases of
 * the hosts, image sources, the agent and its power sync, bus handlers, console commands and the
 * health endpoint.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { type DynamicModule, Module } from '@nestjs/common';
import { EventStoreDBClient } from '@eventstore/db-client';
import type { NatsConnection } from '@nats-io/transport-node';

import { BusModule, type CommandServer, HeartbeatBoard, LeaseBoard, NATS_CONNECTION } from '#libs/bus';
import { ClusterView } from '#libs/cluster-view';
import type { CpuArchitecture, HypervisorType } from '#libs/contracts';
import { EventStore, EventStoreModule } from '#libs/event-store';

import { ComputeAgent } from './agent/compute-agent.js';
import { FencedDriver } from './agent/fenced-driver.js';
import { HostOwnership } from './agent/host-ownership.js';
import { GlanceImageResolver } from './agent/glance-image-resolver.js';
import type { HostFacts, HostPolicy } from './agent/host-registry.js';
import {
  ChainedImageResolver,
  DirectoryImageResolver,
  RecentImages,
  type ImagePublisher,
  type ImageResolver,
} from './agent/image-resolver.js';
import { PowerSync } from './agent/power-sync.js';
import { ConsoleCommandsController } from './commands/console-commands.controller.js';
import { ConsoleService } from './commands/console.service.js';
import { ComputeRuntime } from './compute.runtime.js';
import type { ComputeConfig } from './config.js';
import { InstanceEventsController } from './events/instance-events.controller.js';
import { HealthController } from './health/health.controller.js';
import {
  FakeHypervisorDriver,
  type HostInventoryFile,
  type HypervisorDriver,
  VirshDriver,
  hostConfigsFromInventory,
} from './hypervisor/index.js';

export const HYPERVISOR_DRIVER = Symbol('HypervisorDriver');

interface InventoryHost {
  readonly name: string;
  readonly cpuArch?: string;
  readonly hypervisorType?: string;
}

/** The driver and the hosts it serves, as the configuration says. */
export function hypervisorFrom(config: ComputeConfig): {
  driver: HypervisorDriver;
  hosts: readonly HostFacts[];
} {
  if (config.driver === 'fake') {
    const names = Array.from(
      { length: config.fakeHosts },
      (_, index) => `sim-${String(index + 1).padStart(4, '0')}`,
    );
    return {
      driver: new FakeHypervisorDriver({ hosts: names }),
      hosts: names.map((name) => ({ name, hypervisorType: 'fake', cpuArch: 'x86_64' })),
    };
  }
  if (!config.inventory) throw new Error('NIMBUS_COMPUTE_INVENTORY is required for the libvirt driver');
  const inventory = JSON.parse(readFileSync(resolve(config.inventory), 'utf8')) as HostInventoryFile & {
    hosts: readonly InventoryHost[];
  };
  const wanted = (name: string): boolean => config.hosts.length === 0 || config.hosts.includes(name);
  const served = { ...inventory, hosts: inventory.hosts.filter((host) => wanted(host.name)) };
  if (served.hosts.length === 0) throw new Error('NIMBUS_COMPUTE_HOSTS names no host of the inventory');
  return {
    driver: new VirshDriver({ hosts: hostConfigsFromInventory(served) }),
    hosts: served.hosts.map((host: InventoryHost) => ({
      name: host.name,
      hypervisorType: (host.hypervisorType ?? 'qemu') as HypervisorType,
      cpuArch: (host.cpuArch ?? 'x86_64') as CpuArchitecture,
    })),
  };
}

/** How long an image found usable is taken to still be so before the agent asks again. */
const IMAGE_RECHECK_MS = 5_000;

/** Where the agent reads images from (a folder, the image API) and publishes its snapshots to. */
export function imageServicesFrom(config: ComputeConfig): {
  resolver: ImageResolver;
  publisher: ImagePublisher | null;
} {
  const resolvers: ImageResolver[] = [];
  if (config.imageDir) resolvers.push(new DirectoryImageResolver(resolve(config.imageDir)));
  let glance: GlanceImageResolver | null = null;
  if (config.imageApiUrl && config.identityUrl && config.servicePassword) {
    glance = new GlanceImageResolver({
      imageApiUrl: config.imageApiUrl,
      identityUrl: config.identityUrl,
      user: config.serviceUser,
      password: config.servicePassword,
      project: config.serviceProject,
      cacheDir: resolve(config.imageCacheDir),
    });
    resolvers.push(glance);
  }
  // A burst of boots of one image asks the image service about it once every few seconds.
  return {
    resolver: new RecentImages(new ChainedImageResolver(resolvers), IMAGE_RECHECK_MS),
    publisher: glance,
  };
}

export function hostPolicyFrom(config: ComputeConfig): HostPolicy {
  return {
    availabilityZone: config.availabilityZone,
    vcpuAllocationRatio: config.vcpuAllocationRatio,
    ramAllocationRatio: config.ramAllocationRatio,
    diskAllocationRatio: config.diskAllocationRatio,
    reservedVcpus: 0,
    reservedRamMb: config.reservedRamMb,
    reservedDiskGb: 0,
    maxVcpus: config.maxVcpus ?? null,
    maxRamMb: config.maxRamMb ?? null,
    maxDiskGb: config.maxDiskGb ?? null,
  };
}

@Module({})
export class ComputeModule {
  static forRoot(
    config: ComputeConfig,
    hypervisor: { driver: HypervisorDriver; hosts: readonly HostFacts[] },
    commands: CommandServer,
  ): DynamicModule {
    const { hosts } = hypervisor;
    return {
      module: ComputeModule,
      imports: [
        EventStoreModule.forRoot(config.eventStoreUrl),
        BusModule.forRoot({
          url: config.natsUrl,
          credsFile: config.natsCreds,
          name: 'compute',
          streamLimits: { replicas: config.jetstreamReplicas },
        }),
      ],
      controllers: [InstanceEventsController, ConsoleCommandsController, HealthController],
      providers: [
        {
          provide: HostOwnership,
          useFactory: (nats: NatsConnection) =>
            new HostOwnership(
              new LeaseBoard(nats, {
                holder: config.agentId,
                ttlMs: config.leaseTtlMs,
                replicas: config.jetstreamReplicas,
              }),
              hosts.map((host) => host.name),
            ),
          inject: [NATS_CONNECTION],
        },
        {
          provide: HYPERVISOR_DRIVER,
          useFactory: (ownership: HostOwnership) => new FencedDriver(hypervisor.driver, ownership),
          inject: [HostOwnership],
        },
        {
          provide: ClusterView,
          useFactory: (client: EventStoreDBClient) => new ClusterView(client, 'compute'),
          inject: [EventStoreDBClient],
        },
        {
          provide: ComputeAgent,
          useFactory: (store: EventStore, driver: HypervisorDriver, ownership: HostOwnership) => {
            const { resolver, publisher } = imageServicesFrom(config);
            const settings = {
              hosts: hosts.map((host) => host.name),
              powerOffTimeoutMs: config.powerOffTimeoutMs,
              imageServiceWaitMs: config.imageServiceWaitMs,
              fence: ownership,
            };
            return new ComputeAgent(store, driver, resolver, settings, publisher);
          },
          inject: [EventStore, HYPERVISOR_DRIVER, HostOwnership],
        },
        {
          provide: PowerSync,
          useFactory: (store: EventStore, driver: HypervisorDriver, agent: ComputeAgent) =>
            new PowerSync(store, driver, agent),
          inject: [EventStore, HYPERVISOR_DRIVER, ComputeAgent],
        },
        {
          provide: ConsoleService,
          useFactory: (store: EventStore, driver: HypervisorDriver) =>
            new ConsoleService(store, driver, {
              proxyBaseUrl: config.consoleBaseUrl.replace(/\/$/, ''),
              tokenTtlMs: config.consoleTokenTtlS * 1000,
            }),
          inject: [EventStore, HYPERVISOR_DRIVER],
        },
        {
          provide: ComputeRuntime,
          useFactory: (
            store: EventStore,
            driver: HypervisorDriver,
            view: ClusterView,
            agent: ComputeAgent,
            powerSync: PowerSync,
            nats: NatsConnection,
            ownership: HostOwnership,
          ) =>
            new ComputeRuntime(
              {
                hosts,
                policy: hostPolicyFrom(config),
                heartbeatIntervalMs: config.heartbeatIntervalMs,
                syncIntervalMs: config.syncIntervalMs,
                reconcileIntervalMs: config.reconcileIntervalMs,
                shutdownGraceMs: config.shutdownGraceMs,
              },
              store,
              driver,
              view,
              agent,
              powerSync,
              new HeartbeatBoard(nats, config.jetstreamReplicas),
              ownership,
              commands,
            ),
          inject: [
            EventStore,
            HYPERVISOR_DRIVER,
            ClusterView,
            ComputeAgent,
            PowerSync,
            NATS_CONNECTION,
            HostOwnership,
          ],
        },
      ],
    };
  }
}
