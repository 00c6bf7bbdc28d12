/**
 * The options several processes share, declared once: the event store and NATS URLs, TCP ports,
 * comma-separated lists. Each is a composite decorator for a config class, with its documentation
 * beside it.
 */
import { Expose, Transform, Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsString, Max, Min } from 'class-validator';

import type { OptionDoc } from './describe-config.js';

const compose =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, property) => {
    for (const decorator of decorators) decorator(target, property);
  };

/** `EVENTSTORE_URL`: an esdb:// connection string for the official client. */
export const EventStoreUrl = (): PropertyDecorator =>
  compose(Expose({ name: 'EVENTSTORE_URL' }), IsString(), IsNotEmpty());

export const EVENTSTORE_URL_OPTION: OptionDoc = {
  name: 'EVENTSTORE_URL',
  description: 'the event store (EventStoreDB/KurrentDB, or the embedded server)',
  default: 'esdb://127.0.0.1:2113?tls=false',
};

/** `NATS_URL`: the NATS server with JetStream. */
export const NatsUrl = (): PropertyDecorator =>
  compose(Expose({ name: 'NATS_URL' }), IsString(), IsNotEmpty());

export const NATS_URL_OPTION: OptionDoc = {
  name: 'NATS_URL',
  description: 'the NATS server (JetStream on)',
  default: 'nats://127.0.0.1:4222',
};

/** A TCP port from the environment variable `name`; 0 means "pick a free one". */
export const PortOption = (name: string): PropertyDecorator =>
  compose(
    Expose({ name }),
    Type(() => Number),
    IsInt(),
    Min(0),
    Max(65_535),
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
