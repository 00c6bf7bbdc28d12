/** Builds scheduler candidates and request specs for specs, from the same events the store holds. */
import { randomUUID } from 'node:crypto';

import { HostDisabled, HostRegistered, InventoryReported, ResourcesClaimed, build } from '#libs/contracts';
import { type HostState, hostReducer } from '#libs/domain';
import { foldAll } from '#libs/domain/testing';

import { type HostCandidate, candidateOf } from '../candidate.js';
import type { RequestSpec } from '../request-spec.js';

export interface HostShape {
  readonly name: string;
  readonly vcpus?: number;
  readonly ramMb?: number;
  readonly diskGb?: number;
  readonly usedRamMb?: number;
  readonly usedVcpus?: number;
  readonly zone?: string;
  readonly arch?: 'x86_64' | 'aarch64';
  readonly hypervisor?: 'qemu' | 'kvm';
  readonly enabled?: boolean;
  readonly alive?: boolean;
  readonly ramRatio?: number;
}

export function hostState(shape: HostShape): HostState {
  const events: object[] = [
    build(HostRegistered, {
      host: shape.name,
      availabilityZone: shape.zone ?? 'nova',
      hypervisorType: shape.hypervisor ?? 'qemu',
      cpuArch: shape.arch ?? 'x86_64',
    }),
    build(InventoryReported, {
      host: shape.name,
      vcpus: shape.vcpus ?? 4,
      ramMb: shape.ramMb ?? 4096,
      diskGb: shape.diskGb ?? 100,
      vcpuAllocationRatio: 1,
      ramAllocationRatio: shape.ramRatio ?? 1,
      diskAllocationRatio: 1,
      reservedVcpus: 0,
      reservedRamMb: 0,
      reservedDiskGb: 0,
    }),
  ];
  if (shape.usedRamMb || shape.usedVcpus) {
    events.push(
      build(ResourcesClaimed, {
        host: shape.name,
        instanceId: randomUUID(),
        attempt: 1,
        vcpus: shape.usedVcpus ?? 0,
        ramMb: shape.usedRamMb ?? 0,
        diskGb: 0,
      }),
    );
  }
  if (shape.enabled === false) events.push(build(HostDisabled, { host: shape.name, reason: 'maintenance' }));
  return foldAll(hostReducer, events);
}

export const candidate = (shape: HostShape): HostCandidate =>
  candidateOf(hostState(shape), 1n, shape.alive ?? true);

export const spec = (overrides: Partial<RequestSpec> = {}): RequestSpec => ({
  instanceId: randomUUID(),
  projectId: 'p-1',
  attempt: 1,
  resources: { vcpus: 1, ramMb: 64, diskGb: 1 },
  availabilityZone: null,
  image: { architecture: null, hypervisorType: null },
  serverGroup: null,
  groupHosts: [],
  forcedHost: null,
  excludedHosts: [],
  ...overrides,
});
