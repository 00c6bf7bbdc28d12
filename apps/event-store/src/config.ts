/**
 * The embedded event store's options, read once from the environment (and command-line flags,
 * which win). Every option is documented here; `--help` prints this table.
 */
import { Expose, Type } from 'class-transformer';
import { IsIP, IsInt, IsNotEmpty, IsString, Max, Min } from 'class-validator';

import type { OptionDoc } from '#libs/config';

export class EventStoreConfig {
  @Expose({ name: 'NIMBUS_EVENTSTORE_DATA_DIR' })
  @IsString()
  @IsNotEmpty()
  dataDir = '.nimbus/event-store';

  @Expose({ name: 'NIMBUS_EVENTSTORE_HOST' })
  @IsIP()
  host = '127.0.0.1';

  @Expose({ name: 'NIMBUS_EVENTSTORE_PORT' })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65_535)
  port = 2113;

  @Expose({ name: 'NIMBUS_EVENTSTORE_MAX_APPEND_SIZE' })
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  maxAppendSize = 1_048_576;
}

export const EVENT_STORE_OPTIONS: readonly OptionDoc[] = [
  {
    name: 'NIMBUS_EVENTSTORE_DATA_DIR (--data-dir)',
    description: 'folder holding the database',
    default: '.nimbus/event-store',
  },
  {
    name: 'NIMBUS_EVENTSTORE_HOST (--host)',
    description: 'address to listen on',
    default: '127.0.0.1',
    allowed: 'an IPv4 or IPv6 address',
  },
  {
    name: 'NIMBUS_EVENTSTORE_PORT (--port)',
    description: 'gRPC port; 0 picks a free one',
    default: '2113',
    allowed: '0-65535',
  },
  {
    name: 'NIMBUS_EVENTSTORE_MAX_APPEND_SIZE',
    description: 'largest total payload of one append, in bytes',
    default: '1048576',
    allowed: '>= 1024',
  },
];
