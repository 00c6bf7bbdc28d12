/**
 * Booting servers through the compute API and waiting for them to settle, as the end-to-end
 * suites do it: bursts of the tiny flavor from the seeded boot image, then the servers as the API
 * shows them once none is in BUILD any more. Reads only what the API answers.
 */
import { eventually } from './eventually.js';
import type { OpenStackHttp, Reply } from '../../deploy/clients/openstack-http.js';

/** The fields of a shown server these suites look at (the admin sees the host). */
export interface ShownServer {
  readonly id: string;
  readonly status: string;
  readonly 'OS-EXT-SRV-ATTR:host'?: string | null;
  readonly fault?: { readonly code: number; readonly message: string };
}

/**
 * Posts `count` boots of m1.nano from the seeded `nimbus-boot` image at once, with no NIC unless
 * `networks` names some; the replies in order.
 */
export async function bootServers(
  os: OpenStackHttp,
  prefix: string,
  count: number,
  networks: 'none' | readonly { readonly uuid: string }[] = 'none',
): Promise<Reply<{ server: { id: string } }>[]> {
  const images = await os.image<{ images: { id: string }[] }>('GET', '/v2/images?name=nimbus-boot');
  const imageRef = images.body.images[0]!.id;
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      os.compute<{ server: { id: string } }>('POST', '/servers', {
        server: { name: `${prefix}-${index}`, imageRef, flavorRef: '0', networks },
      }),
    ),
  );
}

/**
 * A burst of `count` boots (as bootServers), each of which must be accepted; the ids are added to
 * `booted`, the list a suite checks all together once it has settled.
 */
export async function acceptedBurst(
  os: OpenStackHttp,
  prefix: string,
  count: number,
  booted: string[],
): Promise<string[]> {
  const replies = await bootServers(os, prefix, count);
  expect(replies.map((reply) => reply.status)).toEqual(Array(count).fill(202));
  const ids = replies.map((reply) => reply.body.server.id);
  booted.push(...ids);
  return ids;
}

/** The servers as the API shows them, once every one of them is ACTIVE or ERROR. */
export function settledServers(
  os: OpenStackHttp,
  ids: readonly string[],
  timeoutMs: number,
): Promise<ShownServer[]> {
  return eventually(
    `all ${ids.length} servers ACTIVE or ERROR`,
    async () => {
      const shown = await Promise.all(
        ids.map(
          async (id) => (await os.compute<{ server: ShownServer }>('GET', `/servers/${id}`)).body.server,
        ),
      );
      return shown.every((server) => server.status === 'ACTIVE' || server.status === 'ERROR')
        ? shown
        : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/**
 * The server as the API shows it once it has `status`; a server that goes to ERROR on the way
 * fails the wait at once with its fault, unless ERROR is what is waited for.
 */
export function serverWithStatus<
  T extends Pick<ShownServer, 'status'> & { readonly fault?: { readonly message: string } },
>(os: OpenStackHttp, id: string, status: string, timeoutMs: number): Promise<T> {
  return eventually(
    `server ${id} ${status}`,
    async () => {
      const server = (await os.compute<{ server: T }>('GET', `/servers/${id}`)).body.server;
      if (server.status === 'ERROR' && status !== 'ERROR')
        throw new Error(`server ${id} failed: ${server.fault?.message}`);
      return server.status === status ? server : undefined;
    },
    timeoutMs,
  );
}
