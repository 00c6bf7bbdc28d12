import { randomUUID } from 'node:crypto';

import { ConsoleAuthorized, ConsoleRevoked, build, type EventMetadata } from '#libs/contracts';
import type { EventStore, Reducer, StoredEvent } from '#libs/event-store';

import { StoreConsoleAuthority } from './console-authority.js';

const HASH = 'a'.repeat(64);
const NOW = new Date('2030-01-01T12:00:00Z');
const instanceId = randomUUID();

function stored(type: string, data: object, revision: number): StoredEvent {
  return {
    type,
    data,
    metadata: { occurredAt: NOW.toISOString() } as EventMetadata,
    stream: `console-${HASH}`,
    revision: BigInt(revision),
    position: undefined,
  };
}

/** A store whose one stream holds `events`: the fold is the real reducer's. */
function storeWith(events: StoredEvent[]): Pick<EventStore, 'fold'> {
  return {
    fold<S>(_stream: string, reducer: Reducer<S>) {
      const state = events.reduce((folded, event) => reducer.evolve(folded, event), reducer.initial());
      return Promise.resolve({ state, revision: null, last: null });
    },
  };
}

const authorized = (expiresAt: string, tokenHash = HASH) =>
  stored(
    'ConsoleAuthorized',
    build(ConsoleAuthorized, {
      tokenHash,
      instanceId,
      projectId: 'f'.repeat(32),
      host: 'h1',
      port: 5901,
      consoleType: 'novnc',
      expiresAt,
    }),
    0,
  );

const authority = (events: StoredEvent[]) => new StoreConsoleAuthority(storeWith(events), () => NOW);

describe(StoreConsoleAuthority.name, () => {
  it('admits an authorised, unexpired, unrevoked token, to the host and port the store names', async () => {
    await expect(authority([authorized('2030-01-01T12:10:00Z')]).admit(HASH)).resolves.toEqual({
      ok: true,
      instanceId,
      host: 'h1',
      port: 5901,
      expiresAt: new Date('2030-01-01T12:10:00Z'),
    });
  });

  it('refuses a token it has no stream for', async () => {
    await expect(authority([]).admit(HASH)).resolves.toEqual({ ok: false, refusal: 'token unknown' });
  });

  it('refuses an expired token, at the very instant of expiry too', async () => {
    for (const expiresAt of ['2030-01-01T11:59:59Z', NOW.toISOString()]) {
      await expect(authority([authorized(expiresAt)]).admit(HASH)).resolves.toEqual({
        ok: false,
        refusal: 'token expired',
      });
    }
  });

  it('refuses a revoked token, however far its expiry', async () => {
    const revoked = stored(
      'ConsoleRevoked',
      build(ConsoleRevoked, { tokenHash: HASH, instanceId, reason: 'instance-stopped' }),
      1,
    );
    await expect(authority([authorized('2031-01-01T00:00:00Z'), revoked]).admit(HASH)).resolves.toEqual({
      ok: false,
      refusal: 'token revoked',
    });
  });

  it('refuses a stream whose event names another hash', async () => {
    await expect(
      authority([authorized('2031-01-01T00:00:00Z', 'b'.repeat(64))]).admit(HASH),
    ).resolves.toEqual({ ok: false, refusal: 'token unknown' });
  });
});
