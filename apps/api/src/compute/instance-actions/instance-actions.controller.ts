/**
 * `/v2.1/servers/{id}/os-instance-actions`: the requests made on a server and how they went, from the
 * fold of its stream, so they stay readable after the server is deleted (from 2.21, as in Nova; before
 * that a deleted server's actions are 404). Events are the one compute step each action maps to.
 */
import { Controller, Get, Param, Query } from '@nestjs/common';

import type { InstanceAction } from '#libs/domain';

import { Policy } from '../../common/auth/auth.guard.js';
import { isAdmin } from '../../common/auth/principal.js';
import { notFound } from '../../common/http/api-error.js';
import { Ctx, type CallContext } from '../../common/http/context.decorator.js';
import { PublicUrl } from '../../common/http/public-url.js';
import { naiveMicros } from '../../common/http/timestamps.js';
import { pageAfter, pageOf } from '../paging.js';
import { pageLinks } from '../links.js';
import { queryTime } from '../../common/validation/query.js';
import { hostIdOf } from '../servers/server.view.js';
import type { ServerRecord } from '../servers/server-record.js';
import { ServerReads } from '../servers/server-reads.js';
import {
  ACTION_CHANGES_BEFORE,
  ACTION_EVENTS_FOR_ALL,
  ACTION_EVENT_DETAILS,
  ACTION_EVENT_HOST,
  ACTION_PAGING,
  DELETED_SERVER_ACTIONS,
} from '../microversions.js';

/** How much of a bad time filter the 400 quotes. */
const QUOTED = 40;

/** The compute manager step Nova records as the event of each action. */
const EVENT_NAMES: Readonly<Record<InstanceAction['action'], string>> = {
  create: 'compute__do_build_and_run_instance',
  stop: 'compute_stop_instance',
  start: 'compute_start_instance',
  reboot: 'compute_reboot_instance',
  rebuild: 'compute_rebuild_instance',
  createImage: 'compute_snapshot_instance',
  resize: 'compute_finish_resize',
  confirmResize: 'compute_confirm_resize',
  revertResize: 'compute_revert_resize',
  attach_interface: 'compute_attach_interface',
  detach_interface: 'compute_detach_interface',
  delete: 'compute_terminate_instance',
};

@Controller('v2.1/servers/:id/os-instance-actions')
export class InstanceActionsController {
  constructor(
    private readonly servers: ServerReads,
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
    const all = [...record.instance.actions].reverse();
    if (!context.microversion.atLeast(ACTION_PAGING)) {
      return { instanceActions: all.map((action) => this.summary(record, action, context)) };
    }
    const page = pageOf(query, 1000);
    const since = queryTime(query, 'changes-since', QUOTED);
    const before = context.microversion.atLeast(ACTION_CHANGES_BEFORE)
      ? queryTime(query, 'changes-before', QUOTED)
      : undefined;
    const updated = (action: InstanceAction): number => Date.parse(action.finishTime ?? action.startTime);
    const actions = pageAfter(
      all.filter(
        (action) =>
          (since === undefined || updated(action) >= since) &&
          (before === undefined || updated(action) <= before),
      ),
      page,
      (action) => action.requestId,
      (marker) => `Marker ${marker} could not be found.`,
    );
    // The next link repeats only the limit, not the request's filters, as it always has.
    return {
      instanceActions: actions.map((action) => this.summary(record, action, context)),
      ...pageLinks(
        'links',
        {
          base: this.publicUrl.get(),
          collection: `servers/${record.instance.id}/os-instance-actions`,
          query: { limit: String(page.limit) },
        },
        actions,
        page.limit,
        (action) => action.requestId,
      ),
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
