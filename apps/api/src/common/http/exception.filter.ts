/**
 * The one place errors become HTTP answers: API errors, domain errors (InstanceNotFound → 404 itemNotFound,
 * ConflictingState → 409 conflictingRequest, QuotaExceeded → 403 as Nova answers over-quota boots), store
 * conflicts, body-parser failures from Fastify, unknown routes, and anything unexpected (500, logged with
 * its stack, shown to the client only as an opaque message with the request id).
 * Must never put an exception's internals in a body: only messages written for clients reach it.
 */
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  CancelledError,
  DeadlineExceededError,
  NotLeaderError,
  TimeoutError,
  UnavailableError,
} from '@eventstore/db-client';

import { ContractViolation } from '#libs/contracts';
import { DomainError, type DomainErrorCode, NetworkError } from '#libs/domain';
import { ConcurrencyConflict } from '#libs/event-store';

import { ApiError } from './api-error.js';
import { errorBody } from './error-body.js';

const DOMAIN_STATUS: Readonly<Record<DomainErrorCode, number>> = {
  NotFound: 404,
  Conflict: 409,
  BadRequest: 400,
  Forbidden: 403,
  OverLimit: 403,
  NoValidHost: 400,
};

export interface HttpFailure {
  readonly status: number;
  readonly message: string;
  /** Neutron's name for the error (`NetworkNotFound`), where the domain gave one. */
  readonly type?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

interface FastifyLikeError {
  readonly code?: unknown;
  readonly statusCode?: unknown;
}

/** Fastify's own errors (body parsing, content type) by code, worded as Nova words them. */
function fastifyFailure(error: FastifyLikeError): HttpFailure | null {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return { status: 415, message: 'Unsupported Content-Type' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: 'Request is too large.' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, message: 'Malformed request body' };
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, message: 'Malformed request' };
  }
  return null;
}

export function toFailure(exception: unknown, logger: Logger, requestId: string): HttpFailure {
  if (exception instanceof ApiError) {
    return { status: exception.status, message: exception.message, headers: exception.headers };
  }
  if (exception instanceof NetworkError) {
    return { status: DOMAIN_STATUS[exception.code], message: exception.message, type: exception.type };
  }
  if (exception instanceof DomainError)
    return { status: DOMAIN_STATUS[exception.code], message: exception.message };
  if (exception instanceof ConcurrencyConflict) {
    return {
      status: 409,
      message: 'The resource was changed by another request at the same time; try again.',
    };
  }
  if (exception instanceof ContractViolation) {
    // The request schemas should have refused this input; the contract caught it before anything was written.
    logger.warn(`${requestId}: input reached a contract check: ${exception.message}`);
    return { status: 400, message: 'Invalid input for the request.' };
  }
  if (exception instanceof SyntaxError) return { status: 400, message: 'Malformed request body' };
  if (storeUnreachable(exception)) {
    // Nothing was accepted: the client may try again, as it would after a 503 from Nova's API.
    logger.warn(`${requestId}: the event store did not answer: ${(exception as Error).message}`);
    return {
      status: 503,
      message: 'The service is temporarily unavailable; try again later.',
      headers: { 'Retry-After': '1' },
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const cause = exception.cause as FastifyLikeError | undefined;
    const parsed = cause ? fastifyFailure(cause) : null;
    if (parsed) return parsed;
    if (status === 404) return { status, message: 'The resource could not be found.' };
    if (status === 405) return { status, message: 'The method is not allowed for the requested URL.' };
    if (status < 500) return { status, message: exception.message };
  }
  if (typeof exception === 'object' && exception !== null) {
    const parsed = fastifyFailure(exception);
    if (parsed) return parsed;
  }
  logger.error(
    `${requestId}: unexpected error`,
    exception instanceof Error ? exception.stack : String(exception),
  );
  return {
    status: 500,
    message: `Unexpected API Error. Please report it with the request id ${requestId}.`,
  };
}

/** The store could not be reached or did not answer in time: a failure of the moment, not of the request. */
function storeUnreachable(exception: unknown): boolean {
  return [UnavailableError, DeadlineExceededError, CancelledError, TimeoutError, NotLeaderError].some(
    (type) => exception instanceof type,
  );
}

/** Sends an OpenStack error body in the shape of the request's API. */
export function sendFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  failure: HttpFailure,
  authUrl: string,
): void {
  const surface = request.nimbus?.surface ?? 'root';
  reply.code(failure.status);
  for (const [name, value] of Object.entries(failure.headers ?? {})) reply.header(name, value);
  if (failure.status === 401) reply.header('WWW-Authenticate', `Keystone uri="${authUrl}"`);
  reply.header('content-type', 'application/json; charset=UTF-8');
  if (request.method === 'HEAD') {
    void reply.send();
    return;
  }
  void reply.send(JSON.stringify(errorBody(surface, failure.status, failure.message, failure.type)));
}

@Catch()
export class OpenStackExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly authUrl: () => string) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const failure = toFailure(exception, this.logger, request.nimbus?.requestId ?? '-');
    if (reply.sent) return;
    sendFailure(request, reply, failure, this.authUrl());
  }
}
