/**
 * The compute agent's options, read once from the environment into a validated class; a bad value
 * stops start-up with the list of what is wrong. `--help` prints COMPUTE_OPTIONS.
 */
import { Expose, Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';

import {
  CommaList,
  EVENTSTORE_URL_OPTION,
  EventStoreUrl,
  NATS_URL_OPTION,
  NatsUrl,
  type OptionDoc,
  PortOption,
} from '#libs/config';

export class ComputeConfig {
  @EventStoreUrl()
  eventStoreUrl = 'esdb://127.0.0.1:2113?tls=false';

  @NatsUrl()
  natsUrl = 'nats://127.0.0.1:4222';

  @Expose({ name: 'NIMBUS_COMPUTE_DRIVER' })
  @IsIn(['libvirt', 'fake'])
  driver: 'libvirt' | 'fake' = 'libvirt';

  /** The hypervisor host inventory (the rig writes one): hosts, SSH endpoint, key, pinned host key. */
  @Expose({ name: 'NIMBUS_COMPUTE_INVENTORY' })
  @IsOptional()
  @IsString()
  inventory?: string;

  /** Serve only these hosts of the inventory; all of them when empty. */
  @Expose({ name: 'NIMBUS_COMPUTE_HOSTS' })
  @CommaList()
  @IsString({ each: true })
  hosts: string[] = [];

  @Expose({ name: 'NIMBUS_COMPUTE_FAKE_HOSTS' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  fakeHosts = 3;

  @Expose({ name: 'NIMBUS_COMPUTE_IMAGE_DIR' })
  @IsOptional()
  @IsString()
  imageDir?: string;

  @Expose({ name: 'NIMBUS_COMPUTE_IMAGE_CACHE_DIR' })
  @IsString()
  imageCacheDir = '.nimbus/compute/images';

  /** The image API (Glance v2) base URL, and the service account the agent downloads with. */
  @Expose({ name: 'NIMBUS_COMPUTE_IMAGE_API_URL' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  imageApiUrl?: string;

  @Expose({ name: 'NIMBUS_COMPUTE_IDENTITY_URL' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  identityUrl?: string;

  @Expose({ name: 'NIMBUS_COMPUTE_SERVICE_USER' })
  @IsString()
  serviceUser = 'nimbus-compute';

  @Expose({ name: 'NIMBUS_COMPUTE_SERVICE_PASSWORD' })
  @IsOptional()
  @IsString()
  servicePassword?: string;

  @Expose({ name: 'NIMBUS_COMPUTE_SERVICE_PROJECT' })
  @IsString()
  serviceProject = 'service';

  @Expose({ name: 'NIMBUS_COMPUTE_AVAILABILITY_ZONE' })
  @IsString()
  availabilityZone = 'nova';

  @Expose({ name: 'NIMBUS_COMPUTE_VCPU_ALLOCATION_RATIO' })
  @Type(() => Number)
  @IsNumber()
  @Min(0.01)
  vcpuAllocationRatio = 16;

  @Expose({ name: 'NIMBUS_COMPUTE_RAM_ALLOCATION_RATIO' })
  @Type(() => Number)
  @IsNumber()
  @Min(0.01)
  ramAllocationRatio = 1.5;

  @Expose({ name: 'NIMBUS_COMPUTE_DISK_ALLOCATION_RATIO' })
  @Type(() => Number)
  @IsNumber()
  @Min(0.01)
  diskAllocationRatio = 1;

  @Expose({ name: 'NIMBUS_COMPUTE_RESERVED_RAM_MB' })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  reservedRamMb = 0;

  @Expose({ name: 'NIMBUS_COMPUTE_MAX_VCPUS' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  maxVcpus?: number;

  @Expose({ name: 'NIMBUS_COMPUTE_MAX_RAM_MB' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  maxRamMb?: number;

  @Expose({ name: 'NIMBUS_COMPUTE_MAX_DISK_GB' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  maxDiskGb?: number;

  @Expose({ name: 'NIMBUS_COMPUTE_POWER_OFF_TIMEOUT_MS' })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  powerOffTimeoutMs = 5_000;

  @Expose({ name: 'NIMBUS_COMPUTE_HEARTBEAT_INTERVAL_MS' })
  @Type(() => Number)
  @IsInt()
  @Min(100)
  heartbeatIntervalMs = 2_000;

  @Expose({ name: 'NIMBUS_COMPUTE_SYNC_INTERVAL_MS' })
  @Type(() => Number)
  @IsInt()
  @Min(500)
  syncIntervalMs = 10_000;

  @Expose({ name: 'NIMBUS_COMPUTE_RECONCILE_INTERVAL_MS' })
  @Type(() => Number)
  @IsInt()
  @Min(100)
  reconcileIntervalMs = 2_000;

  @Expose({ name: 'NIMBUS_CONSOLE_BASE_URL' })
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  consoleBaseUrl = 'http://127.0.0.1:6080';

  @Expose({ name: 'NIMBUS_CONSOLE_TOKEN_TTL_S' })
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(86_400)
  consoleTokenTtlS = 600;

  @PortOption('NIMBUS_COMPUTE_HEALTH_PORT')
  healthPort = 0;
}

export const COMPUTE_OPTIONS: readonly OptionDoc[] = [
  EVENTSTORE_URL_OPTION,
  NATS_URL_OPTION,
  {
    name: 'NIMBUS_COMPUTE_DRIVER',
    description: 'libvirt over SSH, or the in-memory fake used only for scale benchmarks',
    default: 'libvirt',
    allowed: 'libvirt, fake',
  },
  {
    name: 'NIMBUS_COMPUTE_INVENTORY',
    description: 'host inventory JSON (required for libvirt)',
    default: 'none',
  },
  {
    name: 'NIMBUS_COMPUTE_HOSTS',
    description: 'serve only these inventory hosts, comma-separated',
    default: 'all',
  },
  { name: 'NIMBUS_COMPUTE_FAKE_HOSTS', description: 'simulated hosts of the fake driver', default: '3' },
  {
    name: 'NIMBUS_COMPUTE_IMAGE_DIR',
    description: 'a folder of <image id>.qcow2 base images',
    default: 'none',
  },
  {
    name: 'NIMBUS_COMPUTE_IMAGE_CACHE_DIR',
    description: 'where downloaded images are kept',
    default: '.nimbus/compute/images',
  },
  {
    name: 'NIMBUS_COMPUTE_IMAGE_API_URL',
    description: 'the image API (Glance v2) to download images from',
    default: 'none',
  },
  {
    name: 'NIMBUS_COMPUTE_IDENTITY_URL',
    description: 'the identity API (Keystone v3) for the service token',
    default: 'none',
  },
  {
    name: 'NIMBUS_COMPUTE_SERVICE_USER / _PASSWORD / _PROJECT',
    description: 'the service account',
    default: 'nimbus-compute / none / service',
  },
  { name: 'NIMBUS_COMPUTE_AVAILABILITY_ZONE', description: 'zone of the hosts', default: 'nova' },
  {
    name: 'NIMBUS_COMPUTE_{VCPU,RAM,DISK}_ALLOCATION_RATIO',
    description: 'overcommit ratios reported with the inventory',
    default: "16, 1.5, 1 (Nova's)",
  },
  { name: 'NIMBUS_COMPUTE_RESERVED_RAM_MB', description: 'RAM kept for the host itself', default: '0' },
  {
    name: 'NIMBUS_COMPUTE_MAX_{VCPUS,RAM_MB,DISK_GB}',
    description: 'caps on what each host reports (hosts sharing one machine)',
    default: 'none',
  },
  {
    name: 'NIMBUS_COMPUTE_POWER_OFF_TIMEOUT_MS',
    description: 'graceful shutdown wait before destroy',
    default: '5000',
  },
  { name: 'NIMBUS_COMPUTE_HEARTBEAT_INTERVAL_MS', description: 'liveness heartbeat period', default: '2000' },
  { name: 'NIMBUS_COMPUTE_SYNC_INTERVAL_MS', description: 'power-state sync period', default: '10000' },
  {
    name: 'NIMBUS_COMPUTE_RECONCILE_INTERVAL_MS',
    description: 'how often undriven work is looked for',
    default: '2000',
  },
  {
    name: 'NIMBUS_CONSOLE_BASE_URL',
    description: 'the console proxy as users reach it',
    default: 'http://127.0.0.1:6080',
  },
  {
    name: 'NIMBUS_CONSOLE_TOKEN_TTL_S',
    description: 'console token lifetime',
    default: '600',
    allowed: '10-86400',
  },
  {
    name: 'NIMBUS_COMPUTE_HEALTH_PORT',
    description: 'loopback port of GET /healthz; 0 picks one',
    default: '0',
  },
];
