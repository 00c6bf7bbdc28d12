/**
 * A HypervisorDriver that simulates hosts in memory: deterministic (no randomness, ports handed out in
 * order), with a configurable latency per operation, so the boot benchmark can run a thousand hosts on
 * one machine. It passes the same contract suite as the libvirt adapter, which is what makes a
 * benchmark on it say something about the real thing.
 * Must never be the default driver, and never touch a real host: the only I/O it does is reading the
 * local image file it is asked to "copy", to verify it as the real driver would.
 */
import { createHash } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import { PassThrough, type Duplex } from 'node:stream';

import { PATTERNS, REBOOT_TYPES, type PowerState, type RebootType } from '#libs/contracts';

import { lastLines, MAX_CONSOLE_BYTES } from '../console-output.js';
import {
  assertDomainName,
  assertTimeoutMs,
  validateDomainResources,
  nicChanges,
  validateDomainSpec,
  validateNics,
  type DomainNic,
  type DomainSpec,
} from '../domain-spec.js';
import {
  DomainConflict,
  DomainNotFound,
  DomainNotRunning,
  ImageNotCached,
  InvalidArgument,
  UnknownHost,
} from '../errors.js';
import { type GuestNetwork, validateGuestNetwork } from '../guest-network.js';
import { type GuestRouter, type GuestRouting, validateGuestRouting } from '../guest-routing.js';
import {
  isPoweredOff,
  type CachedImage,
  type ConsoleOutputOptions,
  type DestroyResult,
  type DomainResources,
  type ExportedDisk,
  type DomainPowerState,
  type DomainSummary,
  type HostInventory,
  type HypervisorDriver,
  type ImageChecksumAlgorithm,
  type ImageSource,
  type NicChanges,
  type PowerOffOptions,
  type PowerOffResult,
  type RebootOptions,
  type RebootResult,
  type ResizeOptions,
  type SpawnResult,
  type VncEndpoint,
  type VncTunnels,
} from '../hypervisor-driver.js';
import {
  statImageSource,
  validateImageSource,
  verifyChecksum,
  verifySize,
  verifyStandaloneQcow2,
} from '../image-source.js';
import { KeyedMutex, SingleFlight } from '#libs/concurrency';

export type FakeOperation =
  | 'ensureImage'
  | 'spawn'
  | 'powerOff'
  | 'powerOn'
  | 'reboot'
  | 'exportDisk'
  | 'resize'
  | 'destroy'
  | 'powerState'
  | 'listDomains'
  | 'vncEndpoint'
  | 'consoleOutput'
  | 'inventory';

