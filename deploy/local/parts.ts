/**
 * Which parts a system runs, in start order: the one-machine parts (services.ts), or with `--cluster`
 * the replicated ones (cluster.ts) in their place. `down` stops every part there is, newest first; a
 * part that is not running says so.
 */
import {
  apiReplicas,
  balancer,
  computeReplicas,
  consoleProxyReplicas,
  natsCluster,
  schedulerReplicas,
} from './cluster.js';
import {
  type Driver,
  type Part,
  type UpOptions,
  api,
  bootImage,
  compute,
  consoleProxy,
  dashboard,
  eventStore,
  guestImage,
  nats,
  outside,
  rig,
  scheduler,
} from './services.js';

/** Every part there is, in start order, for both shapes: what `down` stops. */
export const PARTS: readonly Part[] = [
  eventStore,
  nats,
  natsCluster,
  rig,
  bootImage,
  api,
  balancer,
  ...apiReplicas,
  guestImage,
  outside,
  dashboard,
  scheduler,
  ...schedulerReplicas,
  consoleProxy,
  ...consoleProxyReplicas,
  compute,
  ...computeReplicas,
];

/** The parts only one driver's system runs; every other part runs with either. */
const ONLY_WITH: ReadonlyMap<Part, Driver> = new Map<Part, Driver>([
  [rig, 'libvirt'],
  [guestImage, 'libvirt'],
  [outside, 'libvirt'],
  [consoleProxy, 'libvirt'],
  ...consoleProxyReplicas.map((part): [Part, Driver] => [part, 'libvirt']),
  [bootImage, 'fake'],
]);

/** The parts only a cluster runs, and those it runs replicas of instead. */
const CLUSTER_ONLY: ReadonlySet<Part> = new Set([
  natsCluster,
  balancer,
  ...apiReplicas,
  ...schedulerReplicas,
  ...consoleProxyReplicas,
  ...computeReplicas,
]);
const SINGLE_ONLY: ReadonlySet<Part> = new Set([nats, api, scheduler, consoleProxy, compute]);

/** The parts a system with these options runs, in start order. */
export function partsFor(options: Pick<UpOptions, 'driver' | 'dashboard' | 'cluster'>): readonly Part[] {
  return PARTS.filter(
    (part) =>
      (ONLY_WITH.get(part) ?? options.driver) === options.driver &&
      (part !== dashboard || options.dashboard) &&
      !(options.cluster ? SINGLE_ONLY : CLUSTER_ONLY).has(part),
  );
}
