/**
 * libvirt's domain states in the contracts' power-state vocabulary, as Nova's libvirt driver maps them
 * (nova/virt/libvirt/driver.py LIBVIRT_POWER_STATE): `idle`/blocked counts as running, `pmsuspended`
 * as suspended. Two spellings reach us: virsh's words (`domstate`) and the enum's numbers (`domstats`).
 * Must never guess at an unknown state: it maps to `nostate`, as in Nova, which the sync reports as such.
 */
import type { PowerState } from '#libs/contracts';

/** `virsh domstate` words (virshDomainStateToString), lowercased. */
const BY_VIRSH_WORD: Readonly<Record<string, PowerState>> = {
  'no state': 'nostate',
  running: 'running',
  idle: 'running',
  blocked: 'running',
  paused: 'paused',
  'in shutdown': 'shutdown',
  'shut off': 'shutoff',
  crashed: 'crashed',
  pmsuspended: 'suspended',
};

/** virDomainState, as `virsh domstats --state` prints it in `state.state=<n>`. */
const BY_STATE_CODE: readonly PowerState[] = [
  'nostate', // VIR_DOMAIN_NOSTATE
  'running', // VIR_DOMAIN_RUNNING
  'running', // VIR_DOMAIN_BLOCKED
  'paused', // VIR_DOMAIN_PAUSED
  'shutdown', // VIR_DOMAIN_SHUTDOWN
  'shutoff', // VIR_DOMAIN_SHUTOFF
  'crashed', // VIR_DOMAIN_CRASHED
  'suspended', // VIR_DOMAIN_PMSUSPENDED
];

/** The first line of `virsh domstate` output (a `--reason` suffix in parentheses is ignored). */
export function powerStateFromVirsh(output: string): PowerState {
  const word = (output.trim().split('\n')[0] ?? '')
    .replace(/\s*\(.*\)$/, '')
    .trim()
    .toLowerCase();
  return BY_VIRSH_WORD[word] ?? 'nostate';
}

export function powerStateFromCode(code: number): PowerState {
  return BY_STATE_CODE[code] ?? 'nostate';
}
