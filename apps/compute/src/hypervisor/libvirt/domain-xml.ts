/**
 * The libvirt domain XML for a DomainSpec: one root disk (a qcow2 overlay), a virtio NIC per port on a
 * tap of its own, VNC on the host's loopback
 * with an automatic port, and the serial console written to a log file, which is where
 * os-getConsoleOutput reads from. The log is appended to across power cycles (`append='on'`), so a
 * stop or a HARD reboot does not erase what the guest printed before it.
 * Must never interpolate a value unescaped: every value goes through escapeXml, even ones already
 * validated, so a future field cannot open an element or attribute of its own.
 */
import path from 'node:path';

import type { DomainSpec } from '../domain-spec.js';
import { tapNameOf, validateDomainSpec } from '../domain-spec.js';
import { InvalidArgument } from '../errors.js';

/** `qemu` is TCG emulation (no KVM needed, as on the rig); `kvm` needs /dev/kvm on the host. */
export type VirtType = 'qemu' | 'kvm';

export interface DomainXmlInput {
  readonly spec: DomainSpec;
  readonly virtType: VirtType;
  /** Absolute path of the root disk overlay on the host. */
  readonly diskPath: string;
  /** Absolute path of the serial console log on the host. */
  readonly consoleLogPath: string;
}

/** Characters XML 1.0 cannot carry at all, escaped or not: C0 controls but tab, LF, CR; lone surrogates; U+FFFE/F. */
const NOT_XML_CHAR =
  /[\0-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/**
 * Escapes a value for element text and for attribute values in either quote style. A character XML
 * cannot represent is refused rather than dropped, so what libvirt reads is exactly what was meant.
 */
export function escapeXml(value: string): string {
  if (NOT_XML_CHAR.test(value)) throw new InvalidArgument('value contains a character XML cannot carry');
  return value.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

export function renderDomainXml(input: DomainXmlInput): string {
  const spec = validateDomainSpec(input.spec);
  const diskPath = absolutePath(input.diskPath, 'diskPath');
  const consoleLogPath = absolutePath(input.consoleLogPath, 'consoleLogPath');
  const virtType: string = input.virtType; // typed, but it comes from configuration at run time
  if (virtType !== 'qemu' && virtType !== 'kvm') {
    throw new InvalidArgument('virtType must be qemu or kvm');
  }
  const target = spec.diskBus === 'virtio' ? 'vda' : 'hda';
  const x = escapeXml;
  return `<domain type='${x(input.virtType)}'>
  <name>${x(spec.name)}</name>
  <uuid>${x(spec.instanceId)}</uuid>
  <memory unit='MiB'>${spec.memoryMib}</memory>
  <currentMemory unit='MiB'>${spec.memoryMib}</currentMemory>
  <vcpu placement='static'>${spec.vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${x(diskPath)}'/>
      <target dev='${x(target)}' bus='${x(spec.diskBus)}'/>
    </disk>
${spec.nics.map((nic) => renderNic(nic.macAddress, tapNameOf(nic.portId))).join('')}    <serial type='file'>
      <source path='${x(consoleLogPath)}' append='on'/>
      <target port='0'/>
    </serial>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <video>
      <model type='vga'/>
    </video>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

/**
 * A NIC on a tap made beforehand by the host's network helper (`managed='no'`): libvirt opens it as it
 * is, which an unprivileged session daemon can do, and the helper puts it on its network's bridge.
 */
export function renderNic(macAddress: string, tap: string): string {
  const x = escapeXml;
  return `    <interface type='ethernet'>
      <mac address='${x(macAddress)}'/>
      <target dev='${x(tap)}' managed='no'/>
      <model type='virtio'/>
    </interface>
`;
}

function absolutePath(value: string, what: string): string {
  if (typeof value !== 'string' || !path.posix.isAbsolute(value) || path.posix.normalize(value) !== value) {
    throw new InvalidArgument(`${what} must be an absolute, normalised path`);
  }
  return value;
}
