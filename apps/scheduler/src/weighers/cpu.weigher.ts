/** CPUWeigher: free vCPUs; spread by default, stack with a negative multiplier. */
import { free } from '../candidate.js';
import type { HostWeigher } from './host-weigher.js';

export const cpuWeigher: HostWeigher = { name: 'CPUWeigher', raw: (host) => free(host).vcpus };
