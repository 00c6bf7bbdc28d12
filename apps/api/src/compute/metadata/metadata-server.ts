/**
 * The instance metadata service's listener: plain HTTP on a Unix socket (NIMBUS_API_METADATA_SOCKET),
 * which the hosts' metadata proxies at 169.254.169.254 forward guests' requests to. A proxy names the
 * network a request came from (`X-Nimbus-Network-ID`) and the guest's address (`X-Forwarded-For`, its
 * last entry, which the proxy itself appends); only processes allowed to open the socket can say so,
 * which is why it is a socket the API makes private (0600) and never a port.
 * Must never answer a request that does not carry both, never serve anything but GET, and never answer
 * with anything but the asking instance's own metadata.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { dirname } from 'node:path';

import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import ipaddr from 'ipaddr.js';

import { PATTERNS } from '#libs/contracts';

import { API_CONFIG } from '../../common/store/tokens.js';
import type { ApiConfig } from '../../config/api.config.js';
import {
  type InstanceMetadata,
  MetadataService,
  ec2MetaData,
  openstackMetaData,
} from './metadata.service.js';

/** The versions Nova lists; every one answers with the same (current) documents. */
const OPENSTACK_VERSIONS = ['2012-08-10', '2013-04-04', '2013-10-17', '2015-10-15', '2016-06-30', 'latest'];
const EC2_VERSIONS = ['1.0', '2007-01-19', '2009-04-04', 'latest'];

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string | Buffer;
}

const text = (body: string): Answer => ({ status: 200, type: 'text/plain; charset=UTF-8', body });
const notFound: Answer = { status: 404, type: 'text/plain; charset=UTF-8', body: '404 Not Found\n' };
/** The user data as the user gave it (decoded), or 404 when none was given, as Nova answers. */
const userData = (instance: InstanceMetadata): Answer =>
  instance.userData === null
    ? notFound
    : { status: 200, type: 'application/octet-stream', body: instance.userData };

@Injectable()
export class MetadataServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetadataServer.name);
  private server: Server | null = null;

  constructor(
    private readonly metadata: MetadataService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const socket = this.config.metadataSocket;
    if (socket === undefined) return;
    await mkdir(dirname(socket), { recursive: true, mode: 0o755 });
    await rm(socket, { force: true });
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.logger.error(
          `metadata request failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        if (!response.headersSent) send(response, { status: 500, type: 'text/plain', body: '500\n' });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => resolve());
    });
    await chmod(socket, 0o600);
    this.server = server;
    this.logger.log(`serving instance metadata on ${socket}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, { status: 405, type: 'text/plain', body: '405 Method Not Allowed\n' });
      return;
    }
    const networkId = header(request, 'x-nimbus-network-id');
    const address = header(request, 'x-forwarded-for')?.split(',').pop()?.trim();
    if (
      networkId === undefined ||
      !PATTERNS.uuid.test(networkId) ||
      address === undefined ||
      !ipaddr.IPv4.isValidFourPartDecimal(address)
    ) {
      send(response, { status: 400, type: 'text/plain', body: '400 Bad Request\n' });
      return;
    }
    const path = new URL(request.url ?? '/', 'http://metadata').pathname.replace(/\/+$/, '');
    const answer = await this.answer(networkId, address, path);
    send(response, request.method === 'HEAD' ? { ...answer, body: '' } : answer);
  }

  private async answer(networkId: string, address: string, path: string): Promise<Answer> {
    if (path === '') return text(EC2_VERSIONS.join('\n'));
    if (path === '/openstack') return text(OPENSTACK_VERSIONS.join('\n'));
    const openstack = /^\/openstack\/([^/]+)(?:\/(.*))?$/.exec(path);
    const ec2 = /^\/([^/]+)(?:\/(.*))?$/.exec(path);
    const instance = await this.metadata.identify(networkId, address);
    if (!instance) return notFound;
    if (openstack) {
      const [, version = '', document = ''] = openstack;
      if (!OPENSTACK_VERSIONS.includes(version)) return notFound;
      if (document === '')
        return text(['meta_data.json', ...(instance.userData ? ['user_data'] : [])].join('\n'));
      if (document === 'meta_data.json') {
        return { status: 200, type: 'application/json', body: JSON.stringify(openstackMetaData(instance)) };
      }
      if (document === 'user_data') return userData(instance);
      return notFound;
    }
    const [, version = '', rest = ''] = ec2 ?? [];
    if (!EC2_VERSIONS.includes(version)) return notFound;
    if (rest === '') return text(['meta-data/', ...(instance.userData ? ['user-data'] : [])].join('\n'));
    if (rest === 'user-data') return userData(instance);
    if (rest === 'meta-data' || rest.startsWith('meta-data/')) {
      const key = rest === 'meta-data' ? '' : rest.slice('meta-data/'.length);
      const tree = ec2MetaData(instance);
      const found = tree.get(key) ?? tree.get(`${key}/`);
      return found === undefined ? notFound : text(found);
    }
    return notFound;
  }
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function send(response: ServerResponse, answer: Answer): void {
  response.writeHead(answer.status, {
    'Content-Type': answer.type,
    'Content-Length': Buffer.byteLength(answer.body),
  });
  response.end(answer.body);
}
