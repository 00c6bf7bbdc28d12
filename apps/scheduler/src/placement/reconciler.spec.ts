import type { EventStoreDBClient } from '@eventstore/db-client';

import { DeleteRequested, DomainDeleted, ResourcesClaimed, build } from '#libs/contracts';
import { ClusterView } from '#libs/cluster-view';
import { envelope, registered, reported, serverStory } from '#libs/domain/testing';
import type { StoredEvent } from '#libs/event-store';

import { SchedulerReconciler } from './reconciler.js';
import type { SchedulerService } from './scheduler.service.js';

const GRACE_MS = 5_000;

function feed(view: ClusterView, stream: string, events: readonly object[]): string {
  let at = '';
  events.forEach((data, index) => {
    const event: StoredEvent = { ...envelope(data), stream, revision: BigInt(index), position: undefined };
    at = event.metadata.occurredAt;
    view.apply(event);
  });
  return at;
}

describe(SchedulerReconciler.name, () => {
  it('releases the claim of a deleted server once the grace for the bus has passed, not before', () => {
    const view = new ClusterView({} as EventStoreDBClient, 'spec');
    const story = serverStory();
    const claim = build(ResourcesClaimed, {
      host: 'h1',
      instanceId: story.id,
      attempt: 1,
      vcpus: 1,
      ramMb: 64,
      diskGb: 0,
    });
    feed(view, 'host-h1', [registered, reported, claim]);
    const deletedAt = feed(view, `instance-${story.id}`, [
      ...story.running,
      build(DeleteRequested, { instanceId: story.id }),
      build(DomainDeleted, { instanceId: story.id, host: 'h1' }),
    ]);
    expect(view.instance(story.id)).toBeUndefined();

    let now = Date.parse(deletedAt) + 1_000;
    const reconciler = new SchedulerReconciler(view, {} as SchedulerService, GRACE_MS, () => now);
    expect(reconciler.due()).toEqual([]);
    now = Date.parse(deletedAt) + GRACE_MS + 1;
    expect(reconciler.due()).toEqual([story.id]);
  });

  it('releases at once a claim whose holder the view has never seen', () => {
    const view = new ClusterView({} as EventStoreDBClient, 'spec');
    const claim = build(ResourcesClaimed, {
      host: 'h1',
      instanceId: '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
      attempt: 1,
      vcpus: 1,
      ramMb: 64,
      diskGb: 0,
    });
    feed(view, 'host-h1', [registered, reported, claim]);
    const reconciler = new SchedulerReconciler(view, {} as SchedulerService, GRACE_MS, () => 0);
    expect(reconciler.due()).toEqual([claim.instanceId]);
  });
});