export interface FakeHypervisorOptions {
  /** The simulated hosts' names (DNS labels), e.g. `sim-0001` to `sim-1000`. */
  readonly hosts: readonly string[];
  /** Added to each operation, in ms (a simulated image copy, boot, ...); 0 when absent. */
  readonly latencyMs?: Partial<Record<FakeOperation, number>>;
  /**
   * Whether simulated guests act on ACPI requests. False by default, like the project's boot image,
   * which halts: graceful power-off then times out and is forced, and SOFT reboots fall back to HARD.
   */
  readonly guestHonoursAcpi?: boolean;
  /** What a simulated guest prints on its serial console at each boot. */
  readonly bootBanner?: string;
  /** What every simulated host reports. */
  readonly inventory?: HostInventory;
  /** The default SOFT reboot timeout, as the real driver's (Nova's 120 s). */
  readonly softRebootTimeoutMs?: number;
  /** How the fake waits (latency, ACPI timeouts); a benchmark can pass a virtual clock. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export const FAKE_BOOT_BANNER = 'Nimbus guest booted';
const FIRST_VNC_PORT = 5900;
const DEFAULT_INVENTORY: HostInventory = {
  vcpus: 32,
  memoryMib: 131072,
  diskGbTotal: 1000,
  diskGbFree: 1000,
};
/** The first bytes of a qcow2 file ("QFI\xfb"), then version (4 bytes), then backing_file_offset (8). */
const QCOW2_MAGIC = 0x514649fb;

interface FakeDomain {
  spec: DomainSpec;
  state: PowerState;
  vncPort: number | undefined;
  consoleLog: string;
}

interface FakeHost {
  readonly name: string;
  /** Image id to size, where its bytes came from, and the number of times it was copied in. */
  readonly images: Map<string, { sizeBytes: number; sourcePath: string; copies: number }>;
  readonly domains: Map<string, FakeDomain>;
  /** Instance id to the files of its folder, as the real driver lays them out. */
  readonly instanceFiles: Map<string, Set<string>>;
  /** Network id to what the host serves for it: held, never served (a fake host has no wire). */
  readonly networks: Map<string, GuestNetwork>;
  /** Network id to the routers served on it, by router id. */
  readonly routings: Map<string, Map<string, GuestRouter>>;
}

interface ImageFacts {
  readonly sizeBytes: number;
  readonly digests: ReadonlyMap<ImageChecksumAlgorithm, string>;
  readonly format: string;
  readonly hasBackingFile: boolean;
}

export class FakeHypervisorDriver implements HypervisorDriver, VncTunnels {
  private readonly hosts: ReadonlyMap<string, FakeHost>;
  private readonly latency: Partial<Record<FakeOperation, number>>;
  private readonly guestHonoursAcpi: boolean;
  private readonly bootBanner: string;
  private readonly hostInventory: HostInventory;
  private readonly softRebootTimeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly imageCopies = new SingleFlight<CachedImage>();
  /** One change at a time per domain, as in the real driver, so interleavings match. */
  private readonly domainLocks = new KeyedMutex();
  /** Facts about local image files, keyed by path, size and mtime: read once however many hosts copy it. */
  private readonly imageFacts = new Map<string, Promise<ImageFacts>>();
  private closed = false;

