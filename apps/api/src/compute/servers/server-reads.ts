/**
 * Reading servers: one server from the projection once it has applied the server's stream up to its head
 * (as fresh as a fold, which remains the fallback), lists from the projection with
 * Nova's filters and paging, and what the views need to know of hosts. Servers of other projects do not
 * exist for a caller (404), as in Nova. Never appends.
 */
import { Injectable } from '@nestjs/common';

import { PATTERNS, streamFor } from '#libs/contracts';
import { InstanceNotFound } from '#libs/domain';
import { EventStore } from '#libs/event-store';

import { canSeeProject, isAdmin } from '../../common/auth/principal.js';
import { badRequest } from '../../common/http/api-error.js';
import type { CallContext } from '../../common/http/context.decorator.js';
import { PublicUrl } from '../../common/http/public-url.js';
import { HostRegistry } from '../hosts/host-registry.js';
import type { Page } from '../paging.js';
import { MarkerNotFound, ServerProjection } from './projection/server-projection.js';
import { serverQueryOf } from './server-list-query.js';
import { type ServerRecord, serverRecordReducer } from './server-record.js';
import type { ViewContext } from './server.view.js';
import { NetworkDirectory } from '../../network/network-directory.js';

export interface ServerList {
  readonly servers: readonly ServerRecord[];
  readonly limit: number;
}

@Injectable()
export class ServerReads {
  constructor(
    private readonly store: EventStore,
    private readonly projection: ServerProjection,
    private readonly hosts: HostRegistry,
    private readonly publicUrl: PublicUrl,
    private readonly networks: NetworkDirectory,
  ) {}

  viewContext(context: CallContext): ViewContext {
    return {
      baseUrl: this.publicUrl.get(),
      microversion: context.microversion,
      isAdmin: isAdmin(context.principal),
      zoneOf: (host) => this.hosts.zoneOf(host),
      hostStatus: (host) => this.hosts.hostStatus(host),
      networkName: (networkId) => this.networks.networkName(networkId),
      floatingIpsOf: (portId, fixedIp) => this.networks.floatingIpsOf(portId, fixedIp),
    };
  }

  /**
   * A server the caller may see, as of its stream's last event when the request came: from the
   * projection once it has applied that event (nearly always at once), else folded from the stream.
   * Nova's 404 otherwise (deleted ones included).
   */
  async load(
    context: CallContext,
    serverId: string,
    options: { allowDeleted?: boolean } = {},
  ): Promise<ServerRecord> {
    // Ids are matched in any case, as Nova does, and stored lowercase.
    const id = serverId.toLowerCase();
    if (!PATTERNS.uuid.test(id)) throw new InstanceNotFound(serverId);
    const stream = streamFor('instance', id);
    const head = await this.store.head(stream);
    if (head === null) throw new InstanceNotFound(serverId);
    const state =
      (await this.projection.recordAt(id, head)) ??
      (await this.store.fold(stream, serverRecordReducer)).state;
    const { instance } = state;
    const visible =
      instance.exists &&
      instance.boot !== null &&
      (options.allowDeleted === true || instance.vmState !== 'deleted') &&
      canSeeProject(context.principal, instance.boot.projectId);
    if (!visible) throw new InstanceNotFound(serverId);
    return state;
  }

  list(
    context: CallContext,
    query: Readonly<Record<string, unknown>>,
    page: Page & { readonly detail: boolean },
  ): ServerList {
    const serverQuery = serverQueryOf({ ...context, detail: page.detail }, query, page);
    if (serverQuery === null) return { servers: [], limit: page.limit };
    try {
      return { servers: this.projection.list(serverQuery), limit: page.limit };
    } catch (error) {
      if (error instanceof MarkerNotFound) throw badRequest(error.message);
      throw error;
    }
  }
}
