/**
 * The HypervisorDriver contract as a test suite, written once and run against every driver: the fake
 * in its spec, the libvirt adapter against the rig in its integration test. What it checks is what the
 * compute agent relies on; a behaviour one driver has and the other lacks is a bug in one of them.
 * Must never special-case a driver: anything driver-specific comes in through the fixture.
 * The tests build on each other (one domain is spawned, stopped, started, rebooted and destroyed), so
 * they run in order and share their state (context.ts), as a real instance's life does. The image
 * tests are image-contract.ts; a domain's life, the refusals, inventory and host isolation are here.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { domainNameOf, type DomainSpec } from '../domain-spec.js';
import { DomainNotFound, DomainNotRunning, InvalidArgument, UnknownHost } from '../errors.js';
import { ContractContext, type DriverContractFixture } from './context.js';
import { describeImageContract } from './image-contract.js';

export type { DriverContractFixture } from './context.js';

export interface ContractOptions {
  /** Per test; real hosts need more than the fake. */
  readonly testTimeoutMs?: number;
}

/** Registers the contract suite for one driver. Call it at the top level of a spec file. */
export function describeHypervisorDriverContract(
  name: string,
  factory: () => Promise<DriverContractFixture>,
  options: ContractOptions = {},
): void {
  const timeout = options.testTimeoutMs ?? 30_000;

  describe(`${name} honours the HypervisorDriver contract`, () => {
    const ctx = new ContractContext();
    let ready = false;
    let spec: DomainSpec;

    beforeAll(async () => {
      const fixture = await factory();
      ready = true;
      ctx.fixture = fixture;
      ctx.driver = fixture.driver;
      ctx.host = fixture.hosts[0];
      ctx.scratch = await mkdtemp(path.join(tmpdir(), 'nimbus-driver-contract-'));
      ctx.image = { id: randomUUID(), sourcePath: fixture.bootImagePath };
    }, 60_000);

    afterAll(async () => {
      if (!ready) return; // the factory failed: there is nothing to tear down
      for (const domain of ctx.spawned)
        await ctx.driver.destroy(domain.host, domain.name).catch(() => undefined);
      await ctx.fixture.teardown();
      await rm(ctx.scratch, { recursive: true, force: true });
    }, 60_000);

    describeImageContract(ctx, timeout);

    describe('a domain through its life', () => {
      it(
        'spawns a domain that runs and is listed with its instance id',
        async () => {
          const { driver, host, image, fixture, spawned, newSpec } = ctx;
          spec = newSpec(image.id);
          spawned.push({ host, name: spec.name });
          expect(await driver.spawn(host, spec)).toEqual({ domainName: spec.name, created: true });
          expect(await driver.powerState(host, spec.name)).toBe('running');
          expect(await driver.listDomains(host)).toContainEqual({
            name: spec.name,
            uuid: spec.instanceId,
            instanceId: spec.instanceId,
            powerState: 'running',
          });
          expect(await fixture.instanceFiles(host, spec.instanceId)).toContain('disk.qcow2');
        },
        timeout,
      );

      it(
        "shows the guest's boot banner in its console output, and only the last lines when asked",
        async () => {
          const { driver, host, fixture, eventually, banners } = ctx;
          await eventually('the boot banner', async () =>
            (await banners(spec.name)) > 0 ? true : undefined,
          );
          const last = await driver.consoleOutput(host, spec.name, { length: 1 });
          expect(last.trimEnd()).toBe(fixture.bootBanner);
          expect(await driver.consoleOutput(host, spec.name, { length: 0 })).toBe('');
        },
        timeout,
      );

      it(
        'serves the VNC console on the host loopback, greeting with RFB 003.008',
        async () => {
          const { driver, host } = ctx;
          const endpoint = await driver.vncEndpoint(host, spec.name);
          expect(endpoint.address).toBe('127.0.0.1');
          expect(endpoint.port).toBeGreaterThanOrEqual(5900);
          expect(await readBanner(await driver.openVncTunnel(host, endpoint))).toBe('RFB 003.008\n');
        },
        timeout,
      );

      it(
        'treats a second spawn of the same domain as done, defining nothing twice',
        async () => {
          const { driver, host } = ctx;
          expect(await driver.spawn(host, spec)).toEqual({ domainName: spec.name, created: false });
          const listed = (await driver.listDomains(host)).filter((domain) => domain.name === spec.name);
          expect(listed).toHaveLength(1);
          expect(await driver.powerState(host, spec.name)).toBe('running');
        },
        timeout,
      );

      it(
        'lets concurrent spawns of one domain create it once (a duplicated HostSelected)',
        async () => {
          const { driver, host, image, spawned, newSpec } = ctx;
          const twin = newSpec(image.id);
          spawned.push({ host, name: twin.name });
          const results = await Promise.all([driver.spawn(host, twin), driver.spawn(host, twin)]);
          expect(results.map((result) => result.created).sort()).toEqual([false, true]);
          expect((await driver.listDomains(host)).filter((domain) => domain.name === twin.name)).toHaveLength(
            1,
          );
          expect(await driver.powerState(host, twin.name)).toBe('running');
          expect(await driver.destroy(host, twin.name)).toEqual({ existed: true });
        },
        timeout,
      );

      it(
        'powers off gracefully when the guest cooperates and by force after the timeout when not',
        async () => {
          const { driver, host, fixture } = ctx;
          const started = Date.now();
          const result = await driver.powerOff(host, spec.name, { timeoutMs: fixture.gracefulTimeoutMs });
          expect(result).toEqual({ forced: !fixture.guestHonoursAcpi });
          if (result.forced) expect(Date.now() - started).toBeGreaterThanOrEqual(fixture.gracefulTimeoutMs);
          expect(await driver.powerState(host, spec.name)).toBe('shutoff');
          expect(await driver.powerOff(host, spec.name, { timeoutMs: fixture.gracefulTimeoutMs })).toEqual({
            forced: false,
          });
          await expect(driver.vncEndpoint(host, spec.name)).rejects.toBeInstanceOf(DomainNotRunning);
        },
        timeout,
      );

      it(
        "changes a stopped domain's NICs in its definition, once each way, and a missing domain's not at all",
        async () => {
          const { driver, host } = ctx;
          const nic = { portId: randomUUID(), networkId: randomUUID(), macAddress: 'fa:16:3e:0c:0a:01' };
          expect(await driver.syncNics(host, spec.name, [nic])).toEqual({
            attached: [nic.portId],
            detached: [],
          });
          expect(await driver.syncNics(host, spec.name, [nic])).toEqual({ attached: [], detached: [] });
          expect(await driver.syncNics(host, spec.name, [])).toEqual({
            attached: [],
            detached: [nic.portId],
          });
          expect(await driver.syncNics(host, spec.name, [])).toEqual({ attached: [], detached: [] });
          expect(await driver.syncNics(host, domainNameOf(randomUUID()), [nic])).toEqual({
            attached: [],
            detached: [],
          });
          expect(await driver.powerState(host, spec.name)).toBe('shutoff');
        },
        timeout,
      );

      it(
        'powers on a stopped domain, and powering on a running one changes nothing',
        async () => {
          const { driver, host, eventually, banners } = ctx;
          const before = await banners(spec.name);
          await driver.powerOn(host, spec.name);
          expect(await driver.powerState(host, spec.name)).toBe('running');
          await driver.powerOn(host, spec.name);
          expect(await driver.powerState(host, spec.name)).toBe('running');
          await eventually('a new boot banner', async () =>
            (await banners(spec.name)) > before ? true : undefined,
          );
        },
        timeout,
      );

      it(
        'starts a stopped domain again when its spawn is redone (an agent restarted mid-boot)',
        async () => {
          const { driver, host } = ctx;
          await driver.powerOff(host, spec.name, { timeoutMs: 0 });
          expect(await driver.spawn(host, spec)).toEqual({ domainName: spec.name, created: false });
          expect(await driver.powerState(host, spec.name)).toBe('running');
        },
        timeout,
      );

      it(
        'reboots HARD, and SOFT falls back to HARD when the guest ignores the request',
        async () => {
          const { driver, host, fixture, eventually, banners } = ctx;
          let before = await banners(spec.name);
          expect(await driver.reboot(host, spec.name, 'HARD')).toEqual({ type: 'HARD' });
          expect(await driver.powerState(host, spec.name)).toBe('running');
          await eventually('a boot after the HARD reboot', async () =>
            (await banners(spec.name)) > before ? true : undefined,
          );

          before = await banners(spec.name);
          const soft = await driver.reboot(host, spec.name, 'SOFT', {
            softTimeoutMs: fixture.gracefulTimeoutMs,
          });
          expect(soft).toEqual({ type: fixture.guestHonoursAcpi ? 'SOFT' : 'HARD' });
          expect(await driver.powerState(host, spec.name)).toBe('running');
          await eventually('a boot after the SOFT reboot', async () =>
            (await banners(spec.name)) > before ? true : undefined,
          );
        },
        timeout,
      );

      it(
        'resizes a running domain, which runs again with its new size; an off one stays off; again is a no-op',
        async () => {
          const { driver, host } = ctx;
          const before = await driver.domainResources(host, spec.name);
          expect(before).toEqual({ vcpus: spec.vcpus, memoryMib: spec.memoryMib });
          const bigger = { vcpus: spec.vcpus + 1, memoryMib: spec.memoryMib * 2 };
          await driver.resize(host, spec.name, bigger, { timeoutMs: 0, running: true });
          expect(await driver.domainResources(host, spec.name)).toEqual(bigger);
          expect(await driver.powerState(host, spec.name)).toBe('running');
          await driver.resize(host, spec.name, before, { timeoutMs: 0, running: false });
          expect(await driver.domainResources(host, spec.name)).toEqual(before);
          expect(await driver.powerState(host, spec.name)).toBe('shutoff');
          await driver.resize(host, spec.name, before, { timeoutMs: 0, running: true });
          expect(await driver.powerState(host, spec.name)).toBe('running');
          await expect(
            driver.resize(host, spec.name, { vcpus: 0, memoryMib: 64 }, { timeoutMs: 0, running: true }),
          ).rejects.toBeInstanceOf(InvalidArgument);
          await expect(
            driver.resize(host, domainNameOf(randomUUID()), before, { timeoutMs: 0, running: true }),
          ).rejects.toBeInstanceOf(DomainNotFound);
        },
        timeout,
      );

      it(
        "exports the running domain's disk as one standalone qcow2, leaving nothing behind on the host",
        async () => {
          const { driver, host, fixture } = ctx;
          const dir = await mkdtemp(path.join(tmpdir(), 'nimbus-export-'));
          try {
            const destination = path.join(dir, 'disk.qcow2');
            const { sizeBytes } = await driver.exportDisk(host, spec.name, destination);
            const bytes = await readFile(destination);
            expect(bytes.length).toBe(sizeBytes);
            expect(bytes.readUInt32BE(0)).toBe(0x514649fb); // "QFI\xfb"
            expect(bytes.readBigUInt64BE(8)).toBe(0n); // no backing file: it stands alone
            expect(await driver.powerState(host, spec.name)).toBe('running');
            expect(await fixture.instanceFiles(host, spec.instanceId)).not.toContain('export.qcow2');
            await expect(
              driver.exportDisk(host, 'nimbus-00000000-0000-4000-8000-000000000000', destination),
            ).rejects.toBeInstanceOf(DomainNotFound);
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
        },
        timeout,
      );

      it(
        'destroys a domain with its disk and logs; destroying it again is still success',
        async () => {
          const { driver, host, fixture } = ctx;
          expect(await driver.destroy(host, spec.name)).toEqual({ existed: true });
          expect(await driver.powerState(host, spec.name)).toBe('absent');
          expect((await driver.listDomains(host)).map((domain) => domain.name)).not.toContain(spec.name);
          expect(await fixture.instanceFiles(host, spec.instanceId)).toEqual([]);
          expect(await driver.destroy(host, spec.name)).toEqual({ existed: false });
        },
        timeout,
      );
    });

    describe('refusals', () => {
      it(
        'answers absent for an unknown domain and DomainNotFound to operations on it',
        async () => {
          const { driver, host } = ctx;
          const missing = domainNameOf(randomUUID());
          expect(await driver.powerState(host, missing)).toBe('absent');
          await expect(driver.powerOff(host, missing, { timeoutMs: 0 })).rejects.toBeInstanceOf(
            DomainNotFound,
          );
          await expect(driver.powerOn(host, missing)).rejects.toBeInstanceOf(DomainNotFound);
          await expect(driver.reboot(host, missing, 'HARD')).rejects.toBeInstanceOf(DomainNotFound);
          await expect(driver.vncEndpoint(host, missing)).rejects.toBeInstanceOf(DomainNotFound);
          await expect(driver.consoleOutput(host, missing)).rejects.toBeInstanceOf(DomainNotFound);
        },
        timeout,
      );

      it(
        'refuses names that are not Nimbus domain names before anything reaches the host',
        async () => {
          const { driver, host, image, newSpec } = ctx;
          const hostile = [
            "nimbus-x'; rm -rf / #",
            '$(reboot)',
            `nimbus-${randomUUID().toUpperCase()}`,
            `nimbus-${randomUUID()}\nvirsh destroy x`,
            '',
          ];
          for (const name of hostile) {
            await expect(driver.powerState(host, name)).rejects.toBeInstanceOf(InvalidArgument);
            await expect(driver.destroy(host, name)).rejects.toBeInstanceOf(InvalidArgument);
            await expect(driver.powerOff(host, name, { timeoutMs: 0 })).rejects.toBeInstanceOf(
              InvalidArgument,
            );
            await expect(driver.consoleOutput(host, name)).rejects.toBeInstanceOf(InvalidArgument);
          }
          await expect(driver.ensureImage(host, { ...image, id: '../../etc/passwd' })).rejects.toBeInstanceOf(
            InvalidArgument,
          );
          await expect(
            driver.spawn(host, { ...newSpec(image.id), name: 'nimbus-other' }),
          ).rejects.toBeInstanceOf(InvalidArgument);
        },
        timeout,
      );

      it(
        'refuses hosts it does not serve',
        async () => {
          const { driver } = ctx;
          await expect(driver.listDomains('no-such-host')).rejects.toBeInstanceOf(UnknownHost);
          await expect(driver.inventory("h1'; id")).rejects.toBeInstanceOf(UnknownHost);
        },
        timeout,
      );
    });

    it(
      'reports an inventory a scheduler can use',
      async () => {
        const { driver, host } = ctx;
        const inventory = await driver.inventory(host);
        expect(Number.isInteger(inventory.vcpus) && inventory.vcpus >= 1).toBe(true);
        expect(Number.isInteger(inventory.memoryMib) && inventory.memoryMib >= 64).toBe(true);
        expect(Number.isInteger(inventory.diskGbFree) && inventory.diskGbFree >= 0).toBe(true);
        expect(inventory.diskGbTotal).toBeGreaterThanOrEqual(inventory.diskGbFree);
      },
      timeout,
    );

    it(
      'keeps hosts apart: each has its own image cache and its own domains',
      async () => {
        const { driver, host, image, fixture, spawned, newSpec } = ctx;
        const other = fixture.hosts[1];
        if (other === undefined) return; // a one-host fixture has nothing to keep apart
        expect((await driver.ensureImage(other, image)).uploaded).toBe(true);
        const here = newSpec(image.id);
        spawned.push({ host, name: here.name });
        await driver.spawn(host, here);
        expect(await driver.powerState(other, here.name)).toBe('absent');
        expect((await driver.listDomains(other)).map((domain) => domain.name)).not.toContain(here.name);
        expect(await driver.destroy(other, here.name)).toEqual({ existed: false });
        expect(await driver.powerState(host, here.name)).toBe('running');
        await driver.destroy(host, here.name);
      },
      timeout,
    );
  });
}

/** The first 12 bytes a VNC server sends ("RFB 003.008\n"), then the stream is closed. */
function readBanner(stream: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`no RFB greeting within 10 s (got '${received.toString('latin1')}')`));
    }, 10_000);
    stream.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 12) {
        clearTimeout(timer);
        stream.destroy();
        resolve(received.subarray(0, 12).toString('latin1'));
      }
    });
    stream.once('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