  constructor(options: FakeHypervisorOptions) {
    const names = [...options.hosts];
    for (const name of names) {
      if (!PATTERNS.hostName.test(name)) throw new InvalidArgument(`fake host name must be one DNS label`);
    }
    if (new Set(names).size !== names.length) throw new InvalidArgument('fake host names must be unique');
    this.hosts = new Map(
      names.map((name) => [
        name,
        {
          name,
          images: new Map(),
          domains: new Map(),
          instanceFiles: new Map(),
          networks: new Map(),
          routings: new Map(),
        },
      ]),
    );
    this.latency = options.latencyMs ?? {};
    this.guestHonoursAcpi = options.guestHonoursAcpi ?? false;
    this.bootBanner = options.bootBanner ?? FAKE_BOOT_BANNER;
    this.hostInventory = options.inventory ?? DEFAULT_INVENTORY;
    this.softRebootTimeoutMs = options.softRebootTimeoutMs ?? 120_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async ensureImage(host: string, image: ImageSource): Promise<CachedImage> {
    const target = this.host(host);
    validateImageSource(image);
    const { value, shared } = await this.imageCopies.run(`${host}/${image.id}`, async () => {
      const facts = await this.factsOf(image);
      verifySize(image, facts.sizeBytes);
      const cached = target.images.get(image.id);
      if (cached?.sizeBytes === facts.sizeBytes) {
        return { imageId: image.id, sizeBytes: facts.sizeBytes, uploaded: false };
      }
      await this.delay('ensureImage'); // the simulated copy
      verifyChecksum(image, facts.digests);
      verifyStandaloneQcow2(image.id, facts.format, facts.hasBackingFile ? 'a backing file' : undefined);
      target.images.set(image.id, {
        sizeBytes: facts.sizeBytes,
        sourcePath: image.sourcePath,
        copies: (cached?.copies ?? 0) + 1,
      });
      return { imageId: image.id, sizeBytes: facts.sizeBytes, uploaded: true };
    });
    return shared ? { ...value, uploaded: false } : value;
  }

  /** Kept as the real driver keeps it (never an older revision over a newer one); no DHCP is served. */
  ensureNetwork(
    host: string,
    network: GuestNetwork,
    options: { readonly refresh?: boolean } = {},
  ): Promise<void> {
    const target = this.host(host);
    validateGuestNetwork(network);
    const held = target.networks.get(network.networkId);
    if (options.refresh && held === undefined) return Promise.resolve();
    if (held === undefined || held.revision <= network.revision)
      target.networks.set(network.networkId, network);
    return Promise.resolve();
  }

  /** Kept as the real driver keeps it: a router read from older revisions than the one held is not taken. */
  ensureRouting(
    host: string,
    routing: GuestRouting,
    options: { readonly refresh?: boolean } = {},
  ): Promise<void> {
    const target = this.host(host);
    validateGuestRouting(routing);
    const held = target.routings.get(routing.networkId);
    if (options.refresh && held === undefined && !target.networks.has(routing.networkId)) {
      return Promise.resolve();
    }
    const next = new Map<string, GuestRouter>();
    for (const router of routing.routers) {
      const before = held?.get(router.id);
      const older =
        before !== undefined &&
        Object.entries(router.versions).some(
          ([stream, revision]) => revision < (before.versions[stream] ?? 0),
        );
      next.set(router.id, older ? before : router);
    }
    target.routings.set(routing.networkId, next);
    return Promise.resolve();
  }

  /** The routers the host serves on a network, for tests. */
  servedRouting(host: string, networkId: string): readonly GuestRouter[] {
    return [...(this.host(host).routings.get(networkId)?.values() ?? [])];
  }

  /** What the host holds for a network, for tests. */
  servedNetwork(host: string, networkId: string): GuestNetwork | undefined {
    return this.host(host).networks.get(networkId);
  }

  async spawn(host: string, spec: DomainSpec): Promise<SpawnResult> {
    return this.exclusive(host, spec.name, async () => {
      const target = this.host(host);
      validateDomainSpec(spec);
      await this.delay('spawn');
      const existing = target.domains.get(spec.name);
      if (existing) {
        if (existing.spec.instanceId !== spec.instanceId) {
          throw new DomainConflict(`${host} already has a domain ${spec.name} with another uuid`);
        }
        if (existing.state === 'paused') existing.state = 'running';
        else if (existing.state !== 'running') this.boot(target, existing);
        return { domainName: spec.name, created: false };
      }
      if (!target.images.has(spec.imageId)) throw new ImageNotCached(host, spec.imageId);
      const domain: FakeDomain = { spec, state: 'shutoff', vncPort: undefined, consoleLog: '' };
      target.domains.set(spec.name, domain);
      target.instanceFiles.set(spec.instanceId, new Set(['disk.qcow2', 'domain.xml']));
      this.boot(target, domain);
      return { domainName: spec.name, created: true };
    });
  }

  async powerOff(host: string, domainName: string, options: PowerOffOptions): Promise<PowerOffResult> {
    return this.exclusive(host, domainName, async () => {
      const target = this.host(host);
      assertTimeoutMs(options.timeoutMs, 'powerOff');
      const domain = this.domain(target, domainName);
      await this.delay('powerOff');
      if (isPoweredOff(domain.state)) return { forced: false };
      if (options.timeoutMs > 0 && domain.state !== 'paused') {
        if (this.guestHonoursAcpi) {
          this.halt(domain);
          return { forced: false };
        }
        await this.sleep(options.timeoutMs); // the guest ignores the request until the timeout
        if (isPoweredOff(domain.state)) return { forced: false };
      }
      this.halt(domain);
      return { forced: true };
    });
  }

  /** As the real driver does it, on the domain's spec: its NICs become `nics`. */
  async syncNics(host: string, domainName: string, nics: readonly DomainNic[]): Promise<NicChanges> {
    validateNics(nics);
    return this.exclusive(host, domainName, () => {
      const domain = this.host(host).domains.get(domainName);
      if (!domain) return Promise.resolve({ attached: [], detached: [] });
      const { added, removed } = nicChanges(domain.spec.nics, nics);
      domain.spec = { ...domain.spec, nics: [...nics] };
      return Promise.resolve({
        attached: added.map((nic) => nic.portId),
        detached: removed.map((nic) => nic.portId),
      });
    });
  }

  async powerOn(host: string, domainName: string): Promise<void> {
    return this.exclusive(host, domainName, async () => {
      const target = this.host(host);
      const domain = this.domain(target, domainName);
      await this.delay('powerOn');
      if (domain.state === 'paused') domain.state = 'running';
      else if (isPoweredOff(domain.state)) this.boot(target, domain);
    });
  }

  async reboot(
    host: string,
    domainName: string,
    type: RebootType,
    options: RebootOptions = {},
  ): Promise<RebootResult> {
    return this.exclusive(host, domainName, async () => {
      const target = this.host(host);
      const domain = this.domain(target, domainName);
      if (!REBOOT_TYPES.includes(type)) throw new InvalidArgument('reboot type must be SOFT or HARD');
      await this.delay('reboot');
      if (type === 'SOFT' && domain.state === 'running') {
        if (this.guestHonoursAcpi) {
          domain.consoleLog += `${this.bootBanner}\r\n`; // a reboot in place keeps the VNC port
          return { type: 'SOFT' };
        }
        await this.sleep(options.softTimeoutMs ?? this.softRebootTimeoutMs);
      }
      this.halt(domain);
      this.boot(target, domain);
      return { type: 'HARD' };
    });
  }

  async resize(
    host: string,
    domainName: string,
    size: DomainResources,
    options: ResizeOptions,
  ): Promise<void> {
    return this.exclusive(host, domainName, async () => {
      const target = this.host(host);
      const domain = this.domain(target, domainName);
      validateDomainResources(size);
      assertTimeoutMs(options.timeoutMs, 'resize');
      await this.delay('resize');
      const { vcpus, memoryMib } = domain.spec;
      if (vcpus !== size.vcpus || memoryMib !== size.memoryMib) {
        this.halt(domain);
        domain.spec = { ...domain.spec, ...size };
      }
      if (!options.running) this.halt(domain);
      else if (domain.state === 'paused') domain.state = 'running';
      else if (isPoweredOff(domain.state)) this.boot(target, domain);
    });
  }

  domainResources(host: string, domainName: string): Promise<DomainResources> {
    return this.exclusive(host, domainName, async () => {
      const { vcpus, memoryMib } = this.domain(this.host(host), domainName).spec;
      await this.delay('powerState');
      return { vcpus, memoryMib };
    });
  }

  /** A fake guest never writes to its disk, so the flattened disk is the base image's bytes. */
  async exportDisk(host: string, domainName: string, destination: string): Promise<ExportedDisk> {
    return this.exclusive(host, domainName, async () => {
      const target = this.host(host);
      const domain = this.domain(target, domainName);
      const base = target.images.get(domain.spec.imageId);
      if (!base) throw new ImageNotCached(host, domain.spec.imageId);
      await this.delay('exportDisk');
      await copyFile(base.sourcePath, destination);
      return { sizeBytes: base.sizeBytes };
    });
  }

  async destroy(host: string, domainName: string): Promise<DestroyResult> {
    return this.exclusive(host, domainName, async () => {
      const target = this.host(host);
      const instanceId = assertDomainName(domainName);
      await this.delay('destroy');
      const domain = target.domains.get(domainName);
      if (domain) this.halt(domain);
      target.domains.delete(domainName);
      target.instanceFiles.delete(instanceId);
      return { existed: domain !== undefined };
    });
  }

  async powerState(host: string, domainName: string): Promise<DomainPowerState> {
    const target = this.host(host);
    assertDomainName(domainName);
    await this.delay('powerState');
    return target.domains.get(domainName)?.state ?? 'absent';
  }

  async listDomains(host: string): Promise<readonly DomainSummary[]> {
    const target = this.host(host);
    await this.delay('listDomains');
    return [...target.domains.values()].map((domain) => ({
      name: domain.spec.name,
      uuid: domain.spec.instanceId,
      instanceId: domain.spec.instanceId,
      powerState: domain.state,
    }));
  }

  async vncEndpoint(host: string, domainName: string): Promise<VncEndpoint> {
    const target = this.host(host);
    const domain = this.domain(target, domainName);
    await this.delay('vncEndpoint');
    if (domain.vncPort === undefined) throw new DomainNotRunning(host, domainName);
    return { address: '127.0.0.1', port: domain.vncPort };
  }

  async consoleOutput(host: string, domainName: string, options: ConsoleOutputOptions = {}): Promise<string> {
    const target = this.host(host);
    const domain = this.domain(target, domainName);
    const length = options.length;
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
      throw new InvalidArgument('console output length must be a non-negative integer');
    }
    await this.delay('consoleOutput');
    const log = domain.consoleLog;
    const truncated = log.length > MAX_CONSOLE_BYTES;
    return lastLines(truncated ? log.slice(-MAX_CONSOLE_BYTES) : log, truncated, length);
  }

