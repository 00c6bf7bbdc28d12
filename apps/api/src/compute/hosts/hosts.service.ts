/**
 * Compute hosts as Nova's admin APIs see them: the registry's hosts filtered as `os-hypervisors` and
 * `os-services` ask, and enable or disable of a host decided by the domain (`decideHostAdmin`) and
 * appended to its `host-<name>` stream at the revision folded. Never decides itself what a change means.
 */
import { Injectable } from '@nestjs/common';

import { streamFor } from '#libs/contracts';
import { decideHostAdmin, hostReducer } from '#libs/domain';
import { EventStore } from '#libs/event-store';

import { badRequest, notFound } from '../../common/http/api-error.js';
import type { CallContext } from '../../common/http/context.decorator.js';
import { eventContextOf } from '../../common/http/request-state.js';
import { ReadModelHub } from '../../common/store/read-model-hub.js';
import { HostRegistry, type KnownHost } from './host-registry.js';
import type { ServiceLegacyBody, ServiceUpdate253Body } from './hosts.schemas.js';
import { SERVICE_BINARY } from './hosts.views.js';

/** The actions of `PUT /os-services/{action}` before 2.53. */
export type LegacyServiceAction = 'enable' | 'disable' | 'disable-log-reason';
export const LEGACY_SERVICE_ACTIONS: readonly string[] = ['enable', 'disable', 'disable-log-reason'];

@Injectable()
export class HostsService {
  constructor(
    private readonly registry: HostRegistry,
    private readonly store: EventStore,
    private readonly hub: ReadModelHub,
  ) {}

  all(): KnownHost[] {
    return this.registry.all();
  }

  isUp(name: string): boolean {
    return this.registry.isUp(name);
  }

  /** Hypervisors whose name contains the pattern (all without one). */
  hypervisors(pattern: string | undefined): KnownHost[] {
    return this.registry.all().filter((host) => pattern === undefined || host.state.name.includes(pattern));
  }

  hypervisor(id: string): KnownHost {
    const host = this.registry.byId(id);
    if (!host) throw notFound(`Hypervisor with ID '${id}' could not be found.`);
    return host;
  }

  /** Services on the named host and of the named binary (all without them). */
  services(host: string | undefined, binary: string | undefined): KnownHost[] {
    return this.registry
      .all()
      .filter(
        (candidate) =>
          (host === undefined || candidate.state.name === host) &&
          (binary === undefined || binary === SERVICE_BINARY),
      );
  }

  /** From 2.53: the service by its UUID, changed as the body asks; the host as it now is. */
  async updateByUuid(context: CallContext, id: string, request: ServiceUpdate253Body): Promise<KnownHost> {
    const host = this.registry.byId(id);
    if (!host || host.uuid !== id) throw notFound(`Service ${id} could not be found.`);
    if (request.status === undefined && request.forced_down === undefined) {
      throw badRequest("At least one of 'status' or 'forced_down' should be specified.");
    }
    if (request.disabled_reason !== undefined && request.status !== 'disabled') {
      throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
    }
    if (request.status !== undefined) {
      await this.setEnabled(context, host.state.name, request.status === 'enabled', request.disabled_reason);
    }
    return this.registry.get(host.state.name) ?? host;
  }

  /** Before 2.53: the service by host name and binary. */
  async updateByName(
    context: CallContext,
    action: LegacyServiceAction,
    request: ServiceLegacyBody,
  ): Promise<void> {
    const host = this.registry.get(request.host);
    if (!host || request.binary !== SERVICE_BINARY)
      throw notFound(`Host '${request.host}' is not mapped to any cell`);
    await this.setEnabled(context, host.state.name, action === 'enable', request.disabled_reason);
  }

  private async setEnabled(
    context: CallContext,
    host: string,
    enable: boolean,
    reason: string | undefined,
  ): Promise<void> {
    const { appended } = await this.store.execute(
      streamFor('host', host),
      hostReducer,
      (state) => decideHostAdmin(state, host, enable ? { enable } : { enable, reason }),
      eventContextOf(context.principal, context.requestId),
    );
    await this.hub.waitFor(appended?.position);
  }
}
