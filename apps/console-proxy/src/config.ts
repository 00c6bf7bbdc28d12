/**
 * The console proxy's options, read once from the environment into a validated class; a bad value
 * stops start-up with the list of what is wrong. `--help` prints CONSOLE_PROXY_OPTIONS.
 * Must never carry a secret: the private key is named by the inventory, never held here.
 */
import { Expose, Type } from 'class-transformer';
import { IsInt, IsIP, IsNotEmpty, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';

import { CommaList, EVENTSTORE_URL_OPTION, EventStoreUrl, type OptionDoc, PortOption } from '#libs/config';

const HTTP_URL = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

export class ConsoleProxyConfig {
  @EventStoreUrl()
  eventStoreUrl = 'esdb://127.0.0.1:2113?tls=false';

  /** The address the browser-facing listener binds. */
  @Expose({ name: 'NIMBUS_CONSOLE_HOST' })
  @IsIP()
  host = '127.0.0.1';

  @PortOption('NIMBUS_CONSOLE_PORT')
  port = 6080;

  /**
   * The proxy as users reach it (the compute agent builds access URLs from the same variable). When
   * unset: `http://<host>:<bound port>`.
   */
  @Expose({ name: 'NIMBUS_CONSOLE_BASE_URL' })
  @IsOptional()
  @IsUrl(HTTP_URL)
  baseUrl?: string;

  /** Pages whose WebSockets are accepted; the base URL's origin when empty. */
  @Expose({ name: 'NIMBUS_CONSOLE_ALLOWED_ORIGINS' })
  @CommaList()
  @IsUrl(HTTP_URL, { each: true })
  allowedOrigins: string[] = [];

  /** The host inventory the compute agents use (the rig writes one): where each host's sshd is. */
  @Expose({ name: 'NIMBUS_CONSOLE_INVENTORY' })
  @IsString({ message: 'NIMBUS_CONSOLE_INVENTORY (the host inventory file) is required' })
  @IsNotEmpty({ message: 'NIMBUS_CONSOLE_INVENTORY (the host inventory file) is required' })
  inventory = '';

  @PortOption('NIMBUS_CONSOLE_HEALTH_PORT')
  healthPort = 0;

  @Expose({ name: 'NIMBUS_CONSOLE_MAX_CONNECTIONS' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  maxConnections = 1_000;

  /** From the upgrade request to the tunnel being open: the token check and the SSH forward. */
  @Expose({ name: 'NIMBUS_CONSOLE_CONNECT_TIMEOUT_MS' })
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120_000)
  connectTimeoutMs = 15_000;
}

export const CONSOLE_PROXY_OPTIONS: readonly OptionDoc[] = [
  EVENTSTORE_URL_OPTION,
  {
    name: 'NIMBUS_CONSOLE_HOST',
    description: 'address the browser-facing listener binds',
    default: '127.0.0.1',
    allowed: 'an IPv4 or IPv6 address',
  },
  { name: 'NIMBUS_CONSOLE_PORT', description: 'its port; 0 picks one', default: '6080' },
  {
    name: 'NIMBUS_CONSOLE_BASE_URL',
    description: 'the proxy as users reach it (compute agents build access URLs from the same variable)',
    default: 'http://<NIMBUS_CONSOLE_HOST>:<bound port>',
    allowed: 'an http(s) URL',
  },
  {
    name: 'NIMBUS_CONSOLE_ALLOWED_ORIGINS',
    description: 'origins whose pages may open consoles (the WebSocket Origin header), comma-separated',
    default: 'the origin of NIMBUS_CONSOLE_BASE_URL',
  },
  {
    name: 'NIMBUS_CONSOLE_INVENTORY',
    description:
      "host inventory JSON, the compute agents' (hosts, sshd address and port, key path, host key pin)",
    default: 'none: required',
  },
  {
    name: 'NIMBUS_CONSOLE_HEALTH_PORT',
    description: 'loopback port of GET /healthz; 0 picks one (printed in the listening line)',
    default: '0',
  },
  {
    name: 'NIMBUS_CONSOLE_MAX_CONNECTIONS',
    description: 'consoles open (or opening) at once; more are refused with 503',
    default: '1000',
    allowed: '1-100000',
  },
  {
    name: 'NIMBUS_CONSOLE_CONNECT_TIMEOUT_MS',
    description: 'token check plus SSH tunnel, per connection; slower is refused with 504',
    default: '15000',
    allowed: '100-120000',
  },
];
