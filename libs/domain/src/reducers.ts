/**
 * Which fold belongs to which stream: operators replay any stream by name and get the state its
 * category's aggregate gives. Streams of other categories have no fold.
 */
import { type DecodedEvent, parseStreamName } from '#libs/contracts';

import { consoleReducer } from './console.js';
import { floatingIpReducer } from './floating-ip.js';
import { hostReducer } from './host.js';
import { instanceReducer } from './instance.js';
import { networkReducer } from './network.js';
import { routerReducer } from './router.js';
import { securityGroupReducer } from './security-group.js';

export interface DomainReducer<S = unknown> {
  initial(): S;
  evolve(state: S, event: DecodedEvent): S;
}

const BY_CATEGORY: Readonly<Record<string, DomainReducer>> = {
  instance: instanceReducer,
  host: hostReducer,
  console: consoleReducer,
  network: networkReducer,
  secgroup: securityGroupReducer,
  router: routerReducer,
  floatingip: floatingIpReducer,
};

/** The categories whose streams have a fold. */
export const FOLDED_CATEGORIES: readonly string[] = Object.keys(BY_CATEGORY);

export function reducerForStream(stream: string): DomainReducer | null {
  let category: string;
  try {
    category = parseStreamName(stream).category;
  } catch {
    return null;
  }
  return BY_CATEGORY[category] ?? null;
}
