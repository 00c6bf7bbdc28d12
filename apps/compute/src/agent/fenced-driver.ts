/**
 * The hypervisor driver as the agent uses it: every call that changes a host (an image into its cache,
 * a domain made, powered, resized, exported or destroyed, a network or a NIC served) is made only while
 * the agent holds the host's lease, and refused with HostNotOwned otherwise, before anything reaches the
 * host. Reads (a domain's state, the list of domains, the inventory, a console) are not fenced: they
 * change nothing, and the console commands of a host reach only its owner anyway.
 */
import type { RebootType } from '#libs/contracts';

import type {
  CachedImage,
  ConsoleOutputOptions,
  DestroyResult,
  DomainNic,
  DomainPowerState,
  DomainResources,
  DomainSpec,
  DomainSummary,
  ExportedDisk,
  GuestNetwork,
  GuestRouting,
  HostInventory,
  HypervisorDriver,
  ImageSource,
  NicChanges,
  PowerOffOptions,
  PowerOffResult,
  RebootOptions,
  RebootResult,
  ResizeOptions,
  SpawnResult,
  VncEndpoint,
} from '../hypervisor/index.js';
import { type HostFence, assertOwns } from './host-ownership.js';

export class FencedDriver implements HypervisorDriver {
  constructor(
    private readonly inner: HypervisorDriver,
    private readonly fence: HostFence,
  ) {}

  ensureImage(host: string, image: ImageSource): Promise<CachedImage> {
    return this.fenced(host, () => this.inner.ensureImage(host, image));
  }

  spawn(host: string, spec: DomainSpec): Promise<SpawnResult> {
    return this.fenced(host, () => this.inner.spawn(host, spec));
  }

  ensureNetwork(
    host: string,
    network: GuestNetwork,
    options?: { readonly refresh?: boolean },
  ): Promise<void> {
    return this.fenced(host, () => this.inner.ensureNetwork(host, network, options));
  }

  ensureRouting(
    host: string,
    routing: GuestRouting,
    options?: { readonly refresh?: boolean },
  ): Promise<void> {
    return this.fenced(host, () => this.inner.ensureRouting(host, routing, options));
  }

  syncNics(host: string, domainName: string, nics: readonly DomainNic[]): Promise<NicChanges> {
    return this.fenced(host, () => this.inner.syncNics(host, domainName, nics));
  }

  powerOff(host: string, domainName: string, options: PowerOffOptions): Promise<PowerOffResult> {
    return this.fenced(host, () => this.inner.powerOff(host, domainName, options));
  }

  powerOn(host: string, domainName: string): Promise<void> {
    return this.fenced(host, () => this.inner.powerOn(host, domainName));
  }

  reboot(host: string, domainName: string, type: RebootType, options?: RebootOptions): Promise<RebootResult> {
    return this.fenced(host, () => this.inner.reboot(host, domainName, type, options));
  }

  resize(host: string, domainName: string, size: DomainResources, options: ResizeOptions): Promise<void> {
    return this.fenced(host, () => this.inner.resize(host, domainName, size, options));
  }

  exportDisk(host: string, domainName: string, destination: string): Promise<ExportedDisk> {
    return this.fenced(host, () => this.inner.exportDisk(host, domainName, destination));
  }

  destroy(host: string, domainName: string): Promise<DestroyResult> {
    return this.fenced(host, () => this.inner.destroy(host, domainName));
  }

  domainResources(host: string, domainName: string): Promise<DomainResources> {
    return this.inner.domainResources(host, domainName);
  }

  powerState(host: string, domainName: string): Promise<DomainPowerState> {
    return this.inner.powerState(host, domainName);
  }

  listDomains(host: string): Promise<readonly DomainSummary[]> {
    return this.inner.listDomains(host);
  }

  vncEndpoint(host: string, domainName: string): Promise<VncEndpoint> {
    return this.inner.vncEndpoint(host, domainName);
  }

  consoleOutput(host: string, domainName: string, options?: ConsoleOutputOptions): Promise<string> {
    return this.inner.consoleOutput(host, domainName, options);
  }

  inventory(host: string): Promise<HostInventory> {
    return this.inner.inventory(host);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async fenced<T>(host: string, call: () => Promise<T>): Promise<T> {
    assertOwns(this.fence, host);
    return call();
  }
}
