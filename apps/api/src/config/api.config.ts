/**
 * The API's options, read once at start-up from the environment into a validated class; a bad value stops
 * the process with every problem listed. Each option is declared once, with its variable, documentation
 * and default (`@Option` and its kinds from libs/config); `--help` and docs/configuration.md derive from it.
 * Must never let a secret (token signing key, passwords) reach a log line: the configuration is never
 * logged, and the documented defaults of secrets say where they come from, never a value.
 */
import { Expose, Transform, plainToInstance } from 'class-transformer';
import {
  IsArray,
  IsInt,
  IsIP,
  IsNotEmpty,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

import {
  BooleanOption,
  ChoiceOption,
  HttpUrlOption,
  IntOption,
  JetStreamReplicasOption,
  NatsCreds,
  NatsUrl,
  Option,
  PortOption,
  StoreClientOptions,
} from '#libs/config';

/** One flavor created at start when missing (Nova's flavors are data, so seeding is idempotent). */
export class FlavorSeed {
  @Expose()
  @IsString()
  @Matches(/^(?! )[a-zA-Z0-9. _-]+(?<! )$/)
  @MaxLength(255)
  id!: string;

  @Expose()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  name!: string;

  @Expose()
  @IsInt()
  @Min(1)
  vcpus!: number;

  /** MiB */
  @Expose()
  @IsInt()
  @Min(1)
  ram!: number;

  /** GiB */
  @Expose()
  @IsInt()
  @Min(0)
  disk!: number;
}

/**
 * Nova's defaults for m1.nano (the emulated-guest size), m1.tiny and m1.small, and devstack's m1.micro,
 * which the rig's Linux guest fits.
 */
export const DEFAULT_FLAVORS: readonly FlavorSeed[] = [
  { id: '0', name: 'm1.nano', vcpus: 1, ram: 64, disk: 0 },
  { id: '84', name: 'm1.micro', vcpus: 1, ram: 128, disk: 0 },
  { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 },
  { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 },
];

const parseJson = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
};

/** A transform replaces class-transformer's own conversion, so it builds the nested instances itself. */
const toFlavorSeeds = (params: { value: unknown }): unknown => {
  const parsed = parseJson(params);
  return Array.isArray(parsed)
    ? parsed.map((item: unknown) =>
        typeof item === 'object' && item !== null
          ? plainToInstance(FlavorSeed, item, { excludeExtraneousValues: true })
          : item,
      )
    : parsed;
};

