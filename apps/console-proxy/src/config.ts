/**
 * The console proxy's options, read once from the environment into a validated class; a bad value
 * stops start-up with the list of what is wrong. Each option is declared once with its variable,
 * documentation and default; `--help` and docs/configuration.md derive from the declarations.
 * Must never carry a secret: the private key is named by the inventory, never held here.
 */
import { IsIP, IsNotEmpty, IsString } from 'class-validator';

import {
  HealthHostOption,
  HealthPortOption,
  HttpUrlListOption,
  HttpUrlOption,
  IntOption,
  Option,
  PortOption,
  StoreClientOptions,
} from '#libs/config';

const INVENTORY_REQUIRED = 'NIMBUS_CONSOLE_INVENTORY (the host inventory file) is required';

export class ConsoleProxyConfig extends StoreClientOptions {
  /** The address the browser-facing listener binds. */
  @Option(
    {
      env: 'NIMBUS_CONSOLE_HOST',
      doc: 'address the browser-facing listener binds',
      allowed: 'an IPv4 or IPv6 address',
    },
    IsIP(),
  )
  host = '127.0.0.1';

  @PortOption({ env: 'NIMBUS_CONSOLE_PORT', doc: 'its port; 0 picks one' })
  port = 6080;

  /**
   * The proxy as users reach it (the compute agent builds access URLs from the same variable). When
   * unset: `http://<host>:<bound port>`.
   */
  @HttpUrlOption({
    env: 'NIMBUS_CONSOLE_BASE_URL',
    optional: true,
    doc: 'the proxy as users reach it (compute agents build access URLs from the same variable)',
    default: 'http://<NIMBUS_CONSOLE_HOST>:<bound port>',
  })
  baseUrl?: string;

  /** Pages whose WebSockets are accepted; the base URL's origin when empty. */
  @HttpUrlListOption({
    env: 'NIMBUS_CONSOLE_ALLOWED_ORIGINS',
    doc: 'origins whose pages may open consoles (the WebSocket Origin header), comma-separated',
    default: 'the origin of NIMBUS_CONSOLE_BASE_URL',
  })
  allowedOrigins: string[] = [];

  /**
   * Pages that may show the console in a frame, as the OpenStack dashboard's console tab does. None by
   * default: the console page refuses to be framed at all.
   */
  @HttpUrlListOption({
    env: 'NIMBUS_CONSOLE_FRAME_ANCESTORS',
    doc: 'origins whose pages may embed the console page in a frame (the dashboard), comma-separated',
    default: 'none: the console is never framed',
  })
  frameAncestors: string[] = [];

  /** The host inventory the compute agents use (the rig writes one): where each host's sshd is. */
  @Option(
    {
      env: 'NIMBUS_CONSOLE_INVENTORY',
      doc: "host inventory JSON, the compute agents' (hosts, sshd address and port, key path, host key pin)",
      default: 'none: required',
    },
    IsString({ message: INVENTORY_REQUIRED }),
    IsNotEmpty({ message: INVENTORY_REQUIRED }),
  )
  inventory = '';

  @HealthHostOption('NIMBUS_CONSOLE_HEALTH_HOST')
  healthHost = '127.0.0.1';

  @HealthPortOption(
    'NIMBUS_CONSOLE_HEALTH_PORT',
    'port of GET /healthz; 0 picks one (printed in the listening line)',
  )
  healthPort = 0;

  @IntOption({
    env: 'NIMBUS_CONSOLE_MAX_CONNECTIONS',
    doc: 'consoles open (or opening) at once; more are refused with 503',
    min: 1,
    max: 100_000,
  })
  maxConnections = 1_000;

  /** From the upgrade request to the tunnel being open: the token check and the SSH forward. */
  @IntOption({
    env: 'NIMBUS_CONSOLE_CONNECT_TIMEOUT_MS',
    doc: 'token check plus SSH tunnel, per connection; slower is refused with 504',
    min: 100,
    max: 120_000,
  })
  connectTimeoutMs = 15_000;
}
