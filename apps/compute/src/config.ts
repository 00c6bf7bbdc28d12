/**
 * The compute agent's options, read once from the environment into a validated class; a bad value
 * stops start-up with the list of what is wrong. Each option is declared once with its variable,
 * documentation and default; `--help` and docs/configuration.md derive from the declarations.
 */
import { IsString } from 'class-validator';

import {
  BusClientOptions,
  ChoiceOption,
  CommaList,
  HealthHostOption,
  HealthPortOption,
  HttpUrlOption,
  IntOption,
  NumberOption,
  Option,
  ProcessIdOption,
  defaultProcessId,
} from '#libs/config';

export class ComputeConfig extends BusClientOptions {
  @ChoiceOption(
    {
      env: 'NIMBUS_COMPUTE_DRIVER',
      doc: 'libvirt over SSH, or the in-memory fake used only for scale benchmarks',
    },
    ['libvirt', 'fake'],
  )
  driver: 'libvirt' | 'fake' = 'libvirt';

  /**
   * Names the agent in host leases, logs and its JetStream consumers. Agents sharing an inventory need
   * different ids; an agent restarted under its id resumes its consumers where it stopped.
   */
  @ProcessIdOption({
    env: 'NIMBUS_COMPUTE_AGENT_ID',
    doc: "this agent's name, unique among the agents sharing hosts: a lowercase DNS label",
    service: 'compute',
  })
  agentId = defaultProcessId('compute');

  @IntOption({
    env: 'NIMBUS_COMPUTE_LEASE_TTL_MS',
    doc: "how long a host stays this agent's without a renewal; another agent takes it over after that",
    min: 1_000,
    max: 600_000,
  })
  leaseTtlMs = 6_000;

  /** The hypervisor host inventory (the rig writes one): hosts, SSH endpoint, key, pinned host key. */
  @Option(
    { env: 'NIMBUS_COMPUTE_INVENTORY', optional: true, doc: 'host inventory JSON (required for libvirt)' },
    IsString(),
  )
  inventory?: string;

  /** Serve only these hosts of the inventory; all of them when empty. */
  @Option(
    {
      env: 'NIMBUS_COMPUTE_HOSTS',
      doc: 'serve only these inventory hosts, comma-separated',
      default: 'all',
    },
    CommaList(),
    IsString({ each: true }),
  )
  hosts: string[] = [];

  @IntOption({
    env: 'NIMBUS_COMPUTE_FAKE_HOSTS',
    doc: 'simulated hosts of the fake driver',
    min: 1,
    max: 10_000,
  })
  fakeHosts = 3;

  @Option(
    { env: 'NIMBUS_COMPUTE_IMAGE_DIR', optional: true, doc: 'a folder of <image id>.qcow2 base images' },
    IsString(),
  )
  imageDir?: string;

  @Option({ env: 'NIMBUS_COMPUTE_IMAGE_CACHE_DIR', doc: 'where downloaded images are kept' }, IsString())
  imageCacheDir = '.nimbus/compute/images';

  /** The image API (Glance v2) base URL, and the service account the agent downloads with. */
  @HttpUrlOption({
    env: 'NIMBUS_COMPUTE_IMAGE_API_URL',
    optional: true,
    doc: 'the image API (Glance v2) to download images from',
  })
  imageApiUrl?: string;

  @HttpUrlOption({
    env: 'NIMBUS_COMPUTE_IDENTITY_URL',
    optional: true,
    doc: 'the identity API (Keystone v3) for the service token',
  })
  identityUrl?: string;

  @Option(
    { env: 'NIMBUS_COMPUTE_SERVICE_USER', doc: 'the service account the agent downloads images as' },
    IsString(),
  )
  serviceUser = 'nimbus-compute';

  @Option(
    {
      env: 'NIMBUS_COMPUTE_SERVICE_PASSWORD',
      optional: true,
      doc: "the service account's password; never logged",
    },
    IsString(),
  )
  servicePassword?: string;

  @Option({ env: 'NIMBUS_COMPUTE_SERVICE_PROJECT', doc: "the service account's project" }, IsString())
  serviceProject = 'service';

