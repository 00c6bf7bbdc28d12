import { cpuWeigher } from './cpu.weigher.js';
import type { HostWeigher } from './host-weigher.js';
import { ramWeigher } from './ram.weigher.js';

export type { HostWeigher } from './host-weigher.js';

export const WEIGHERS: readonly HostWeigher[] = [ramWeigher, cpuWeigher];
export const WEIGHER_NAMES = WEIGHERS.map((weigher) => weigher.name);
