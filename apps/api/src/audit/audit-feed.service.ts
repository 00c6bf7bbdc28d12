/**
 * The audit feed over HTTP: the domain events of the store as CloudEvents, read from one `$all` call
 * (history and then live events come from the same subscription, so nothing falls between them), each
 * shown as the reader's audience may see it, only the project(s) the reader may read, and each linked to
 * the feed's previous position so a subscriber can tell a gap or a duplicate.
 * Must never send an event of a project the principal may not read, nor a secret field (libs/audit
 * decides which); never appends.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type AllStreamResolvedEvent,
  type EventStoreDBClient,
  FORWARDS,
  type ReadPosition,
  START,
  streamNameFilter,
} from '@eventstore/db-client';

import {
  type Audience,
  type FeedPosition,
  type FeedStart,
  auditEventJson,
  comparePositions,
  formatPosition,
  parseFeedStart,
  toCloudEvent,
} from '#libs/audit';
import { DOMAIN_STREAM_PREFIXES, decodeStored } from '#libs/event-store';

import { projectUnderPolicy } from '../common/auth/owner.js';
import { isAdmin } from '../common/auth/principal.js';
import { badRequest, policyForbids } from '../common/http/api-error.js';
import { strictQuery } from '../common/validation/query.js';
import type { CallContext } from '../common/http/context.decorator.js';
import type { LineStream } from '../common/http/line-stream.js';
import { EVENT_STORE_CLIENT } from '../common/store/tokens.js';
import { ProjectOwners } from './project-owners.js';

/** The policy rule named in a 403, in Nova's wording, for a non-admin asking for another project. */
export const AUDIT_POLICY = 'nimbus:audit:events';

const QUERY_KEYS = new Set(['since', 'project_id', 'all_projects', 'follow']);

export interface FeedRequest {
  readonly start: FeedStart;
  /** null: every project (admins only). */
  readonly project: string | null;
  readonly audience: Audience;
  /** false: stop at the end of what is stored (an export); true: follow live events. */
  readonly follow: boolean;
}

type Recorded = NonNullable<AllStreamResolvedEvent['event']>;

@Injectable()
export class AuditFeed {
  private readonly logger = new Logger(AuditFeed.name);

  constructor(
    @Inject(EVENT_STORE_CLIENT) private readonly client: EventStoreDBClient,
    private readonly owners: ProjectOwners,
  ) {}

  /** Checks the query and the caller's right to it; throws the 400 or 403 before anything is streamed. */
  request(context: CallContext, query: Readonly<Record<string, unknown>>): FeedRequest {
    const text = strictQuery(query, QUERY_KEYS);
    const flag = (key: string, fallback: boolean): boolean => {
      const value = text(key);
      if (value === undefined) return fallback;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw badRequest(`${key} must be true or false, got ${value}`);
    };
    const since = text('since');
    const start = parseFeedStart(since);
    if (start === null)
      throw badRequest(
        `since must be "beginning", a store position (e.g. 1234) or an RFC 3339 time, got ${since ?? ''}`,
      );
    const { principal } = context;
    const all = flag('all_projects', false);
    const named = text('project_id');
    if (all && named !== undefined) throw badRequest('give project_id or all_projects, not both');
    if (all && !isAdmin(principal)) throw policyForbids(AUDIT_POLICY);
    const project = all ? null : projectUnderPolicy(principal, named, AUDIT_POLICY);
    return {
      start,
      project,
      audience: isAdmin(principal) ? 'admin' : 'project',
      follow: flag('follow', true),
    };
  }

  /** Streams the feed until the store's end (no follow), the client goes, or the stream's deadline. */
  async run(request: FeedRequest, out: LineStream): Promise<void> {
    const { start } = request;
    const from: ReadPosition = start.kind === 'after' ? start.position : START;
    let previous: FeedPosition | null = start.kind === 'after' ? start.position : null;
    const source = request.follow
      ? this.client.subscribeToAll({
          fromPosition: from,
          filter: streamNameFilter({ prefixes: [...DOMAIN_STREAM_PREFIXES] }),
        })
      : this.client.readAll({ fromPosition: from, direction: FORWARDS });
    let closing: Promise<void> | null = null;
    const close = (): Promise<void> => (closing ??= closeSource());
    const closeSource = async (): Promise<void> => {
      if ('unsubscribe' in source) {
        await source.unsubscribe().catch(() => undefined);
        // The client swallows the cancellation it caused, so the stream would never end by itself.
        source.destroy();
      } else {
        await source.cancel().catch(() => undefined);
      }
    };
    void out.done.then(close);
    try {
      for await (const resolved of source as AsyncIterable<AllStreamResolvedEvent>) {
        if (out.ended()) break;
        const recorded = resolved.event;
        if (!recorded || !isDomainEvent(recorded)) continue;
        const position: FeedPosition = recorded.position;
        // A read from a position includes the event there; a subscription starts after it.
        if (start.kind === 'after' && comparePositions(position, start.position) <= 0) continue;
        const event = decodeStored(recorded);
        const project = await this.owners.projectOf(event);
        if (request.project !== null && project !== request.project) continue;
        if (start.kind === 'time' && new Date(event.metadata.occurredAt) < start.time) {
          previous = position;
          continue;
        }
        const cloud = toCloudEvent(event, { position, project, previous, audience: request.audience });
        await out.send(auditEventJson(cloud));
        previous = position;
      }
    } catch (error) {
      // Cut rather than ended: a subscriber must not take a failure for the end of the store.
      if (!out.ended()) {
        out.abort();
        this.logger.warn(
          `audit feed ended after ${previous ? formatPosition(previous) : 'the beginning'}: ${(error as Error).message}`,
        );
      }
    } finally {
      out.end();
      await close();
    }
  }
}

function isDomainEvent(recorded: Recorded): boolean {
  return (
    !recorded.type.startsWith('$') &&
    DOMAIN_STREAM_PREFIXES.some((prefix) => recorded.streamId.startsWith(prefix))
  );
}
