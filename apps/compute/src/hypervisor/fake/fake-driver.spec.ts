import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describeHypervisorDriverContract, type DriverContractFixture } from '../contract/driver-contract.js';
import { domainSpec } from '../domain-spec.js';
import { tinyQcow2 } from '../testing/images.js';
import { FAKE_BOOT_BANNER, FakeHypervisorDriver } from './fake-driver.js';

async function fakeFixture(guestHonoursAcpi: boolean): Promise<DriverContractFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nimbus-fake-driver-'));
  const bootImagePath = path.join(dir, 'boot.qcow2');
  await writeFile(bootImagePath, tinyQcow2());
  const driver = new FakeHypervisorDriver({ hosts: ['sim-1', 'sim-2'], guestHonoursAcpi });
  return {
    driver,
    hosts: ['sim-1', 'sim-2'],
    bootImagePath,
    bootBanner: FAKE_BOOT_BANNER,
    guestHonoursAcpi,
    gracefulTimeoutMs: 50,
    bootTimeoutMs: 1_000,
    cachedImageIdentity: (host, imageId) => {
      const copies = driver.imageCopiesOf(host, imageId);
      return Promise.resolve(copies === 0 ? undefined : `copy ${copies}`);
    },
    instanceFiles: (host, instanceId) => Promise.resolve(driver.instanceFilesOf(host, instanceId)),
    teardown: async () => {
      await driver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeHypervisorDriverContract('FakeHypervisorDriver (guests that ignore ACPI)', () => fakeFixture(false));
describeHypervisorDriverContract('FakeHypervisorDriver (guests that honour ACPI)', () => fakeFixture(true));

describe(FakeHypervisorDriver.name, () => {
  const image = { id: randomUUID(), sourcePath: '' };
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nimbus-fake-driver-'));
    image.sourcePath = path.join(dir, 'boot.qcow2');
    await writeFile(image.sourcePath, tinyQcow2());
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes the configured time for each operation, through the sleep it was given', async () => {
    const slept: number[] = [];
    const driver = new FakeHypervisorDriver({
      hosts: ['sim-1'],
      latencyMs: { ensureImage: 400, spawn: 1200 },
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    });
    await driver.ensureImage('sim-1', image);
    await driver.ensureImage('sim-1', image); // cached: no copy, no copy time
    await driver.spawn(
      'sim-1',
      domainSpec({ instanceId: randomUUID(), vcpus: 1, memoryMib: 64, imageId: image.id }),
    );
    expect(slept).toEqual([400, 1200]);
  });

  it('is deterministic: the same calls give the same VNC ports and console output', async () => {
    const run = async () => {
      const driver = new FakeHypervisorDriver({ hosts: ['sim-1'] });
      await driver.ensureImage('sim-1', image);
      const ids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];
      const specs = ids.map((instanceId) =>
        domainSpec({ instanceId, vcpus: 1, memoryMib: 64, imageId: image.id }),
      );
      for (const spec of specs) await driver.spawn('sim-1', spec);
      return Promise.all(
        specs.map(async (spec) => [
          await driver.vncEndpoint('sim-1', spec.name),
          await driver.consoleOutput('sim-1', spec.name),
        ]),
      );
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.map(([endpoint]) => endpoint)).toEqual([
      { address: '127.0.0.1', port: 5900 },
      { address: '127.0.0.1', port: 5901 },
    ]);
  });

  it('serves a thousand simulated hosts from one instance', async () => {
    const hosts = Array.from({ length: 1000 }, (_, i) => `sim-${String(i + 1).padStart(4, '0')}`);
    const driver = new FakeHypervisorDriver({ hosts });
    await Promise.all(hosts.map((host) => driver.ensureImage(host, image)));
    const specs = hosts.map(() =>
      domainSpec({ instanceId: randomUUID(), vcpus: 1, memoryMib: 64, imageId: image.id }),
    );
    await Promise.all(hosts.map((host, i) => driver.spawn(host, specs[i]!)));
    const states = await Promise.all(hosts.map((host, i) => driver.powerState(host, specs[i]!.name)));
    expect(new Set(states)).toEqual(new Set(['running']));
  });

  it('refuses host names that are not DNS labels, and duplicates', () => {
    expect(() => new FakeHypervisorDriver({ hosts: ['Bad_Host'] })).toThrow(/DNS label/);
    expect(() => new FakeHypervisorDriver({ hosts: ['a', 'a'] })).toThrow(/unique/);
  });
});
