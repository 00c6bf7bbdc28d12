import { describe, expect, it } from '@jest/globals';

import {
  build,
  BootRequested,
  DeleteRequested,
  DomainDeleted,
  DomainStarted,
  HostSelected,
} from '#libs/contracts';

import { type ServerRecord, evolveServerRecord, initialServerRecord } from '../server-record.js';
import { watchChange } from './watch-change.js';

const ID = '6f1c2f0e-1d3b-4a59-9c7e-2b1f0c9d8e7a';
const metadata = {
  eventId: '0b6f3c1e-2a4d-4f8b-9c7e-1d3a5b7c9e01',
  correlationId: 'req-1',
  causationId: null,
  actor: { userId: 'u1', projectId: 'p1', kind: 'user' as const },
  occurredAt: '2026-12-05T10:00:00.000Z',
  schemaVersion: 1,
};

function apply(record: ServerRecord, data: object, type: string): ServerRecord {
  return evolveServerRecord(record, { type, data, metadata });
}

describe(watchChange.name, () => {
  const boot = build(BootRequested, {
    instanceId: ID,
    projectId: 'p1',
    userId: 'u1',
    name: 'web',
    flavor: { id: '1', name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 },
    image: { id: '0b3c7c55-7d4b-4c85-8f3c-6f8ad7d5e9a1', name: 'cirros', properties: {} },
    metadata: {},
    requestedNetworks: 'none',
  });

  it('says ADDED when a server is booted, MODIFIED as it changes and DELETED when it goes', () => {
    const initial = initialServerRecord();
    const booted = apply(initial, boot, 'BootRequested');
    expect(watchChange(initial, booted)).toBe('ADDED');
    const placed = apply(
      booted,
      build(HostSelected, {
        instanceId: ID,
        attempt: 1,
        host: 'hv-1',
        alternates: [],
        trace: { hostsIn: 1, filters: [], weighed: [] },
      }),
      'HostSelected',
    );
    const active = apply(
      placed,
      build(DomainStarted, { instanceId: ID, host: 'hv-1', domainName: 'nimbus-1', reason: 'boot' }),
      'DomainStarted',
    );
    expect(watchChange(placed, active)).toBe('MODIFIED');
    const deleting = apply(active, build(DeleteRequested, { instanceId: ID }), 'DeleteRequested');
    expect(watchChange(active, deleting)).toBe('MODIFIED');
    const gone = apply(deleting, build(DomainDeleted, { instanceId: ID, host: 'hv-1' }), 'DomainDeleted');
    expect(watchChange(deleting, gone)).toBe('DELETED');
    expect(watchChange(gone, gone)).toBeNull();
  });
});
