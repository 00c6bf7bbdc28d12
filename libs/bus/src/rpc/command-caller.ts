/**
 * Who sent a command and on behalf of which request: the correlation id and the actor travel as NATS
 * headers beside the command (never inside it: commands carry no requester, see server.commands.ts), and
 * the handler reads them with `@Caller()` to stamp the events it appends.
 * Must never accept a caller it cannot validate (the handler would append events with a forged or broken
 * envelope), and never put anything but ids and kinds in headers.
 */
import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { type MsgHdrs, headers } from '@nats-io/transport-node';
import { validateSync } from 'class-validator';

import {
  Actor,
  type ContractIssue,
  ContractViolation,
  PATTERNS,
  type Plain,
  build,
  issuesFromValidationErrors,
} from '#libs/contracts';

import { BUS_HEADERS } from '../wire/headers.js';
import { badRequest } from './rpc-errors.js';

/** The request a command belongs to and who made it; what the handler's appended events carry. */
export interface CommandCaller {
  readonly correlationId: string;
  readonly actor: Plain<Actor>;
}

/** A validated caller, as the handler receives it. */
export interface ValidatedCaller extends CommandCaller {
  readonly actor: Actor;
}

/** The caller as NATS headers; throws ContractViolation if it would not pass the handler's check. */
export function callerHeaders(caller: CommandCaller): MsgHdrs {
  const validated = validateCaller(caller.correlationId, caller.actor);
  const result = headers();
  result.set(BUS_HEADERS.correlationId, validated.correlationId);
  result.set(BUS_HEADERS.actorUserId, validated.actor.userId);
  if (validated.actor.projectId !== null) result.set(BUS_HEADERS.actorProjectId, validated.actor.projectId);
  result.set(BUS_HEADERS.actorKind, validated.actor.kind);
  return result;
}

/** The caller from received headers; throws ContractViolation when missing or invalid. */
export function callerFromHeaders(received: MsgHdrs | undefined): ValidatedCaller {
  const read = (name: string): string | undefined => {
    const value = received?.get(name);
    return value === undefined || value === '' ? undefined : value;
  };
  return validateCaller(read(BUS_HEADERS.correlationId), {
    userId: read(BUS_HEADERS.actorUserId),
    projectId: read(BUS_HEADERS.actorProjectId) ?? null,
    kind: read(BUS_HEADERS.actorKind),
  });
}

/**
 * `@Caller() caller: ValidatedCaller` in a command handler: the validated correlation id and actor from
 * the request's headers. A request without them is answered with BadRequest.
 */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): ValidatedCaller => {
  const nats = context.switchToRpc().getContext<NatsContext>();
  try {
    return callerFromHeaders(nats.getHeaders() as MsgHdrs | undefined);
  } catch (error) {
    throw badRequest((error as Error).message);
  }
});

function validateCaller(correlationId: unknown, actor: unknown): ValidatedCaller {
  const issues: ContractIssue[] = [];
  if (typeof correlationId !== 'string' || !PATTERNS.correlationId.test(correlationId)) {
    issues.push({ path: 'correlationId', problems: ['must be printable ASCII without spaces, 1 to 128'] });
  }
  let validActor: Actor | null = null;
  if (typeof actor === 'object' && actor !== null) {
    const { userId, projectId, kind } = actor as Record<string, unknown>;
    // Only the three fields are taken, so an actor object with more on it is still a valid source.
    const candidate = build(Actor, { userId, projectId, kind } as Plain<Actor>);
    const actorIssues = issuesFromValidationErrors(
      validateSync(candidate, {
        whitelist: true,
        forbidNonWhitelisted: true,
        forbidUnknownValues: true,
        validationError: { target: false, value: false },
      }),
    ).map((issue) => ({ ...issue, path: `actor.${issue.path}` }));
    issues.push(...actorIssues);
    if (actorIssues.length === 0) validActor = candidate;
  } else {
    issues.push({ path: 'actor', problems: ['is required'] });
  }
  if (issues.length > 0 || validActor === null || typeof correlationId !== 'string') {
    throw new ContractViolation('CommandCaller', null, issues, { context: 'command headers' });
  }
  return { correlationId, actor: validActor };
}
