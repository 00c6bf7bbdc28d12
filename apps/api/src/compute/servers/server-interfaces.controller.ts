/**
 * Nova's `os-interface`: a server's NICs listed and shown, one attached (a port made on a network, or
 * the user's free port bound) and one detached. An attach takes its port first and records
 * NetworkInterfaceAttached at the server's revision, giving the port back if that is refused; a detach
 * records NetworkInterfaceDetached first and then gives the port back (deleted if made for the
 * server, unbound if the user brought it), as a server's delete does.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';

import {
  type NetworkInterface,
  decideAttachInterface,
  decideDetachInterface,
  mustAcceptInterfaceChange,
  mustBeUnlocked,
} from '#libs/domain';

import { isAdmin } from '../../common/auth/principal.js';
import { Policy } from '../../common/auth/auth.guard.js';
import { notFound } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { eventContextOf } from '../../common/http/request-state.js';
import type { Schema } from '../../common/validation/schema.js';
import { validateBody } from '../../common/validation/validate.js';
import { NetworkService } from '../../network/network.service.js';
import { INTERFACE_TAGS } from '../microversions.js';
import { ServerNics } from './server-nics.js';
import { ServerReads } from './server-reads.js';
import { ServersService } from './servers.service.js';

const UUID: Schema = { type: 'string', format: 'uuid' };

const ATTACH: Schema = {
  type: 'object',
  properties: {
    interfaceAttachment: {
      type: 'object',
      properties: {
        net_id: UUID,
        port_id: UUID,
        fixed_ips: {
          type: 'array',
          minItems: 1,
          maxItems: 1,
          items: {
            type: 'object',
            properties: { ip_address: { type: 'string', minLength: 2, maxLength: 45 } },
            required: ['ip_address'],
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

interface AttachBody {
  readonly interfaceAttachment?: {
    readonly net_id?: string;
    readonly port_id?: string;
    readonly fixed_ips?: readonly { readonly ip_address: string }[];
  };
}

@Controller('v2.1/servers/:id/os-interface')
export class ServerInterfacesController {
  constructor(
    private readonly servers: ServersService,
    private readonly reads: ServerReads,
    private readonly nics: ServerNics,
    private readonly network: NetworkService,
  ) {}

  private view(context: CallContext, nic: NetworkInterface): Record<string, unknown> {
    return {
      net_id: nic.networkId,
      port_id: nic.portId,
      mac_addr: nic.macAddress,
      port_state: 'ACTIVE',
      fixed_ips: nic.fixedIps.map(({ subnetId, ipAddress }) => ({
        subnet_id: subnetId,
        ip_address: ipAddress,
      })),
      ...(context.microversion.atLeast(INTERFACE_TAGS) ? { tag: null } : {}),
    };
  }

  @Get()
  @Policy('os_compute_api:os-attach-interfaces:list', 'reader')
  async list(@Ctx() context: CallContext, @Param('id') id: string): Promise<Record<string, unknown>> {
    const { instance } = await this.reads.load(context, id);
    return { interfaceAttachments: instance.interfaces.map((nic) => this.view(context, nic)) };
  }

  @Get(':portId')
  @Policy('os_compute_api:os-attach-interfaces:show', 'reader')
  async show(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('portId') portId: string,
  ): Promise<Record<string, unknown>> {
    const { instance } = await this.reads.load(context, id);
    const nic = instance.interfaces.find((candidate) => candidate.portId === portId.toLowerCase());
    if (!nic) throw notFound(`Port ${portId} could not be found.`);
    return { interfaceAttachment: this.view(context, nic) };
  }

  @Post()
  @HttpCode(200)
  @Policy('os_compute_api:os-attach-interfaces:create', 'member')
  async attach(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() raw: unknown,
  ): Promise<Record<string, unknown>> {
    const request = validateBody<AttachBody>(ATTACH, raw).interfaceAttachment ?? {};
    const { instance } = await this.reads.load(context, id);
    const fixedIp = request.fixed_ips?.[0]?.ip_address;
    const plan = this.nics.planInterface(context.principal, {
      ...(request.port_id === undefined ? {} : { port_id: request.port_id }),
      ...(request.net_id === undefined ? {} : { net_id: request.net_id }),
      ...(fixedIp === undefined ? {} : { fixed_ip: fixedIp }),
    });
    const eventContext = eventContextOf(context.principal, context.requestId);
    // A server that cannot take a NIC now is refused before a port is taken for it.
    mustBeUnlocked(instance, instance.id, isAdmin(context.principal));
    mustAcceptInterfaceChange(instance, instance.id, 'attach_interface');
    const [nic] = await this.nics.allocate(
      context.principal,
      { requested: 'explicit', nics: [plan] },
      instance.id,
      instance.boot?.availabilityZone ?? null,
      eventContext,
    );
    if (!nic) throw new Error('an interface attach allocated no port');
    try {
      await this.servers.actUnlocked(context, instance.id, (record) =>
        decideAttachInterface(record.instance, nic.event),
      );
    } catch (error) {
      await this.nics.release([nic], instance.id, eventContext);
      throw error;
    }
    return { interfaceAttachment: this.view(context, nic.event) };
  }

  @Delete(':portId')
  @HttpCode(202)
  @Policy('os_compute_api:os-attach-interfaces:delete', 'member')
  async detach(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('portId') portId: string,
  ): Promise<void> {
    const { instance } = await this.reads.load(context, id);
    const nic = instance.interfaces.find((candidate) => candidate.portId === portId.toLowerCase());
    if (!nic) throw notFound(`Port ${portId} could not be found.`);
    await this.servers.actUnlocked(context, instance.id, (record, instanceId) =>
      decideDetachInterface(record.instance, instanceId, nic.portId),
    );
    await this.network.releasePort(
      { networkId: nic.networkId, portId: nic.portId },
      instance.id,
      nic.preserveOnDelete,
      eventContextOf(context.principal, context.requestId),
    );
  }
}
