/**
 * The compute agent's hypervisor layer: the HypervisorDriver port, the DomainSpec it takes, its errors,
 * the libvirt-over-SSH adapter and the in-memory fake. The agent imports from here only.
 * Must never choose a driver: the agent's configuration does, and the fake is never the default.
 */
export * from './domain-spec.js';
export * from './errors.js';
export * from './guest-network.js';
export * from './guest-routing.js';
export * from './hypervisor-driver.js';
export { MAX_CONSOLE_BYTES } from './console-output.js';
export {
  FAKE_BOOT_BANNER,
  FakeHypervisorDriver,
  type FakeHypervisorOptions,
  type FakeOperation,
} from './fake/fake-driver.js';
export { CommandFailed } from './libvirt/errors.js';
export {
  hostConfigsFromInventory,
  validateHostConfigs,
  type HostInventoryFile,
  type LibvirtHostConfig,
} from './libvirt/host-config.js';
export type { SessionStats, SshSessionOptions } from '#libs/host-ssh';
export { VirshDriver, type VirshDriverOptions } from './libvirt/virsh-driver.js';
