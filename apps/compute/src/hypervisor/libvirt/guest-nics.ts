/**
 * A domain's NICs on its host. The list a domain is defined with is kept beside its disk (nics.json), so
 * every later start wires them again whatever asked for it (a power-on, a HARD reboot, a resize). The
 * wiring is the host's network helper, run as root through `sudo -n`:
 * - `prepare` makes each NIC's tap before QEMU opens it;
 * - `plug` puts the tap on its network's bridge once the guest runs;
 * - `unplug` removes the taps with the domain;
 * - `dhcp` sets the network's DHCP server to hand each port its address;
 * - `l3` sets the network's routers: their interfaces, gateways, SNAT and floating IPs.
 *
 * Must never pass the helper anything but validated ids (it checks them again), and never start a
 * domain with NICs on a host that has no helper: a guest would boot with a NIC wired to nothing.
 */
import { type DomainNic, validateNics } from '../domain-spec.js';
import { HypervisorOperationFailed, InvalidArgument } from '../errors.js';
import { type GuestNetwork, validateGuestNetwork } from '../guest-network.js';
import { type GuestRouting, validateGuestRouting } from '../guest-routing.js';
import { instancePaths } from './host-layout.js';
import { readRemoteFileIfExists, writeRemoteFile } from './remote-files.js';
import type { VirshHost } from './virsh-host.js';

/** Writes the NICs a domain is defined with (also when there are none, so a redefinition drops old ones). */
export async function recordNics(
  target: VirshHost,
  instanceId: string,
  nics: readonly DomainNic[],
): Promise<void> {
  const file = instancePaths(target.config, instanceId).nics;
  const content = `${JSON.stringify(validateNics(nics))}\n`;
  await target.session.withSftp(`write ${file}`, true, (sftp) => writeRemoteFile(sftp, file, content, 0o644));
}

/** The NICs recorded for a domain; none when nothing was recorded (a domain defined without any). */
export async function recordedNics(target: VirshHost, instanceId: string): Promise<readonly DomainNic[]> {
  const file = instancePaths(target.config, instanceId).nics;
  const text = await target.session.withSftp(`read ${file}`, true, (sftp) =>
    readRemoteFileIfExists(sftp, file),
  );
  if (text === undefined) return [];
  try {
    const value = JSON.parse(text) as unknown;
    if (!Array.isArray(value)) throw new InvalidArgument('not a list');
    return validateNics(
      value.map((entry: Partial<DomainNic> | null) => ({
        portId: String(entry?.portId),
        networkId: String(entry?.networkId),
        macAddress: String(entry?.macAddress),
      })),
    );
  } catch (error) {
    throw new HypervisorOperationFailed(
      target.config.name,
      `${file} does not hold a list of NICs: ${error instanceof Error ? error.message : String(error)}`,
      { retryable: false },
    );
  }
}

/** Each NIC's tap, made where QEMU will open it. */
export async function prepareNics(
  target: VirshHost,
  instanceId: string,
  nics: readonly DomainNic[],
): Promise<void> {
  for (const nic of nics) await runHelper(target, ['prepare', instanceId, nic.portId]);
}

/** Each NIC's tap on its network's bridge; safe to repeat on a running domain. */
export async function plugNics(target: VirshHost, nics: readonly DomainNic[]): Promise<void> {
  for (const nic of nics) await runHelper(target, ['plug', nic.portId, nic.networkId]);
}

/** One NIC's tap gone (its network's bridge too when no guest is left on it); nothing without a helper. */
export async function unplugNic(target: VirshHost, instanceId: string, portId: string): Promise<void> {
  if (target.config.networkHelper === undefined) return;
  await runHelper(target, ['unplug', instanceId, portId]);
}

/** Every tap the host made for the instance, gone; nothing to do on a host without a helper. */
export async function unplugNics(target: VirshHost, instanceId: string): Promise<void> {
  if (target.config.networkHelper === undefined) return;
  await runHelper(target, ['unplug', instanceId]);
}

/**
 * The network's DHCP server and filters on the host set to what `network` says; a `refresh` leaves a
 * network with no guest on the host as it is, so a sweep never makes again what an unplug tore down.
 */
export async function serveNetwork(
  target: VirshHost,
  network: GuestNetwork,
  refresh: boolean,
): Promise<void> {
  const { networkId, ...config } = validateGuestNetwork(network);
  const args = refresh ? ['dhcp', networkId, '--if-wired'] : ['dhcp', networkId];
  await runHelper(target, args, JSON.stringify(config));
}

/** The network's routers on the host set to what `routing` says; a `refresh` as for `serveNetwork`. */
export async function serveRouting(
  target: VirshHost,
  routing: GuestRouting,
  refresh: boolean,
): Promise<void> {
  const { networkId, routers } = validateGuestRouting(routing);
  const args = refresh ? ['l3', networkId, '--if-wired'] : ['l3', networkId];
  await runHelper(target, args, JSON.stringify({ routers }));
}

async function runHelper(target: VirshHost, args: readonly string[], stdin?: string): Promise<void> {
  const helper = target.config.networkHelper;
  if (helper === undefined) {
    throw new HypervisorOperationFailed(
      target.config.name,
      `host ${target.config.name} has no network helper configured, so it cannot wire a guest's NICs`,
      { retryable: true },
    );
  }
  await target.runOk(['sudo', '-n', helper, ...args], stdin === undefined ? {} : { stdin });
}
