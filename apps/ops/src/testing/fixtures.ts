/** Payloads of one server's life on one host, for the checks' specs. */
import { randomUUID } from 'node:crypto';

export const INSTANCE_ID = '6f0e1d6c-5b7a-4c1e-9d53-2a9d0f4b8e11';

export const bootData = (instanceId = INSTANCE_ID) => ({
  instanceId,
  projectId: 'p-1',
  userId: 'u-1',
  name: 'web-1',
  flavor: { id: '1', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 },
  image: { id: randomUUID(), name: 'nimbus-boot', properties: { architecture: 'x86_64' as const } },
  metadata: {},
  requestedNetworks: 'none' as const,
});

export const claimData = (host: string, instanceId = INSTANCE_ID) => ({
  host,
  instanceId,
  attempt: 1,
  vcpus: 1,
  ramMb: 64,
  diskGb: 1,
});

export const selectedData = (host: string, instanceId = INSTANCE_ID) => ({
  instanceId,
  attempt: 1,
  host,
  alternates: [],
  trace: { hostsIn: 1, filters: [], weighed: [{ host, weight: 1 }] },
});

export const startedData = (host: string, instanceId = INSTANCE_ID) => ({
  instanceId,
  host,
  domainName: `nimbus-${instanceId}`,
  reason: 'boot' as const,
});
