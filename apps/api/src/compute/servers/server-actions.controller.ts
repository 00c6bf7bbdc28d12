/**
 * `POST /v2.1/servers/{id}/action` (os-start, os-stop, reboot, rebuild, resize, confirmResize,
 * revertResize, createImage, lock, unlock, os-getConsoleOutput,
 * os-getVNCConsole up to 2.5, and its SPICE, RDP and serial kin, which Nimbus refuses as Nova does
 * with those consoles disabled) and `POST /v2.1/servers/{id}/remote-consoles` (2.6+). Lifecycle actions append their request event
 * and answer 202 (refused with 409 while the server is locked, unless an admin asks); console calls go through ServerConsoles to the compute agent that owns the server's host.
 * Policy per action is checked here, since one route carries them all. Errors are the exception filter's
 * to answer; nothing here maps them.
 */
import { Body, Controller, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import {
  decideConfirmResize,
  decideLock,
  decideReboot,
  decideRevertResize,
  decideStart,
  decideStop,
  decideUnlock,
} from '#libs/domain';

import type { ApiConfig } from '../../config/api.config.js';
import { Policy, allows } from '../../common/auth/auth.guard.js';
import { isAdmin } from '../../common/auth/principal.js';
import { badRequest, notFound, policyForbids } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { Microversions } from '../../common/http/microversion-range.js';
import { PublicUrl } from '../../common/http/public-url.js';
import { API_CONFIG } from '../../common/store/tokens.js';
import { validateBody } from '../../common/validation/validate.js';
import { IMAGE_ID_IN_BODY, LOCKED_REASON, REMOTE_CONSOLES } from '../microversions.js';
import { ServerConsoles } from './server-consoles.service.js';
import { ServerReads } from './server-reads.js';
import { serverDetail } from './server.view.js';
import {
  ACTION_SCHEMAS,
  type RebuildServerBody,
  type RemoteConsoleBody,
  rebuildServerSchema,
  remoteConsoleSchema,
} from './servers.schemas.js';
import { ServersService } from './servers.service.js';

const ACTION_RULES: Readonly<Record<string, string>> = {
  'os-start': 'os_compute_api:servers:start',
  'os-stop': 'os_compute_api:servers:stop',
  reboot: 'os_compute_api:servers:reboot',
  rebuild: 'os_compute_api:servers:rebuild',
  createImage: 'os_compute_api:servers:create_image',
  resize: 'os_compute_api:servers:resize',
  confirmResize: 'os_compute_api:servers:confirm_resize',
  revertResize: 'os_compute_api:servers:revert_resize',
  lock: 'os_compute_api:os-lock-server:lock',
  unlock: 'os_compute_api:os-lock-server:unlock',
  'os-getConsoleOutput': 'os_compute_api:os-console-output',
  'os-getVNCConsole': 'os_compute_api:os-remote-consoles',
  'os-getSPICEConsole': 'os_compute_api:os-remote-consoles',
  'os-getRDPConsole': 'os_compute_api:os-remote-consoles',
  'os-getSerialConsole': 'os_compute_api:os-remote-consoles',
};

/** The console actions replaced by remote-consoles in 2.6. */
const LEGACY_CONSOLES = new Set([
  'os-getVNCConsole',
  'os-getSPICEConsole',
  'os-getRDPConsole',
  'os-getSerialConsole',
]);

@Controller('v2.1/servers/:id')
export class ServerActionsController {
  constructor(
    private readonly servers: ServersService,
    private readonly reads: ServerReads,
    private readonly consoles: ServerConsoles,
    private readonly publicUrl: PublicUrl,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Post('action')
  @Policy('os_compute_api:servers:action', 'reader')
  async action(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown> | undefined> {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw badRequest('Malformed request body');
    const name = Object.keys(body).find((key) => Object.hasOwn(ACTION_SCHEMAS, key));
    if (name === undefined) {
      throw badRequest(`There is no such action: ${Object.keys(body)[0]?.slice(0, 64) ?? ''}`);
    }
    // One route carries every action, so the actions replaced by remote-consoles are ranged here.
    if (LEGACY_CONSOLES.has(name) && context.microversion.atLeast(REMOTE_CONSOLES))
      throw notFound('The resource could not be found.');
    const schema = name === 'rebuild' ? rebuildServerSchema(context.microversion) : ACTION_SCHEMAS[name];
    if (!schema) throw badRequest(`There is no such action: ${name}`);
    const request = validateBody<Record<string, unknown>>(schema, body);
    const rule = ACTION_RULES[name] ?? 'os_compute_api:servers:action';
    const reading = name === 'os-getConsoleOutput';
    if (!allows(context.principal, { rule, level: reading ? 'reader' : 'member' })) throw policyForbids(rule);

    switch (name) {
      case 'os-start':
        await this.servers.actUnlocked(context, id, (record, instanceId) =>
          decideStart(record.instance, instanceId),
        );
        reply.code(202);
        return undefined;
      case 'os-stop':
        await this.servers.actUnlocked(context, id, (record, instanceId) =>
          decideStop(record.instance, instanceId),
        );
        reply.code(202);
        return undefined;
      case 'lock': {
        const given = request['lock'] as { locked_reason?: string } | null;
        const reason = context.microversion.atLeast(LOCKED_REASON) ? (given?.locked_reason ?? null) : null;
        const byAdmin = isAdmin(context.principal);
        await this.servers.act(context, id, (record, instanceId) =>
          decideLock(record.instance, instanceId, byAdmin, reason),
        );
        reply.code(202);
        return undefined;
      }
      case 'unlock': {
        const asAdmin = isAdmin(context.principal);
        await this.servers.act(context, id, (record, instanceId) =>
          decideUnlock(record.instance, instanceId, asAdmin),
        );
        reply.code(202);
        return undefined;
      }
      case 'rebuild': {
        const rebuild = (request as unknown as RebuildServerBody).rebuild;
        const { record, adminPass } = await this.servers.rebuild(context, id, rebuild);
        reply.code(202);
        const view = this.reads.viewContext(context);
        const options = { full: false, serverGroups: false, hostStatusLast: false };
        return { server: { ...serverDetail(record, view, options), adminPass } };
      }
      case 'createImage': {
        const { name: imageName, metadata } = (
          request as { createImage: { name: string; metadata?: Record<string, string> } }
        ).createImage;
        const imageId = await this.servers.createImage(context, id, imageName, metadata ?? {});
        reply.code(202);
        if (context.microversion.atLeast(IMAGE_ID_IN_BODY)) return { image_id: imageId };
        reply.header('Location', `${this.publicUrl.get()}${this.config.imagePrefix}/v2/images/${imageId}`);
        return undefined;
      }
      case 'resize': {
        const { flavorRef } = (request as { resize: { flavorRef: string | number } }).resize;
        await this.servers.resize(context, id, String(flavorRef));
        reply.code(202);
        return undefined;
      }
      case 'confirmResize':
        await this.servers.actUnlocked(context, id, (record, instanceId) =>
          decideConfirmResize(record.instance, instanceId),
        );
        reply.code(204);
        return undefined;
      case 'revertResize':
        await this.servers.actUnlocked(context, id, (record, instanceId) =>
          decideRevertResize(record.instance, instanceId),
        );
        reply.code(202);
        return undefined;
      case 'reboot': {
        const type = (request['reboot'] as { type: string }).type.toUpperCase() === 'HARD' ? 'HARD' : 'SOFT';
        await this.servers.actUnlocked(context, id, (record, instanceId) =>
          decideReboot(record.instance, instanceId, type),
        );
        reply.code(202);
        return undefined;
      }
      case 'os-getConsoleOutput': {
        const raw = (request['os-getConsoleOutput'] as { length?: number | string | null }).length;
        const length = raw === undefined || raw === null || Number(raw) === -1 ? null : Number(raw);
        const output = await this.consoles.output(context, id, length);
        reply.code(200);
        return { output };
      }
      case 'os-getSPICEConsole':
      case 'os-getRDPConsole':
      case 'os-getSerialConsole': {
        const { type } = request[name] as { type: string };
        return this.consoles.unavailable(context, id, type);
      }
      default: {
        const type = (request['os-getVNCConsole'] as { type: string }).type;
        if (type !== 'novnc') throw badRequest(`Unavailable console type ${type}.`);
        const url = await this.consoles.novnc(context, id);
        reply.code(200);
        return { console: { type, url } };
      }
    }
  }

  @Post('remote-consoles')
  @HttpCode(200)
  @Policy('os_compute_api:os-remote-consoles', 'member')
  @Microversions({ from: REMOTE_CONSOLES })
  async remoteConsole(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { remote_console: request } = validateBody<RemoteConsoleBody>(
      remoteConsoleSchema(context.microversion),
      body,
    );
    const url = await this.consoles.remote(context, id, request);
    return { remote_console: { protocol: request.protocol, type: request.type, url } };
  }
}