/** A name the identity API accepts for users and projects. */
const IDENTITY_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export class ApiConfig extends StoreClientOptions {
  @Option({ env: 'NIMBUS_API_HOST', doc: 'address to listen on', allowed: 'an IPv4 or IPv6 address' }, IsIP())
  host = '127.0.0.1';

  @PortOption({
    env: 'NIMBUS_API_PORT',
    flag: 'port',
    doc: 'the one HTTP port for identity (/v3), compute (/v2.1), image and network; 0 picks a free one',
  })
  port = 8774;

  /** The URL clients reach this API at; derived from host and bound port when unset. */
  @HttpUrlOption({
    env: 'NIMBUS_API_URL',
    optional: true,
    doc: 'the URL clients use to reach the API (service catalog, links, Location); OS_AUTH_URL is <this>/v3',
    default: 'http://<host>:<bound port>',
  })
  publicUrl?: string;

  /** Console commands to the compute agents and their heartbeats; unset, consoles answer 409 and hosts show down. */
  @NatsUrl({
    optional: true,
    doc: 'the NATS server: console commands to compute agents, their heartbeats (unset: consoles 409)',
  })
  natsUrl?: string;

  @NatsCreds()
  natsCreds?: string;

  @JetStreamReplicasOption()
  jetstreamReplicas = 1;

  /** Subscriber credentials for the audit feed over NATS are signed with this account signing key. */
  @Option(
    {
      env: 'NIMBUS_API_AUDIT_NATS_SIGNING_KEY_FILE',
      optional: true,
      doc: 'file holding the NATS account signing key (seed) that audit subscriber credentials are minted with; unset: no audit over NATS. Secret, never logged',
    },
    IsString(),
  )
  auditNatsSigningKeyFile?: string;

  @Option(
    {
      env: 'NIMBUS_API_AUDIT_NATS_ACCOUNT',
      optional: true,
      doc: 'the public key of the NATS account that signing key belongs to (the issuer of subscriber credentials)',
      allowed: 'an account public key (A and 55 more base32 characters)',
    },
    Matches(/^A[A-Z2-7]{55}$/, { message: '$property must be a NATS account public key' }),
  )
  auditNatsAccount?: string;

  @NatsUrl({
    env: 'NIMBUS_API_AUDIT_NATS_URL',
    optional: true,
    doc: 'the NATS URL audit subscribers are told to connect to',
    default: 'NATS_URL',
  })
  auditNatsUrl?: string;

  @IntOption({
    env: 'NIMBUS_API_HEARTBEAT_TIMEOUT_MS',
    doc: 'a compute agent silent this long shows as down',
    min: 1000,
  })
  heartbeatTimeoutMs = 10_000;

  @Option(
    {
      env: 'NIMBUS_API_DATA_DIR',
      doc: 'folder for the server list projection (SQLite), image data and the generated token key',
    },
    IsString(),
    IsNotEmpty(),
  )
  dataDir = '.nimbus/api';

  @Option(
    {
      env: 'NIMBUS_API_IMAGE_DIR',
      optional: true,
      doc: "folder of the image service's data; API replicas share one",
      default: '<data dir>/images',
    },
    IsString(),
    IsNotEmpty(),
  )
  imageDir?: string;

  @Option(
    {
      env: 'NIMBUS_API_TOKEN_SECRET',
      optional: true,
      doc: 'HMAC key that signs tokens; share it between API replicas. Secret, never logged',
      default: 'generated once into <data dir>/token.key',
      allowed: 'at least 32 characters',
    },
    IsString(),
    MinLength(32),
  )
  tokenSecret?: string;

  @IntOption({
    env: 'NIMBUS_API_TOKEN_TTL_SECONDS',
    doc: 'how long an issued token is valid',
    min: 1,
    max: 31 * 24 * 3600,
  })
  tokenTtlSeconds = 3600;

  @Option(
    {
      env: 'NIMBUS_API_REGION',
      doc: 'the region name in the service catalog',
      allowed: '1-64 of A-Z a-z 0-9 _ . -',
    },
    Matches(/^[A-Za-z0-9_.-]{1,64}$/),
  )
  region = 'RegionOne';

  @Option(
    {
      env: 'NIMBUS_API_IMAGE_PREFIX',
      doc: 'path prefix of the image (Glance v2) API on the shared port',
      allowed: '/ and 1-32 lowercase letters, digits or -',
    },
    Matches(/^\/[a-z0-9-]{1,32}$/),
  )
  imagePrefix = '/image';

  @Option(
    {
      env: 'NIMBUS_API_NETWORK_PREFIX',
      doc: 'path prefix of the network (Neutron v2.0) API on the shared port',
      allowed: '/ and 1-32 lowercase letters, digits or -',
    },
    Matches(/^\/[a-z0-9-]{1,32}$/),
  )
  networkPrefix = '/networking';

  @Option(
    {
      env: 'NIMBUS_API_ADMIN_USER',
      doc: 'bootstrap admin user (created or updated at start, with role admin on the admin project)',
    },
    Matches(IDENTITY_NAME),
  )
  adminUser = 'admin';

  @Option(
    {
      env: 'NIMBUS_API_ADMIN_PASSWORD',
      optional: true,
      doc: 'bootstrap admin password; unset: no admin is bootstrapped. Secret, never logged',
    },
    IsString(),
    MinLength(1),
  )
  adminPassword?: string;

  @Option({ env: 'NIMBUS_API_ADMIN_PROJECT', doc: 'bootstrap admin project' }, Matches(IDENTITY_NAME))
  adminProject = 'admin';

  @Option(
    {
      env: 'NIMBUS_API_SERVICE_USER',
      doc: 'service user other Nimbus services (the compute agent downloading images) authenticate as; role service on the service project',
    },
    Matches(IDENTITY_NAME),
  )
  serviceUser = 'nimbus-compute';

  @Option(
    {
      env: 'NIMBUS_API_SERVICE_PASSWORD',
      optional: true,
      doc: 'the service user password; unset: no service user. Secret, never logged',
    },
    IsString(),
    MinLength(1),
  )
  servicePassword?: string;

  @Option(
    { env: 'NIMBUS_API_SERVICE_PROJECT', doc: 'project the service user is scoped to' },
    Matches(IDENTITY_NAME),
  )
  serviceProject = 'service';

  @Option(
    {
      env: 'NIMBUS_API_FLAVORS',
      doc: 'flavors created at start when missing, as JSON [{"id","name","vcpus","ram" (MiB),"disk" (GiB)}]',
      default:
        'm1.nano (id 0, 1 vCPU, 64 MiB, 0 GiB), m1.micro (84, 128, 0), m1.tiny (1, 512, 1), m1.small (1, 2048, 20)',
    },
    Transform(toFlavorSeeds),
    IsArray(),
    ValidateNested({ each: true }),
  )
  flavors: FlavorSeed[] = DEFAULT_FLAVORS.map((flavor) => plainToInstance(FlavorSeed, flavor));

  @Option(
    {
      env: 'NIMBUS_API_SEED_IMAGE',
      optional: true,
      doc: 'file uploaded at start as a public image of the admin project when no image of that name exists',
      default: 'unset (no seed image)',
    },
    IsString(),
    IsNotEmpty(),
  )
  seedImagePath?: string;

  @Option(
    { env: 'NIMBUS_API_SEED_IMAGE_NAME', doc: 'name of the seed image' },
    IsString(),
    Matches(/^\S(.{0,253}\S)?$/),
  )
  seedImageName = 'nimbus-boot';

  @ChoiceOption({ env: 'NIMBUS_API_SEED_IMAGE_FORMAT', doc: 'disk_format of the seed image' }, [
    'raw',
    'qcow2',
  ])
  seedImageFormat: 'raw' | 'qcow2' = 'raw';

  @ChoiceOption(
    {
      env: 'NIMBUS_API_SEED_IMAGE_HYPERVISOR_TYPE',
      doc: 'hypervisor_type property of the seed image (none: any host, fake ones included)',
    },
    ['qemu', 'kvm', 'none'],
  )
  seedImageHypervisorType: 'qemu' | 'kvm' | 'none' = 'qemu';

  @Option(
    {
      env: 'NIMBUS_API_METADATA_SOCKET',
      optional: true,
      doc: "Unix socket the instance metadata service listens on (made 0600); the hosts' metadata proxies forward guests' requests for 169.254.169.254 to it",
      default: 'unset (no metadata service)',
      allowed: 'an absolute path',
    },
    IsString(),
    Matches(/^\/[A-Za-z0-9._/-]+$/),
  )
  metadataSocket?: string;

  @Option(
    {
      env: 'NIMBUS_API_EXTERNAL_NETWORK_CIDR',
      optional: true,
      doc: 'IPv4 range of the external network made at start, owned by the admin project, when it is missing (router gateways and floating IPs come from it)',
      default: 'unset (no external network)',
      allowed: 'an IPv4 prefix, such as 172.24.4.0/24',
    },
    IsString(),
    Matches(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/),
  )
  externalNetworkCidr?: string;

  @Option(
    { env: 'NIMBUS_API_EXTERNAL_NETWORK_NAME', doc: 'name of the external network made at start' },
    IsString(),
    Matches(/^\S(.{0,253}\S)?$/),
  )
  externalNetworkName = 'public';

  @Option(
    { env: 'NIMBUS_API_DEFAULT_AZ', doc: 'the availability zone hosts are in unless they report another' },
    Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
  )
  defaultAvailabilityZone = 'nova';

  @IntOption({
    env: 'NIMBUS_API_QUOTA_INSTANCES',
    doc: 'default instances quota per project (-1: unlimited)',
    min: -1,
  })
  quotaInstances = 10;

  @IntOption({
    env: 'NIMBUS_API_QUOTA_CORES',
    doc: 'default cores quota per project (-1: unlimited)',
    min: -1,
  })
  quotaCores = 20;

  @IntOption({
    env: 'NIMBUS_API_QUOTA_RAM_MB',
    doc: 'default RAM quota per project, MiB (-1: unlimited)',
    min: -1,
  })
  quotaRamMb = 51_200;

  @IntOption({
    env: 'NIMBUS_API_QUOTA_KEY_PAIRS',
    doc: 'default key pairs quota per user (-1: unlimited)',
    min: -1,
  })
  quotaKeyPairs = 100;

  @IntOption({
    env: 'NIMBUS_API_QUOTA_SERVER_GROUPS',
    doc: 'default server groups quota per project (-1: unlimited)',
    min: -1,
  })
  quotaServerGroups = 10;

  @IntOption({
    env: 'NIMBUS_API_QUOTA_SERVER_GROUP_MEMBERS',
    doc: 'default members per server group (-1: unlimited)',
    min: -1,
  })
  quotaServerGroupMembers = 10;

  @IntOption({
    env: 'NIMBUS_API_MAX_LIMIT',
    doc: "largest page of a list (Nova's osapi_max_limit)",
    min: 1,
    max: 10_000,
  })
  maxLimit = 1000;

  @IntOption({
    env: 'NIMBUS_API_MAX_BODY_BYTES',
    doc: "largest JSON request body (Nova's max_request_body_size)",
    min: 1024,
  })
  maxBodyBytes = 114_688;

  @IntOption({
    env: 'NIMBUS_API_MAX_IMAGE_BYTES',
    doc: "largest image upload (Glance's image_size_cap)",
    min: 1,
  })
  maxImageBytes = 8 * 1024 ** 3;

  @IntOption({
    env: 'NIMBUS_API_READ_YOUR_WRITES_MS',
    doc: 'how long a write waits for the local read models to see it, so a list right after a create shows it',
    min: 0,
    max: 60_000,
  })
  readYourWritesMs = 5000;

  @IntOption({
    env: 'NIMBUS_API_WATCH_WINDOW_SECONDS',
    doc: 'how far back a servers watch may resume; an older resource version answers 410 Gone',
    min: 1,
    max: 31 * 24 * 3600,
  })
  watchWindowSeconds = 3600;

  @BooleanOption({
    env: 'NIMBUS_API_ACCESS_LOG',
    doc: 'log one line per request (method, path, status, request id, client name; never tokens)',
  })
  accessLog = false;
}
