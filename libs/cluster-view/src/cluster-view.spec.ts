import type { EventStoreDBClient } from '@eventstore/db-client';

import { DeleteRequested, DomainDeleted, DomainStarted, build } from '#libs/contracts';
import { envelope, serverStory } from '#libs/domain/testing';
import { instanceReducer } from '#libs/domain';
import type { StoredEvent } from '#libs/event-store';

import { ClusterView } from './cluster-view.js';

let commit = 0n;

/** The events of one stream as the subscription hands them over: revisions from 0, `$all` in order. */
function stored(instanceId: string, events: readonly object[]): StoredEvent[] {
  return events.map((data, index) => {
    commit += 10n;
    return {
      ...envelope(data),
      stream: `instance-${instanceId}`,
      revision: BigInt(index),
      position: { commit, prepare: commit },
    };
  });
}

function deletedStory() {
  const story = serverStory();
  const events = [
    ...story.running,
    build(DeleteRequested, { instanceId: story.id }),
    build(DomainDeleted, { instanceId: story.id, host: 'h1' }),
  ];
  return { id: story.id, events: stored(story.id, events) };
}

const view = () => new ClusterView({} as EventStoreDBClient, 'spec');

describe(ClusterView.name, () => {
  it('keeps a live server, and lets a deleted one go but for its id and when it went', () => {
    const clusterView = view();
    const live = serverStory();
    for (const event of stored(live.id, live.running)) clusterView.apply(event);
    const gone = deletedStory();
    for (const event of gone.events) clusterView.apply(event);

    expect([...clusterView.allInstances()].map(({ state }) => state.id)).toEqual([live.id]);
    expect(clusterView.instance(live.id)?.state.vmState).toBe('active');
    expect(clusterView.instance(gone.id)).toBeUndefined();
    expect(clusterView.deletedAt(gone.id)).toBe(gone.events.at(-1)?.metadata.occurredAt);
    expect(clusterView.deletedAt(live.id)).toBeUndefined();
    expect(clusterView.usageBefore('p-1', commit + 1n)).toEqual({ instances: 1, cores: 1, ramMb: 64 });
  });

  it('changes nothing for what comes after a delete, and still tells its listeners', () => {
    const clusterView = view();
    const gone = deletedStory();
    for (const event of gone.events) clusterView.apply(event);
    const heard: string[] = [];
    clusterView.onEvent((event) => heard.push(event.type));
    const late = {
      ...stored(gone.id, [
        build(DomainStarted, { instanceId: gone.id, host: 'h1', domainName: 'x', reason: 'boot' }),
      ])[0]!,
      revision: BigInt(gone.events.length),
    };
    clusterView.apply(late);

    expect(clusterView.instance(gone.id)).toBeUndefined();
    expect([...clusterView.allInstances()]).toEqual([]);
    expect(heard).toEqual(['DomainStarted']);
  });

  it('takes a fold that finds the server deleted as its delete, and no older fold after it', () => {
    const clusterView = view();
    const gone = deletedStory();
    const [requested] = gone.events;
    clusterView.apply(requested!);
    const folded = gone.events.reduce(
      (state, event) => instanceReducer.evolve(state, event),
      instanceReducer.initial(),
    );
    clusterView.refreshInstance(gone.id, { state: folded, revision: BigInt(gone.events.length - 1) });
    expect(clusterView.instance(gone.id)).toBeUndefined();
    expect(clusterView.usageBefore('p-1', commit + 1n)).toEqual({ instances: 0, cores: 0, ramMb: 0 });

    const older = instanceReducer.evolve(instanceReducer.initial(), requested!);
    clusterView.refreshInstance(gone.id, { state: older, revision: 0n });
    expect(clusterView.instance(gone.id)).toBeUndefined();
  });
});
