/**
 * Parsers for what virsh, df and qemu-img print (run under LC_ALL=C), kept apart from the I/O so each
 * format is unit-tested against real output. Every parser is strict: output it does not recognise is
 * an error naming the command, never a silently wrong number.
 * Must never evaluate or echo back more of a host's output than the error needs.
 */
import type { PowerState } from '#libs/contracts';

import { clip } from './errors.js';
import { powerStateFromCode } from './power-state.js';

export class UnexpectedOutput extends Error {
  override readonly name = 'UnexpectedOutput';
  constructor(what: string, output: string) {
    super(`unexpected output from ${what}: ${clip(output) || '(empty)'}`);
  }
}

/** `virsh list --all --uuid --name`: one `<uuid> <name>` per line. */
export function parseDomainList(output: string): { uuid: string; name: string }[] {
  return lines(output).map((line) => {
    const [, uuid, name] = /^([0-9a-fA-F-]{36})\s+(\S.*)$/.exec(line) ?? [];
    if (uuid === undefined || name === undefined)
      throw new UnexpectedOutput('virsh list --uuid --name', line);
    return { uuid: uuid.toLowerCase(), name };
  });
}

/** `virsh domstats --state`: blocks of `Domain: '<name>'` then `  state.state=<n>`. */
export function parseDomainStates(output: string): Map<string, PowerState> {
  const states = new Map<string, PowerState>();
  let current: string | undefined;
  for (const line of lines(output)) {
    const [, domain] = /^Domain: '(.*)'$/.exec(line) ?? [];
    if (domain !== undefined) {
      current = domain;
      continue;
    }
    const state = /^\s*state\.state=(\d+)$/.exec(line);
    if (state && current !== undefined) states.set(current, powerStateFromCode(Number(state[1])));
  }
  return states;
}

/** `virsh nodeinfo`: the host's CPU count and memory in KiB. */
export function parseNodeInfo(output: string): { vcpus: number; memoryKib: number } {
  const cpus = /^CPU\(s\):\s+(\d+)$/m.exec(output);
  const memory = /^Memory size:\s+(\d+) KiB$/m.exec(output);
  if (!cpus || !memory) throw new UnexpectedOutput('virsh nodeinfo', output);
  return { vcpus: Number(cpus[1]), memoryKib: Number(memory[1]) };
}

/** `virsh dominfo`: the vCPUs and the memory (in MiB) the domain has, or is defined with when off. */
export function parseDomainInfo(output: string): { vcpus: number; memoryMib: number } {
  const cpus = /^CPU\(s\):\s+(\d+)$/m.exec(output);
  const memory = /^Max memory:\s+(\d+) KiB$/m.exec(output);
  if (!cpus || !memory) throw new UnexpectedOutput('virsh dominfo', output);
  return { vcpus: Number(cpus[1]), memoryMib: Math.floor(Number(memory[1]) / 1024) };
}

/** `df -P -k <dir>`: the POSIX format, one header and one line, sizes in KiB. */
export function parseDiskFree(output: string): { totalKib: number; availableKib: number } {
  const row = lines(output)[1] ?? '';
  // The device and mount point may contain spaces; the four numbers and the percentage cannot.
  const match = /^.*?\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+|-)%\s+\/.*$/.exec(row);
  if (!match) throw new UnexpectedOutput('df -P -k', output);
  return { totalKib: Number(match[1]), availableKib: Number(match[3]) };
}

/**
 * `virsh domdisplay --type vnc`: `vnc://<listen>:<display>`, where the port is 5900 + display. Only a
 * loopback listener is accepted: Nimbus defines every domain that way, and a console on any other
 * address is not one the proxy should be pointed at.
 */
export function parseVncDisplay(output: string): { address: '127.0.0.1'; port: number } {
  const match = /^vnc:\/\/(127\.0\.0\.1|localhost):(\d{1,5})\/?$/.exec(output.trim());
  const port = match ? 5900 + Number(match[2]) : NaN;
  if (!match || port > 65535) throw new UnexpectedOutput('virsh domdisplay (a loopback VNC display)', output);
  return { address: '127.0.0.1', port };
}

export interface QemuImageInfo {
  readonly format: string;
  readonly virtualSizeBytes: number;
  readonly backingFile: string | undefined;
}

/** `qemu-img info --output=json`. */
export function parseQemuImgInfo(output: string): QemuImageInfo {
  let value: unknown;
  try {
    value = JSON.parse(output);
  } catch {
    throw new UnexpectedOutput('qemu-img info --output=json', output);
  }
  const info = (value ?? {}) as Record<string, unknown>;
  const format = info.format;
  const virtualSize = info['virtual-size'];
  const backing = info['backing-filename'] ?? info['full-backing-filename'];
  if (typeof format !== 'string' || typeof virtualSize !== 'number') {
    throw new UnexpectedOutput('qemu-img info --output=json', output);
  }
  return {
    format,
    virtualSizeBytes: virtualSize,
    backingFile: typeof backing === 'string' ? backing : undefined,
  };
}

/** Whether `virsh event` saw the event it waited for (it prints `events received: <n>` at the end). */
export function eventsReceived(output: string): number {
  const match = /^events received: (\d+)$/m.exec(output);
  return match ? Number(match[1]) : 0;
}

function lines(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
}
