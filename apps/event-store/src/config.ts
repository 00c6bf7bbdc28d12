/**
 * The embedded event store's options, read once from the environment (and command-line flags,
 * which win). Each option is declared once with its variable, flag, documentation and default;
 * `--help` and docs/configuration.md derive from the declarations.
 */
import { IsIP, IsNotEmpty, IsString } from 'class-validator';

import { IntOption, Option, PortOption } from '#libs/config';

export class EventStoreConfig {
  @Option(
    { env: 'NIMBUS_EVENTSTORE_DATA_DIR', flag: 'data-dir', doc: 'folder holding the database' },
    IsString(),
    IsNotEmpty(),
  )
  dataDir = '.nimbus/event-store';

  @Option(
    {
      env: 'NIMBUS_EVENTSTORE_HOST',
      flag: 'host',
      doc: 'address to listen on',
      allowed: 'an IPv4 or IPv6 address',
    },
    IsIP(),
  )
  host = '127.0.0.1';

  @PortOption({ env: 'NIMBUS_EVENTSTORE_PORT', flag: 'port', doc: 'gRPC port; 0 picks a free one' })
  port = 2113;

  @IntOption({
    env: 'NIMBUS_EVENTSTORE_MAX_APPEND_SIZE',
    doc: 'largest total payload of one append, in bytes',
    min: 1024,
  })
  maxAppendSize = 1_048_576;
}
