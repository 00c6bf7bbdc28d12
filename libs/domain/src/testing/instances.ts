/**
 * One server's history as specs of the instance's decisions tell it: a boot request and the events
 * that place and start it, so each spec reads given (these events) / when / then.
 */
import { randomUUID } from 'node:crypto';

import {
  BootRequested,
  DomainStarted,
  DomainStopped,
  HostSelected,
  type Plain,
  StopRequested,
  build,
} from '#libs/contracts';

import { type InstanceState, instanceReducer } from '../instance.js';
import { foldAll } from './given.js';

export const trace = { hostsIn: 1, filters: [], weighed: [{ host: 'h1', weight: 1 }] };

/**
 * A server's story: `requested` alone is BUILD, `placed` is spawning on h1, `running` is ACTIVE
 * there, `stopped` is SHUTOFF there.
 */
export function serverStory(overrides: Partial<Plain<BootRequested>> = {}) {
  const id = randomUUID();
  const requested = build(BootRequested, {
    instanceId: id,
    projectId: 'p-1',
    userId: 'u-1',
    name: 'web-1',
    flavor: { id: '1', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 },
    image: { id: randomUUID(), name: 'nimbus-boot', properties: {} },
    metadata: {},
    requestedNetworks: 'none',
    ...overrides,
  });
  const selected = build(HostSelected, { instanceId: id, attempt: 1, host: 'h1', alternates: [], trace });
  const started = build(DomainStarted, {
    instanceId: id,
    host: 'h1',
    domainName: `nimbus-${id}`,
    reason: 'boot',
  });
  return {
    id,
    requested: [requested] as object[],
    placed: [requested, selected] as object[],
    running: [requested, selected, started] as object[],
    stopped: [
      requested,
      selected,
      started,
      build(StopRequested, { instanceId: id }),
      build(DomainStopped, { instanceId: id, host: 'h1', forced: false }),
    ] as object[],
  };
}

/** The state a stream of these events folds to. */
export const given = (...events: object[]): InstanceState => foldAll(instanceReducer, events);
