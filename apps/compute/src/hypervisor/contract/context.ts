/**
 * What the HypervisorDriver contract's parts share: the driver under test and its fixture, the host,
 * the scratch folder and the boot image the suite set up, the domains to clean up, and the helpers
 * the tests wait and count with. Filled in by the suite's beforeAll (driver-contract.ts); each part
 * reads it when its tests run, never when they are registered.
 * Must never special-case a driver: anything driver-specific comes in through the fixture.
 */
import { randomUUID } from 'node:crypto';

import { eventually } from '../../../../../test/support/eventually.js';

import { domainSpec, type DomainSpec } from '../domain-spec.js';
import type { HypervisorDriver, ImageSource, VncTunnels } from '../hypervisor-driver.js';

export interface DriverContractFixture {
  readonly driver: HypervisorDriver & VncTunnels;
  /** The hosts to use; with a second one, isolation between hosts is checked too. */
  readonly hosts: readonly [string, ...string[]];
  /** A bootable standalone qcow2 on this machine; its guest prints `bootBanner` on the serial console. */
  readonly bootImagePath: string;
  readonly bootBanner: string;
  /** Whether the guest acts on ACPI shutdown and reboot requests (the project's boot image does not). */
  readonly guestHonoursAcpi: boolean;
  /** Graceful power-off and SOFT reboot timeouts: short, so an ignoring guest does not slow the suite. */
  readonly gracefulTimeoutMs: number;
  /** How long a guest may take to print its banner after a start. */
  readonly bootTimeoutMs: number;
  /** Something that changes whenever the cached file is written again (an inode and mtime, a copy count). */
  cachedImageIdentity(host: string, imageId: string): Promise<string | undefined>;
  /** The files left in the instance's folder on the host. */
  instanceFiles(host: string, instanceId: string): Promise<readonly string[]>;
  teardown(): Promise<void>;
}

export class ContractContext {
  fixture!: DriverContractFixture;
  driver!: HypervisorDriver & VncTunnels;
  host!: string;
  scratch!: string;
  image!: ImageSource;
  /** Domains the suite spawned, destroyed in afterAll whatever happened. */
  readonly spawned: { host: string; name: string }[] = [];

  /** Probes until it answers, up to the fixture's boot timeout. */
  readonly eventually = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> =>
    eventually(what, probe, { timeoutMs: this.fixture.bootTimeoutMs, intervalMs: 100 });

  /** How many times the guest has printed its boot banner. */
  readonly banners = async (domainName: string): Promise<number> =>
    (await this.driver.consoleOutput(this.host, domainName)).split(this.fixture.bootBanner).length - 1;

  readonly newSpec = (imageId: string): DomainSpec =>
    domainSpec({ instanceId: randomUUID(), vcpus: 1, memoryMib: 64, imageId, rootDiskGb: 1 });
}
