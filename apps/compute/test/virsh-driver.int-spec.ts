/**
 * The libvirt-over-SSH driver against the project's hypervisor rig: the shared HypervisorDriver contract
 * on two real hosts (TCG guests booting the project's image), then what only a real host can show: the
 * generated XML against libvirt's own schema, a refused host key, an sshd killed under a running
 * operation, sshd down while commands wait, and an agent restart that finds its cache and domains.
 * Needs root and the Debian packages in deploy/rig/README.md. Leaves no domain, qemu, sshd or libvirt
 * daemon behind: the rig is destroyed, users included, in afterAll.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { fingerprintOfKnownHostsLine, HostKeyMismatch } from '#libs/host-ssh';

import { sleep } from '../../../test/support/eventually.js';
import { BOOT_BANNER, createRig, destroyRig, rigPaths, type RigInventory } from '../../../deploy/rig/rig.js';
import { describeHypervisorDriverContract } from '../src/hypervisor/contract/driver-contract.js';
import { domainSpec } from '../src/hypervisor/domain-spec.js';
import { HostUnreachable, HypervisorOperationFailed } from '../src/hypervisor/errors.js';
import { renderDomainXml } from '../src/hypervisor/libvirt/domain-xml.js';
import { hostConfigsFromInventory, type LibvirtHostConfig } from '../src/hypervisor/libvirt/host-config.js';
import { cachedImagePath, instancePaths } from '../src/hypervisor/libvirt/host-layout.js';
import { VirshDriver, type VirshDriverOptions } from '../src/hypervisor/libvirt/virsh-driver.js';

const run = promisify(execFile);

const NAME_PREFIX = `hv${randomUUID().replaceAll('-', '').slice(0, 8)}`;

let stateDir: string;
let rig: RigInventory;
let hosts: readonly LibvirtHostConfig[];

function hostConfig(name: string): LibvirtHostConfig {
  const host = hosts.find((candidate) => candidate.name === name);
  if (!host) throw new Error(`no rig host ${name}`);
  return host;
}

function newDriver(overrides: Partial<VirshDriverOptions> = {}): VirshDriver {
  return new VirshDriver({
    hosts,
    pollIntervalMs: 100,
    session: { connectWaitMs: 20_000, keepaliveIntervalMs: 2_000, handshakeTimeoutMs: 5_000 },
    ...overrides,
  });
}

/** Every descendant of a process, read from /proc (ppid is field 4 of /proc/<pid>/stat). */
async function descendantsOf(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isInteger(ppid)) parents.set(Number(entry), ppid);
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents) {
      if (parent === pid) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}

async function sshdPid(): Promise<number> {
  return Number((await readFile(rigPaths(stateDir).sshdPid, 'utf8')).trim());
}

/** SIGKILLs the given processes of this test's rig, by id. */
function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'nimbus-virsh-driver-it-'));
  rig = await createRig({ stateDir, hosts: 2, sshPort: 0, namePrefix: NAME_PREFIX });
  hosts = hostConfigsFromInventory(rig);
}, 60_000);

