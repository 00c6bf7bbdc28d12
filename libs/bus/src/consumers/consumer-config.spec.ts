import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

import { BootRequested, categorySubjects, subjectFor } from '#libs/contracts';

import {
  DEFAULT_CONSUMER_SETTINGS,
  consumerConfigFor,
  durableNameFor,
  resolveSettings,
  retryDelayFor,
} from './consumer-config.js';

describe(durableNameFor.name, () => {
  it('names a consumer after the service and the event it handles', () => {
    expect(durableNameFor('scheduler', subjectFor(BootRequested))).toBe('scheduler_instance_BootRequested');
  });

  it('spells wildcards as words, since durable names cannot hold them', () => {
    expect(durableNameFor('audit', categorySubjects('instance'))).toBe('audit_instance_all');
    expect(durableNameFor('audit', 'nimbus.evt.>')).toBe('audit_rest');
  });

  it('refuses subjects outside the events and service names that are not one lowercase word', () => {
    expect(() => durableNameFor('scheduler', 'nimbus.cmd.api.BootServer')).toThrow(/not an event subject/);
    expect(() => durableNameFor('scheduler', 'nimbus.evt.')).toThrow(/not an event subject/);
    expect(() => durableNameFor('Scheduler.1', subjectFor(BootRequested))).toThrow(/service name/);
    expect(() => durableNameFor('scheduler', 'nimbus.evt.instance.>.x')).toThrow(/unusable token/);
  });
});

describe(consumerConfigFor.name, () => {
  it('is a durable pull consumer on one subject, acked explicitly, from the start of the stream', () => {
    const config = consumerConfigFor('scheduler_instance_BootRequested', subjectFor(BootRequested), {
      ...DEFAULT_CONSUMER_SETTINGS,
      ackWaitMs: 10_000,
    });
    expect(config).toMatchObject({
      durable_name: 'scheduler_instance_BootRequested',
      filter_subject: 'nimbus.evt.instance.BootRequested',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(10_000),
      max_ack_pending: 64,
      max_deliver: -1,
    });
    expect(config).not.toHaveProperty('deliver_subject');
  });
});

describe(retryDelayFor.name, () => {
  it('doubles the wait with each failed delivery, up to the cap', () => {
    const settings = { ...DEFAULT_CONSUMER_SETTINGS, retryDelayMs: 100, maxRetryDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5, 50].map((count) => retryDelayFor(count, settings))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });
});

describe(resolveSettings.name, () => {
  it('lets later layers override earlier ones, and the defaults fill the rest', () => {
    expect(resolveSettings({ ackWaitMs: 5_000, prefetch: 4 }, { prefetch: 2 })).toEqual({
      ...DEFAULT_CONSUMER_SETTINGS,
      ackWaitMs: 5_000,
      prefetch: 2,
    });
  });

  it('refuses more concurrent handlers than unacknowledged messages allowed', () => {
    expect(() => resolveSettings({ concurrency: 65 })).toThrow(
      'concurrency must be between 1 and maxAckPending',
    );
  });

  it('refuses settings that would make a consumer misbehave, listing each', () => {
    expect(() => resolveSettings({ ackWaitMs: 10, maxDeliver: 0, prefetch: 100, retryDelayMs: -1 })).toThrow(
      'invalid consumer settings: ackWaitMs must be at least 1000; maxDeliver must be -1 or >= 1; ' +
        'prefetch must be between 1 and maxAckPending; retryDelayMs must be >= 0 and not above maxRetryDelayMs',
    );
  });
});
