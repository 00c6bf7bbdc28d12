import { describe, expect, it } from '@jest/globals';
import { Logger, NotFoundException } from '@nestjs/common';
import { DeadlineExceededError, UnavailableError } from '@eventstore/db-client';

import { ContractViolation } from '#libs/contracts';
import { ConflictingState, InstanceNotFound, QuotaExceeded } from '#libs/domain';
import { ConcurrencyConflict } from '#libs/event-store';

import { ComputeUnavailable } from '../../compute/ports.js';
import { ApiError } from './api-error.js';
import { errorBody } from './error-body.js';
import { toFailure } from './exception.filter.js';

const quiet = new Logger('test');
quiet.error = () => undefined;
quiet.warn = () => undefined;
const failure = (error: unknown) => toFailure(error, quiet, 'req-1');

describe(toFailure.name, () => {
  it('maps domain errors to the statuses Nova answers with', () => {
    expect(failure(new InstanceNotFound('x'))).toEqual({
      status: 404,
      message: 'Instance x could not be found.',
    });
    expect(failure(new ConflictingState('busy'))).toEqual({ status: 409, message: 'busy' });
    expect(failure(new QuotaExceeded('Quota exceeded, too many key pairs.'))).toMatchObject({ status: 403 });
    expect(failure(new ConcurrencyConflict('instance-x', 5))).toMatchObject({ status: 409 });
  });

  it('answers an unreachable compute agent with a 409 naming the host, never what the bus said', () => {
    expect(failure(new ComputeUnavailable('h1', 'NATS: no responders on cmd.h1'))).toEqual({
      status: 409,
      message: 'The compute service on host h1 did not answer; try again later.',
    });
  });

  it('answers 503 with Retry-After, not 500, while the event store cannot be reached', () => {
    for (const error of [
      new UnavailableError(undefined, 'down'),
      new DeadlineExceededError(undefined, 'late'),
    ]) {
      expect(failure(error)).toEqual({
        status: 503,
        message: 'The service is temporarily unavailable; try again later.',
        headers: { 'Retry-After': '1' },
      });
    }
  });

  it("maps Fastify's body errors to Nova's 400, 413 and 415", () => {
    expect(failure({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 })).toEqual({
      status: 415,
      message: 'Unsupported Content-Type',
    });
    expect(failure({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).toEqual({
      status: 413,
      message: 'Request is too large.',
    });
    expect(failure({ code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 })).toEqual({
      status: 400,
      message: 'Malformed request body',
    });
    expect(failure(new NotFoundException())).toEqual({
      status: 404,
      message: 'The resource could not be found.',
    });
  });

  it('never shows internals: a contract violation is a 400, anything unknown an opaque 500', () => {
    expect(failure(new ContractViolation('BootRequested', 1, [{ path: 'name', problems: ['bad'] }]))).toEqual(
      {
        status: 400,
        message: 'Invalid input for the request.',
      },
    );
    const unknown = failure(new Error('database password is hunter2'));
    expect(unknown.status).toBe(500);
    expect(unknown.message).not.toContain('hunter2');
    expect(failure(new ApiError(400, 'x'))).toEqual({ status: 400, message: 'x', headers: {} });
  });
});

describe(errorBody.name, () => {
  it("uses Nova's fault names, and Keystone's shape for identity and every 401", () => {
    expect(errorBody('compute', 404, 'm')).toEqual({ itemNotFound: { code: 404, message: 'm' } });
    expect(errorBody('compute', 409, 'm')).toEqual({ conflictingRequest: { code: 409, message: 'm' } });
    expect(errorBody('compute', 406, 'm')).toEqual({ computeFault: { code: 406, message: 'm' } });
    expect(errorBody('image', 413, 'm')).toEqual({ overLimit: { code: 413, message: 'm' } });
    expect(errorBody('compute', 401, 'm')).toEqual({
      error: { code: 401, message: 'm', title: 'Unauthorized' },
    });
    expect(errorBody('identity', 403, 'm')).toEqual({
      error: { code: 403, message: 'm', title: 'Forbidden' },
    });
  });
});
