import { Actor, ContractViolation } from '#libs/contracts';
import { headers } from '@nats-io/transport-node';

import { BUS_HEADERS } from '../wire/headers.js';
import { callerFromHeaders, callerHeaders } from './command-caller.js';

const user = {
  correlationId: 'req-3fa85f64-5717-4562-b3fc-2c963f66afa6',
  actor: {
    userId: '9f8e7d6c5b4a39281706f5e4d3c2b1a0',
    projectId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    kind: 'user',
  },
} as const;

describe(callerHeaders.name, () => {
  it('writes the correlation id and the actor as headers that read back the same', () => {
    const written = callerHeaders(user);
    expect(written.get(BUS_HEADERS.correlationId)).toBe(user.correlationId);
    expect(written.get(BUS_HEADERS.actorKind)).toBe('user');

    const read = callerFromHeaders(written);
    expect(read).toEqual(user);
    expect(read.actor).toBeInstanceOf(Actor);
  });

  it('leaves the project header out for a service actor, which reads back as null', () => {
    const service = {
      correlationId: 'req-1',
      actor: { userId: 'scheduler', projectId: null, kind: 'service' },
    } as const;
    const written = callerHeaders(service);
    expect(written.has(BUS_HEADERS.actorProjectId)).toBe(false);
    expect(callerFromHeaders(written).actor.projectId).toBeNull();
  });

  it('refuses to send a caller the handler would refuse', () => {
    expect(() => callerHeaders({ ...user, correlationId: 'has space' })).toThrow(ContractViolation);
  });
});

describe(callerFromHeaders.name, () => {
  it('refuses a request without caller headers, naming what is missing', () => {
    expect(() => callerFromHeaders(undefined)).toThrow(/correlationId[\s\S]*actor\.userId/);
  });

  it('refuses an actor kind outside the vocabulary', () => {
    const forged = callerHeaders(user);
    forged.set(BUS_HEADERS.actorKind, 'root');
    expect(() => callerFromHeaders(forged)).toThrow(/actor\.kind/);
  });

  it('ignores headers it does not know', () => {
    const extra = callerHeaders(user);
    extra.set('X-Other', 'x');
    expect(callerFromHeaders(extra)).toEqual(user);
    expect(headers().has(BUS_HEADERS.correlationId)).toBe(false);
  });
});
