/**
 * Watching a project's servers instead of polling them, Kubernetes' way: without a resource version, the
 * current servers (each as ADDED) and a BOOKMARK with the version they were read at, then every change
 * after it; with one, the changes after that version. A resource version is the `$all` position of the
 * server list's read model or of the change; a client resumes from any version it was sent, and one older
 * than the configured window answers 410 Gone (list again), as Kubernetes does after a compaction.
 * Changes come from one `$all` subscription started at that position, so none falls between the list and
 * the stream. Must never show a server of a project the caller may not list; never appends.
 */
import { Inject, Injectable } from '@nestjs/common';
import {
  type AllStreamResolvedEvent,
  type EventStoreDBClient,
  FORWARDS,
  type Position,
  START,
  streamNameFilter,
} from '@eventstore/db-client';

import { formatPosition, parsePosition } from '#libs/audit';
import { decodeStored, decodedEventsOf, EventStore } from '#libs/event-store';

import type { ApiConfig } from '../../../config/api.config.js';
import { projectUnderPolicy } from '../../../common/auth/owner.js';
import { isAdmin } from '../../../common/auth/principal.js';
import { ApiError, badRequest, policyForbids } from '../../../common/http/api-error.js';
import { strictQuery } from '../../../common/validation/query.js';
import type { CallContext } from '../../../common/http/context.decorator.js';
import type { LineStream } from '../../../common/http/line-stream.js';
import { API_CONFIG, CLOCK, EVENT_STORE_CLIENT, type Clock } from '../../../common/store/tokens.js';
import { ServerProjection } from '../projection/server-projection.js';
import { ServerReads } from '../server-reads.js';
import {
  type ServerRecord,
  evolveServerRecord,
  initialServerRecord,
  serverRecordReducer,
} from '../server-record.js';
import { serverDetail } from '../server.view.js';
import { watchChange } from './watch-change.js';

export const WATCH_POLICY = 'os_compute_api:servers:index';
const QUERY_KEYS = new Set(['resourceVersion', 'all_tenants', 'project_id']);
const INSTANCE_PREFIX = 'instance-';
/** A watcher whose project is quiet still learns how far the store has gone, so its version stays young. */
const BOOKMARK_EVERY_MS = 10_000;

export interface WatchPlan {
  /** null: list first, then follow from the list's version. */
  readonly after: Position | null;
  /** null: every project (admins). */
  readonly project: string | null;
}

@Injectable()
export class ServersWatch {
  constructor(
    @Inject(EVENT_STORE_CLIENT) private readonly client: EventStoreDBClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly store: EventStore,
    private readonly projection: ServerProjection,
    private readonly reads: ServerReads,
  ) {}

  /** Checks the query, the caller's scope and the version's age; throws 400, 403 or 410 before streaming. */
  async plan(context: CallContext, query: Readonly<Record<string, unknown>>): Promise<WatchPlan> {
    const text = strictQuery(query, QUERY_KEYS);
    const { principal } = context;
    const allTenants = text('all_tenants');
    const all = allTenants !== undefined && ['', '1', 'true', 'True'].includes(allTenants);
    if (all && !isAdmin(principal)) throw policyForbids(`${WATCH_POLICY}:get_all_tenants`);
    const project = all ? null : projectUnderPolicy(principal, text('project_id'), WATCH_POLICY);
    const version = text('resourceVersion');
    if (version === undefined || version === '') return { after: null, project };
    const after = parsePosition(version);
    if (after === null) throw badRequest(`resourceVersion must be a version this API sent, got ${version}`);
    await this.refuseTooOld(after, version);
    return { after, project };
  }

  private async refuseTooOld(after: Position, version: string): Promise<void> {
    let created: Date | null = null;
    for await (const resolved of this.client.readAll({
      fromPosition: after,
      direction: FORWARDS,
      maxCount: 1,
    }))
      created = resolved.event?.created ?? created;
    if (created === null) throw badRequest(`resourceVersion ${version} is ahead of the store`);
    const ageMs = this.clock().getTime() - created.getTime();
    if (ageMs > this.config.watchWindowSeconds * 1000)
      throw new ApiError(
        410,
        `too old resource version: ${version} is older than ${this.config.watchWindowSeconds} s; list the servers again and watch from the version that gives`,
      );
  }

  async run(context: CallContext, plan: WatchPlan, out: LineStream): Promise<void> {
    const view = this.reads.viewContext(context);
    const render = (record: ServerRecord): Record<string, unknown> => ({
      server: serverDetail(record, view, { full: true, serverGroups: false, hostStatusLast: true }),
    });
    const visible = (record: ServerRecord): boolean =>
      record.instance.boot !== null &&
      (plan.project === null || record.instance.boot.projectId === plan.project);

    const known = new Map<string, ServerRecord>();
    const foreign = new Set<string>();
    let from: Position | null = plan.after;
    if (plan.after === null) {
      const snapshot = this.projection.snapshot(plan.project);
      const version = snapshot.position ? formatPosition(snapshot.position) : '0';
      for (const record of snapshot.records) {
        known.set(record.instance.id, record);
        await out.send({ type: 'ADDED', resourceVersion: version, object: render(record) });
      }
      await out.send({ type: 'BOOKMARK', resourceVersion: version });
      from = snapshot.position;
    }

    const subscription = this.client.subscribeToAll({
      fromPosition: from ?? START,
      filter: streamNameFilter({ prefixes: [INSTANCE_PREFIX] }),
    });
    const close = async (): Promise<void> => {
      await subscription.unsubscribe().catch(() => undefined);
      subscription.destroy();
    };
    void out.done.then(close);
    let lastSent = Date.now();
    try {
      for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
        if (out.ended()) break;
        const recorded = resolved.event;
        if (!recorded || recorded.type.startsWith('$') || !recorded.streamId.startsWith(INSTANCE_PREFIX))
          continue;
        const id = recorded.streamId.slice(INSTANCE_PREFIX.length);
        const version = formatPosition(recorded.position);
        const bookmark = async (): Promise<void> => {
          if (Date.now() - lastSent < BOOKMARK_EVERY_MS) return;
          lastSent = Date.now();
          await out.send({ type: 'BOOKMARK', resourceVersion: version });
        };
        if (foreign.has(id)) {
          await bookmark();
          continue;
        }
        const event = decodeStored(recorded, decodedEventsOf(this.client));
        const before =
          known.get(id) ??
          (event.revision === 0n
            ? initialServerRecord()
            : (
                await this.store.fold(recorded.streamId, serverRecordReducer, {
                  revision: event.revision - 1n,
                })
              ).state);
        const after = evolveServerRecord(before, event);
        if (!visible(after)) {
          if (after.instance.boot !== null) foreign.add(id);
          await bookmark();
          continue;
        }
        const change = watchChange(before, after);
        if (change === 'DELETED') known.delete(id);
        else known.set(id, after);
        if (change === null) {
          await bookmark();
          continue;
        }
        lastSent = Date.now();
        await out.send({ type: change, resourceVersion: version, object: render(after) });
      }
    } catch {
      // The store went away or an event broke its contract: cut, so the client resumes rather than stops.
      out.abort();
    } finally {
      out.end();
      await close();
    }
  }
}
