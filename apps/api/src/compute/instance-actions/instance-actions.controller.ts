/**
 * `/v2.1/servers/{id}/os-instance-actions`: the requests made on a server and how they went, from the
 * fold of its stream, so they stay readable after the server is deleted (from 2.21, as in Nova; before
 * that a deleted server's actions are 404). Events are the one compute step each action maps to.
 */
import { Controller, Get, Param, Query } from '@nestjs/common';

import type { InstanceAction } from '#libs/domain';

import { Policy } from '../../common/auth/auth.guard.js';
import { isAdmin } from '../../common/auth/principal.js';
import { badRequest, notFound } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { PublicUrl } from '../../common/http/public-url.js';
import { naiveMicros } from '../../common/http/timestamps.js';
import { pageOf, queryText } from '../paging.js';
import { hostIdOf } from '../servers/server.view.js';
import type { ServerRecord } from '../servers/server-record.js';
import { ServersService } from '../servers/servers.service.js';
import {
  ACTION_CHANGES_BEFORE,
  ACTION_EVENTS_FOR_ALL,
  ACTION_EVENT_DETAILS,
  ACTION_EVENT_HOST,
  ACTION_PAGING,
  DELETED_SERVER_ACTIONS,
} from '../microversions.js';

/** The compute manager step Nova records as the event of each action. */
const EVENT_NAMES: Readonly<Record<InstanceAction['action'], string>> = {
  create: 'compute__do_build_and_run_instance',
  stop: 'compute_stop_instance',
  start: 'compute_start_instance',
  reboot: 'compute_reboot_instance',
  delete: 'compute_terminate_instance',
};

@Controller('v2.1/servers/:id/os-instance-actions')
export class InstanceActionsController {
  constructor(
    private readonly servers: ServersService,
    private readonly publicUrl: PublicUrl,
  ) {}

  private async record(context: CallContext, id: string): Promise<ServerRecord> {
    return this.servers.load(context, id, {
      allowDeleted: context.microversion.atLeast(DELETED_SERVER_ACTIONS),
    });
  }

  private summary(
    record: ServerRecord,
    action: InstanceAction,
    context: CallContext,
  ): Record<string, unknown> {
    return {
      action: action.action,
      instance_uuid: record.instance.id,
      request_id: action.requestId,
      user_id: action.userId,
      project_id: action.projectId,
      start_time: naiveMicros(action.startTime),
      message: action.result === 'Error' ? 'Error' : null,
      ...(context.microversion.atLeast(ACTION_PAGING)
        ? { updated_at: naiveMicros(action.finishTime ?? action.startTime) }
        : {}),
    };
  }

  @Get()
  @Policy('os_compute_api:os-instance-actions:list', 'reader')
  async list(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const record = await this.record(context, id);
    let actions = [...record.instance.actions].reverse();
    const paged = context.microversion.atLeast(ACTION_PAGING);
    let limit = Number.MAX_SAFE_INTEGER;
    if (paged) {
      const page = pageOf(query, 1000);
      limit = page.limit;
      const since = queryText(query, 'changes-since');
      const before = context.microversion.atLeast(ACTION_CHANGES_BEFORE)
        ? queryText(query, 'changes-before')
        : undefined;
      const at = (text: string, name: string): number => {
        const parsed = Date.parse(text);
        if (Number.isNaN(parsed))
          throw badRequest(
            `Invalid input for query parameters ${name}. Value: ${text.slice(0, 40)}. '${text.slice(0, 40)}' is not a 'date-time'`,
          );
        return parsed;
      };
      const updated = (action: InstanceAction): number => Date.parse(action.finishTime ?? action.startTime);
      if (since !== undefined)
        actions = actions.filter((action) => updated(action) >= at(since, 'changes-since'));
      if (before !== undefined)
        actions = actions.filter((action) => updated(action) <= at(before, 'changes-before'));
      if (page.marker !== null) {
        const index = actions.findIndex((action) => action.requestId === page.marker);
        if (index < 0) throw badRequest(`Marker ${page.marker} could not be found.`);
        actions = actions.slice(index + 1);
      }
      actions = actions.slice(0, limit);
    }
    const last = actions.at(-1);
    return {
      instanceActions: actions.map((action) => this.summary(record, action, context)),
      ...(paged && last && actions.length === limit
        ? {
            links: [
              {
                rel: 'next',
                href: `${this.publicUrl.get()}/v2.1/servers/${record.instance.id}/os-instance-actions?limit=${limit}&marker=${encodeURIComponent(last.requestId)}`,
              },
            ],
          }
        : {}),
    };
  }

  @Get(':requestId')
  @Policy('os_compute_api:os-instance-actions:show', 'reader')
  async show(
    @Ctx() context: CallContext,
    @Param('id') id: string,
    @Param('requestId') requestId: string,
  ): Promise<Record<string, unknown>> {
    const record = await this.record(context, id);
    const action = [...record.instance.actions]
      .reverse()
      .find((candidate) => candidate.requestId === requestId);
    if (!action)
      throw notFound(`Action for request_id ${requestId} on instance ${record.instance.id} not found`);
    const admin = isAdmin(context.principal);
    const version = context.microversion;
    const host = record.instance.host ?? record.instance.boot?.forcedHost ?? null;
    const showEvents = admin || version.atLeast(ACTION_EVENTS_FOR_ALL);
    const events =
      action.finishTime === null
        ? []
        : [
            {
              event: EVENT_NAMES[action.action],
              start_time: naiveMicros(action.startTime),
              finish_time: naiveMicros(action.finishTime),
              result: action.result,
              ...(admin ? { traceback: null } : {}),
              ...(version.atLeast(ACTION_EVENT_HOST)
                ? {
                    ...(admin ? { host } : {}),
                    hostId: hostIdOf(record.instance.boot?.projectId ?? '', host),
                  }
                : {}),
              ...(version.atLeast(ACTION_EVENT_DETAILS) ? { details: null } : {}),
            },
          ];
    return {
      instanceAction: { ...this.summary(record, action, context), ...(showEvents ? { events } : {}) },
    };
  }
}