  @Option({ env: 'NIMBUS_COMPUTE_AVAILABILITY_ZONE', doc: 'zone of the hosts' }, IsString())
  availabilityZone = 'nova';

  @NumberOption({
    env: 'NIMBUS_COMPUTE_VCPU_ALLOCATION_RATIO',
    doc: "vCPU overcommit reported with the inventory (Nova's default)",
    min: 0.01,
  })
  vcpuAllocationRatio = 16;

  @NumberOption({
    env: 'NIMBUS_COMPUTE_RAM_ALLOCATION_RATIO',
    doc: "RAM overcommit reported with the inventory (Nova's default)",
    min: 0.01,
  })
  ramAllocationRatio = 1.5;

  @NumberOption({
    env: 'NIMBUS_COMPUTE_DISK_ALLOCATION_RATIO',
    doc: "disk overcommit reported with the inventory (Nova's default)",
    min: 0.01,
  })
  diskAllocationRatio = 1;

  @IntOption({ env: 'NIMBUS_COMPUTE_RESERVED_RAM_MB', doc: 'RAM kept for the host itself', min: 0 })
  reservedRamMb = 0;

  @IntOption({
    env: 'NIMBUS_COMPUTE_MAX_VCPUS',
    optional: true,
    doc: 'cap on the vCPUs each host reports (hosts sharing one machine)',
    min: 1,
  })
  maxVcpus?: number;

  @IntOption({
    env: 'NIMBUS_COMPUTE_MAX_RAM_MB',
    optional: true,
    doc: 'cap on the RAM each host reports, MiB (hosts sharing one machine)',
    min: 1,
  })
  maxRamMb?: number;

  @IntOption({
    env: 'NIMBUS_COMPUTE_MAX_DISK_GB',
    optional: true,
    doc: 'cap on the disk each host reports, GiB (hosts sharing one machine)',
    min: 1,
  })
  maxDiskGb?: number;

  @IntOption({
    env: 'NIMBUS_COMPUTE_POWER_OFF_TIMEOUT_MS',
    doc: 'graceful shutdown wait before destroy',
    min: 0,
  })
  powerOffTimeoutMs = 5_000;

  @IntOption({ env: 'NIMBUS_COMPUTE_HEARTBEAT_INTERVAL_MS', doc: 'liveness heartbeat period', min: 100 })
  heartbeatIntervalMs = 2_000;

  @IntOption({
    env: 'NIMBUS_COMPUTE_SYNC_INTERVAL_MS',
    doc: "power-state sync period, which also brings the hosts' DHCP and security-group filters up to date",
    min: 500,
  })
  syncIntervalMs = 10_000;

  @IntOption({
    env: 'NIMBUS_COMPUTE_RECONCILE_INTERVAL_MS',
    doc: 'how often undriven work is looked for',
    min: 100,
  })
  reconcileIntervalMs = 2_000;

  @IntOption({
    env: 'NIMBUS_COMPUTE_SHUTDOWN_GRACE_MS',
    doc: 'how long a shutdown lets work under way finish; what is cut off is left for the next agent',
    min: 0,
    max: 600_000,
  })
  shutdownGraceMs = 8_000;

  @IntOption({
    env: 'NIMBUS_COMPUTE_IMAGE_SERVICE_WAIT_MS',
    doc: 'how long a build waits for an unreachable image service before it fails',
    min: 0,
    max: 3_600_000,
  })
  imageServiceWaitMs = 300_000;

  @HttpUrlOption({ env: 'NIMBUS_CONSOLE_BASE_URL', doc: 'the console proxy as users reach it' })
  consoleBaseUrl = 'http://127.0.0.1:6080';

  @IntOption({ env: 'NIMBUS_CONSOLE_TOKEN_TTL_S', doc: 'console token lifetime', min: 10, max: 86_400 })
  consoleTokenTtlS = 600;

  @HealthHostOption('NIMBUS_COMPUTE_HEALTH_HOST')
  healthHost = '127.0.0.1';

  @HealthPortOption('NIMBUS_COMPUTE_HEALTH_PORT')
  healthPort = 0;
}