  async inventory(host: string): Promise<HostInventory> {
    this.host(host);
    await this.delay('inventory');
    return this.hostInventory;
  }

  /** A simulated VNC server: the RFB 3.8 greeting, then silence. */
  async openVncTunnel(host: string, endpoint: VncEndpoint): Promise<Duplex> {
    const target = this.host(host);
    await this.delay('vncEndpoint');
    const address: string = endpoint.address; // typed, but it may come off the wire
    const listening = [...target.domains.values()].some((domain) => domain.vncPort === endpoint.port);
    if (address !== '127.0.0.1' || !listening) {
      throw new InvalidArgument(`nothing listens on ${address}:${endpoint.port} of ${host}`);
    }
    const stream = new PassThrough();
    stream.write('RFB 003.008\n');
    return stream;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.resolve();
  }

  /** Test aid: how many times an image was copied to a host (0 when it is not cached). */
  imageCopiesOf(host: string, imageId: string): number {
    return this.host(host).images.get(imageId)?.copies ?? 0;
  }

  /** Test aid: the files of an instance's folder on a host, as the real driver would leave them. */
  instanceFilesOf(host: string, instanceId: string): string[] {
    return [...(this.host(host).instanceFiles.get(instanceId) ?? [])].sort();
  }

  private exclusive<T>(host: string, domainName: string, task: () => Promise<T>): Promise<T> {
    return this.domainLocks.run(`${host}/${domainName}`, task);
  }

