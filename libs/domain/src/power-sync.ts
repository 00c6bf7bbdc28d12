/**
 * What a power-state observation means: the compute agent's sweep finds a host running (or not
 * running) an instance's domain, and this says what the store and the host must do about it, as
 * Nova's `_sync_power_states` and its cleanup of running deleted instances decide. The store wins:
 * the host is brought in line with it, except that a domain that stopped or vanished on its own is
 * recorded. Never reads the host or the store itself.
 */
import { PowerStateChanged, type PowerState, build } from '#libs/contracts';

import { type InstanceState, isDomainDown } from './instance.js';

export type PowerSyncVerdict =
  /** Nothing to do: host and store agree, or work under way will settle it. */
  | { readonly kind: 'in-step' }
  /** A Nimbus domain the store does not place on this host (deleted, unknown, or elsewhere). */
  | { readonly kind: 'destroy-domain' }
  /** The domain changed behind the store's back; its consoles end first when its QEMU is gone. */
  | {
      readonly kind: 'record';
      readonly events: readonly [PowerStateChanged];
      readonly revokeConsoles: boolean;
    }
  /** A server the store has stopped runs anyway: power it off. */
  | { readonly kind: 'power-off' };

/**
 * `observed` is the domain's power state on `host`, or null when the host has no such domain. Only
 * an instance at rest is judged: a task under way owns the domain until it ends.
 */
export function decidePowerSync(
  state: InstanceState,
  host: string,
  observed: PowerState | null,
): PowerSyncVerdict {
  const placedHere = state.exists && state.host === host && state.vmState !== 'deleted';
  // Only a domain the store has no use for here is removed; a build in progress is placed here.
  if (!placedHere) return observed === null ? { kind: 'in-step' } : { kind: 'destroy-domain' };
  if (state.taskState !== null) return { kind: 'in-step' };
  const actual = observed ?? 'nostate';
  if (state.vmState === 'active' && actual !== state.powerState && actual !== 'running') {
    const changed = build(PowerStateChanged, {
      instanceId: state.id,
      host,
      from: state.powerState,
      to: actual,
      source: 'sync',
    });
    return { kind: 'record', events: [changed], revokeConsoles: isDomainDown(actual) };
  }
  if (state.vmState === 'stopped' && actual === 'running') return { kind: 'power-off' };
  return { kind: 'in-step' };
}
