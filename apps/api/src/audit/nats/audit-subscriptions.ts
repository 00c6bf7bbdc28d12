/**
 * The NATS way into the audit feed: `POST /audit/v1/subscriptions` makes (or finds) a durable JetStream
 * consumer of one feed, the token's project or, for admins, every project, and hands back NATS
 * credentials that allow exactly that consumer and nothing else: its info, its next messages, its acks,
 * and an inbox of its own. The NATS server checks those permissions and the credentials' expiry (the
 * token's) itself, so a subscriber cannot read another project's feed whatever its client does.
 * Must never mint credentials wider than one consumer, nor longer-lived than the token that asked.
 */
import { Inject, Injectable } from '@nestjs/common';

import { SUBSCRIPTION_NAME, parseFeedStart } from '#libs/audit';
import { mintUserCreds } from '#libs/bus';

import { projectUnderPolicy } from '../../common/auth/owner.js';
import { type Principal, isAdmin } from '../../common/auth/principal.js';
import { ApiError, badRequest, conflict, notFound, policyForbids } from '../../common/http/api-error.js';
import type { Schema } from '../../common/validation/schema.js';
import { AUDIT_POLICY } from '../audit-feed.service.js';
import {
  ADMIN_SUBJECT,
  AUDIT_STREAM,
  AUDIT_STREAM_PORT,
  type AuditStream,
  projectSubject,
} from './audit-stream.js';

/** The account signing key the API mints subscriber credentials with, and where subscribers connect. */
export interface AuditNatsSigner {
  readonly signingSeed: string;
  readonly accountPublicKey: string;
  /** The NATS URL handed to subscribers. */
  readonly natsUrl: string;
}

export const AUDIT_NATS_SIGNER = Symbol('AuditNatsSigner');

export const CREATE_SUBSCRIPTION_SCHEMA: Schema = {
  type: 'object',
  properties: {
    subscription: {
      type: 'object',
      properties: {
        name: { type: 'string', pattern: SUBSCRIPTION_NAME.source },
        since: { type: 'string', minLength: 1, maxLength: 64 },
        project_id: { type: 'string', minLength: 1, maxLength: 64 },
        all_projects: { type: 'boolean' },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['subscription'],
  additionalProperties: false,
};

export interface CreateSubscriptionBody {
  readonly subscription: {
    readonly name: string;
    readonly since?: string;
    readonly project_id?: string;
    readonly all_projects?: boolean;
  };
}

export interface SubscriptionGrant {
  readonly created: boolean;
  readonly body: Record<string, unknown>;
}

@Injectable()
export class AuditSubscriptions {
  constructor(
    @Inject(AUDIT_STREAM_PORT) private readonly stream: AuditStream | null,
    @Inject(AUDIT_NATS_SIGNER) private readonly signer: AuditNatsSigner | null,
  ) {}

  async open(
    principal: Principal,
    request: CreateSubscriptionBody['subscription'],
  ): Promise<SubscriptionGrant> {
    const { scope, subject } = this.feedOf(principal, request.project_id, request.all_projects === true);
    const start = parseFeedStart(request.since);
    if (start === null)
      throw badRequest(
        `since must be "beginning", a store position (e.g. 1234) or an RFC 3339 time, got ${request.since ?? ''}`,
      );
    const { stream, signer } = this.wired();
    const consumer = consumerName(scope, request.name);
    const startSequence =
      start.kind === 'beginning'
        ? null
        : await stream.firstSequence(
            start.kind === 'after' ? { after: start.position } : { time: start.time },
          );
    // A `since` moves an existing subscription there: what a resuming subscriber asks, with the last
    // position it kept, so what it had received but not kept comes again first, in order.
    const ensured = await stream.ensureConsumer({
      consumer,
      filterSubject: subject,
      startSequence,
      restart: request.since !== undefined,
    });
    if (ensured.filterSubject !== subject)
      throw conflict(`subscription ${request.name} exists with another feed; delete it first`);
    const expiresAt = new Date(principal.expiresAt);
    const inboxPrefix = `_INBOX_${consumer}`;
    const credentials = await mintUserCreds(signer.signingSeed, signer.accountPublicKey, {
      name: `audit:${consumer}`,
      publish: [
        `$JS.API.CONSUMER.INFO.${AUDIT_STREAM}.${consumer}`,
        `$JS.API.CONSUMER.MSG.NEXT.${AUDIT_STREAM}.${consumer}`,
        `$JS.ACK.${AUDIT_STREAM}.${consumer}.>`,
      ],
      subscribe: [`${inboxPrefix}.>`],
      expiresAt,
    });
    return {
      created: ensured.created,
      body: {
        subscription: {
          name: request.name,
          nats_url: signer.natsUrl,
          stream: AUDIT_STREAM,
          consumer,
          filter_subject: subject,
          inbox_prefix: inboxPrefix,
          credentials,
          expires_at: expiresAt.toISOString(),
        },
      },
    };
  }

  async remove(
    principal: Principal,
    name: string,
    projectId: string | undefined,
    all: boolean,
  ): Promise<void> {
    if (!SUBSCRIPTION_NAME.test(name)) throw notFound(`Subscription ${name} could not be found.`);
    const { scope } = this.feedOf(principal, projectId, all);
    const { stream } = this.wired();
    if (!(await stream.deleteConsumer(consumerName(scope, name))))
      throw notFound(`Subscription ${name} could not be found.`);
  }

  /** The feed a caller may subscribe to: its project's, another's for admins, or every project's. */
  private feedOf(
    principal: Principal,
    projectId: string | undefined,
    all: boolean,
  ): { scope: string; subject: string } {
    if (all && projectId !== undefined) throw badRequest('give project_id or all_projects, not both');
    if (all) {
      if (!isAdmin(principal)) throw policyForbids(AUDIT_POLICY);
      return { scope: 'all', subject: ADMIN_SUBJECT };
    }
    const project = projectUnderPolicy(principal, projectId, AUDIT_POLICY);
    const subject = projectSubject(project);
    if (subject === null) throw badRequest(`project ${project} has no audit feed over NATS`);
    return { scope: `p-${project}`, subject };
  }

  private wired(): { stream: AuditStream; signer: AuditNatsSigner } {
    if (this.stream === null || this.signer === null)
      throw new ApiError(
        409,
        'The audit feed over NATS is not configured on this cloud; use GET /audit/v1/events.',
      );
    return { stream: this.stream, signer: this.signer };
  }
}

/** One consumer per feed and name: `audit-all-<name>` or `audit-p-<project id>-<name>`, one subject token. */
function consumerName(scope: string, name: string): string {
  return `audit-${scope}-${name}`;
}
