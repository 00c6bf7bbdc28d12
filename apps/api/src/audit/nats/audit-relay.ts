/**
 * Fills NIMBUS_AUDIT from the store: every domain event, in `$all` order, as a CloudEvent on the admins'
 * feed (`nimbus.audit.all`, operator detail kept) and on its project's feed (`nimbus.audit.project.<id>`,
 * as tenants may see it). Each message names the previous event of its own feed (`previousposition`), so a
 * subscriber of any one subject can tell a gap or a duplicate, exactly as over HTTP.
 * It starts where the admins' feed ends (published last for each event), and publishes a subject only past
 * that subject's own last position, with the subject's last sequence as the expected one: a restart, a
 * repeat or a second relay can never put an event twice on a feed or out of order.
 * Must never skip an event it could not publish: it waits for NATS and tries the same event again.
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  type AllStreamResolvedEvent,
  type EventStoreDBClient,
  START,
  streamNameFilter,
} from '@eventstore/db-client';

import {
  type Audience,
  type FeedPosition,
  auditEventJson,
  comparePositions,
  formatPosition,
  toCloudEvent,
} from '#libs/audit';
import { DOMAIN_STREAM_PREFIXES, type StoredEvent, decodeStored, decodedEventsOf } from '#libs/event-store';

import { EVENT_STORE_CLIENT } from '../../common/store/tokens.js';
import { ProjectOwners } from '../project-owners.js';
import {
  ADMIN_SUBJECT,
  AUDIT_STREAM_PORT,
  type AuditStream,
  type SubjectTail,
  WrongLastSequence,
  projectSubject,
} from './audit-stream.js';

const RETRY_MAX_MS = 5_000;

@Injectable()
export class AuditRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditRelay.name);
  private readonly tails = new Map<string, SubjectTail | null>();
  private readonly stopping = new AbortController();
  private running: Promise<void> | null = null;
  private subscription: { unsubscribe(): Promise<void>; destroy(): void } | null = null;

  constructor(
    @Inject(AUDIT_STREAM_PORT) private readonly stream: AuditStream | null,
    @Inject(EVENT_STORE_CLIENT) private readonly client: EventStoreDBClient,
    private readonly owners: ProjectOwners,
  ) {}

  onApplicationBootstrap(): void {
    if (this.stream === null) return;
    this.running = this.run(this.stream);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    if (this.subscription) {
      await this.subscription.unsubscribe().catch(() => undefined);
      this.subscription.destroy();
    }
    await this.running;
  }

  private stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Follows `$all` from the admins' feed's end; after any failure, starts again from there. */
  private async run(stream: AuditStream): Promise<void> {
    let failures = 0;
    while (!this.stopped()) {
      try {
        this.tails.clear();
        const resumeAt = (await this.tailOf(stream, ADMIN_SUBJECT))?.position ?? null;
        const subscription = this.client.subscribeToAll({
          fromPosition: resumeAt ?? START,
          filter: streamNameFilter({ prefixes: [...DOMAIN_STREAM_PREFIXES] }),
        });
        this.subscription = subscription;
        this.logger.log(
          `relaying the audit feed after ${resumeAt ? formatPosition(resumeAt) : 'the beginning'}`,
        );
        for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
          const recorded = resolved.event;
          if (!recorded || recorded.type.startsWith('$')) continue;
          await this.relay(stream, decodeStored(recorded, decodedEventsOf(this.client)), recorded.position);
          failures = 0;
        }
      } catch (error) {
        if (this.stopped()) return;
        failures += 1;
        this.logger.warn(`audit relay interrupted: ${(error as Error).message}; resuming`);
        await pause(Math.min(RETRY_MAX_MS, 100 * 2 ** failures), this.stopping.signal);
      }
    }
  }

  private async relay(stream: AuditStream, event: StoredEvent, position: FeedPosition): Promise<void> {
    const project = await this.owners.projectOf(event);
    const subject = project === null ? null : projectSubject(project);
    // The project's feed first: the admins' feed is where a restart resumes, so it is written last.
    if (subject !== null) await this.publish(stream, subject, event, position, project, 'project');
    await this.publish(stream, ADMIN_SUBJECT, event, position, project, 'admin');
  }

  private async publish(
    stream: AuditStream,
    subject: string,
    event: StoredEvent,
    position: FeedPosition,
    project: string | null,
    audience: Audience,
  ): Promise<void> {
    for (;;) {
      const tail = await this.tailOf(stream, subject);
      if (tail !== null && comparePositions(tail.position, position) >= 0) return;
      const cloud = toCloudEvent(event, { position, project, previous: tail?.position ?? null, audience });
      try {
        const sequence = await stream.publish({
          subject,
          body: JSON.stringify(auditEventJson(cloud)),
          position,
          time: event.metadata.occurredAt,
          messageId: `${event.metadata.eventId}:${subject}`,
          expectedLastSequence: tail?.sequence ?? 0,
        });
        this.tails.set(subject, { sequence, position });
        return;
      } catch (error) {
        // Someone else wrote the subject since: read its tail again and decide afresh.
        if (!(error instanceof WrongLastSequence)) throw error;
        this.tails.delete(subject);
      }
    }
  }

  private async tailOf(stream: AuditStream, subject: string): Promise<SubjectTail | null> {
    if (this.tails.has(subject)) return this.tails.get(subject) ?? null;
    const tail = await stream.tailOf(subject);
    this.tails.set(subject, tail);
    return tail;
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
