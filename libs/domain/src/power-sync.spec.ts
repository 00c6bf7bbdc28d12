import { DeleteRequested, DomainDeleted, PowerStateChanged, StopRequested, build } from '#libs/contracts';

import { decidePowerSync } from './power-sync.js';
import { given, serverStory } from './testing/instances.js';

describe('power sync', () => {
  const server = serverStory();
  const { id } = server;
  const stopped = server.stopped;

  it('leaves a running server whose domain runs alone', () => {
    expect(decidePowerSync(given(...server.running), 'h1', 'running')).toEqual({ kind: 'in-step' });
  });

  it('records a domain that stopped behind the store, revoking its consoles', () => {
    expect(decidePowerSync(given(...server.running), 'h1', 'shutoff')).toEqual({
      kind: 'record',
      events: [
        build(PowerStateChanged, {
          instanceId: id,
          host: 'h1',
          from: 'running',
          to: 'shutoff',
          source: 'sync',
        }),
      ],
      revokeConsoles: true,
    });
  });

  it('records a vanished domain as nostate, and a paused one without revoking its consoles', () => {
    expect(decidePowerSync(given(...server.running), 'h1', null)).toMatchObject({
      kind: 'record',
      events: [{ to: 'nostate' }],
      revokeConsoles: true,
    });
    expect(decidePowerSync(given(...server.running), 'h1', 'paused')).toMatchObject({
      kind: 'record',
      events: [{ to: 'paused' }],
      revokeConsoles: false,
    });
  });

  it('powers off a domain that runs although the store has stopped the server', () => {
    expect(decidePowerSync(given(...stopped), 'h1', 'running')).toEqual({ kind: 'power-off' });
    expect(decidePowerSync(given(...stopped), 'h1', null)).toEqual({ kind: 'in-step' });
  });

  it('leaves a server alone while a task is under way on it', () => {
    const stopping = given(...server.running, build(StopRequested, { instanceId: id }));
    expect(decidePowerSync(stopping, 'h1', 'shutoff')).toEqual({ kind: 'in-step' });
    expect(decidePowerSync(given(...server.placed), 'h1', null)).toEqual({ kind: 'in-step' });
  });

  it('destroys a domain the store places elsewhere, has deleted, or does not know', () => {
    expect(decidePowerSync(given(...server.running), 'h2', 'running')).toEqual({ kind: 'destroy-domain' });
    const deleted = given(
      ...server.running,
      build(DeleteRequested, { instanceId: id }),
      build(DomainDeleted, { instanceId: id, host: 'h1' }),
    );
    expect(decidePowerSync(deleted, 'h1', 'running')).toEqual({ kind: 'destroy-domain' });
    expect(decidePowerSync(given(), 'h1', 'shutoff')).toEqual({ kind: 'destroy-domain' });
    expect(decidePowerSync(given(), 'h1', null)).toEqual({ kind: 'in-step' });
  });
});