afterAll(async () => {
  if (stateDir) {
    await destroyRig(stateDir, { removeUsers: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}, 60_000);

describeHypervisorDriverContract(
  'VirshDriver on the hypervisor rig',
  () => {
    const driver = newDriver();
    return Promise.resolve({
      driver,
      hosts: [hosts[0]!.name, hosts[1]!.name],
      bootImagePath: rig.bootImagePath,
      bootBanner: BOOT_BANNER,
      guestHonoursAcpi: false, // the boot sector halts: ACPI requests go unanswered
      gracefulTimeoutMs: 1_500,
      bootTimeoutMs: 15_000,
      cachedImageIdentity: async (host, imageId) => {
        const info = await stat(cachedImagePath(hostConfig(host), imageId)).catch(() => undefined);
        return info ? `${info.ino}:${info.mtimeMs}` : undefined;
      },
      instanceFiles: async (host, instanceId) =>
        readdir(instancePaths(hostConfig(host), instanceId).dir).catch(() => []),
      teardown: () => driver.close(),
    });
  },
  { testTimeoutMs: 30_000 },
);

describe('VirshDriver on a real host', () => {
  const image = { id: randomUUID(), sourcePath: '' };

  beforeAll(() => {
    image.sourcePath = rig.bootImagePath;
  });

  it('generates domain XML that libvirt schema validation accepts', async () => {
    const host = hosts[0]!;
    const spec = domainSpec({ instanceId: randomUUID(), vcpus: 1, memoryMib: 64, imageId: image.id });
    const paths = instancePaths(host, spec.instanceId);
    const file = path.join(stateDir, 'domain.xml');
    await writeFile(
      file,
      renderDomainXml({ spec, virtType: 'qemu', diskPath: paths.disk, consoleLogPath: paths.consoleLog }),
    );
    // Rejects on a non-zero exit; the verdict goes to stdout or stderr depending on the libvirt release.
    const { stdout, stderr } = await run('virt-xml-validate', [file, 'domain']);
    expect(`${stdout}${stderr}`).toMatch(/validates/);
  });

  it('leaves neither a domain nor files behind when a spawn fails on the host', async () => {
    const driver = newDriver();
    const host = hosts[0]!.name;
    try {
      await driver.ensureImage(host, image);
      // Valid for Nimbus, but more than QEMU's `pc` machine takes: libvirt refuses to define it.
      const spec = domainSpec({ instanceId: randomUUID(), vcpus: 1024, memoryMib: 64, imageId: image.id });
      const spawn = driver.spawn(host, spec);
      await expect(spawn).rejects.toBeInstanceOf(HypervisorOperationFailed);
      await expect(spawn).rejects.toThrow(/Maximum CPUs greater than specified machine type limit/);
      expect(await driver.powerState(host, spec.name)).toBe('absent');
      await expect(stat(instancePaths(hostConfig(host), spec.instanceId).dir)).rejects.toThrow(/ENOENT/);
    } finally {
      await driver.close();
    }
  });

  it('refuses a host whose key is not the pinned one, with both fingerprints, and sends it nothing', async () => {
    // The client's own public key stands in for an impostor's host key.
    const clientKey = (await readFile(`${rig.privateKeyPath}.pub`, 'utf8')).trim();
    const wrongPin = fingerprintOfKnownHostsLine(`[127.0.0.1]:${rig.sshPort} ${clientKey}`);
    const driver = newDriver({ hosts: hosts.map((host) => ({ ...host, hostKeyFingerprint: wrongPin })) });
    try {
      const attempt = driver.powerState(hosts[0]!.name, `nimbus-${randomUUID()}`);
      await expect(attempt).rejects.toBeInstanceOf(HostUnreachable);
      await expect(attempt).rejects.toMatchObject({ cause: expect.any(HostKeyMismatch) });
      await expect(attempt).rejects.toThrow(
        `it presented host key ${rig.hostKeyFingerprint}, but ${wrongPin} is pinned for it`,
      );
      await expect(driver.listDomains(hosts[0]!.name)).rejects.toMatchObject({ retryable: false });
      expect(driver.sessionStats(hosts[0]!.name).connects).toBe(0);
    } finally {
      await driver.close();
    }
  });

  it('finishes an operation whose sshd is killed under it, by reconnecting and running the command again', async () => {
    const log: string[] = [];
    const driver = newDriver({ log: (line) => log.push(line) });
    const host = hosts[0]!.name;
    try {
      await driver.ensureImage(host, image);
      const spec = domainSpec({
        instanceId: randomUUID(),
        vcpus: 1,
        memoryMib: 64,
        imageId: image.id,
        rootDiskGb: 1,
      });
      await driver.spawn(host, spec);
      const sessions = await descendantsOf(await sshdPid());
      expect(sessions.length).toBeGreaterThan(0); // our connection's [priv] and user processes

      // The guest ignores ACPI, so a SOFT reboot sits in `virsh event` for the whole timeout: a command
      // certainly in flight when its sshd is killed.
      const reboot = driver.reboot(host, spec.name, 'SOFT', { softTimeoutMs: 3_000 });
      await sleep(1_000);
      killAll(sessions);

      expect(await reboot).toEqual({ type: 'HARD' });
      expect(await driver.powerState(host, spec.name)).toBe('running');
      expect(driver.sessionStats(host)).toMatchObject({ connected: true, connects: 2 });
      expect(log.some((line) => /connection lost during .*virsh .*event/.test(line))).toBe(true);
      await driver.destroy(host, spec.name);
    } finally {
      await driver.close();
    }
  }, 45_000);

  it('keeps commands waiting while sshd is down and runs them once it is back', async () => {
    const driver = newDriver();
    const host = hosts[1]!.name;
    try {
      expect(await driver.listDomains(host)).toEqual([]);
      const pid = await sshdPid();
      killAll([pid, ...(await descendantsOf(pid))]);

      const waiting = driver.listDomains(host);
      await sleep(1_500); // several refused attempts, backing off
      expect(driver.sessionStats(host).connected).toBe(false);
      await createRig({ stateDir, hosts: 2, sshPort: 0, namePrefix: NAME_PREFIX }); // restarts sshd, same port

      expect(await waiting).toEqual([]);
      expect(driver.sessionStats(host)).toMatchObject({ connected: true, connects: 2 });
    } finally {
      await driver.close();
    }
  }, 45_000);

  it('finds its image cache and its domains again after an agent restart, copying and defining nothing twice', async () => {
    const host = hosts[1]!.name;
    const spec = domainSpec({
      instanceId: randomUUID(),
      vcpus: 1,
      memoryMib: 64,
      imageId: image.id,
      rootDiskGb: 1,
    });
    const first = newDriver();
    let identity: string;
    try {
      await first.ensureImage(host, image);
      const cached = await stat(cachedImagePath(hostConfig(host), image.id));
      identity = `${cached.ino}:${cached.mtimeMs}`;
      await first.spawn(host, spec);
    } finally {
      await first.close();
    }

    const second = newDriver();
    try {
      expect(await second.ensureImage(host, image)).toMatchObject({ uploaded: false });
      const cached = await stat(cachedImagePath(hostConfig(host), image.id));
      expect(`${cached.ino}:${cached.mtimeMs}`).toBe(identity);
      expect(await second.spawn(host, spec)).toEqual({ domainName: spec.name, created: false });
      expect(await second.listDomains(host)).toEqual([
        { name: spec.name, uuid: spec.instanceId, instanceId: spec.instanceId, powerState: 'running' },
      ]);
      await second.destroy(host, spec.name);
    } finally {
      await second.close();
    }
  }, 45_000);

  it('closes its SSH connections when closed, leaving sshd serving no one', async () => {
    const driver = newDriver();
    await driver.inventory(hosts[0]!.name);
    expect((await descendantsOf(await sshdPid())).length).toBeGreaterThan(0);
    await driver.close();
    const deadline = Date.now() + 5_000;
    while ((await descendantsOf(await sshdPid())).length > 0 && Date.now() < deadline) {
      await sleep(100);
    }
    expect(await descendantsOf(await sshdPid())).toEqual([]);
  });
});
