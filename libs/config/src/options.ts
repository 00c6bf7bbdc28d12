/**
 * The kinds of option every app uses, each one `@Option` with its rules, so a URL or a port means the
 * same thing in every process: integers and numbers with their range, ports, choices, comma-separated
 * lists, booleans, http(s) URLs; and the options several processes share, declared once: the event
 * store URL, the NATS URL and its creds (the base classes at the end carry them with their defaults).
 * Must never accept in one app what another refuses: apps use these rules, not their own.
 */
import { hostname } from 'node:os';

import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsIP, IsNumber, IsString, IsUrl, Matches, Max, Min } from 'class-validator';

import { Option, type OptionSpec } from './option.js';

/**
 * What `@eventstore/db-client` parses: `esdb://` or `esdb+discover://` and at least one host. A
 * `kurrentdb://` string is refused by that client, so it is refused here, at start, rather than at
 * the first connection.
 */
export const EVENTSTORE_URL_PATTERN = /^esdb(\+discover)?:\/\/[^\s/?]+/;

/** A NATS server: `nats://` or `tls://` and the rest of the URL (the client reads host and port). */
export const NATS_URL_PATTERN = /^(nats|tls):\/\/\S+$/;

/** http(s) URLs: a scheme is required (a URL without one would build broken links). */
const HTTP_URL = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

interface RangeSpec extends OptionSpec {
  readonly min?: number;
  readonly max?: number;
}

function range({ min, max }: RangeSpec): string | undefined {
  if (min !== undefined && max !== undefined) return `${min}-${max}`;
  if (min !== undefined) return `>= ${min}`;
  return max === undefined ? undefined : `<= ${max}`;
}

function bounds({ min, max }: RangeSpec): PropertyDecorator[] {
  return [...(min === undefined ? [] : [Min(min)]), ...(max === undefined ? [] : [Max(max)])];
}

function specOnly({ min: _min, max: _max, ...spec }: RangeSpec): OptionSpec {
  return spec;
}

/** A whole number, optionally bounded. */
export const IntOption = (spec: RangeSpec): PropertyDecorator =>
  Option(
    { allowed: range(spec), ...specOnly(spec) },
    Type(() => Number),
    IsInt(),
    ...bounds(spec),
  );

/** A number (fractions allowed), optionally bounded. */
export const NumberOption = (spec: RangeSpec): PropertyDecorator =>
  Option(
    { allowed: range(spec), ...specOnly(spec) },
    Type(() => Number),
    IsNumber(),
    ...bounds(spec),
  );

/** A TCP port; 0 means "pick a free one". */
export const PortOption = (spec: OptionSpec): PropertyDecorator =>
  IntOption({ ...spec, min: 0, max: 65_535 });

/**
 * The address the health listener (`GET /healthz`) binds: loopback unless a probe from elsewhere (a
 * kubelet on the pod's address) has to reach it.
 */
export const HealthHostOption = (env: string): PropertyDecorator =>
  Option(
    {
      env,
      doc: 'address the GET /healthz listener binds (0.0.0.0 where probes come over the network)',
      allowed: 'an IPv4 or IPv6 address',
    },
    IsIP(),
  );

/** A health port (`GET /healthz`). */
export const HealthPortOption = (env: string, doc = 'port of GET /healthz; 0 picks one'): PropertyDecorator =>
  PortOption({ env, doc });

/**
 * The name a process of a replicated service goes by in leases, logs and its JetStream consumers: a
 * lowercase DNS label, unique among the live processes of the service. A process restarted under its
 * name takes up its predecessor's leases and consumers.
 */
export const ProcessIdOption = (
  spec: Omit<OptionSpec, 'default'> & { readonly service: string },
): PropertyDecorator =>
  Option(
    { env: spec.env, doc: spec.doc, default: `${spec.service}-<machine name>` },
    Matches(/^[a-z][a-z0-9-]{0,62}$/, {
      message: '$property must be a lowercase DNS label starting with a letter',
    }),
  );

/** `<service>-` and the machine's name as a DNS label (`compute-host-1` on host-1.example.org). */
export function defaultProcessId(service: string): string {
  const label = (hostname().split('.')[0] ?? '').toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return `${service}-${label}`.replace(/-+$/, '').slice(0, 63);
}

