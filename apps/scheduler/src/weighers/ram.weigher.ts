/** RAMWeigher: free RAM; spread by default, stack with a negative multiplier. */
import { free } from '../candidate.js';
import type { HostWeigher } from './host-weigher.js';

export const ramWeigher: HostWeigher = { name: 'RAMWeigher', raw: (host) => free(host).ramMb };