  private host(name: string): FakeHost {
    if (this.closed) throw new InvalidArgument('the fake driver is closed');
    const host = typeof name === 'string' ? this.hosts.get(name) : undefined;
    if (!host) throw new UnknownHost(name);
    return host;
  }

  private domain(host: FakeHost, domainName: string): FakeDomain {
    assertDomainName(domainName);
    const domain = host.domains.get(domainName);
    if (!domain) throw new DomainNotFound(host.name, domainName);
    return domain;
  }

  private boot(host: FakeHost, domain: FakeDomain): void {
    domain.state = 'running';
    domain.vncPort = this.freeVncPort(host);
    domain.consoleLog += `${this.bootBanner}\r\n`;
    host.instanceFiles.get(domain.spec.instanceId)?.add('console.log');
  }

  private halt(domain: FakeDomain): void {
    domain.state = 'shutoff';
    domain.vncPort = undefined;
  }

  /** The lowest port no running domain of the host holds, as libvirt's autoport picks. */
  private freeVncPort(host: FakeHost): number {
    const taken = new Set([...host.domains.values()].map((domain) => domain.vncPort));
    let port = FIRST_VNC_PORT;
    while (taken.has(port)) port += 1;
    return port;
  }

  private async delay(operation: FakeOperation): Promise<void> {
    const ms = this.latency[operation] ?? 0;
    if (ms > 0) await this.sleep(ms);
  }

  private factsOf(image: ImageSource): Promise<ImageFacts> {
    return statImageSource(image).then((info) => {
      const key = `${image.sourcePath}:${info.size}:${info.mtimeMs}`;
      let facts = this.imageFacts.get(key);
      if (!facts) {
        facts = readFile(image.sourcePath).then(imageFacts);
        facts.catch(() => this.imageFacts.delete(key));
        this.imageFacts.set(key, facts);
      }
      return facts;
    });
  }
}

function imageFacts(bytes: Buffer): ImageFacts {
  const isQcow2 = bytes.length >= 16 && bytes.readUInt32BE(0) === QCOW2_MAGIC;
  return {
    sizeBytes: bytes.length,
    digests: new Map(
      (['sha256', 'sha512'] as const).map((algorithm) => [
        algorithm,
        createHash(algorithm).update(bytes).digest('hex'),
      ]),
    ),
    format: isQcow2 ? 'qcow2' : 'raw',
    hasBackingFile: isQcow2 && bytes.readBigUInt64BE(8) !== 0n,
  };
}
