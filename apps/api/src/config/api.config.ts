/**
 * The API's options, read once at start-up from the environment into a validated class; a bad value stops
 * the process with every problem listed. Every option is documented in API_OPTIONS (`--help` prints it).
 * Must never let a secret (token signing key, passwords) reach a log line: `describeApiConfig` masks them.
 */
import { Expose, Transform, Type, plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsIP,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  IsArray,
  IsBoolean,
} from 'class-validator';

import type { OptionDoc } from '#libs/config';

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

/** Nova's defaults for m1.nano (the emulated-guest size), m1.tiny and m1.small. */
export const DEFAULT_FLAVORS: readonly FlavorSeed[] = [
  { id: '0', name: 'm1.nano', vcpus: 1, ram: 64, disk: 0 },
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

const toBoolean = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? ['1', 'true', 'yes'].includes(value.toLowerCase())
      ? true
      : ['0', 'false', 'no'].includes(value.toLowerCase())
        ? false
        : value
    : value;

export class ApiConfig {
  @Expose({ name: 'NIMBUS_API_HOST' })
  @IsIP()
  host = '127.0.0.1';

  @Expose({ name: 'NIMBUS_API_PORT' })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65_535)
  port = 8774;

  /** The URL clients reach this API at; derived from host and bound port when unset. */
  @Expose({ name: 'NIMBUS_API_URL' })
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/)
  publicUrl?: string;

  @Expose({ name: 'EVENTSTORE_URL' })
  @IsString()
  @Matches(/^(esdb|kurrentdb|esdb\+discover|kurrentdb\+discover):\/\//)
  eventStoreUrl = 'esdb://127.0.0.1:2113?tls=false';

  /** Console commands to the compute agents and their heartbeats; unset, consoles answer 409 and hosts show down. */
  @Expose({ name: 'NATS_URL' })
  @IsOptional()
  @Matches(/^(nats|tls):\/\//)
  natsUrl?: string;

  @Expose({ name: 'NIMBUS_API_HEARTBEAT_TIMEOUT_MS' })
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  heartbeatTimeoutMs = 10_000;

  @Expose({ name: 'NIMBUS_API_DATA_DIR' })
  @IsString()
  @IsNotEmpty()
  dataDir = '.nimbus/api';

  @Expose({ name: 'NIMBUS_API_TOKEN_SECRET' })
  @IsOptional()
  @IsString()
  @MinLength(32)
  tokenSecret?: string;

  @Expose({ name: 'NIMBUS_API_TOKEN_TTL_SECONDS' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(31 * 24 * 3600)
  tokenTtlSeconds = 3600;

  @Expose({ name: 'NIMBUS_API_REGION' })
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/)
  region = 'RegionOne';

  @Expose({ name: 'NIMBUS_API_IMAGE_PREFIX' })
  @Matches(/^\/[a-z0-9-]{1,32}$/)
  imagePrefix = '/image';

  @Expose({ name: 'NIMBUS_API_ADMIN_USER' })
  @Matches(/^[A-Za-z0-9_.@-]{1,64}$/)
  adminUser = 'admin';

  @Expose({ name: 'NIMBUS_API_ADMIN_PASSWORD' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  adminPassword?: string;

  @Expose({ name: 'NIMBUS_API_ADMIN_PROJECT' })
  @Matches(/^[A-Za-z0-9_.@-]{1,64}$/)
  adminProject = 'admin';

  @Expose({ name: 'NIMBUS_API_SERVICE_USER' })
  @Matches(/^[A-Za-z0-9_.@-]{1,64}$/)
  serviceUser = 'nimbus-compute';

  @Expose({ name: 'NIMBUS_API_SERVICE_PASSWORD' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  servicePassword?: string;

  @Expose({ name: 'NIMBUS_API_SERVICE_PROJECT' })
  @Matches(/^[A-Za-z0-9_.@-]{1,64}$/)
  serviceProject = 'service';

  @Expose({ name: 'NIMBUS_API_FLAVORS' })
  @Transform(toFlavorSeeds)
  @IsArray()
  @ValidateNested({ each: true })
  flavors: FlavorSeed[] = DEFAULT_FLAVORS.map((flavor) => plainToInstance(FlavorSeed, flavor));

  @Expose({ name: 'NIMBUS_API_SEED_IMAGE' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  seedImagePath?: string;

  @Expose({ name: 'NIMBUS_API_SEED_IMAGE_NAME' })
  @IsString()
  @Matches(/^\S(.{0,253}\S)?$/)
  seedImageName = 'nimbus-boot';

  @Expose({ name: 'NIMBUS_API_SEED_IMAGE_FORMAT' })
  @IsIn(['raw', 'qcow2'])
  seedImageFormat: 'raw' | 'qcow2' = 'raw';

  @Expose({ name: 'NIMBUS_API_DEFAULT_AZ' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)
  defaultAvailabilityZone = 'nova';

  @Expose({ name: 'NIMBUS_API_QUOTA_INSTANCES' })
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  quotaInstances = 10;

  @Expose({ name: 'NIMBUS_API_QUOTA_CORES' })
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  quotaCores = 20;

  @Expose({ name: 'NIMBUS_API_QUOTA_RAM_MB' })
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  quotaRamMb = 51_200;

  @Expose({ name: 'NIMBUS_API_QUOTA_KEY_PAIRS' })
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  quotaKeyPairs = 100;

  @Expose({ name: 'NIMBUS_API_QUOTA_SERVER_GROUPS' })
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  quotaServerGroups = 10;

  @Expose({ name: 'NIMBUS_API_QUOTA_SERVER_GROUP_MEMBERS' })
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  quotaServerGroupMembers = 10;

  @Expose({ name: 'NIMBUS_API_MAX_LIMIT' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  maxLimit = 1000;

  @Expose({ name: 'NIMBUS_API_MAX_BODY_BYTES' })
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  maxBodyBytes = 114_688;

  @Expose({ name: 'NIMBUS_API_MAX_IMAGE_BYTES' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  maxImageBytes = 8 * 1024 ** 3;

  @Expose({ name: 'NIMBUS_API_READ_YOUR_WRITES_MS' })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60_000)
  readYourWritesMs = 5000;

  @Expose({ name: 'NIMBUS_API_ACCESS_LOG' })
  @Transform(toBoolean)
  @IsBoolean()
  accessLog = false;
}

export const API_OPTIONS: readonly OptionDoc[] = [
  {
    name: 'NIMBUS_API_HOST',
    description: 'address to listen on',
    default: '127.0.0.1',
    allowed: 'an IPv4 or IPv6 address',
  },
  {
    name: 'NIMBUS_API_PORT',
    description: 'the one HTTP port for identity (/v3), compute (/v2.1) and image; 0 picks a free one',
    default: '8774',
    allowed: '0-65535',
  },
  {
    name: 'NIMBUS_API_URL',
    description:
      'the URL clients use to reach the API (service catalog, links, Location); OS_AUTH_URL is <this>/v3',
    default: 'http://<host>:<bound port>',
    allowed: 'an http(s) URL without a trailing path beyond a prefix',
  },
  {
    name: 'NATS_URL',
    description:
      'the NATS server: console commands to compute agents, their heartbeats (unset: consoles 409)',
    default: 'unset',
  },
  {
    name: 'NIMBUS_API_HEARTBEAT_TIMEOUT_MS',
    description: 'a compute agent silent this long shows as down',
    default: '10000',
  },
  {
    name: 'EVENTSTORE_URL',
    description: 'the event store (EventStoreDB/KurrentDB or the embedded server)',
    default: 'esdb://127.0.0.1:2113?tls=false',
    allowed: 'an esdb:// or kurrentdb:// connection string',
  },
  {
    name: 'NIMBUS_API_DATA_DIR',
    description: 'folder for the server list projection (SQLite), image data and the generated token key',
    default: '.nimbus/api',
  },
  {
    name: 'NIMBUS_API_TOKEN_SECRET',
    description: 'HMAC key that signs tokens; share it between API replicas. Secret, never logged',
    default: 'generated once into <data dir>/token.key',
    allowed: 'at least 32 characters',
  },
  {
    name: 'NIMBUS_API_TOKEN_TTL_SECONDS',
    description: 'how long an issued token is valid',
    default: '3600',
    allowed: '1 - 2678400',
  },
  { name: 'NIMBUS_API_REGION', description: 'the region name in the service catalog', default: 'RegionOne' },
  {
    name: 'NIMBUS_API_IMAGE_PREFIX',
    description: 'path prefix of the image (Glance v2) API on the shared port',
    default: '/image',
    allowed: '/ and 1-32 lowercase letters, digits or -',
  },
  {
    name: 'NIMBUS_API_ADMIN_USER',
    description: 'bootstrap admin user (created or updated at start, with role admin on the admin project)',
    default: 'admin',
  },
  {
    name: 'NIMBUS_API_ADMIN_PASSWORD',
    description: 'bootstrap admin password; unset: no admin is bootstrapped. Secret, never logged',
    default: 'unset',
  },
  { name: 'NIMBUS_API_ADMIN_PROJECT', description: 'bootstrap admin project', default: 'admin' },
  {
    name: 'NIMBUS_API_SERVICE_USER',
    description:
      'service user other Nimbus services (the compute agent downloading images) authenticate as; role service on the service project',
    default: 'nimbus-compute',
  },
  {
    name: 'NIMBUS_API_SERVICE_PASSWORD',
    description: 'the service user password; unset: no service user. Secret, never logged',
    default: 'unset',
  },
  {
    name: 'NIMBUS_API_SERVICE_PROJECT',
    description: 'project the service user is scoped to',
    default: 'service',
  },
  {
    name: 'NIMBUS_API_FLAVORS',
    description:
      'flavors created at start when missing, as JSON [{"id","name","vcpus","ram" (MiB),"disk" (GiB)}]',
    default: 'm1.nano (id 0, 1 vCPU, 64 MiB, 0 GiB), m1.tiny (1, 512, 1), m1.small (1, 2048, 20)',
  },
  {
    name: 'NIMBUS_API_SEED_IMAGE',
    description:
      'file uploaded at start as a public image of the admin project when no image of that name exists',
    default: 'unset (no seed image)',
  },
  { name: 'NIMBUS_API_SEED_IMAGE_NAME', description: 'name of the seed image', default: 'nimbus-boot' },
  {
    name: 'NIMBUS_API_SEED_IMAGE_FORMAT',
    description: 'disk_format of the seed image',
    default: 'raw',
    allowed: 'raw, qcow2',
  },
  {
    name: 'NIMBUS_API_DEFAULT_AZ',
    description: 'the availability zone hosts are in unless they report another',
    default: 'nova',
  },
  {
    name: 'NIMBUS_API_QUOTA_INSTANCES',
    description: 'default instances quota per project (-1: unlimited)',
    default: '10',
  },
  { name: 'NIMBUS_API_QUOTA_CORES', description: 'default cores quota per project', default: '20' },
  { name: 'NIMBUS_API_QUOTA_RAM_MB', description: 'default RAM quota per project, MiB', default: '51200' },
  { name: 'NIMBUS_API_QUOTA_KEY_PAIRS', description: 'default key pairs quota per user', default: '100' },
  {
    name: 'NIMBUS_API_QUOTA_SERVER_GROUPS',
    description: 'default server groups quota per project',
    default: '10',
  },
  {
    name: 'NIMBUS_API_QUOTA_SERVER_GROUP_MEMBERS',
    description: 'default members per server group',
    default: '10',
  },
  {
    name: 'NIMBUS_API_MAX_LIMIT',
    description: "largest page of a list (Nova's osapi_max_limit)",
    default: '1000',
  },
  {
    name: 'NIMBUS_API_MAX_BODY_BYTES',
    description: "largest JSON request body (Nova's max_request_body_size)",
    default: '114688',
  },
  {
    name: 'NIMBUS_API_MAX_IMAGE_BYTES',
    description: "largest image upload (Glance's image_size_cap)",
    default: '8589934592',
  },
  {
    name: 'NIMBUS_API_READ_YOUR_WRITES_MS',
    description:
      'how long a write waits for the local read models to see it, so a list right after a create shows it',
    default: '5000',
    allowed: '0-60000',
  },
  {
    name: 'NIMBUS_API_ACCESS_LOG',
    description: 'log one line per request (method, path, status, request id; never tokens)',
    default: 'false',
    allowed: 'true, false',
  },
];
