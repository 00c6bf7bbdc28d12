import { RpcException } from '@nestjs/microservices';

import { ContractViolation } from '#libs/contracts';
import { ConcurrencyConflict } from '#libs/event-store';

import { badRequest, isRpcErrorPayload, toRpcErrorPayload } from './rpc-errors.js';

class NoValidHost extends Error {
  readonly code = 'NoValidHost';
}

class SystemLike extends Error {
  readonly code = 'ECONNREFUSED';
}

describe(toRpcErrorPayload.name, () => {
  it('keeps a domain error its code and message', () => {
    expect(toRpcErrorPayload(new NoValidHost('no host has 2048 MiB free'))).toEqual({
      code: 'NoValidHost',
      message: 'no host has 2048 MiB free',
    });
  });

  it('passes an RpcException body through, and gives a bare one the Rejected code', () => {
    expect(toRpcErrorPayload(badRequest('instanceId: must be a UUID'))).toEqual({
      code: 'BadRequest',
      message: 'instanceId: must be a UUID',
    });
    expect(toRpcErrorPayload(new RpcException('Forbidden resource'))).toEqual({
      code: 'Rejected',
      message: 'Forbidden resource',
    });
    expect(toRpcErrorPayload(new RpcException({ nope: true }))).toEqual({
      code: 'Rejected',
      message: 'the request was rejected',
    });
  });

  it('maps a lost race for a stream to Conflict', () => {
    expect(toRpcErrorPayload(new ConcurrencyConflict('host-hv-01', 5))).toMatchObject({ code: 'Conflict' });
  });

  it('hides everything else behind Internal, system error codes and contract violations included', () => {
    const internal = { code: 'Internal', message: 'internal error; see the handling service log' };
    expect(toRpcErrorPayload(new Error('cannot read /root/.ssh/id_rsa'))).toEqual(internal);
    expect(toRpcErrorPayload(new SystemLike('connect ECONNREFUSED 10.0.0.1:22'))).toEqual(internal);
    expect(toRpcErrorPayload(new ContractViolation('ConsoleAccess', 1, []))).toEqual(internal);
    expect(toRpcErrorPayload('a string')).toEqual(internal);
  });

  it('caps a long message', () => {
    expect(toRpcErrorPayload(new NoValidHost('x'.repeat(5_000))).message).toHaveLength(1024);
  });
});

describe(isRpcErrorPayload.name, () => {
  it('accepts a PascalCase code with a message, and nothing looser', () => {
    expect(isRpcErrorPayload({ code: 'BadRequest', message: 'm' })).toBe(true);
    expect(isRpcErrorPayload({ code: 'EPIPE', message: 'm' })).toBe(false);
    expect(isRpcErrorPayload({ code: 'BadRequest' })).toBe(false);
    expect(isRpcErrorPayload({ status: 'error', message: 'Internal server error' })).toBe(false);
    expect(isRpcErrorPayload('There is no matching message handler')).toBe(false);
  });
});