/** Copies of each JetStream stream and bucket a process creates: 1 on one server, 3 on a cluster. */
export const JetStreamReplicasOption = (): PropertyDecorator =>
  IntOption({
    env: 'NIMBUS_JETSTREAM_REPLICAS',
    doc: 'copies of each JetStream stream and key-value bucket this process creates: 3 on a three-node cluster',
    min: 1,
    max: 5,
  });

/** One of a fixed set of values. */
export const ChoiceOption = (spec: OptionSpec, values: readonly string[]): PropertyDecorator =>
  Option({ allowed: values.join(', '), ...spec }, IsIn(values));

/** `true`/`false` (also `1`/`0`, `yes`/`no`). */
export const BooleanOption = (spec: OptionSpec): PropertyDecorator =>
  Option({ allowed: 'true, false', ...spec }, Transform(toBoolean), IsBoolean());

/** An http(s) URL with its scheme. */
export const HttpUrlOption = (spec: OptionSpec): PropertyDecorator =>
  Option({ allowed: 'an http(s) URL', ...spec }, IsUrl(HTTP_URL));

/** A comma-separated list of http(s) URLs. */
export const HttpUrlListOption = (spec: OptionSpec): PropertyDecorator =>
  Option(spec, CommaList(), IsUrl(HTTP_URL, { each: true }));

/** `EVENTSTORE_URL`: the event store every process but the store itself talks to. */
export const EventStoreUrl = (spec: Partial<OptionSpec> = {}): PropertyDecorator =>
  Option(
    {
      env: 'EVENTSTORE_URL',
      doc: 'the event store (EventStoreDB/KurrentDB, or the embedded server)',
      allowed: 'an esdb:// or esdb+discover:// connection string',
      ...spec,
    },
    Matches(EVENTSTORE_URL_PATTERN, { message: '$property must be an esdb:// or esdb+discover:// URL' }),
  );

/** `NATS_URL`: the NATS server with JetStream. */
export const NatsUrl = (spec: Partial<OptionSpec> = {}): PropertyDecorator =>
  Option(
    {
      env: 'NATS_URL',
      doc: 'the NATS server (JetStream on)',
      allowed: 'a nats:// or tls:// URL',
      ...spec,
    },
    Matches(NATS_URL_PATTERN, { message: '$property must be a nats:// or tls:// URL' }),
  );

/** `NATS_CREDS`: the creds file a process connects to NATS with, when the server runs in operator mode. */
export const NatsCreds = (spec: Partial<OptionSpec> = {}): PropertyDecorator =>
  Option(
    {
      env: 'NATS_CREDS',
      optional: true,
      doc: 'a NATS creds file (user JWT and seed) for a server in operator mode; unset: no credentials',
      allowed: 'a readable file path',
      ...spec,
    },
    IsString(),
  );

/** A comma-separated list: `a, b,c` becomes `['a', 'b', 'c']`. */
export const CommaList = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      : value,
  );

function toBoolean({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  const lower = value.toLowerCase();
  if (['1', 'true', 'yes'].includes(lower)) return true;
  if (['0', 'false', 'no'].includes(lower)) return false;
  return value;
}

export const DEFAULT_EVENTSTORE_URL = 'esdb://127.0.0.1:2113?tls=false';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** The options of a process that reads and writes the event store (and may export its traces). */
export class StoreClientOptions {
  @EventStoreUrl()
  eventStoreUrl = DEFAULT_EVENTSTORE_URL;

  @HttpUrlOption({
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    optional: true,
    doc: 'an OTLP/HTTP collector: spans go to <this>/v1/traces; unset (and no traces endpoint): tracing is off',
  })
  otlpEndpoint?: string;

  @HttpUrlOption({
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    optional: true,
    doc: 'where spans go over OTLP/HTTP, the full URL; overrides OTEL_EXPORTER_OTLP_ENDPOINT for traces',
  })
  otlpTracesEndpoint?: string;
}

/** The options of a process that also consumes and publishes on NATS. */
export class BusClientOptions extends StoreClientOptions {
  @NatsUrl()
  natsUrl = DEFAULT_NATS_URL;

  @NatsCreds()
  natsCreds?: string;

  @JetStreamReplicasOption()
  jetstreamReplicas = 1;
}
