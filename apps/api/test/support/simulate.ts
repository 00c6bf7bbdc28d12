/**
 * The events the scheduler and the compute agent would append, for tests of the API's views: no scheduler
 * or agent runs in these tests, so a server stays in BUILD unless a test moves it on with these.
 */
import {
  DomainDeleted,
  DomainStarted,
  DomainStopped,
  HostRegistered,
  HostSelected,
  InstanceFailed,
  InventoryReported,
  ResourcesClaimed,
  build,
  streamFor,
} from '#libs/contracts';

import type { Harness } from './api-harness.js';

export async function registerHost(harness: Harness, host: string, availabilityZone = 'nova'): Promise<void> {
  await harness.appendAsService(streamFor('host', host), [
    build(HostRegistered, { host, availabilityZone, hypervisorType: 'qemu', cpuArch: 'x86_64' }),
    build(InventoryReported, {
      host,
      vcpus: 4,
      ramMb: 8192,
      diskGb: 100,
      vcpuAllocationRatio: 4,
      ramAllocationRatio: 1,
      diskAllocationRatio: 1,
      reservedVcpus: 0,
      reservedRamMb: 512,
      reservedDiskGb: 0,
    }),
  ]);
}

export async function claim(harness: Harness, host: string, instanceId: string): Promise<void> {
  await harness.appendAsService(streamFor('host', host), [
    build(ResourcesClaimed, { host, instanceId, attempt: 1, vcpus: 1, ramMb: 64, diskGb: 0 }),
  ]);
}

export async function schedule(harness: Harness, instanceId: string, host: string): Promise<void> {
  await harness.appendAsService(streamFor('instance', instanceId), [
    build(HostSelected, {
      instanceId,
      attempt: 1,
      host,
      alternates: [],
      trace: { hostsIn: 1, filters: [], weighed: [{ host, weight: 1 }] },
    }),
  ]);
}

export async function makeActive(harness: Harness, instanceId: string, host: string): Promise<void> {
  await schedule(harness, instanceId, host);
  await harness.appendAsService(streamFor('instance', instanceId), [
    build(DomainStarted, { instanceId, host, domainName: `nimbus-${instanceId}`, reason: 'boot' }),
  ]);
}

export async function stopped(harness: Harness, instanceId: string, host: string): Promise<void> {
  await harness.appendAsService(streamFor('instance', instanceId), [
    build(DomainStopped, { instanceId, host, forced: false }),
  ]);
}

export async function startedAgain(harness: Harness, instanceId: string, host: string): Promise<void> {
  await harness.appendAsService(streamFor('instance', instanceId), [
    build(DomainStarted, { instanceId, host, domainName: `nimbus-${instanceId}`, reason: 'start' }),
  ]);
}

export async function failed(
  harness: Harness,
  instanceId: string,
  message: string,
  details?: string,
): Promise<void> {
  await harness.appendAsService(streamFor('instance', instanceId), [
    build(InstanceFailed, {
      instanceId,
      fault: { code: 500, message, ...(details === undefined ? {} : { details }) },
    }),
  ]);
}

export async function deleted(harness: Harness, instanceId: string, host: string | null): Promise<void> {
  await harness.appendAsService(streamFor('instance', instanceId), [
    build(DomainDeleted, { instanceId, host }),
  ]);
}

/** Uploads a small public raw image named `boot` as the admin; its id. */
export async function publicImage(harness: Harness, adminToken: string): Promise<string> {
  const image = await harness.request('POST', '/image/v2/images', {
    token: adminToken,
    body: { name: 'boot', disk_format: 'raw', container_format: 'bare', visibility: 'public' },
  });
  const imageId = String((image.body as Record<string, unknown>)['id']);
  await harness.request('PUT', `/image/v2/images/${imageId}/file`, {
    token: adminToken,
    raw: Buffer.from('boot sector'),
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  return imageId;
}
