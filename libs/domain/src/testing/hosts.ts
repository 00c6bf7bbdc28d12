/** One host as specs of the host's decisions meet it: its registration and inventory, as values and as events. */
import { HostRegistered, InventoryReported, build } from '#libs/contracts';

export const registration = {
  host: 'h1',
  availabilityZone: 'nova',
  hypervisorType: 'qemu',
  cpuArch: 'x86_64',
} as const;

/** 2 vCPUs at 4x, 1 GiB of which 512 MiB reserved, 20 GB of disk. */
export const inventory = {
  vcpus: 2,
  ramMb: 1024,
  diskGb: 20,
  vcpuAllocationRatio: 4,
  ramAllocationRatio: 1,
  diskAllocationRatio: 1,
  reservedVcpus: 0,
  reservedRamMb: 512,
  reservedDiskGb: 0,
};

export const registered = build(HostRegistered, registration);
export const reported = build(InventoryReported, { host: 'h1', ...inventory });
